-- Incident categories (an admin-defined tree per tenant) and admin-defined custom fields.
-- Keep in step with ../postgres.
CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    parent_id INTEGER REFERENCES categories(id),
    name TEXT NOT NULL,
    retired BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- Unique among siblings; top-level categories share the parent 0.
CREATE UNIQUE INDEX categories_sibling_name ON categories (tenant_id, COALESCE(parent_id, 0), lower(name));

CREATE TABLE custom_fields (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL CHECK (kind IN ('incident')),
    name TEXT NOT NULL,
    label TEXT NOT NULL,
    field_kind TEXT NOT NULL CHECK (field_kind IN ('text', 'number', 'date', 'select', 'user')),
    required BOOLEAN NOT NULL,
    options_json TEXT NOT NULL,
    position INTEGER NOT NULL,
    UNIQUE (tenant_id, kind, name)
);

ALTER TABLE incidents ADD COLUMN category_id INTEGER REFERENCES categories(id);
ALTER TABLE incidents ADD COLUMN custom_json TEXT NOT NULL DEFAULT '{}';
CREATE INDEX incidents_category ON incidents (tenant_id, category_id);
