-- Conformance (ISO/IEC 20000-1): an assessor's judgements of the catalogue's requirements
-- (`domain::conformance`). Judgements are appended, never changed: the latest per requirement
-- is the current one and the earlier ones stay for the record. Keep in step with ../postgres.
CREATE TABLE conformance_assessments (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    requirement_id TEXT NOT NULL,
    judgement TEXT NOT NULL CHECK (judgement IN ('conforming', 'nonconforming')),
    comment TEXT NOT NULL,
    evidence TEXT NOT NULL,
    assessed_by INTEGER REFERENCES users(id),
    assessed_by_name TEXT NOT NULL,
    assessed_at INTEGER NOT NULL
);
CREATE INDEX conformance_assessments_by_requirement
    ON conformance_assessments (tenant_id, requirement_id, id);
