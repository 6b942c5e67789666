-- CMDB baselines (ISO/IEC 20000-1 8.2.6): the CIs of a service, and everything they depend on,
-- or of the whole CMDB, as they were at a moment, so that two moments can be compared. Each
-- item keeps a CI's snapshot (`domain::cmdb::baseline::CiSnapshot` as JSON) with its outgoing
-- relationships. A CI as it was at any other moment comes from the journal, whose
-- `journal_by_record` index already serves that lookup. Keep in step with ../postgres.
CREATE TABLE ci_baselines (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    -- The service whose CIs were recorded; NULL for the whole CMDB.
    service_id INTEGER REFERENCES services(id),
    taken_at INTEGER NOT NULL,
    -- Who took it, as the journal names them.
    taken_by TEXT NOT NULL,
    ci_count INTEGER NOT NULL
);
CREATE INDEX ci_baselines_by_time ON ci_baselines (tenant_id, taken_at, id);

CREATE TABLE ci_baseline_items (
    baseline_id INTEGER NOT NULL REFERENCES ci_baselines(id),
    ci_id INTEGER NOT NULL REFERENCES cis(id),
    snapshot_json TEXT NOT NULL,
    PRIMARY KEY (baseline_id, ci_id)
);
