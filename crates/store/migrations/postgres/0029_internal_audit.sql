-- Internal audit (ISO/IEC 20000-1 clause 9.2): the audit programme over a three-year
-- certification cycle, its audits with their people, checklists drawn from the clause
-- catalogue, and findings. `domain::sms::audit` decides; these tables keep it. Dates are civil
-- dates as `YYYY-MM-DD` text (which sorts as the dates do), moments are microseconds.
-- Keep in step with ../sqlite.

CREATE TABLE audit_programmes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    cycle_start TEXT NOT NULL,
    -- cycle_start + 3 years - 1 day, kept so lists and the evidence rule can compare dates.
    cycle_end TEXT NOT NULL,
    owner_id BIGINT REFERENCES users(id),
    notes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX audit_programmes_by_cycle ON audit_programmes (tenant_id, cycle_start);

CREATE TABLE audits (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    programme_id BIGINT NOT NULL REFERENCES audit_programmes(id),
    title TEXT NOT NULL,
    -- The clause ids audited, as a JSON array in the standard's order.
    scope TEXT NOT NULL,
    criteria TEXT NOT NULL,
    planned_start TEXT NOT NULL,
    planned_end TEXT NOT NULL,
    lead_auditor_id BIGINT NOT NULL REFERENCES users(id),
    status TEXT NOT NULL CHECK (status IN ('planned', 'in_progress', 'reported', 'closed', 'cancelled')),
    actual_start TEXT,
    actual_end TEXT,
    -- Summary and conclusion, required to report.
    summary TEXT NOT NULL,
    cancel_reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX audits_by_programme ON audits (programme_id, planned_start);
CREATE INDEX audits_by_start ON audits (tenant_id, planned_start);
CREATE INDEX audits_held ON audits (tenant_id, status, actual_end);

-- The other auditors and the auditees of an audit (the lead is on the audit itself).
CREATE TABLE audit_members (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    audit_id BIGINT NOT NULL REFERENCES audits(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL CHECK (role IN ('auditor', 'auditee'))
);
CREATE UNIQUE INDEX audit_members_once ON audit_members (audit_id, role, user_id);

-- One row per requirement of the scoped clauses, made when the audit is planned.
CREATE TABLE audit_checklist (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    audit_id BIGINT NOT NULL REFERENCES audits(id),
    requirement_id TEXT NOT NULL,
    clause_id TEXT NOT NULL,
    -- Order in the standard.
    position BIGINT NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('not_yet_audited', 'conforming', 'nonconforming', 'observation', 'not_applicable')),
    notes TEXT NOT NULL,
    evidence TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX audit_checklist_row ON audit_checklist (audit_id, requirement_id);

CREATE TABLE audit_findings (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    audit_id BIGINT NOT NULL REFERENCES audits(id),
    kind TEXT NOT NULL CHECK (kind IN ('major_nonconformity', 'minor_nonconformity', 'observation', 'opportunity_for_improvement')),
    clause_id TEXT NOT NULL,
    requirement_id TEXT,
    statement TEXT NOT NULL,
    evidence TEXT NOT NULL,
    -- The nonconformity a major or minor nonconformity finding raised, in the same transaction.
    nonconformity_id BIGINT REFERENCES nonconformities(id),
    recorded_by BIGINT REFERENCES users(id),
    recorded_by_label TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_findings_of ON audit_findings (audit_id, id);
