-- A conversation's channel (voice, chat or email) is called `channel` everywhere in the code,
-- from the query type to the SQL; the column follows. URLs, the API and import files keep
-- `type`, which links and clients use.
ALTER TABLE conversations RENAME COLUMN kind TO channel;
