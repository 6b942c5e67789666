-- Management reviews (9.3): the meeting, the period it reviewed, the inputs Steward compiled
-- for it (JSON text, frozen when the review is held), its minutes and decisions; and the
-- actions it decided, tracked to closure after the review. Dates are civil `YYYY-MM-DD` text.

CREATE TABLE management_reviews (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    title TEXT NOT NULL,
    planned_on TEXT NOT NULL,
    period_from TEXT NOT NULL,
    period_to TEXT NOT NULL,
    chair_id INTEGER REFERENCES users(id),
    attendees TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('planned', 'held', 'closed', 'cancelled')),
    inputs TEXT,
    inputs_compiled_at INTEGER,
    minutes TEXT NOT NULL DEFAULT '',
    decisions TEXT NOT NULL DEFAULT '',
    cancel_reason TEXT NOT NULL DEFAULT '',
    held_at INTEGER,
    closed_at INTEGER,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX management_reviews_list ON management_reviews (tenant_id, id);
CREATE INDEX management_reviews_held ON management_reviews (tenant_id, status, held_at);

CREATE TABLE review_actions (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    review_id INTEGER NOT NULL REFERENCES management_reviews(id),
    description TEXT NOT NULL,
    owner_id INTEGER REFERENCES users(id),
    due_on TEXT NOT NULL,
    done_at INTEGER,
    -- The civil date it was done on, to compare with its due date.
    done_on TEXT,
    done_by INTEGER REFERENCES users(id),
    done_note TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX review_actions_of ON review_actions (tenant_id, review_id, id);
CREATE INDEX review_actions_by_due ON review_actions (tenant_id, due_on);
