-- What operating keyward needs beyond the core schema (PRODUCT.md §8 and §9): the pepper's
-- fingerprint, so a node with the wrong pepper refuses to start, and service tokens that
-- can be listed, revoked by name and show their last use.
--
-- Same conventions as 0001_init.sql: UUIDs as hyphenated TEXT, unix milliseconds, STRICT.

CREATE TABLE pepper_fingerprint (
    -- Always 1: an instance has one pepper, so the table holds at most one row.
    id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    -- HMAC-SHA256(pepper, a fixed label). It tells whether a node's pepper is the one the
    -- stored hashes were made with, without storing the pepper or anything derived from a
    -- secret.
    fingerprint BLOB    NOT NULL CHECK (length(fingerprint) = 32),
    -- When the first node that started with this database (and a pepper) recorded it.
    recorded_at INTEGER NOT NULL
) STRICT;

-- Service tokens: listed with their last use, revoked by id or name, so names are unique.

-- When the token last called the verify API; NULL if never. Written in batches off the
-- request path, like api_keys.last_used_at, and only ever moved forward.
ALTER TABLE service_tokens ADD COLUMN last_used_at INTEGER;

-- Older keyward versions let two tokens share a name. No token may be lost, so the oldest
-- of each name keeps it and every later one gets the last 12 characters of its id (the
-- random part of a UUID v7) appended, e.g. `billing (8c1f0a2b3d4e)`: still recognisable,
-- and told apart in `service-token list`.
UPDATE service_tokens
SET name = name || ' (' || substr(id, 25) || ')'
WHERE EXISTS (
    SELECT 1 FROM service_tokens AS older
    WHERE older.name = service_tokens.name
      AND (older.created_at < service_tokens.created_at
           OR (older.created_at = service_tokens.created_at AND older.id < service_tokens.id))
);

-- One name, one token, revoked ones included, so `service-token revoke NAME` is never
-- ambiguous; a second create with a taken name is a conflict.
CREATE UNIQUE INDEX service_tokens_name ON service_tokens (name);
