-- The management system's registers: risks and opportunities (6.1), objectives and their
-- measurements (6.2), and the improvement register (10.2). `domain::sms` decides; these tables
-- keep it. Dates are civil dates as `YYYY-MM-DD` text. Numbers an objective is measured in are
-- kept in thousandths (integers), so that both backends and the backup file hold them exactly.
-- Keep in step with ../sqlite.

CREATE TABLE risks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL CHECK (kind IN ('risk', 'opportunity')),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    area TEXT NOT NULL,
    likelihood BIGINT NOT NULL CHECK (likelihood BETWEEN 1 AND 5),
    impact BIGINT NOT NULL CHECK (impact BETWEEN 1 AND 5),
    treatment TEXT NOT NULL,
    treatment_plan TEXT NOT NULL,
    residual_likelihood BIGINT CHECK (residual_likelihood BETWEEN 1 AND 5),
    residual_impact BIGINT CHECK (residual_impact BETWEEN 1 AND 5),
    owner_id BIGINT REFERENCES users(id),
    review_date TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    closed_reason TEXT NOT NULL DEFAULT '',
    reviewed_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX risks_by_review ON risks (tenant_id, status, review_date);
CREATE INDEX risks_list ON risks (tenant_id, updated_at, id);

-- Every assessment a risk has had: when recorded, at each change of its rating and at each
-- review. What the trend and an auditor's "show me it was reviewed" read.
CREATE TABLE risk_reviews (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    risk_id BIGINT NOT NULL REFERENCES risks(id),
    likelihood BIGINT NOT NULL,
    impact BIGINT NOT NULL,
    residual_likelihood BIGINT,
    residual_impact BIGINT,
    review_date TEXT NOT NULL,
    note TEXT NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    actor_label TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX risk_reviews_of ON risk_reviews (risk_id, id);
CREATE INDEX risk_reviews_by_time ON risk_reviews (tenant_id, at);

CREATE TABLE objectives (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    kpi TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('at_least', 'at_most')),
    target_milli BIGINT NOT NULL,
    unit TEXT NOT NULL,
    owner_id BIGINT REFERENCES users(id),
    due_date TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'achieved', 'withdrawn')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX objectives_list ON objectives (tenant_id, status, id);

-- Values of objectives measured by hand, one per month (a new value for a month replaces it).
CREATE TABLE objective_measurements (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    objective_id BIGINT NOT NULL REFERENCES objectives(id),
    month TEXT NOT NULL,
    value_milli BIGINT NOT NULL,
    note TEXT NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    actor_label TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE UNIQUE INDEX objective_measurements_month ON objective_measurements (objective_id, month);

CREATE TABLE improvements (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    source TEXT NOT NULL,
    source_ref BIGINT,
    evaluation_criteria TEXT NOT NULL,
    expected_benefit TEXT NOT NULL,
    priority TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high')),
    owner_id BIGINT REFERENCES users(id),
    target_date TEXT,
    status TEXT NOT NULL,
    -- The latest decision (approve, defer, reject): its reason, who and when.
    decision_reason TEXT NOT NULL DEFAULT '',
    decided_by BIGINT REFERENCES users(id),
    decided_at BIGINT,
    benefit_realised TEXT NOT NULL DEFAULT '',
    raised_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX improvements_list ON improvements (tenant_id, status, id);
CREATE INDEX improvements_by_time ON improvements (tenant_id, created_at);

-- Every step an opportunity took: from, to, the note (reason or benefit), who and when.
CREATE TABLE improvement_steps (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    improvement_id BIGINT NOT NULL REFERENCES improvements(id),
    step TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    note TEXT NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    actor_label TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX improvement_steps_of ON improvement_steps (improvement_id, id);
CREATE INDEX improvement_steps_by_time ON improvement_steps (tenant_id, at);
