-- The conformance readiness, counted once a day per tenant: what the dashboard's trend draws.
-- The day is a civil date as `YYYY-MM-DD` (UTC); one row per tenant and day, whichever node
-- takes it first. Keep in step with ../sqlite.
CREATE TABLE readiness_snapshots (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    day TEXT NOT NULL,
    met BIGINT NOT NULL,
    open BIGINT NOT NULL,
    gap BIGINT NOT NULL,
    taken_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX readiness_snapshots_day ON readiness_snapshots (tenant_id, day);
