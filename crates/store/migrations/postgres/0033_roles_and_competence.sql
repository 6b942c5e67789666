-- Roles and responsibilities (5.3) and competence (7.2). A role carries its duties and powers;
-- people hold it through assignments that are ended, never deleted, so the history shows who
-- held what when. The RACI matrix says, per process (a clause id of the catalogue), which role
-- is responsible, accountable, consulted or informed. A role's competence profile lists what
-- its holders must know; competence records are each person's proof (education, training,
-- qualification, experience), and competence actions close the gaps and are evaluated.
-- Dates are civil dates as `YYYY-MM-DD` text. Keep in step with ../sqlite.

CREATE TABLE sms_roles (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    responsibilities TEXT NOT NULL,
    authorities TEXT NOT NULL,
    -- 5.3 c: answers for the SMS conforming to the standard.
    conformity_lead BOOLEAN NOT NULL DEFAULT FALSE,
    -- 5.3 d: reports the SMS's and the services' performance to top management.
    reports_performance BOOLEAN NOT NULL DEFAULT FALSE,
    retired BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX sms_roles_name ON sms_roles (tenant_id, lower(name));

CREATE TABLE role_assignments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    role_id BIGINT NOT NULL REFERENCES sms_roles(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    from_date TEXT NOT NULL,
    -- Set when the assignment ends; an ended assignment is kept as history.
    to_date TEXT,
    note TEXT NOT NULL DEFAULT '',
    assigned_by BIGINT REFERENCES users(id),
    ended_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX role_assignments_of_role ON role_assignments (role_id, to_date);
CREATE INDEX role_assignments_of_user ON role_assignments (tenant_id, user_id);

CREATE TABLE raci_entries (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    process TEXT NOT NULL,
    role_id BIGINT NOT NULL REFERENCES sms_roles(id),
    letter TEXT NOT NULL CHECK (letter IN ('R', 'A', 'C', 'I')),
    PRIMARY KEY (tenant_id, process, role_id)
);

CREATE TABLE competence_requirements (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    role_id BIGINT NOT NULL REFERENCES sms_roles(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX competence_requirements_of_role ON competence_requirements (role_id, id);

CREATE TABLE competence_records (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    requirement_id BIGINT NOT NULL REFERENCES competence_requirements(id),
    basis TEXT NOT NULL CHECK (basis IN ('education', 'training', 'qualification', 'experience')),
    title TEXT NOT NULL,
    provider TEXT NOT NULL,
    achieved_on TEXT NOT NULL,
    expires_on TEXT,
    evidence TEXT NOT NULL,
    recorded_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX competence_records_of_user ON competence_records (tenant_id, user_id, requirement_id);
CREATE INDEX competence_records_by_expiry ON competence_records (tenant_id, expires_on);

CREATE TABLE competence_actions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    requirement_id BIGINT NOT NULL REFERENCES competence_requirements(id),
    kind TEXT NOT NULL CHECK (kind IN ('training', 'mentoring', 'hiring', 'other')),
    description TEXT NOT NULL,
    owner_id BIGINT REFERENCES users(id),
    due_date TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'completed', 'evaluated')),
    completed_on TEXT,
    effective BOOLEAN,
    evaluation TEXT NOT NULL DEFAULT '',
    evaluated_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX competence_actions_list ON competence_actions (tenant_id, status, due_date);
