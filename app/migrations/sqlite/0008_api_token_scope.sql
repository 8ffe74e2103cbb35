-- What an API token may do. `read_write` (every token made before this column, and the default):
-- read customers and write conversations. `admin`: that, and erase customers and conversations
-- (DELETE calls). Made with `server token create --admin`.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'read_write'
    CHECK (scope IN ('read_write', 'admin'));
