-- Problems, known errors and links between records. Keep in step with ../postgres
-- (full-text search differs by design: an FTS5 table here, a tsvector column there).

CREATE TABLE problems (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    number INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('new', 'investigating', 'known_error', 'resolved', 'closed', 'cancelled')),
    impact TEXT NOT NULL CHECK (impact IN ('low', 'medium', 'high')),
    urgency TEXT NOT NULL CHECK (urgency IN ('low', 'medium', 'high')),
    priority TEXT NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4', 'P5')),
    service_id INTEGER REFERENCES services(id),
    assignee_id INTEGER REFERENCES users(id),
    root_cause TEXT NOT NULL,
    workaround TEXT NOT NULL,
    resolved_at INTEGER,
    closed_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, number)
);
CREATE INDEX problems_by_status ON problems (tenant_id, status, priority, id);
CREATE INDEX problems_by_service ON problems (tenant_id, service_id, status);

CREATE TABLE known_errors (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    number INTEGER NOT NULL,
    problem_id INTEGER NOT NULL REFERENCES problems(id),
    title TEXT NOT NULL,
    symptoms TEXT NOT NULL,
    root_cause TEXT NOT NULL,
    workaround TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, number)
);
CREATE INDEX known_errors_by_problem ON known_errors (tenant_id, problem_id);

CREATE TABLE record_links (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL CHECK (kind IN ('related', 'parent_of', 'duplicate_of', 'caused_by')),
    source_type TEXT NOT NULL,
    source_id INTEGER NOT NULL,
    target_type TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, kind, source_type, source_id, target_type, target_id)
);
CREATE INDEX record_links_by_target ON record_links (tenant_id, target_type, target_id);

CREATE VIRTUAL TABLE known_errors_fts USING fts5(title, body, tokenize = 'porter unicode61');
