-- Wire profiles (PRODUCT.md §11) and the hex64 key format (§2).
--
-- Same conventions as 0001_init.sql: UUIDs as hyphenated TEXT, unix milliseconds, STRICT.

-- The shape of a workspace's new keys: `base62` (32 base62 characters and a 6-character
-- checksum) or `hex64` (64 lowercase hex characters, for systems that documented such keys).
-- Every workspace that exists before this migration minted base62 keys.
ALTER TABLE workspaces ADD COLUMN key_format TEXT NOT NULL DEFAULT 'base62'
    CHECK (key_format IN ('base62', 'hex64'));

-- A per-instance sequence number on every key, for wire profiles whose key ids are numbers.
-- The store gives each new key MAX(seq) + 1 inside its write transaction; keys are never
-- removed (deletion is soft), so a number is never reused. Existing keys are numbered in the
-- order they were created.
ALTER TABLE api_keys ADD COLUMN seq INTEGER;

UPDATE api_keys
SET seq = numbered.n
FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS n FROM api_keys) AS numbered
WHERE numbered.id = api_keys.id;

-- Unique, and the index the profile's `/{id}` lookups and the MAX(seq) probe go through.
CREATE UNIQUE INDEX api_keys_seq ON api_keys (seq);
