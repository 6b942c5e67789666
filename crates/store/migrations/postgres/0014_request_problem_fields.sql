-- Requests and problems get the common fields incidents already have: a category, admin-defined
-- custom fields, and the id a record had in the tool it was imported from. Keep in step with
-- ../sqlite.
ALTER TABLE custom_fields DROP CONSTRAINT custom_fields_kind_check;
ALTER TABLE custom_fields ADD CONSTRAINT custom_fields_kind_check CHECK (kind IN ('incident', 'request', 'problem'));

ALTER TABLE requests ADD COLUMN category_id BIGINT REFERENCES categories(id);
ALTER TABLE requests ADD COLUMN custom_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE requests ADD COLUMN external_id TEXT;
CREATE INDEX requests_category ON requests (tenant_id, category_id);
CREATE UNIQUE INDEX requests_by_external_id ON requests (tenant_id, external_id) WHERE external_id IS NOT NULL;

ALTER TABLE problems ADD COLUMN category_id BIGINT REFERENCES categories(id);
ALTER TABLE problems ADD COLUMN custom_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE problems ADD COLUMN external_id TEXT;
CREATE INDEX problems_category ON problems (tenant_id, category_id);
CREATE UNIQUE INDEX problems_by_external_id ON problems (tenant_id, external_id) WHERE external_id IS NOT NULL;
