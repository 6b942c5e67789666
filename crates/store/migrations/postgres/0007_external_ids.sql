-- Records imported from other tools keep the id they had there, so a re-import updates them.
ALTER TABLE incidents ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX incidents_by_external_id ON incidents (tenant_id, external_id) WHERE external_id IS NOT NULL;
