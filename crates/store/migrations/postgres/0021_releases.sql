-- Release and deployment management (ISO/IEC 20000-1 8.5.3): releases grouping changes, the
-- known errors they ship with, acceptance criteria with sign-off, deployments per environment
-- and the CIs each deployment updated. `domain::release` decides what is valid; these tables
-- keep it. Keep in step with ../sqlite.

CREATE TABLE releases (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    number BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('major', 'minor', 'emergency')),
    status TEXT NOT NULL CHECK (status IN ('planned', 'built', 'in_test', 'accepted', 'deploying',
                                           'deployed', 'closed', 'cancelled')),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    planned_start BIGINT,
    planned_end BIGINT,
    manager_id BIGINT REFERENCES users(id),
    -- When the release reached a terminal status.
    ended_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, number),
    CHECK ((planned_start IS NULL) = (planned_end IS NULL)),
    CHECK (planned_end IS NULL OR planned_end >= planned_start)
);
CREATE INDEX releases_by_status ON releases (tenant_id, status, id);
CREATE INDEX releases_by_kind ON releases (tenant_id, kind, id);

CREATE TABLE release_changes (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    release_id BIGINT NOT NULL REFERENCES releases(id),
    change_id BIGINT NOT NULL REFERENCES changes(id),
    PRIMARY KEY (release_id, change_id)
);
CREATE INDEX release_changes_by_change ON release_changes (change_id, release_id);

CREATE TABLE release_known_errors (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    release_id BIGINT NOT NULL REFERENCES releases(id),
    known_error_id BIGINT NOT NULL REFERENCES known_errors(id),
    PRIMARY KEY (release_id, known_error_id)
);
CREATE INDEX release_known_errors_by_error ON release_known_errors (known_error_id, release_id);

CREATE TABLE release_criteria (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    release_id BIGINT NOT NULL REFERENCES releases(id),
    text TEXT NOT NULL,
    -- The sign-off; NULL until someone signs.
    verdict TEXT CHECK (verdict IN ('accepted', 'refused')),
    signed_by BIGINT REFERENCES users(id),
    signed_at BIGINT,
    comment TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX release_criteria_by_release ON release_criteria (release_id, id);

CREATE TABLE release_deployments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    release_id BIGINT NOT NULL REFERENCES releases(id),
    environment TEXT NOT NULL,
    planned_start BIGINT,
    planned_end BIGINT,
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    outcome TEXT NOT NULL CHECK (outcome IN ('in_progress', 'succeeded', 'failed', 'rolled_back')),
    verification_notes TEXT NOT NULL,
    rollback_notes TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX release_deployments_by_release ON release_deployments (release_id, id);

-- What a completed deployment changed on each CI it touched (NULL: left as it was).
CREATE TABLE release_deployment_cis (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    deployment_id BIGINT NOT NULL REFERENCES release_deployments(id),
    ci_id BIGINT NOT NULL REFERENCES cis(id),
    status TEXT,
    attributes_json TEXT,
    PRIMARY KEY (deployment_id, ci_id)
);
CREATE INDEX release_deployment_cis_by_ci ON release_deployment_cis (ci_id, deployment_id);
