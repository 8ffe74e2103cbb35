-- Failed sign-in attempts per account, in a table of their own, counted by one statement per
-- attempt (see `auth::store::record_failed_sign_in`), so parallel attempts each count. (On
-- SQLite this table and the sessions live in a separate file; PostgreSQL needs no such split.)
CREATE TABLE sign_in_failures (
    org_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    failures INTEGER NOT NULL,
    window_start_ms BIGINT NOT NULL,
    locked_until_ms BIGINT,
    PRIMARY KEY (org_id, user_id)
);

INSERT INTO sign_in_failures (org_id, user_id, failures, window_start_ms, locked_until_ms)
SELECT org_id, id, failed_logins, COALESCE(failed_window_start_ms, 0), locked_until_ms
FROM users WHERE failed_logins > 0 OR locked_until_ms IS NOT NULL;

ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN failed_window_start_ms;
ALTER TABLE users DROP COLUMN locked_until_ms;
