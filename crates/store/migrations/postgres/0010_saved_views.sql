-- Saved list views: a name for a list's filters, kept per user or shared with the tenant.
CREATE TABLE saved_views (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    owner_id BIGINT REFERENCES users(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX saved_views_by_owner ON saved_views (tenant_id, kind, owner_id);
