-- Major incidents (ISO/IEC 20000-1 8.6.1): the flag and its manager on the incident, the log of
-- updates sent to each audience, and the post-incident review. Keep in step with ../sqlite.

ALTER TABLE incidents ADD COLUMN major BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE incidents ADD COLUMN major_manager_id BIGINT REFERENCES users(id);
CREATE INDEX incidents_by_major ON incidents (tenant_id, major, status);

CREATE TABLE incident_communications (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    author_id BIGINT REFERENCES users(id),
    author TEXT NOT NULL,
    audience TEXT NOT NULL CHECK (audience IN ('internal', 'customers', 'executives')),
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX incident_communications_by_incident ON incident_communications (tenant_id, incident_id, id);

CREATE TABLE incident_reviews (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    incident_id BIGINT NOT NULL UNIQUE REFERENCES incidents(id),
    summary TEXT NOT NULL,
    root_cause TEXT NOT NULL,
    went_well TEXT NOT NULL,
    improvements TEXT NOT NULL,
    actions TEXT NOT NULL,
    completed BOOLEAN NOT NULL,
    completed_at BIGINT,
    updated_at BIGINT NOT NULL
);
