-- no-transaction
-- An organisation's id is never given to another one, also after it was deleted
-- (`server org delete`): every row of an organisation carries its id, and a server's read
-- model holds an organisation's figures by id and version, so a new organisation under a
-- deleted one's id could be shown the deleted one's figures. SQLite gives a new row the
-- highest rowid plus one unless the key is AUTOINCREMENT, which only a new table can have:
-- the table is made again (SQLite's documented way to change a table's definition, with
-- foreign keys off so that the tables referring to it are left as they are).
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE organisations_autoincrement (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE CHECK (slug <> '' AND slug NOT GLOB '*[^a-z0-9-]*'),
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    score_band_low INTEGER NOT NULL DEFAULT 6000 CHECK (score_band_low >= 0),
    score_band_high INTEGER NOT NULL DEFAULT 8000
        CHECK (score_band_high <= 10000 AND score_band_high > score_band_low)
);
INSERT INTO organisations_autoincrement (id, slug, name, time_zone, score_band_low, score_band_high)
SELECT id, slug, name, time_zone, score_band_low, score_band_high FROM organisations;
DROP TABLE organisations;
ALTER TABLE organisations_autoincrement RENAME TO organisations;
COMMIT;
PRAGMA foreign_keys = ON;
