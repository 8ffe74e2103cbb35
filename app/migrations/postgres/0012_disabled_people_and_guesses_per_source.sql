-- A person can be disabled (`server user disable`): their sessions end and sign-in refuses
-- them with the usual answer, until `server user enable`.
ALTER TABLE users ADD COLUMN disabled_at_ms BIGINT;

-- Failed sign-in guesses counted per (email tried, client source), both stored only as
-- digests: a stranger's guesses lock out that stranger's source, never the owner's, and an
-- unknown email costs the same write as a known one (see `auth::store::record_failed_guess`).
CREATE TABLE sign_in_guesses (
    account_key TEXT NOT NULL,
    source_key TEXT NOT NULL,
    failures INTEGER NOT NULL,
    window_start_ms BIGINT NOT NULL,
    locked_until_ms BIGINT,
    PRIMARY KEY (account_key, source_key)
);
CREATE INDEX sign_in_guesses_by_window ON sign_in_guesses (window_start_ms);
