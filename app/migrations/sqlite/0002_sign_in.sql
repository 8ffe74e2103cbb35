-- Sign-in: failed-attempt accounting on each user, and server-side sessions. A session row
-- stores only a digest of its token; the token itself lives in the browser's cookie.

ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN failed_window_start_ms BIGINT;
ALTER TABLE users ADD COLUMN locked_until_ms BIGINT;

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations (id),
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL
);

CREATE INDEX sessions_by_user ON sessions (org_id, user_id);
CREATE INDEX sessions_by_last_seen ON sessions (last_seen_ms);
