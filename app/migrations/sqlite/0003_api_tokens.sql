-- API tokens: one organisation each. Only a digest of the token is stored; the token itself
-- is shown once, when it is created.

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT,
    UNIQUE (org_id, name)
);
