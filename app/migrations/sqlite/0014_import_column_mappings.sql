-- The import page remembers, per organisation, what each column of a call platform's CSV was
-- read as, so that the next export from the same platform is mapped the same way.
-- `source_key` is the column's name compared loosely (lower case, words separated by one
-- space: see `conversations::import_columns::column_key`); `target` is a Playbook column,
-- `field.<key>`, or '' for a column left out.
CREATE TABLE import_column_mappings (
    org_id INTEGER NOT NULL REFERENCES organisations (id),
    source_key TEXT NOT NULL CHECK (source_key <> ''),
    target TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (org_id, source_key)
);
