-- Service level management: agreements (SLA, OLA, UC) and the clocks they run on records.
-- An agreement's targets, milestones, pause statuses and escalations are one JSON document
-- (`domain::sla::AgreementDraft`), validated before every write; the columns beside it are
-- what queries select by. Keep in step with ../postgres.
CREATE TABLE sla_agreements (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('sla', 'ola', 'uc')),
    record_kind TEXT NOT NULL CHECK (record_kind IN ('incident', 'request')),
    calendar_id INTEGER REFERENCES calendars(id),
    active BOOLEAN NOT NULL,
    definition_json TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX sla_agreements_name ON sla_agreements (tenant_id, lower(name));

-- One row per clock on a record: its track (instants only: start, pauses, stop) and what it
-- read at the record's last change. Service, customer and priority are copied from the record
-- so that attainment reports group without joining; `decided_at` is when the clock's outcome
-- was or will be settled (the stop when met, the due time otherwise), the month it counts in.
CREATE TABLE sla_clocks (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    record_kind TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    record_key TEXT NOT NULL,
    slot TEXT NOT NULL,
    metric TEXT NOT NULL,
    agreement_id INTEGER NOT NULL REFERENCES sla_agreements(id),
    target_minutes INTEGER NOT NULL,
    priority TEXT,
    service_id INTEGER,
    customer_id INTEGER,
    track_json TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'met', 'breached')),
    due_at INTEGER,
    warn_at INTEGER,
    stopped_at INTEGER,
    decided_at INTEGER,
    -- The record was cancelled or rejected: its clocks do not count towards attainment.
    voided BOOLEAN NOT NULL,
    -- When the warning and the breach were acted on: each happens once.
    warned_at INTEGER,
    breach_noted_at INTEGER,
    -- Why a breached clock breached, in an agent's words, for the breach list.
    breach_reason TEXT,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX sla_clocks_slot ON sla_clocks (tenant_id, record_kind, record_id, slot, metric);
-- Attainment reports read a range of `decided_at` and nothing else of the table: every
-- column they filter or group by is in the index (SQLite has no INCLUDE, so they are keys).
CREATE INDEX sla_clocks_report ON sla_clocks
    (tenant_id, decided_at, voided, agreement_id, state, metric, service_id, customer_id, priority, record_kind);

-- Records taken out of attainment by a person, with the reason (journaled).
CREATE TABLE sla_exclusions (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    record_kind TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    reason TEXT NOT NULL,
    excluded_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, record_kind, record_id)
);
