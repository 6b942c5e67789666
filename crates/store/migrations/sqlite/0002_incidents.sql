-- Incidents, their conversation, and per-tenant record numbers. Keep in step with ../postgres
-- (full-text search differs by design: an FTS5 table here, a tsvector column there).

CREATE TABLE record_counters (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, kind)
);

CREATE TABLE incidents (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    number INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('new', 'in_progress', 'pending', 'resolved', 'closed', 'cancelled')),
    pending_reason TEXT CHECK (pending_reason IN ('awaiting_customer', 'third_party')),
    impact TEXT NOT NULL CHECK (impact IN ('low', 'medium', 'high')),
    urgency TEXT NOT NULL CHECK (urgency IN ('low', 'medium', 'high')),
    priority TEXT NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4', 'P5')),
    service_id INTEGER REFERENCES services(id),
    customer_id INTEGER REFERENCES customers(id),
    requester_contact_id INTEGER REFERENCES contacts(id),
    requester_user_id INTEGER REFERENCES users(id),
    assignee_team_id INTEGER REFERENCES teams(id),
    assignee_id INTEGER REFERENCES users(id),
    source TEXT NOT NULL CHECK (source IN ('portal', 'email', 'phone', 'api', 'monitoring')),
    resolution_code TEXT,
    resolution_notes TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    first_response_at INTEGER,
    resolved_at INTEGER,
    closed_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, number)
);
CREATE INDEX incidents_by_priority ON incidents (tenant_id, priority, id);
CREATE INDEX incidents_by_status ON incidents (tenant_id, status, priority, id);
CREATE INDEX incidents_by_updated ON incidents (tenant_id, updated_at, id);
CREATE INDEX incidents_by_opened ON incidents (tenant_id, opened_at, id);
CREATE INDEX incidents_by_assignee ON incidents (tenant_id, assignee_id, status);
CREATE INDEX incidents_by_team ON incidents (tenant_id, assignee_team_id, status);
CREATE INDEX incidents_by_service ON incidents (tenant_id, service_id, status);

CREATE TABLE comments (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    record_type TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    author_id INTEGER REFERENCES users(id),
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    public BOOLEAN NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX comments_by_record ON comments (tenant_id, record_type, record_id, id);

CREATE VIRTUAL TABLE incidents_fts USING fts5(title, body, tokenize = 'porter unicode61');
