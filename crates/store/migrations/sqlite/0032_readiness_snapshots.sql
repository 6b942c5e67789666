-- The conformance readiness, counted once a day per tenant: what the dashboard's trend draws.
-- The day is a civil date as `YYYY-MM-DD` (UTC); one row per tenant and day, whichever node
-- takes it first. Keep in step with ../postgres.
CREATE TABLE readiness_snapshots (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    day TEXT NOT NULL,
    met INTEGER NOT NULL,
    open INTEGER NOT NULL,
    gap INTEGER NOT NULL,
    taken_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX readiness_snapshots_day ON readiness_snapshots (tenant_id, day);
