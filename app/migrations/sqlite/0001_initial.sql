-- Every table carries org_id, so any organisation's rows can be moved to a shard of its own.
-- Times are UTC milliseconds since the Unix epoch; scores are hundredths (0..=10000), so sums
-- and averages are exact and identical on SQLite and PostgreSQL.

CREATE TABLE organisations (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE CHECK (slug <> '' AND slug NOT GLOB '*[^a-z0-9-]*'),
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations (id),
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'representative')),
    password_hash TEXT,
    UNIQUE (org_id, email)
);

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations (id),
    identifier TEXT NOT NULL,
    display_name TEXT,
    -- identifier and display name, lower-cased by the application (Unicode-aware), for search.
    search_text TEXT NOT NULL,
    UNIQUE (org_id, identifier)
);

CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations (id),
    external_id TEXT NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    representative_id INTEGER NOT NULL REFERENCES users (id),
    title TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('voice', 'chat', 'email')),
    occurred_at_ms INTEGER NOT NULL,
    score_hundredths INTEGER CHECK (score_hundredths BETWEEN 0 AND 10000),
    UNIQUE (org_id, external_id)
);
CREATE INDEX conversations_by_customer ON conversations (org_id, customer_id, occurred_at_ms);
CREATE INDEX conversations_by_representative ON conversations (org_id, representative_id, occurred_at_ms);

CREATE TABLE custom_fields (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations (id),
    key TEXT NOT NULL CHECK (key <> '' AND key NOT GLOB '*[^a-z0-9_]*'),
    label TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'select')),
    position INTEGER NOT NULL DEFAULT 0,
    UNIQUE (org_id, key)
);

CREATE TABLE custom_field_options (
    org_id INTEGER NOT NULL REFERENCES organisations (id),
    field_id INTEGER NOT NULL REFERENCES custom_fields (id),
    position INTEGER NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (field_id, value)
);

CREATE TABLE conversation_field_values (
    org_id INTEGER NOT NULL REFERENCES organisations (id),
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    field_id INTEGER NOT NULL REFERENCES custom_fields (id),
    value TEXT NOT NULL,
    -- value lower-cased by the application, for case-insensitive "contains" filters.
    value_folded TEXT NOT NULL,
    PRIMARY KEY (conversation_id, field_id)
);
CREATE INDEX conversation_field_values_by_value ON conversation_field_values (org_id, field_id, value);
