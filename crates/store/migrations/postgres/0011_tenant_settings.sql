-- Per-tenant process settings (priority matrix, windows), as JSON the domain validates.
CREATE TABLE tenant_settings (
    tenant_id BIGINT PRIMARY KEY REFERENCES tenants(id),
    settings_json TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
