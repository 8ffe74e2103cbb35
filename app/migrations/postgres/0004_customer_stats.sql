-- The Customers page reads one summary row per customer with scored conversations instead of
-- grouping every conversation at request time. conversations::store rebuilds the rows of the
-- customers each write touches, in the same transaction as the write, so the two never disagree.
-- The identifier and names are copied here so that sorting and searching read one table.
CREATE TABLE customer_stats (
    customer_id BIGINT PRIMARY KEY REFERENCES customers (id),
    org_id BIGINT NOT NULL REFERENCES organisations (id),
    identifier TEXT COLLATE "C" NOT NULL,
    display_name TEXT,
    search_text TEXT COLLATE "C" NOT NULL,
    interactions BIGINT NOT NULL,
    first_ms BIGINT NOT NULL,
    latest_ms BIGINT NOT NULL,
    score_sum BIGINT NOT NULL,
    avg_score DOUBLE PRECISION NOT NULL
);
-- One index per sort and direction (ties break on the identifier, ascending); a scan backwards
-- serves the mirror order, which the store uses for pages past the middle.
CREATE INDEX customer_stats_by_interactions_desc ON customer_stats (org_id, interactions DESC, identifier);
CREATE INDEX customer_stats_by_interactions_asc ON customer_stats (org_id, interactions, identifier);
CREATE INDEX customer_stats_by_first_desc ON customer_stats (org_id, first_ms DESC, identifier);
CREATE INDEX customer_stats_by_first_asc ON customer_stats (org_id, first_ms, identifier);
CREATE INDEX customer_stats_by_latest_desc ON customer_stats (org_id, latest_ms DESC, identifier);
CREATE INDEX customer_stats_by_latest_asc ON customer_stats (org_id, latest_ms, identifier);
CREATE INDEX customer_stats_by_score_desc ON customer_stats (org_id, avg_score DESC, identifier);
CREATE INDEX customer_stats_by_score_asc ON customer_stats (org_id, avg_score, identifier);

-- The same figures per custom field value: a customer's scored conversations that carry the
-- value. A page with one filter adds up the rows of the values it matches instead of grouping
-- conversations (each conversation has one value per field, so the rows never overlap).
CREATE TABLE customer_value_stats (
    org_id BIGINT NOT NULL REFERENCES organisations (id),
    field_id BIGINT NOT NULL REFERENCES custom_fields (id),
    value TEXT COLLATE "C" NOT NULL,
    value_folded TEXT COLLATE "C" NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    identifier TEXT COLLATE "C" NOT NULL,
    interactions BIGINT NOT NULL,
    first_ms BIGINT NOT NULL,
    latest_ms BIGINT NOT NULL,
    score_sum BIGINT NOT NULL,
    PRIMARY KEY (org_id, field_id, value, customer_id)
);
CREATE INDEX customer_value_stats_by_customer ON customer_value_stats (org_id, customer_id);

-- How many customers each organisation's page lists when nothing narrows it.
CREATE TABLE customer_stats_totals (
    org_id BIGINT PRIMARY KEY REFERENCES organisations (id),
    customers BIGINT NOT NULL
);

-- The history and the summary rebuild read a customer's conversations from this index alone.
DROP INDEX conversations_by_customer;
CREATE INDEX conversations_by_customer ON conversations (org_id, customer_id, occurred_at_ms, score_hundredths);

INSERT INTO customer_stats (customer_id, org_id, identifier, display_name, search_text, interactions,
                            first_ms, latest_ms, score_sum, avg_score)
SELECT c.id, c.org_id, c.identifier, c.display_name, c.search_text, COUNT(*), MIN(v.occurred_at_ms),
       MAX(v.occurred_at_ms), SUM(v.score_hundredths),
       CAST(SUM(v.score_hundredths) AS DOUBLE PRECISION) / COUNT(*)
FROM customers c
JOIN conversations v ON v.customer_id = c.id AND v.org_id = c.org_id AND v.score_hundredths IS NOT NULL
GROUP BY c.id, c.org_id, c.identifier, c.display_name, c.search_text;

INSERT INTO customer_stats_totals (org_id, customers)
SELECT org_id, COUNT(*) FROM customer_stats GROUP BY org_id;

INSERT INTO customer_value_stats (org_id, field_id, value, value_folded, customer_id, identifier,
                                  interactions, first_ms, latest_ms, score_sum)
SELECT v.org_id, fv.field_id, fv.value, fv.value_folded, v.customer_id, c.identifier, COUNT(*),
       MIN(v.occurred_at_ms), MAX(v.occurred_at_ms), SUM(v.score_hundredths)
FROM conversations v
JOIN customers c ON c.id = v.customer_id AND c.org_id = v.org_id
JOIN conversation_field_values fv ON fv.conversation_id = v.id AND fv.org_id = v.org_id
WHERE v.score_hundredths IS NOT NULL
GROUP BY v.org_id, fv.field_id, fv.value, fv.value_folded, v.customer_id, c.identifier;
