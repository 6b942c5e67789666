-- Per-tenant notification wording, one row per event the tenant changed (else the defaults).
CREATE TABLE notification_templates (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    event TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, event)
);
