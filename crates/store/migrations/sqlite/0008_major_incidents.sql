-- Major incidents (ISO/IEC 20000-1 8.6.1): the flag and its manager on the incident, the log of
-- updates sent to each audience, and the post-incident review. Keep in step with ../postgres.

ALTER TABLE incidents ADD COLUMN major BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE incidents ADD COLUMN major_manager_id INTEGER REFERENCES users(id);
CREATE INDEX incidents_by_major ON incidents (tenant_id, major, status);

CREATE TABLE incident_communications (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    author_id INTEGER REFERENCES users(id),
    author TEXT NOT NULL,
    audience TEXT NOT NULL CHECK (audience IN ('internal', 'customers', 'executives')),
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX incident_communications_by_incident ON incident_communications (tenant_id, incident_id, id);

CREATE TABLE incident_reviews (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    incident_id INTEGER NOT NULL UNIQUE REFERENCES incidents(id),
    summary TEXT NOT NULL,
    root_cause TEXT NOT NULL,
    went_well TEXT NOT NULL,
    improvements TEXT NOT NULL,
    actions TEXT NOT NULL,
    completed BOOLEAN NOT NULL,
    completed_at INTEGER,
    updated_at INTEGER NOT NULL
);
