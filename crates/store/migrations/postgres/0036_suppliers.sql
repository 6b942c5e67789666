-- Supplier management (8.3.4.1, 8.3.4.2, 8.3.1-c). A supplier has an owner, its interfaces,
-- the services it supports and its selection evaluation; its contracts (agreements for
-- internal suppliers) are numbered versions, drafts until approved, each reviewed on its
-- interval (`supplier_contract_reviews`); underpinning contracts of the SLA engine are linked
-- to it (`supplier_uc_links`); its performance reviews may point to the improvement they
-- raised or linked; disputes keep every step (`supplier_dispute_steps`); reminders to the
-- owner are sent once (`supplier_reminders`). Dates are civil dates as `YYYY-MM-DD` text.
-- Keep in step with ../sqlite.

CREATE TABLE suppliers (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('external', 'internal', 'customer_as_supplier')),
    supplies TEXT NOT NULL,
    owner_id BIGINT REFERENCES users(id),
    contacts TEXT NOT NULL DEFAULT '',
    escalation TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('active', 'ended')),
    evaluation_criteria TEXT NOT NULL DEFAULT '',
    evaluation_result TEXT CHECK (evaluation_result IN ('approved', 'rejected')),
    evaluated_on TEXT,
    evaluator_id BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX suppliers_name ON suppliers (tenant_id, lower(name));

CREATE TABLE supplier_services (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    supplier_id BIGINT NOT NULL REFERENCES suppliers(id),
    service_id BIGINT NOT NULL REFERENCES services(id),
    PRIMARY KEY (supplier_id, service_id)
);

CREATE TABLE supplier_uc_links (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    supplier_id BIGINT NOT NULL REFERENCES suppliers(id),
    agreement_id BIGINT NOT NULL REFERENCES sla_agreements(id),
    PRIMARY KEY (supplier_id, agreement_id)
);

CREATE TABLE supplier_contracts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    supplier_id BIGINT NOT NULL REFERENCES suppliers(id),
    version BIGINT NOT NULL,
    reference TEXT NOT NULL,
    scope TEXT NOT NULL,
    requirements TEXT NOT NULL,
    obligations TEXT NOT NULL,
    responsibilities TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT,
    review_months BIGINT NOT NULL,
    impact TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('draft', 'approved')),
    approved_by BIGINT REFERENCES users(id),
    approved_on TEXT,
    reviewed_on TEXT,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX supplier_contracts_version ON supplier_contracts (supplier_id, version);

CREATE TABLE supplier_contract_reviews (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    contract_id BIGINT NOT NULL REFERENCES supplier_contracts(id),
    reviewed_on TEXT NOT NULL,
    still_fits BOOLEAN NOT NULL,
    notes TEXT NOT NULL,
    reviewed_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX supplier_contract_reviews_of ON supplier_contract_reviews (contract_id, id);

CREATE TABLE supplier_reviews (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    supplier_id BIGINT NOT NULL REFERENCES suppliers(id),
    held_on TEXT NOT NULL,
    period_from TEXT NOT NULL,
    period_to TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('meets', 'partly_meets', 'fails')),
    targets_missed TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    improvement_id BIGINT REFERENCES improvements(id),
    reviewed_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX supplier_reviews_of ON supplier_reviews (supplier_id, held_on);

CREATE TABLE supplier_disputes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    supplier_id BIGINT NOT NULL REFERENCES suppliers(id),
    raised_on TEXT NOT NULL,
    subject TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL CHECK (state IN ('open', 'escalated', 'resolved', 'closed')),
    escalated_to TEXT NOT NULL DEFAULT '',
    escalation_reason TEXT NOT NULL DEFAULT '',
    resolution TEXT NOT NULL DEFAULT '',
    raised_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX supplier_disputes_of ON supplier_disputes (supplier_id, raised_on);
CREATE INDEX supplier_disputes_open ON supplier_disputes (tenant_id, state, raised_on);

CREATE TABLE supplier_dispute_steps (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    dispute_id BIGINT NOT NULL REFERENCES supplier_disputes(id),
    step TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    note TEXT NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    actor_label TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX supplier_dispute_steps_of ON supplier_dispute_steps (dispute_id, id);

CREATE TABLE supplier_reminders (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL CHECK (kind IN ('contract_ending', 'contract_review_due', 'performance_review_due')),
    subject_id BIGINT NOT NULL,
    recipient_id BIGINT NOT NULL REFERENCES users(id),
    due_on TEXT NOT NULL,
    sent_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX supplier_reminders_once
    ON supplier_reminders (tenant_id, kind, subject_id, recipient_id, due_on);
