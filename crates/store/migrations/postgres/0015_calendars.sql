-- Business calendars: the working hours, holidays and exceptions SLA clocks count by. The
-- weekly hours, holidays and exceptions are one JSON document (`domain::calendar`), validated
-- before every write. Keep in step with ../sqlite.
CREATE TABLE calendars (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    definition_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
-- One live calendar per name, ignoring case.
CREATE UNIQUE INDEX calendars_name ON calendars (tenant_id, lower(name)) WHERE deleted_at IS NULL;
