-- Every table carries org_id, so any organisation's rows can be moved to a shard of its own.
-- Times are UTC milliseconds since the Unix epoch; scores are hundredths (0..=10000), so sums
-- and averages are exact and identical on SQLite and PostgreSQL. Text that is sorted or
-- compared uses the "C" collation: byte order, as on SQLite.

CREATE TABLE organisations (
    id BIGSERIAL PRIMARY KEY,
    slug TEXT COLLATE "C" NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]+$'),
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations (id),
    email TEXT COLLATE "C" NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'representative')),
    password_hash TEXT,
    UNIQUE (org_id, email)
);

CREATE TABLE customers (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations (id),
    identifier TEXT COLLATE "C" NOT NULL,
    display_name TEXT,
    search_text TEXT COLLATE "C" NOT NULL,
    UNIQUE (org_id, identifier)
);

CREATE TABLE conversations (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations (id),
    external_id TEXT COLLATE "C" NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    representative_id BIGINT NOT NULL REFERENCES users (id),
    title TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('voice', 'chat', 'email')),
    occurred_at_ms BIGINT NOT NULL,
    score_hundredths BIGINT CHECK (score_hundredths BETWEEN 0 AND 10000),
    UNIQUE (org_id, external_id)
);
CREATE INDEX conversations_by_customer ON conversations (org_id, customer_id, occurred_at_ms);
CREATE INDEX conversations_by_representative ON conversations (org_id, representative_id, occurred_at_ms);

CREATE TABLE custom_fields (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations (id),
    key TEXT COLLATE "C" NOT NULL CHECK (key ~ '^[a-z0-9_]+$'),
    label TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'select')),
    position BIGINT NOT NULL DEFAULT 0,
    UNIQUE (org_id, key)
);

CREATE TABLE custom_field_options (
    org_id BIGINT NOT NULL REFERENCES organisations (id),
    field_id BIGINT NOT NULL REFERENCES custom_fields (id),
    position BIGINT NOT NULL,
    value TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (field_id, value)
);

CREATE TABLE conversation_field_values (
    org_id BIGINT NOT NULL REFERENCES organisations (id),
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    field_id BIGINT NOT NULL REFERENCES custom_fields (id),
    value TEXT COLLATE "C" NOT NULL,
    value_folded TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (conversation_id, field_id)
);
CREATE INDEX conversation_field_values_by_value ON conversation_field_values (org_id, field_id, value);
