-- Every create, rotation and import counts the workspace's keys against its limits
-- (PRODUCT.md §5) inside the write transaction, so the count's cost is paid by every writer
-- while it holds SQLite's one write lock. Through api_keys_by_creator the count visited each
-- key's table row for its status columns; with them in this index it reads index pages only.
-- Measured on a workspace of ~8,000 keys (an operator-raised cap): creates went from about
-- 170/s to 250/s. Small workspaces (the default cap is 50) gain little and pay one more
-- index entry per key.
CREATE INDEX api_keys_counts
    ON api_keys (workspace_id, deleted_at, revoked_at, expires_at, rotated_to);
