-- Business calendars: the working hours, holidays and exceptions SLA clocks count by. The
-- weekly hours, holidays and exceptions are one JSON document (`domain::calendar`), validated
-- before every write. Keep in step with ../postgres.
CREATE TABLE calendars (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    definition_json TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER
);
-- One live calendar per name, ignoring case.
CREATE UNIQUE INDEX calendars_name ON calendars (tenant_id, lower(name)) WHERE deleted_at IS NULL;
