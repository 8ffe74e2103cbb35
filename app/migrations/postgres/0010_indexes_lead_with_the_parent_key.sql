-- The indexes by customer and by representative lead with the customer's or the person's own
-- id (ids are unique across organisations, so a lookup by organisation and customer reads the
-- same rows in the same order, and `org_id` stays in the index so that it still answers the
-- history alone). The foreign keys `conversations.customer_id` and
-- `conversations.representative_id` are then checked through an index: deleting a customer or
-- a person (erasure, `server org delete`) no longer reads every conversation of every
-- organisation once per row deleted, which made deleting an organisation of 10,000 customers
-- take a minute.
DROP INDEX conversations_by_customer;
CREATE INDEX conversations_by_customer ON conversations (customer_id, occurred_at_ms, score_hundredths, org_id);
DROP INDEX conversations_by_representative;
CREATE INDEX conversations_by_representative ON conversations (representative_id, occurred_at_ms, org_id);
