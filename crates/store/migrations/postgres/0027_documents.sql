-- Controlled documents (ISO/IEC 20000-1 7.5) and the SMS's core documents (scope 4.3, policy
-- 5.2, plan 6.3, communication plan 7.4). `domain::sms::document` decides; these tables keep it.
-- Dates are civil dates as `YYYY-MM-DD` text (which sorts as the dates do); times are
-- microseconds. Version files live in `attachments` (record_type 'document_version').
-- Keep in step with ../sqlite.

CREATE TABLE documents (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    reference TEXT NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('scope', 'policy', 'plan', 'communication_plan', 'procedure', 'process', 'other')),
    owner_id BIGINT NOT NULL REFERENCES users(id),
    review_months BIGINT NOT NULL CHECK (review_months BETWEEN 1 AND 36),
    retention_years BIGINT NOT NULL CHECK (retention_years BETWEEN 1 AND 50),
    classification TEXT NOT NULL CHECK (classification IN ('public', 'internal', 'confidential')),
    status TEXT NOT NULL CHECK (status IN ('active', 'withdrawn')),
    withdrawn_at BIGINT,
    withdrawn_reason TEXT NOT NULL,
    -- The later of the last approval and the last recorded review, plus the interval; kept
    -- here (written with what moves it) so that lists filter and sort on it.
    review_due TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX documents_reference ON documents (tenant_id, lower(reference));
-- One active scope, policy, plan and communication plan per tenant, whoever saves at once.
CREATE UNIQUE INDEX documents_one_core ON documents (tenant_id, kind)
    WHERE status = 'active' AND kind IN ('scope', 'policy', 'plan', 'communication_plan');
CREATE INDEX documents_by_review ON documents (tenant_id, status, review_due);

-- Who must receive and read a document: a user or a team (whose members count).
CREATE TABLE document_distribution (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    document_id BIGINT NOT NULL REFERENCES documents(id),
    user_id BIGINT REFERENCES users(id),
    team_id BIGINT REFERENCES teams(id),
    CHECK ((user_id IS NULL) <> (team_id IS NULL))
);
CREATE INDEX document_distribution_of ON document_distribution (tenant_id, document_id);

CREATE TABLE document_versions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    document_id BIGINT NOT NULL REFERENCES documents(id),
    number BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('draft', 'in_review', 'returned', 'approved', 'superseded')),
    body TEXT NOT NULL,
    change_summary TEXT NOT NULL,
    author_id BIGINT REFERENCES users(id),
    author_label TEXT NOT NULL,
    reviewer_id BIGINT REFERENCES users(id),
    submitted_at BIGINT,
    returned_reason TEXT NOT NULL,
    approved_by_id BIGINT REFERENCES users(id),
    approved_by_label TEXT NOT NULL,
    approved_at BIGINT,
    superseded_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX document_versions_number ON document_versions (document_id, number);
-- At most one unapproved and one approved version per document.
CREATE UNIQUE INDEX document_versions_one_open ON document_versions (document_id)
    WHERE state IN ('draft', 'in_review', 'returned');
CREATE UNIQUE INDEX document_versions_one_approved ON document_versions (document_id)
    WHERE state = 'approved';
CREATE INDEX document_versions_by_reviewer ON document_versions (tenant_id, reviewer_id, state);

-- Periodic reviews that found the document still fit for purpose, without a new version.
CREATE TABLE document_reviews (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    document_id BIGINT NOT NULL REFERENCES documents(id),
    reviewed_on TEXT NOT NULL,
    note TEXT NOT NULL,
    reviewer_id BIGINT REFERENCES users(id),
    reviewer_label TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX document_reviews_of ON document_reviews (tenant_id, document_id, id);

-- "I have read version N": one per person and version.
CREATE TABLE document_acknowledgements (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    document_id BIGINT NOT NULL REFERENCES documents(id),
    version_id BIGINT NOT NULL REFERENCES document_versions(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    at BIGINT NOT NULL
);
CREATE UNIQUE INDEX document_acknowledgements_once ON document_acknowledgements (version_id, user_id);
CREATE INDEX document_acknowledgements_of ON document_acknowledgements (tenant_id, document_id);

-- Review reminders sent: one per document, kind and due date, whichever node got there first.
CREATE TABLE document_reminders (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    document_id BIGINT NOT NULL REFERENCES documents(id),
    kind TEXT NOT NULL CHECK (kind IN ('upcoming', 'overdue')),
    due_on TEXT NOT NULL,
    sent_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX document_reminders_once ON document_reminders (tenant_id, document_id, kind, due_on);
