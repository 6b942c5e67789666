-- People who follow a record without being its requester: public replies reach them too.
-- Keep in step with ../postgres.

CREATE TABLE watchers (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    record_type TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    user_id INTEGER REFERENCES users(id),
    email TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, record_type, record_id, email)
);
