-- Service tokens join the key-change log (0007): the verify API's token check is answered
-- from each server's cache too, so creating or revoking a token must reach every cache the
-- same way a key write does.
--
-- Same conventions as 0001_init.sql: unix milliseconds, STRICT.
CREATE TRIGGER key_changes_on_service_token_insert AFTER INSERT ON service_tokens
BEGIN
    INSERT INTO key_changes (hash, at)
    VALUES (NEW.hash, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER key_changes_on_service_token_update
AFTER UPDATE OF name, revoked_at ON service_tokens
BEGIN
    INSERT INTO key_changes (hash, at)
    VALUES (NEW.hash, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
