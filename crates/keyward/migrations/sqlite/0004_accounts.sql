-- Accounts (PRODUCT.md §4 `/auth/*`, issue 12): email verification links and invitations.
-- Both carry a single-use token that only its recipient sees, in an email; like every other
-- credential, only HMAC-SHA256(pepper, token) is stored.
--
-- Same conventions as 0001_init.sql: UUIDs as hyphenated TEXT, unix milliseconds, STRICT.

CREATE TABLE email_tokens (
    -- UUID v7 of the link.
    id         TEXT    NOT NULL PRIMARY KEY,
    -- The user whose address the link proves; the links go with the user.
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- HMAC-SHA256(pepper, token); the token itself is only in the email.
    token_hash BLOB    NOT NULL CHECK (length(token_hash) = 32),
    -- When the link was sent; resending is limited by it.
    created_at INTEGER NOT NULL,
    -- 24 hours after it was sent.
    expires_at INTEGER NOT NULL,
    -- When it was used; a link works once.
    used_at    INTEGER
) STRICT;

-- The lookup when a link is opened.
CREATE UNIQUE INDEX email_tokens_hash ON email_tokens (token_hash);

CREATE TABLE invitations (
    -- UUID v7 of the invitation; listed and withdrawn by it.
    id           TEXT    NOT NULL PRIMARY KEY,
    -- The workspace the invitee joins; invitations go with it.
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- The invitee's address, lower-cased: the account made from the link gets it.
    email        TEXT    NOT NULL,
    -- The role the invitee joins with.
    role         TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    -- JSON array of product scopes, as for memberships; NULL for every product scope.
    scopes       TEXT,
    -- The user who invited (or whose key did). No foreign key: like a key's creator, a
    -- historical record; acceptance checks that this user may still grant the role.
    invited_by   TEXT    NOT NULL,
    -- HMAC-SHA256(pepper, token) of the emailed link.
    token_hash   BLOB    NOT NULL CHECK (length(token_hash) = 32),
    -- When it was sent.
    created_at   INTEGER NOT NULL,
    -- Seven days after it was sent.
    expires_at   INTEGER NOT NULL,
    -- When the invitee used it; it works once.
    accepted_at  INTEGER,
    -- When someone withdrew it.
    withdrawn_at INTEGER
) STRICT;

-- The lookup when a link is opened.
CREATE UNIQUE INDEX invitations_hash ON invitations (token_hash);
-- Pending invitations of a workspace, oldest first, and "is this email invited already?".
CREATE INDEX invitations_by_workspace ON invitations (workspace_id, email);

-- Logging out everywhere and expiring a user's sessions.
CREATE INDEX sessions_by_user ON sessions (user_id);
