-- Competence reminders (7.2), each sent once to each recipient, whichever node's job got there
-- first: a person's only valid proof of a requirement of their roles expiring within 30 days
-- (subject: the requirement; due: the expiry), and an open competence action past its due date
-- (subject: the action; to the person and to its owner). Keep in step with ../sqlite.
CREATE TABLE competence_reminders (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL CHECK (kind IN ('record_expiring', 'action_overdue')),
    subject_id BIGINT NOT NULL,
    recipient_id BIGINT NOT NULL REFERENCES users(id),
    due_on TEXT NOT NULL,
    sent_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX competence_reminders_once
    ON competence_reminders (tenant_id, kind, subject_id, recipient_id, due_on);
