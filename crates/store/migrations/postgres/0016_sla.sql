-- Service level management: agreements (SLA, OLA, UC) and the clocks they run on records.
-- An agreement's targets, milestones, pause statuses and escalations are one JSON document
-- (`domain::sla::AgreementDraft`), validated before every write; the columns beside it are
-- what queries select by. Keep in step with ../sqlite.
CREATE TABLE sla_agreements (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('sla', 'ola', 'uc')),
    record_kind TEXT NOT NULL CHECK (record_kind IN ('incident', 'request')),
    calendar_id BIGINT REFERENCES calendars(id),
    active BOOLEAN NOT NULL,
    definition_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX sla_agreements_name ON sla_agreements (tenant_id, lower(name));

-- One row per clock on a record: its track (instants only: start, pauses, stop) and what it
-- read at the record's last change. Service, customer and priority are copied from the record
-- so that attainment reports group without joining; `decided_at` is when the clock's outcome
-- was or will be settled (the stop when met, the due time otherwise), the month it counts in.
CREATE TABLE sla_clocks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    record_kind TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    record_key TEXT NOT NULL,
    slot TEXT NOT NULL,
    metric TEXT NOT NULL,
    agreement_id BIGINT NOT NULL REFERENCES sla_agreements(id),
    target_minutes BIGINT NOT NULL,
    priority TEXT,
    service_id BIGINT,
    customer_id BIGINT,
    track_json TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'met', 'breached')),
    due_at BIGINT,
    warn_at BIGINT,
    stopped_at BIGINT,
    decided_at BIGINT,
    -- The record was cancelled or rejected: its clocks do not count towards attainment.
    voided BOOLEAN NOT NULL,
    -- When the warning and the breach were acted on: each happens once.
    warned_at BIGINT,
    breach_noted_at BIGINT,
    -- Why a breached clock breached, in an agent's words, for the breach list.
    breach_reason TEXT,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX sla_clocks_slot ON sla_clocks (tenant_id, record_kind, record_id, slot, metric);
-- Attainment reports read a range of `decided_at` and nothing else of the table: every
-- column they filter or group by rides in the index, for index-only scans.
CREATE INDEX sla_clocks_report ON sla_clocks (tenant_id, decided_at)
    INCLUDE (voided, agreement_id, state, metric, service_id, customer_id, priority, record_kind);
-- Reports by month group by day (`decided_at / 86400000000`, see store/src/sla/report.rs);
-- without statistics on the expression the planner expects a group per row and will not
-- aggregate in parallel (0.8 s against 0.4 s at two million clocks).
CREATE STATISTICS sla_clocks_day ON (decided_at / 86400000000) FROM sla_clocks;

-- Records taken out of attainment by a person, with the reason (journaled).
CREATE TABLE sla_exclusions (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    record_kind TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    reason TEXT NOT NULL,
    excluded_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, record_kind, record_id)
);
