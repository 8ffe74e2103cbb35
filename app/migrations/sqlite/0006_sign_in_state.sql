-- Sign-in state (sessions and failed attempts) moves to its own file, attached to every
-- connection as `auth` (see `db::auth_file_for`). SQLite has one writer per file: with this
-- state apart, signing in and keeping a session alive never wait for an import that holds
-- the main file's write lock for minutes. Without foreign keys across files, the store ends
-- a person's sessions itself.
--
-- A stale auth file (its main database deleted and made anew) must not carry sessions over
-- to the new database's people, so the tables are made afresh.
DROP TABLE IF EXISTS auth.sessions;
DROP TABLE IF EXISTS auth.sign_in_failures;

CREATE TABLE auth.sessions (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL
);
CREATE INDEX auth.sessions_by_user ON sessions (org_id, user_id);
CREATE INDEX auth.sessions_by_last_seen ON sessions (last_seen_ms);

INSERT INTO auth.sessions (id, org_id, user_id, token_hash, created_at_ms, last_seen_ms)
SELECT id, org_id, user_id, token_hash, created_at_ms, last_seen_ms FROM main.sessions;
DROP TABLE main.sessions;

-- Failed sign-in attempts per account, counted by one statement per attempt (see
-- `auth::store::record_failed_sign_in`), so parallel attempts each count.
CREATE TABLE auth.sign_in_failures (
    org_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    window_start_ms BIGINT NOT NULL,
    locked_until_ms BIGINT,
    PRIMARY KEY (org_id, user_id)
);

INSERT INTO auth.sign_in_failures (org_id, user_id, failures, window_start_ms, locked_until_ms)
SELECT org_id, id, failed_logins, COALESCE(failed_window_start_ms, 0), locked_until_ms
FROM main.users WHERE failed_logins > 0 OR locked_until_ms IS NOT NULL;

ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN failed_window_start_ms;
ALTER TABLE users DROP COLUMN locked_until_ms;
