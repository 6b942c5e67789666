-- People who follow a record without being its requester: public replies reach them too.
-- Keep in step with ../sqlite.

CREATE TABLE watchers (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    record_type TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    user_id BIGINT REFERENCES users(id),
    email TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, record_type, record_id, email)
);
