-- Configuration management (ISO/IEC 20000-1 8.2.6): CI classes with typed attribute schemas,
-- configuration items, typed directed relationships, the services CIs serve and the records
-- that name them. `domain::cmdb` decides what is valid; these tables keep it. Keep in step with
-- ../postgres.
CREATE TABLE ci_classes (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    -- The attribute schema: a JSON array of `FormField`s.
    attributes_json TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER
);
CREATE UNIQUE INDEX ci_classes_name ON ci_classes (tenant_id, lower(name)) WHERE deleted_at IS NULL;

-- Relationship types an admin adds to the built-in ones (depends_on, runs_on, connects_to,
-- contains), each saying which way dependency flows along it.
CREATE TABLE ci_relationship_types (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    label TEXT NOT NULL,
    reverse_label TEXT NOT NULL,
    dependency TEXT NOT NULL CHECK (dependency IN ('source_on_target', 'target_on_source', 'mutual', 'informational')),
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX ci_relationship_types_name ON ci_relationship_types (tenant_id, name);

CREATE TABLE cis (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    class_id INTEGER NOT NULL REFERENCES ci_classes(id),
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('planned', 'in_use', 'maintenance', 'retired')),
    description TEXT NOT NULL,
    owner_id INTEGER REFERENCES users(id),
    team_id INTEGER REFERENCES teams(id),
    -- The CI's id in the tool it was imported from; a re-import by it updates.
    external_id TEXT,
    attributes_json TEXT NOT NULL,
    -- When someone last confirmed the CI matches reality (the health report's staleness).
    verified_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX cis_by_name ON cis (tenant_id, name, id);
CREATE INDEX cis_by_class ON cis (tenant_id, class_id, name, id);
CREATE INDEX cis_by_updated ON cis (tenant_id, updated_at, id);
CREATE UNIQUE INDEX cis_external ON cis (tenant_id, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE ci_services (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    ci_id INTEGER NOT NULL REFERENCES cis(id),
    service_id INTEGER NOT NULL REFERENCES services(id),
    PRIMARY KEY (ci_id, service_id)
);
CREATE INDEX ci_services_by_service ON ci_services (service_id, ci_id);

-- `source` relates to `target` as `type_name` says; `dependency` is copied from the type so
-- the impact graph is built from this table alone.
CREATE TABLE ci_relationships (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    source_id INTEGER NOT NULL REFERENCES cis(id),
    target_id INTEGER NOT NULL REFERENCES cis(id),
    type_name TEXT NOT NULL,
    dependency TEXT NOT NULL CHECK (dependency IN ('source_on_target', 'target_on_source', 'mutual', 'informational')),
    created_at INTEGER NOT NULL,
    CHECK (source_id <> target_id)
);
CREATE UNIQUE INDEX ci_relationships_unique ON ci_relationships (tenant_id, source_id, target_id, type_name);
CREATE INDEX ci_relationships_by_target ON ci_relationships (tenant_id, target_id);

-- Every change to the dependency graph, numbered per tenant in commit order (the number comes
-- from `record_counters`, whose row lock is held to commit): a node whose in-memory graph is
-- at version v applies the entries after v instead of reading the whole CMDB again.
CREATE TABLE ci_graph_log (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    version INTEGER NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('add_ci', 'add_relationship', 'remove_relationship')),
    ci_id INTEGER,
    relationship_id INTEGER,
    source_id INTEGER,
    target_id INTEGER,
    dependency TEXT,
    at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, version)
);

-- The customers a service is delivered to: impact analysis names them when the service is hit.
CREATE TABLE service_customers (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    service_id INTEGER NOT NULL REFERENCES services(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    PRIMARY KEY (service_id, customer_id)
);

-- Incidents, problems and changes name the CIs they are about.
CREATE TABLE record_cis (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    record_type TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    ci_id INTEGER NOT NULL REFERENCES cis(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (record_type, record_id, ci_id)
);
CREATE INDEX record_cis_by_ci ON record_cis (ci_id, record_type, record_id);
