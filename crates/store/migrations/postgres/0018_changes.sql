-- Change management (ISO/IEC 20000-1 8.5.1): changes and their lifecycle, risk, approvals,
-- the forward schedule with blackout windows, standard-change templates and the tenant's
-- change policy. `domain::change` decides what is valid; these tables keep it. Keep in step
-- with ../sqlite.

-- Pre-approved templates: a standard change follows one and needs no approval.
CREATE TABLE change_templates (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    implementation_plan TEXT NOT NULL,
    backout_plan TEXT NOT NULL,
    test_plan TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX change_templates_name ON change_templates (tenant_id, lower(name));

CREATE TABLE changes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    number BIGINT NOT NULL,
    change_type TEXT NOT NULL CHECK (change_type IN ('standard', 'normal', 'emergency')),
    status TEXT NOT NULL CHECK (status IN ('draft', 'assessment', 'authorisation', 'scheduled', 'implementing',
                                           'review', 'closed', 'rejected', 'cancelled', 'failed')),
    title TEXT NOT NULL,
    reason TEXT NOT NULL,
    implementation_plan TEXT NOT NULL,
    backout_plan TEXT NOT NULL,
    test_plan TEXT NOT NULL,
    -- The planned window in microseconds, start inclusive, end exclusive; both or neither.
    planned_start BIGINT,
    planned_end BIGINT,
    -- The risk questionnaire's answers (JSON object), score and level; NULL until assessed.
    risk_level TEXT CHECK (risk_level IN ('low', 'medium', 'high', 'critical')),
    risk_score BIGINT,
    risk_answers_json TEXT,
    requester_id BIGINT REFERENCES users(id),
    assignee_id BIGINT REFERENCES users(id),
    template_id BIGINT REFERENCES change_templates(id),
    -- Decisions of earlier rounds (before the change went back for rework) no longer count.
    approval_round BIGINT NOT NULL,
    -- The post-implementation review.
    review_outcome TEXT CHECK (review_outcome IN ('successful', 'partially_successful', 'failed')),
    review_backed_out BOOLEAN,
    review_notes TEXT,
    reviewed_at BIGINT,
    reviewed_by BIGINT REFERENCES users(id),
    -- When the change reached a terminal status (the dashboard's period).
    ended_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, number),
    CHECK ((planned_start IS NULL) = (planned_end IS NULL)),
    CHECK (planned_end IS NULL OR planned_end > planned_start)
);
-- The forward schedule: collision checks prefilter by window overlap here, so only the
-- changes on the schedule are ever read, never the history.
CREATE INDEX changes_on_schedule ON changes (tenant_id, planned_start, planned_end)
    WHERE status IN ('scheduled', 'implementing');
CREATE INDEX changes_by_start ON changes (tenant_id, planned_start, id) WHERE planned_start IS NOT NULL;
CREATE INDEX changes_by_end ON changes (tenant_id, ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX changes_by_status ON changes (tenant_id, status, id);

CREATE TABLE change_cis (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    change_id BIGINT NOT NULL REFERENCES changes(id),
    ci_id BIGINT NOT NULL REFERENCES cis(id),
    PRIMARY KEY (change_id, ci_id)
);
CREATE INDEX change_cis_by_ci ON change_cis (ci_id, change_id);

CREATE TABLE change_services (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    change_id BIGINT NOT NULL REFERENCES changes(id),
    service_id BIGINT NOT NULL REFERENCES services(id),
    PRIMARY KEY (change_id, service_id)
);
CREATE INDEX change_services_by_service ON change_services (service_id, change_id);

-- The incidents and problems a change resolves or comes from.
CREATE TABLE change_records (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    change_id BIGINT NOT NULL REFERENCES changes(id),
    record_type TEXT NOT NULL CHECK (record_type IN ('incident', 'problem')),
    record_id BIGINT NOT NULL,
    PRIMARY KEY (change_id, record_type, record_id)
);
CREATE INDEX change_records_by_record ON change_records (tenant_id, record_type, record_id);

-- Every approve or reject, in the round it was made in.
CREATE TABLE change_decisions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    change_id BIGINT NOT NULL REFERENCES changes(id),
    round BIGINT NOT NULL,
    approver_id BIGINT NOT NULL REFERENCES users(id),
    on_behalf_of BIGINT REFERENCES users(id),
    verdict TEXT NOT NULL CHECK (verdict IN ('approve', 'reject')),
    comment TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX change_decisions_by_change ON change_decisions (change_id, round, id);

-- An approver away from `from_time` (inclusive) to `until` (exclusive) lets `to_user` decide
-- in their seat. Ending one early moves `until`, so decisions already made stay valid.
CREATE TABLE change_delegations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    from_user BIGINT NOT NULL REFERENCES users(id),
    to_user BIGINT NOT NULL REFERENCES users(id),
    from_time BIGINT NOT NULL,
    until BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX change_delegations_by_user ON change_delegations (tenant_id, from_user);

-- Freeze windows: no change may be scheduled in one, except emergencies.
CREATE TABLE change_blackouts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    window_end BIGINT NOT NULL,
    -- `domain::change::schedule::BlackoutScope` as JSON.
    scope_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    deleted_at BIGINT,
    CHECK (window_end > window_start)
);
CREATE INDEX change_blackouts_by_window ON change_blackouts (tenant_id, window_start) WHERE deleted_at IS NULL;

-- The tenant's change policy (`domain::change::ChangePolicy`: control scope, major-change
-- rule, risk questionnaire and approval policy), as JSON the domain validates.
CREATE TABLE change_policies (
    tenant_id BIGINT PRIMARY KEY REFERENCES tenants(id),
    policy_json TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
