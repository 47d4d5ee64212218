-- Imported keys (PRODUCT.md §2 "Imported keys", §9 `admin import-keys`): keys another system
-- issued, which keep their own secret and verify beside keyward's own.
--
-- Same conventions as 0001_init.sql: UUIDs as hyphenated TEXT, unix milliseconds, STRICT.

-- Where the key came from, and so what `hash` is a hash of: `native` (minted here;
-- HMAC-SHA256(pepper, secret)) or `imported` (HMAC-SHA256(pepper, label || SHA-256(secret)),
-- since an import may hold only the old system's SHA-256). Rotating an imported key mints a
-- native one. Every key that exists before this migration was minted here.
ALTER TABLE api_keys ADD COLUMN source TEXT NOT NULL DEFAULT 'native'
    CHECK (source IN ('native', 'imported'));

-- "Does any imported key exist?", which every server asks every few seconds to decide whether
-- strings that are not keyward keys are worth a lookup at all: a probe of this partial index,
-- which holds only imported keys, instead of a scan of every key.
CREATE INDEX api_keys_imported ON api_keys (source) WHERE source = 'imported';
