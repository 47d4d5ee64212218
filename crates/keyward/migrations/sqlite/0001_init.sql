-- keyward's SQLite schema (PRODUCT.md §1 and §2).
--
-- Conventions:
--   * ids are UUIDs as hyphenated lower-case TEXT; v7 ids sort by creation time as text too;
--   * timestamps are INTEGER unix milliseconds, UTC (the domain truncates to milliseconds);
--   * credential hashes are 32-byte BLOBs of HMAC-SHA256(pepper, secret), never the secret;
--   * scope lists, metadata and audit details are JSON TEXT.
-- Tables are STRICT so that a wrong type is an error at write time, not a surprise at read time.

CREATE TABLE users (
    -- UUID v7 of the user.
    id                TEXT    NOT NULL PRIMARY KEY,
    -- Login identity; the service lower-cases it before it gets here, so a plain UNIQUE
    -- constraint makes it unique case-insensitively.
    email             TEXT    NOT NULL UNIQUE,
    -- Display name.
    name              TEXT    NOT NULL,
    -- argon2id PHC string; NULL for users who cannot log in with a password.
    password_hash     TEXT,
    -- When the emailed verification link was used; NULL until then (key writes need it).
    email_verified_at INTEGER,
    -- When the user signed up or was created by the admin CLI.
    created_at        INTEGER NOT NULL
) STRICT;

CREATE TABLE workspaces (
    -- UUID v7 of the workspace.
    id                      TEXT    NOT NULL PRIMARY KEY,
    -- Display name.
    name                    TEXT    NOT NULL,
    -- Name of a plan from config; decides the active-key limit (PRODUCT.md §5).
    plan                    TEXT    NOT NULL,
    -- Prefix of new secrets, e.g. `kw_` or `sk_live_`; existing keys keep the prefix they had.
    key_prefix              TEXT    NOT NULL,
    -- 1 when members may create and manage their own keys, 0 otherwise (the default).
    members_can_create_keys INTEGER NOT NULL DEFAULT 0 CHECK (members_can_create_keys IN (0, 1)),
    -- When the workspace was created.
    created_at              INTEGER NOT NULL,
    -- When name, plan, prefix or the members flag last changed.
    updated_at              INTEGER NOT NULL
) STRICT;

CREATE TABLE memberships (
    -- The workspace; a membership means nothing without it.
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- The member; a membership means nothing without its user.
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- owner, admin or member (PRODUCT.md §3).
    role         TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    -- JSON array of the product scopes a member is narrowed to; NULL means every product
    -- scope, including ones the operator adds to the catalog later.
    scopes       TEXT,
    -- When the user joined; members are listed oldest first.
    created_at   INTEGER NOT NULL,
    -- One membership per user and workspace: a second insert is a conflict.
    PRIMARY KEY (workspace_id, user_id)
) STRICT;

-- "Which workspaces is this user in?" for login and the current-workspace alias.
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE api_keys (
    -- UUID v7 of the key; also the tie-breaker of the newest-first listing.
    id             TEXT    NOT NULL PRIMARY KEY,
    -- The workspace that owns the key.
    workspace_id   TEXT    NOT NULL REFERENCES workspaces (id),
    -- Display name chosen by the creator.
    name           TEXT    NOT NULL,
    -- Display form: the prefix plus the first 8 body characters; safe to show anywhere.
    key_prefix     TEXT    NOT NULL,
    -- HMAC-SHA256(pepper, secret); the only trace of the secret, looked up by the index below.
    hash           BLOB    NOT NULL CHECK (length(hash) = 32),
    -- JSON array of the key's scopes; ["*"] is full access.
    scopes         TEXT    NOT NULL,
    -- The creator's role when the key was made.
    creator_role   TEXT    NOT NULL CHECK (creator_role IN ('owner', 'admin', 'member')),
    -- JSON array of the creator's scopes when the key was made; the key never exceeds them,
    -- even after the creator is promoted or demoted.
    creator_scopes TEXT    NOT NULL,
    -- The user the key acts as. No foreign key: the key is a historical record of who made it
    -- and outlives that user's membership.
    created_by     TEXT    NOT NULL,
    -- When the key was minted; first part of the listing order.
    created_at     INTEGER NOT NULL,
    -- When name, scopes, expiry, metadata, revocation or deletion last changed.
    updated_at     INTEGER NOT NULL,
    -- When the key stops verifying; NULL for never.
    expires_at     INTEGER,
    -- Last verification or management use, written in batches and only ever moved forward.
    last_used_at   INTEGER,
    -- When the key was revoked; NULL while it is not.
    revoked_at     INTEGER,
    -- Soft delete: set rows vanish from listings but stay for verification answers and audit.
    deleted_at     INTEGER,
    -- JSON object (at most 4 KiB) the operator attaches to the key.
    metadata       TEXT    NOT NULL,
    -- The key this one was rotated from; NULL for keys that were created, not rotated.
    rotated_from   TEXT    REFERENCES api_keys (id)
) STRICT;

-- The verification lookup; unique so that one secret can never resolve to two keys.
CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);
-- A key has at most one successor, so two concurrent rotations of one key cannot both win.
CREATE UNIQUE INDEX api_keys_rotated_from ON api_keys (rotated_from)
    WHERE rotated_from IS NOT NULL;
-- The newest-first listing and its cursor, `(created_at, id) < (?, ?)`, and the key counts.
CREATE INDEX api_keys_listing ON api_keys (workspace_id, created_at DESC, id DESC);
-- "Keys of this user" for the created_by filter, members' own keys, and revoke-on-removal.
CREATE INDEX api_keys_by_creator ON api_keys (workspace_id, created_by);

CREATE TABLE audit_events (
    -- UUID v7 of the event; tie-breaker of the newest-first listing.
    id           TEXT    NOT NULL PRIMARY KEY,
    -- The workspace the event belongs to. Deliberately no foreign key: the trail is
    -- append-only and must never be deleted together with what it describes.
    workspace_id TEXT    NOT NULL,
    -- When the change happened.
    at           INTEGER NOT NULL,
    -- Who did it: user, api_key, service or system.
    actor_type   TEXT    NOT NULL CHECK (actor_type IN ('user', 'api_key', 'service', 'system')),
    -- The user or key id of the actor; NULL for the system (the admin CLI).
    actor_id     TEXT,
    -- What happened, e.g. api_key.created or member.removed.
    action       TEXT    NOT NULL,
    -- Kind of the thing changed, e.g. api_key, member or workspace.
    target_type  TEXT    NOT NULL,
    -- Id of the thing changed; no foreign key, for the same reason as workspace_id.
    target_id    TEXT    NOT NULL,
    -- Client IP of the request, when there was one.
    ip           TEXT,
    -- Client User-Agent of the request, when there was one.
    user_agent   TEXT,
    -- JSON with names, display prefixes and scopes; never a secret.
    details      TEXT    NOT NULL
) STRICT;

-- The newest-first audit listing and its cursor.
CREATE INDEX audit_events_listing ON audit_events (workspace_id, at DESC, id DESC);
-- The `?target_id=` filter: the history of one key or member.
CREATE INDEX audit_events_by_target ON audit_events (workspace_id, target_id);

CREATE TABLE service_tokens (
    -- UUID v7 of the token.
    id           TEXT    NOT NULL PRIMARY KEY,
    -- Operator's label for the token, e.g. the service that uses it.
    name         TEXT    NOT NULL,
    -- Display form of the token (kwsvc_ plus a few characters); safe to show.
    token_prefix TEXT    NOT NULL,
    -- HMAC-SHA256(pepper, token); looked up through the unique index below.
    hash         BLOB    NOT NULL CHECK (length(hash) = 32),
    -- When the operator created the token.
    created_at   INTEGER NOT NULL,
    -- When the token was revoked; NULL while it may call the verify API.
    revoked_at   INTEGER
) STRICT;

-- The verify API's authentication lookup.
CREATE UNIQUE INDEX service_tokens_hash ON service_tokens (hash);

CREATE TABLE sessions (
    -- UUID of the session; a fresh one at every login.
    id           TEXT    NOT NULL PRIMARY KEY,
    -- HMAC-SHA256(pepper, cookie value); the cookie itself is never stored.
    token_hash   BLOB    NOT NULL CHECK (length(token_hash) = 32),
    -- HMAC-SHA256(pepper, csrf token) checked against X-CSRF-Token on state changes.
    csrf_hash    BLOB    NOT NULL CHECK (length(csrf_hash) = 32),
    -- The logged-in user; their sessions go with them.
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- When the user logged in.
    created_at   INTEGER NOT NULL,
    -- Last request seen on the session, for idle expiry.
    last_seen_at INTEGER NOT NULL
) STRICT;

-- The cookie lookup on every console request.
CREATE UNIQUE INDEX sessions_token_hash ON sessions (token_hash);
