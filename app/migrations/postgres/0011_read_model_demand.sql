-- Which organisations were questioned lately (written at most once a minute per organisation
-- and server), so that a restarted server warms those first, within its memory budget,
-- instead of loading every organisation. A table of its own: the version row is locked by
-- every write, and a question must never wait for an import.
CREATE TABLE read_model_demand (
    org_id BIGINT PRIMARY KEY REFERENCES organisations (id),
    questioned_at_ms BIGINT NOT NULL
);
