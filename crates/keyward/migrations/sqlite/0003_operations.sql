-- What operating keyward needs beyond the core schema (PRODUCT.md §8 and §9): the pepper's
-- fingerprint, so a node with the wrong pepper refuses to start.
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
