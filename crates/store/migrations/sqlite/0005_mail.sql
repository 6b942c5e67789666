-- E-mail in and out, and content-addressed attachments. Keep in step with ../postgres.

-- Every message that reached a record, or left for one: threads replies by Message-ID.
CREATE TABLE mail_messages (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    message_id TEXT,
    record_type TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    raw BLOB,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, message_id)
);
CREATE INDEX mail_messages_by_record ON mail_messages (tenant_id, record_type, record_id, id);

-- Mail that could not be processed, kept whole so nothing is ever lost.
CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER REFERENCES tenants(id),
    received_at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    raw BLOB NOT NULL
);
CREATE INDEX dead_letters_by_tenant ON dead_letters (tenant_id, id);

-- Notifications to send; the `mail.send` job delivers them and retries with backoff.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    record_type TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    message_id TEXT NOT NULL,
    in_reply_to TEXT,
    reference_ids TEXT,
    state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'dead')),
    attempts INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX outbox_by_state ON outbox (state, id);

-- File contents, stored once however often they are attached.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    bytes BLOB NOT NULL
);

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    record_type TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX attachments_by_record ON attachments (tenant_id, record_type, record_id, id);
