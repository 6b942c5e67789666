-- Service catalogue items and the requests raised from them, with approvals and fulfilment
-- tasks. Keep in step with ../postgres.

CREATE TABLE catalogue_items (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    fields_json TEXT NOT NULL,
    approvers_json TEXT NOT NULL,
    tasks_json TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX catalogue_items_by_name ON catalogue_items (tenant_id, active, category, name);

CREATE TABLE requests (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    number INTEGER NOT NULL,
    item_id INTEGER NOT NULL REFERENCES catalogue_items(id),
    title TEXT NOT NULL,
    answers_json TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending_approval', 'in_fulfilment', 'fulfilled', 'closed', 'rejected', 'cancelled')),
    requester_user_id INTEGER REFERENCES users(id),
    opened_at INTEGER NOT NULL,
    fulfilled_at INTEGER,
    closed_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, number)
);
CREATE INDEX requests_by_status ON requests (tenant_id, status, number);
CREATE INDEX requests_by_requester ON requests (tenant_id, requester_user_id, number);

CREATE TABLE request_approvals (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    request_id INTEGER NOT NULL REFERENCES requests(id),
    approver_id INTEGER NOT NULL REFERENCES users(id),
    decision TEXT NOT NULL CHECK (decision IN ('pending', 'approved', 'rejected')),
    comment TEXT NOT NULL,
    decided_at INTEGER,
    UNIQUE (request_id, approver_id)
);
CREATE INDEX request_approvals_by_approver ON request_approvals (tenant_id, approver_id, decision);

CREATE TABLE request_tasks (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    request_id INTEGER NOT NULL REFERENCES requests(id),
    title TEXT NOT NULL,
    team_id INTEGER REFERENCES teams(id),
    done BOOLEAN NOT NULL,
    done_at INTEGER,
    done_by TEXT
);
CREATE INDEX request_tasks_by_request ON request_tasks (request_id, id);
CREATE INDEX request_tasks_by_team ON request_tasks (tenant_id, team_id, done);
