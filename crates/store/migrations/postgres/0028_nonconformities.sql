-- Nonconformities, corrective actions and effectiveness checks (ISO/IEC 20000-1 clause 10.1).
-- `domain::sms::nonconformity` decides; these tables keep it. Dates are civil dates as
-- `YYYY-MM-DD` text (which sorts as the dates do), moments are microseconds. Keep in step with ../sqlite.

CREATE TABLE nonconformities (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    -- NC-<number>, per tenant, from record_counters.
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    clause_id TEXT,
    severity TEXT NOT NULL CHECK (severity IN ('major', 'minor')),
    source TEXT NOT NULL CHECK (source IN ('audit', 'incident', 'complaint', 'management_review', 'other')),
    -- The audit finding's or the incident's id.
    source_ref BIGINT,
    owner_id BIGINT REFERENCES users(id),
    raised_by BIGINT REFERENCES users(id),
    raised_by_label TEXT NOT NULL,
    raised_at BIGINT NOT NULL,
    containment TEXT NOT NULL,
    root_cause TEXT NOT NULL,
    root_cause_method TEXT CHECK (root_cause_method IN ('five_whys', 'fishbone', 'other')),
    status TEXT NOT NULL CHECK (status IN ('open', 'actions_planned', 'awaiting_verification', 'closed')),
    -- Counts the ineffective checks: actions added since the latest one carry its value.
    round BIGINT NOT NULL,
    -- When the effectiveness check is due; set when every action is done.
    check_due TEXT,
    closed_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX nonconformities_number ON nonconformities (tenant_id, number);
CREATE INDEX nonconformities_by_status ON nonconformities (tenant_id, status, number);
CREATE INDEX nonconformities_by_raised ON nonconformities (tenant_id, raised_at);

CREATE TABLE corrective_actions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    nonconformity_id BIGINT NOT NULL REFERENCES nonconformities(id),
    description TEXT NOT NULL,
    owner_id BIGINT REFERENCES users(id),
    due TEXT NOT NULL,
    -- The nonconformity's round when the action was added.
    round BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    completed_at BIGINT,
    -- The civil date it was completed on, to compare with its due date.
    completed_on TEXT,
    completed_by BIGINT REFERENCES users(id),
    completion_note TEXT NOT NULL
);
CREATE INDEX corrective_actions_of ON corrective_actions (tenant_id, nonconformity_id, id);
CREATE INDEX corrective_actions_by_due ON corrective_actions (tenant_id, due);

-- Every effectiveness check, effective or not; an ineffective one stays in the history.
CREATE TABLE effectiveness_checks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    nonconformity_id BIGINT NOT NULL REFERENCES nonconformities(id),
    effective BOOLEAN NOT NULL,
    notes TEXT NOT NULL,
    checked_by BIGINT REFERENCES users(id),
    checked_by_label TEXT NOT NULL,
    checked_at BIGINT NOT NULL
);
CREATE INDEX effectiveness_checks_of ON effectiveness_checks (tenant_id, nonconformity_id, id);

-- Every status a nonconformity has had: from (none when raised), to, why, who and when.
CREATE TABLE nonconformity_history (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    nonconformity_id BIGINT NOT NULL REFERENCES nonconformities(id),
    from_status TEXT,
    to_status TEXT NOT NULL,
    note TEXT NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    actor_label TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX nonconformity_history_of ON nonconformity_history (nonconformity_id, id);

-- Reminders sent: one per kind, subject (an action, or a nonconformity for its check) and
-- date, whichever node's job got there first.
CREATE TABLE nonconformity_reminders (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL CHECK (kind IN ('action_due', 'action_overdue', 'check_due')),
    subject_id BIGINT NOT NULL,
    due_on TEXT NOT NULL,
    sent_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX nonconformity_reminders_once ON nonconformity_reminders (tenant_id, kind, subject_id, due_on);
