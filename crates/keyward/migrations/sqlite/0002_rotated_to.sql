-- The old key of a rotation names its successor (PRODUCT.md §1 `rotated_to`, §4 "Rotate").
--
-- While `rotated_to` is set and the key is neither revoked nor expired, the key is in its
-- grace period: it does not count toward the plan's active-key limit, it cannot be rotated
-- again, and its expiry may only move sooner.

-- Keys already in a grace period when this runs keep it, even past the new 7-day cap (the
-- old one was 90 days): an upgrade shortens nobody's grace. Each still counts once with its
-- successor toward the plan, as every grace key now does.

-- The key this one was rotated into; NULL for keys that were never rotated. Written in the
-- rotation's transaction, after the successor is inserted.
ALTER TABLE api_keys ADD COLUMN rotated_to TEXT REFERENCES api_keys (id);

-- Keys rotated before this column existed: their successor is the key whose rotated_from
-- points at them (unique, by api_keys_rotated_from).
UPDATE api_keys
SET rotated_to = (SELECT successor.id FROM api_keys AS successor
                  WHERE successor.rotated_from = api_keys.id)
WHERE rotated_to IS NULL;
