-- The Customers page no longer reads summary tables kept by the write path: each server keeps
-- a read model in memory (customers::read_model) and brings it up to date from the rows
-- written since the version it holds.
DROP TABLE customer_value_stats;
DROP TABLE customer_stats;
DROP TABLE customer_stats_totals;

-- One row per organisation: the number of the last committed write. Every transaction that
-- writes conversations increments it first, which serialises an organisation's writers (so
-- they cannot deadlock, and versions commit in order) and gives the version its rows carry.
CREATE TABLE read_model_versions (
    org_id INTEGER PRIMARY KEY REFERENCES organisations (id),
    version INTEGER NOT NULL
);

-- The version of the write that last changed each row; 0 for rows written before versions.
ALTER TABLE customers ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
CREATE INDEX customers_by_revision ON customers (org_id, revision);
CREATE INDEX conversations_by_revision ON conversations (org_id, revision);
