-- Design and transition of new or changed services (ISO/IEC 20000-1 8.5.2): service design
-- records (SDR-n) and what their acceptance created or updated. `domain::design` decides what
-- is valid; these tables keep it. Keep in step with ../postgres.

CREATE TABLE service_designs (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    number INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'in_design', 'ready_for_acceptance', 'accepted',
                                           'rejected', 'cancelled')),
    title TEXT NOT NULL,
    -- The change it came from; NULL for a record opened by hand. A change opens at most one.
    change_id INTEGER REFERENCES changes(id),
    -- The existing service it changes; NULL designs a new service.
    target_service_id INTEGER REFERENCES services(id),
    requirements TEXT NOT NULL,
    design TEXT NOT NULL,
    resources TEXT NOT NULL,
    transition_plan TEXT NOT NULL,
    -- The acceptance criteria (JSON array) and the proposal acceptance carries out (JSON object).
    criteria_json TEXT NOT NULL,
    proposal_json TEXT NOT NULL,
    accepted_at INTEGER,
    accepted_by INTEGER REFERENCES users(id),
    ended_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX service_designs_number ON service_designs (tenant_id, number);
CREATE UNIQUE INDEX service_designs_change ON service_designs (tenant_id, change_id) WHERE change_id IS NOT NULL;
CREATE INDEX service_designs_by_status ON service_designs (tenant_id, status, number);

-- What acceptance created or updated, for the auditor: one row per record.
CREATE TABLE service_design_outputs (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    design_id INTEGER NOT NULL REFERENCES service_designs(id),
    kind TEXT NOT NULL CHECK (kind IN ('service', 'catalogue_item', 'agreement', 'ci', 'ci_link')),
    record_id INTEGER NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('created', 'updated', 'linked')),
    UNIQUE (design_id, kind, record_id)
);
CREATE INDEX service_design_outputs_by_tenant ON service_design_outputs (tenant_id, design_id);
