-- An organisation's id is never given to another one, also after it was deleted
-- (`server org delete`): a server's read model holds an organisation's figures by id. On
-- PostgreSQL the id is a BIGSERIAL, whose sequence never goes back; SQLite needs its table made
-- again with AUTOINCREMENT (its 0009). Said here where the next reader of the schema looks.
COMMENT ON COLUMN organisations.id IS 'Never reused, also after the organisation is deleted (a sequence).';
