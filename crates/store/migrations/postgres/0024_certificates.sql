-- Tenant signing keys and the certificate register (ISO/IEC 20000-1 certification).
-- `domain::signing` and `domain::certificate` decide; these tables keep it. Dates are civil
-- dates as `YYYY-MM-DD` text (which sorts as the dates do). Keep in step with ../sqlite.

-- Each tenant's Ed25519 keys. One current key per tenant (`retired_at IS NULL`), enforced by a
-- unique index so that two nodes creating it at once end with one. Retired keys stay, so that
-- what they signed still verifies against the published list.
CREATE TABLE tenant_keys (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    key_id TEXT NOT NULL,
    -- base64 of the 32-byte public key and of the 32-byte secret seed.
    public_key TEXT NOT NULL,
    secret_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
CREATE UNIQUE INDEX tenant_keys_current ON tenant_keys (tenant_id) WHERE retired_at IS NULL;
CREATE UNIQUE INDEX tenant_keys_by_key_id ON tenant_keys (key_id);

CREATE TABLE certificates (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    number TEXT NOT NULL,
    standard TEXT NOT NULL,
    scope TEXT NOT NULL,
    organisation TEXT NOT NULL,
    sites TEXT NOT NULL,
    certification_body TEXT NOT NULL,
    accreditation_body TEXT NOT NULL,
    accreditation_number TEXT NOT NULL,
    original_date TEXT NOT NULL,
    issue_date TEXT NOT NULL,
    expiry_date TEXT NOT NULL,
    next_surveillance TEXT,
    confidential BOOLEAN NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('valid', 'suspended', 'withdrawn', 'expired')),
    -- Why it has its current status (the history keeps the earlier reasons).
    status_reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- Unique per tenant; the public lookup searches every tenant by the same expression.
CREATE UNIQUE INDEX certificates_number ON certificates (tenant_id, lower(number));
CREATE INDEX certificates_public ON certificates (lower(number));
CREATE INDEX certificates_by_expiry ON certificates (tenant_id, status, expiry_date);

-- Every status a certificate has had: from (none when recorded), to, why, who and when.
CREATE TABLE certificate_status_history (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    certificate_id BIGINT NOT NULL REFERENCES certificates(id),
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    actor_label TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX certificate_status_history_of ON certificate_status_history (certificate_id, id);

-- Reminders sent: one per certificate, kind and date, whichever node's job got there first.
CREATE TABLE certificate_reminders (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    certificate_id BIGINT NOT NULL REFERENCES certificates(id),
    kind TEXT NOT NULL CHECK (kind IN ('expiry', 'surveillance')),
    due_on TEXT NOT NULL,
    recipients BIGINT NOT NULL,
    sent_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX certificate_reminders_once ON certificate_reminders (tenant_id, certificate_id, kind, due_on);
