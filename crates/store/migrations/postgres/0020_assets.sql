-- Asset management (ISO/IEC 20000-1 8.2.5): hardware and software assets with their lifecycle,
-- cost, warranty and licence terms, the CIs they are, and the expiry reminders already sent.
-- `domain::asset` decides what is valid; these tables keep it. Dates are civil dates as
-- `YYYY-MM-DD` text (which sorts as the dates do). Keep in step with ../sqlite.
CREATE TABLE assets (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    tag TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('hardware', 'software')),
    status TEXT NOT NULL CHECK (status IN ('ordered', 'in_stock', 'deployed', 'in_repair', 'retired', 'disposed')),
    manufacturer TEXT NOT NULL,
    model TEXT NOT NULL,
    serial_number TEXT NOT NULL,
    owner_id BIGINT REFERENCES users(id),
    location TEXT NOT NULL,
    supplier TEXT NOT NULL,
    -- Minor units of `currency` (ISO 4217).
    cost_minor BIGINT,
    currency TEXT,
    purchase_date TEXT,
    warranty_expires TEXT,
    licence_seats BIGINT,
    seats_in_use BIGINT,
    licence_expires TEXT,
    notes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX assets_tag ON assets (tenant_id, lower(tag));
CREATE INDEX assets_by_name ON assets (tenant_id, name, id);
CREATE INDEX assets_warranty ON assets (tenant_id, warranty_expires);
CREATE INDEX assets_licence ON assets (tenant_id, licence_expires);

-- Which CIs an asset is (a server is one CI; a site licence may cover several).
CREATE TABLE asset_cis (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    asset_id BIGINT NOT NULL REFERENCES assets(id),
    ci_id BIGINT NOT NULL REFERENCES cis(id),
    PRIMARY KEY (asset_id, ci_id)
);
CREATE INDEX asset_cis_by_ci ON asset_cis (ci_id);

-- Reminders sent: one per asset, term and end date, whichever node's job got there first.
CREATE TABLE asset_reminders (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    asset_id BIGINT NOT NULL REFERENCES assets(id),
    term TEXT NOT NULL CHECK (term IN ('warranty', 'licence')),
    ends_on TEXT NOT NULL,
    recipients BIGINT NOT NULL,
    sent_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX asset_reminders_once ON asset_reminders (tenant_id, asset_id, term, ends_on);
