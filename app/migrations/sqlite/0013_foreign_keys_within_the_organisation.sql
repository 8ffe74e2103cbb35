-- no-transaction
-- A row can point only at rows of its own organisation, and the database itself holds to it:
-- every reference from one row to another carries `org_id` as well, (org_id, id) against a
-- UNIQUE index on the referenced table's (org_id, id). Until now isolation rested on the code
-- alone. (Sessions and sign-in counts live in the attached `auth` file, which foreign keys
-- cannot reach; the store ends a person's sessions itself, see 0006.)
--
-- Existing data is checked first, before anything changes: a reference that crosses
-- organisations fails the insert below with "CHECK constraint failed:" and the table and
-- column named.
DROP TABLE IF EXISTS temp.tenancy_check_0013;
CREATE TEMP TABLE tenancy_check_0013 (
    conversations_customer INTEGER
        CONSTRAINT "migration 0013 stopped: conversations.customer_id points at another organisation's customer"
        CHECK (conversations_customer = 0),
    conversations_representative INTEGER
        CONSTRAINT "migration 0013 stopped: conversations.representative_id points at another organisation's person"
        CHECK (conversations_representative = 0),
    options_field INTEGER
        CONSTRAINT "migration 0013 stopped: custom_field_options.field_id points at another organisation's field"
        CHECK (options_field = 0),
    values_conversation INTEGER
        CONSTRAINT "migration 0013 stopped: conversation_field_values.conversation_id points at another organisation's conversation"
        CHECK (values_conversation = 0),
    values_field INTEGER
        CONSTRAINT "migration 0013 stopped: conversation_field_values.field_id points at another organisation's field"
        CHECK (values_field = 0),
    views_user INTEGER
        CONSTRAINT "migration 0013 stopped: saved_views.user_id points at another organisation's person"
        CHECK (views_user = 0)
);
INSERT INTO temp.tenancy_check_0013 VALUES (
    (SELECT COUNT(*) FROM conversations c JOIN customers k ON k.id = c.customer_id WHERE k.org_id <> c.org_id),
    (SELECT COUNT(*) FROM conversations c JOIN users u ON u.id = c.representative_id WHERE u.org_id <> c.org_id),
    (SELECT COUNT(*) FROM custom_field_options o JOIN custom_fields f ON f.id = o.field_id WHERE f.org_id <> o.org_id),
    (SELECT COUNT(*) FROM conversation_field_values v JOIN conversations c ON c.id = v.conversation_id WHERE c.org_id <> v.org_id),
    (SELECT COUNT(*) FROM conversation_field_values v JOIN custom_fields f ON f.id = v.field_id WHERE f.org_id <> v.org_id),
    (SELECT COUNT(*) FROM saved_views s JOIN users u ON u.id = s.user_id WHERE u.org_id <> s.org_id)
);
DROP TABLE temp.tenancy_check_0013;

-- SQLite cannot add a foreign key to a table: the referring tables are made again (its
-- documented way: create the new table, copy, drop the old, rename), in one transaction, with
-- foreign keys off meanwhile (the pragma is ignored inside a transaction, hence no-transaction
-- for sqlx) so that dropping a referenced table does not touch the rows referring to it.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE UNIQUE INDEX users_by_org_and_id ON users (org_id, id);
CREATE UNIQUE INDEX customers_by_org_and_id ON customers (org_id, id);
CREATE UNIQUE INDEX custom_fields_by_org_and_id ON custom_fields (org_id, id);

CREATE TABLE conversations_0013 (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations (id),
    external_id TEXT NOT NULL,
    customer_id INTEGER NOT NULL,
    representative_id INTEGER NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('voice', 'chat', 'email')),
    occurred_at_ms INTEGER NOT NULL,
    score_hundredths INTEGER CHECK (score_hundredths BETWEEN 0 AND 10000),
    revision INTEGER NOT NULL DEFAULT 0,
    UNIQUE (org_id, external_id),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id),
    FOREIGN KEY (org_id, representative_id) REFERENCES users (org_id, id)
);
INSERT INTO conversations_0013 (id, org_id, external_id, customer_id, representative_id, title, kind, occurred_at_ms, score_hundredths, revision)
SELECT id, org_id, external_id, customer_id, representative_id, title, kind, occurred_at_ms, score_hundredths, revision FROM conversations;

CREATE TABLE custom_field_options_0013 (
    org_id INTEGER NOT NULL REFERENCES organisations (id),
    field_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (field_id, value),
    FOREIGN KEY (org_id, field_id) REFERENCES custom_fields (org_id, id)
);
INSERT INTO custom_field_options_0013 (org_id, field_id, position, value)
SELECT org_id, field_id, position, value FROM custom_field_options;

CREATE TABLE conversation_field_values_0013 (
    org_id INTEGER NOT NULL REFERENCES organisations (id),
    conversation_id INTEGER NOT NULL,
    field_id INTEGER NOT NULL,
    value TEXT NOT NULL,
    value_folded TEXT NOT NULL,
    PRIMARY KEY (conversation_id, field_id),
    FOREIGN KEY (org_id, conversation_id) REFERENCES conversations (org_id, id),
    FOREIGN KEY (org_id, field_id) REFERENCES custom_fields (org_id, id)
) WITHOUT ROWID;
INSERT INTO conversation_field_values_0013 (org_id, conversation_id, field_id, value, value_folded)
SELECT org_id, conversation_id, field_id, value, value_folded FROM conversation_field_values;

CREATE TABLE saved_views_0013 (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations (id),
    user_id INTEGER NOT NULL,
    name TEXT NOT NULL CHECK (name <> ''),
    name_key TEXT NOT NULL CHECK (name_key <> ''),
    query TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    UNIQUE (org_id, user_id, name_key),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
INSERT INTO saved_views_0013 (id, org_id, user_id, name, name_key, query, created_at_ms, updated_at_ms)
SELECT id, org_id, user_id, name, name_key, query, created_at_ms, updated_at_ms FROM saved_views;

DROP TABLE saved_views;
DROP TABLE conversation_field_values;
DROP TABLE custom_field_options;
DROP TABLE conversations;
ALTER TABLE conversations_0013 RENAME TO conversations;
ALTER TABLE custom_field_options_0013 RENAME TO custom_field_options;
ALTER TABLE conversation_field_values_0013 RENAME TO conversation_field_values;
ALTER TABLE saved_views_0013 RENAME TO saved_views;

-- The indexes the dropped tables had (see 0005 and 0010).
CREATE INDEX conversations_by_customer ON conversations (customer_id, occurred_at_ms, score_hundredths, org_id);
CREATE INDEX conversations_by_representative ON conversations (representative_id, occurred_at_ms, org_id);
CREATE INDEX conversations_by_revision ON conversations (org_id, revision);
CREATE INDEX conversation_field_values_by_value ON conversation_field_values (org_id, field_id, value);

COMMIT;
PRAGMA foreign_keys = ON;
