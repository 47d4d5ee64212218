-- The key-change log (PRODUCT.md §8, freshness): one row per write that changes what a key
-- may do, written by triggers in the same transaction as the write, whichever process makes
-- it (the server, the admin CLI, an import). Each server applies new rows to its
-- verification cache within a fraction of a second, and its own writes before it answers
-- them. Rows are pruned after a few minutes; a server that falls further behind than that
-- flushes its whole cache.
--
-- Same conventions as 0001_init.sql: unix milliseconds, STRICT.
CREATE TABLE key_changes (
    -- Increasing and never reused (AUTOINCREMENT): a server reads the rows after the last
    -- one it applied.
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The hash of the key that was written; NULL when something that decides what every key
    -- may do changed (a workspace's policy or plan, a membership).
    hash BLOB,
    -- When, for pruning.
    at   INTEGER NOT NULL
) STRICT;

CREATE INDEX key_changes_at ON key_changes (at);

-- A new key: a negative cache entry for its hash must go (an imported key may have been
-- tried before it was imported).
CREATE TRIGGER key_changes_on_key_insert AFTER INSERT ON api_keys
BEGIN
    INSERT INTO key_changes (hash, at)
    VALUES (NEW.hash, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- Everything verification reads from a key row, except last_used_at (written in batches on
-- every use, and not part of any answer the cache gives).
CREATE TRIGGER key_changes_on_key_update
AFTER UPDATE OF name, scopes, expires_at, metadata, revoked_at, deleted_at, rotated_to ON api_keys
BEGIN
    INSERT INTO key_changes (hash, at)
    VALUES (NEW.hash, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- A workspace's policy applies to its keys at use time; its plan is flushed too, rarely.
CREATE TRIGGER key_changes_on_workspace_policy
AFTER UPDATE OF members_can_create_keys, plan ON workspaces
BEGIN
    INSERT INTO key_changes (hash, at)
    VALUES (NULL, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- A key acts only while its creator is a member: removing one changes every key it made
-- (they are revoked in the same transaction; this covers any the removal did not reach).
CREATE TRIGGER key_changes_on_membership_delete AFTER DELETE ON memberships
BEGIN
    INSERT INTO key_changes (hash, at)
    VALUES (NULL, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
