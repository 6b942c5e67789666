-- Incidents, their conversation, and per-tenant record numbers. Keep in step with ../sqlite
-- (full-text search differs by design: a tsvector column here, an FTS5 table there).

CREATE TABLE record_counters (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    last BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, kind)
);

CREATE TABLE incidents (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('new', 'in_progress', 'pending', 'resolved', 'closed', 'cancelled')),
    pending_reason TEXT CHECK (pending_reason IN ('awaiting_customer', 'third_party')),
    impact TEXT NOT NULL CHECK (impact IN ('low', 'medium', 'high')),
    urgency TEXT NOT NULL CHECK (urgency IN ('low', 'medium', 'high')),
    priority TEXT NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4', 'P5')),
    service_id BIGINT REFERENCES services(id),
    customer_id BIGINT REFERENCES customers(id),
    requester_contact_id BIGINT REFERENCES contacts(id),
    requester_user_id BIGINT REFERENCES users(id),
    assignee_team_id BIGINT REFERENCES teams(id),
    assignee_id BIGINT REFERENCES users(id),
    source TEXT NOT NULL CHECK (source IN ('portal', 'email', 'phone', 'api', 'monitoring')),
    resolution_code TEXT,
    resolution_notes TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    first_response_at BIGINT,
    resolved_at BIGINT,
    closed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    search TSVECTOR,
    UNIQUE (tenant_id, number)
);
CREATE INDEX incidents_search ON incidents USING GIN (search);
CREATE INDEX incidents_by_priority ON incidents (tenant_id, priority, id);
CREATE INDEX incidents_by_status ON incidents (tenant_id, status, priority, id);
CREATE INDEX incidents_by_updated ON incidents (tenant_id, updated_at, id);
CREATE INDEX incidents_by_opened ON incidents (tenant_id, opened_at, id);
CREATE INDEX incidents_by_assignee ON incidents (tenant_id, assignee_id, status);
CREATE INDEX incidents_by_team ON incidents (tenant_id, assignee_team_id, status);
CREATE INDEX incidents_by_service ON incidents (tenant_id, service_id, status);

CREATE TABLE comments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    record_type TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    author_id BIGINT REFERENCES users(id),
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    public BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX comments_by_record ON comments (tenant_id, record_type, record_id, id);
