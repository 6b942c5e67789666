-- A change keeps one open design record at a time: once its record is rejected or cancelled,
-- a new one may be opened for the same change (the old one stays on record), where before the
-- first record blocked the change for ever.
DROP INDEX service_designs_change;
CREATE UNIQUE INDEX service_designs_change ON service_designs (tenant_id, change_id)
    WHERE change_id IS NOT NULL AND status NOT IN ('rejected', 'cancelled');
