-- A row can point only at rows of its own organisation, and the database itself holds to it:
-- every reference from one row to another carries `org_id` as well, (org_id, id) against the
-- referenced table's UNIQUE (org_id, id). Until now isolation rested on the code alone.
--
-- Existing data is checked first: a reference that crosses organisations stops the migration
-- with the table and column named, before anything changes.
DO $$
DECLARE
    offending TEXT;
BEGIN
    SELECT problem INTO offending FROM (
        SELECT 'conversations.customer_id' AS problem WHERE EXISTS (
            SELECT 1 FROM conversations c JOIN customers k ON k.id = c.customer_id WHERE k.org_id <> c.org_id)
        UNION ALL
        SELECT 'conversations.representative_id' WHERE EXISTS (
            SELECT 1 FROM conversations c JOIN users u ON u.id = c.representative_id WHERE u.org_id <> c.org_id)
        UNION ALL
        SELECT 'custom_field_options.field_id' WHERE EXISTS (
            SELECT 1 FROM custom_field_options o JOIN custom_fields f ON f.id = o.field_id WHERE f.org_id <> o.org_id)
        UNION ALL
        SELECT 'conversation_field_values.conversation_id' WHERE EXISTS (
            SELECT 1 FROM conversation_field_values v JOIN conversations c ON c.id = v.conversation_id WHERE c.org_id <> v.org_id)
        UNION ALL
        SELECT 'conversation_field_values.field_id' WHERE EXISTS (
            SELECT 1 FROM conversation_field_values v JOIN custom_fields f ON f.id = v.field_id WHERE f.org_id <> v.org_id)
        UNION ALL
        SELECT 'saved_views.user_id' WHERE EXISTS (
            SELECT 1 FROM saved_views s JOIN users u ON u.id = s.user_id WHERE u.org_id <> s.org_id)
        UNION ALL
        SELECT 'sessions.user_id' WHERE EXISTS (
            SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.org_id <> s.org_id)
        UNION ALL
        SELECT 'sign_in_failures.user_id' WHERE EXISTS (
            SELECT 1 FROM sign_in_failures s JOIN users u ON u.id = s.user_id WHERE u.org_id <> s.org_id)
    ) AS problems
    LIMIT 1;
    IF offending IS NOT NULL THEN
        RAISE EXCEPTION 'migration 0013 stopped: rows of % point at another organisation''s rows; correct or delete them, then migrate again', offending;
    END IF;
END
$$;

ALTER TABLE users ADD CONSTRAINT users_org_id_id_key UNIQUE (org_id, id);
ALTER TABLE customers ADD CONSTRAINT customers_org_id_id_key UNIQUE (org_id, id);
ALTER TABLE conversations ADD CONSTRAINT conversations_org_id_id_key UNIQUE (org_id, id);
ALTER TABLE custom_fields ADD CONSTRAINT custom_fields_org_id_id_key UNIQUE (org_id, id);

ALTER TABLE conversations
    DROP CONSTRAINT conversations_customer_id_fkey,
    DROP CONSTRAINT conversations_representative_id_fkey,
    ADD CONSTRAINT conversations_customer_fkey
        FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id),
    ADD CONSTRAINT conversations_representative_fkey
        FOREIGN KEY (org_id, representative_id) REFERENCES users (org_id, id);

ALTER TABLE custom_field_options
    DROP CONSTRAINT custom_field_options_field_id_fkey,
    ADD CONSTRAINT custom_field_options_field_fkey
        FOREIGN KEY (org_id, field_id) REFERENCES custom_fields (org_id, id);

ALTER TABLE conversation_field_values
    DROP CONSTRAINT conversation_field_values_conversation_id_fkey,
    DROP CONSTRAINT conversation_field_values_field_id_fkey,
    ADD CONSTRAINT conversation_field_values_conversation_fkey
        FOREIGN KEY (org_id, conversation_id) REFERENCES conversations (org_id, id),
    ADD CONSTRAINT conversation_field_values_field_fkey
        FOREIGN KEY (org_id, field_id) REFERENCES custom_fields (org_id, id);

ALTER TABLE saved_views
    DROP CONSTRAINT saved_views_user_id_fkey,
    ADD CONSTRAINT saved_views_user_fkey
        FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE;

ALTER TABLE sessions
    DROP CONSTRAINT sessions_user_id_fkey,
    ADD CONSTRAINT sessions_user_fkey
        FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE;

ALTER TABLE sign_in_failures
    DROP CONSTRAINT sign_in_failures_user_id_fkey,
    ADD CONSTRAINT sign_in_failures_user_fkey
        FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE;
