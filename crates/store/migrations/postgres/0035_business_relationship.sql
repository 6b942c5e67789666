-- Business relationship management (ISO/IEC 20000-1 8.3.2). Each customer gets a relationship
-- owner and the months between service reviews; service reviews held with customers; customer
-- satisfaction measured by surveys (average score kept in tenths: 42 is 4.2) and by requesters'
-- ratings of their own resolved incidents (one row per incident, changed in place); complaints
-- with their status history, escalations and the overdue reminders sent (each once).
-- Dates are civil dates as `YYYY-MM-DD` text. Keep in step with ../sqlite.

ALTER TABLE customers ADD COLUMN relationship_owner_id BIGINT REFERENCES users(id);
ALTER TABLE customers ADD COLUMN review_frequency_months BIGINT NOT NULL DEFAULT 6
    CHECK (review_frequency_months BETWEEN 1 AND 24);

CREATE TABLE customer_reviews (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    held_on TEXT NOT NULL,
    -- The start of the period looked back over (the review's frequency before held_on).
    period_from TEXT NOT NULL,
    attendees TEXT NOT NULL,
    performance TEXT NOT NULL,
    outcomes TEXT NOT NULL,
    requirement_changes TEXT NOT NULL,
    change_id BIGINT REFERENCES changes(id),
    improvement_id BIGINT REFERENCES improvements(id),
    recorded_by BIGINT REFERENCES users(id),
    recorded_by_label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX customer_reviews_of ON customer_reviews (tenant_id, customer_id, held_on);

CREATE TABLE satisfaction_surveys (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    -- NULL: a survey of all customers.
    customer_id BIGINT REFERENCES customers(id),
    service_id BIGINT REFERENCES services(id),
    conducted_on TEXT NOT NULL,
    sample_size BIGINT NOT NULL CHECK (sample_size >= 1),
    responses BIGINT NOT NULL CHECK (responses >= 0 AND responses <= sample_size),
    average_tenths BIGINT CHECK (average_tenths BETWEEN 10 AND 50),
    analysis TEXT NOT NULL,
    improvement_id BIGINT REFERENCES improvements(id),
    recorded_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX satisfaction_surveys_by_date ON satisfaction_surveys (tenant_id, conducted_on, id);

CREATE TABLE ticket_ratings (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    score BIGINT NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment TEXT NOT NULL,
    rated_by BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ticket_ratings_one ON ticket_ratings (tenant_id, incident_id);
CREATE INDEX ticket_ratings_by_time ON ticket_ratings (tenant_id, updated_at);

CREATE TABLE complaints (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    service_id BIGINT REFERENCES services(id),
    complainant TEXT NOT NULL,
    received_on TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'phone', 'portal', 'meeting', 'other')),
    summary TEXT NOT NULL,
    details TEXT NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES users(id),
    target_date TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('received', 'investigating', 'actioned', 'closed')),
    findings TEXT NOT NULL DEFAULT '',
    action_taken TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT '',
    closed_on TEXT,
    customer_informed BOOLEAN NOT NULL DEFAULT FALSE,
    nonconformity_id BIGINT REFERENCES nonconformities(id),
    improvement_id BIGINT REFERENCES improvements(id),
    raised_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX complaints_list ON complaints (tenant_id, status, id);
CREATE INDEX complaints_by_customer ON complaints (tenant_id, customer_id, id);
CREATE INDEX complaints_by_received ON complaints (tenant_id, received_on);

CREATE TABLE complaint_history (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    complaint_id BIGINT NOT NULL REFERENCES complaints(id),
    step TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    note TEXT NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    actor_label TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX complaint_history_of ON complaint_history (complaint_id, id);

CREATE TABLE complaint_escalations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    complaint_id BIGINT NOT NULL REFERENCES complaints(id),
    escalated_on TEXT NOT NULL,
    escalated_to TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    actor_label TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX complaint_escalations_of ON complaint_escalations (complaint_id, id);

-- A complaint past its target date, mailed to its owner once per target date.
CREATE TABLE complaint_reminders (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    complaint_id BIGINT NOT NULL REFERENCES complaints(id),
    recipient_id BIGINT NOT NULL REFERENCES users(id),
    due_on TEXT NOT NULL,
    sent_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX complaint_reminders_once
    ON complaint_reminders (tenant_id, complaint_id, recipient_id, due_on);
