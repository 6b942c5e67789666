-- Requests and problems get the common fields incidents already have: a category, admin-defined
-- custom fields, and the id a record had in the tool it was imported from. Keep in step with
-- ../postgres.

-- SQLite cannot alter a CHECK constraint, so custom_fields is rebuilt to accept the new kinds.
CREATE TABLE custom_fields_new (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL CHECK (kind IN ('incident', 'request', 'problem')),
    name TEXT NOT NULL,
    label TEXT NOT NULL,
    field_kind TEXT NOT NULL CHECK (field_kind IN ('text', 'number', 'date', 'select', 'user')),
    required BOOLEAN NOT NULL,
    options_json TEXT NOT NULL,
    position INTEGER NOT NULL,
    UNIQUE (tenant_id, kind, name)
);
INSERT INTO custom_fields_new (id, tenant_id, kind, name, label, field_kind, required, options_json, position)
    SELECT id, tenant_id, kind, name, label, field_kind, required, options_json, position FROM custom_fields;
DROP TABLE custom_fields;
ALTER TABLE custom_fields_new RENAME TO custom_fields;

ALTER TABLE requests ADD COLUMN category_id INTEGER REFERENCES categories(id);
ALTER TABLE requests ADD COLUMN custom_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE requests ADD COLUMN external_id TEXT;
CREATE INDEX requests_category ON requests (tenant_id, category_id);
CREATE UNIQUE INDEX requests_by_external_id ON requests (tenant_id, external_id) WHERE external_id IS NOT NULL;

ALTER TABLE problems ADD COLUMN category_id INTEGER REFERENCES categories(id);
ALTER TABLE problems ADD COLUMN custom_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE problems ADD COLUMN external_id TEXT;
CREATE INDEX problems_category ON problems (tenant_id, category_id);
CREATE UNIQUE INDEX problems_by_external_id ON problems (tenant_id, external_id) WHERE external_id IS NOT NULL;
