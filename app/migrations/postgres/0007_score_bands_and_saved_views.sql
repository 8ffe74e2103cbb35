-- Score bands: where an organisation's scores change from Low to Medium and from Medium to
-- High, in hundredths of a point like the scores (see `orgs::model::ScoreBands`).
ALTER TABLE organisations
    ADD COLUMN score_band_low BIGINT NOT NULL DEFAULT 6000,
    ADD COLUMN score_band_high BIGINT NOT NULL DEFAULT 8000,
    ADD CONSTRAINT organisations_score_bands_check
        CHECK (score_band_low >= 0 AND score_band_low < score_band_high AND score_band_high <= 10000);

-- Saved views: a person's named Customers views, each kept as its query string (see
-- `customers::saved_views`). `name_key` is the name folded by the application (Unicode lower
-- case), so that one person's names are unique whatever their case, and listed in that order.
-- A person's views go with them.
CREATE TABLE saved_views (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations (id),
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (name <> ''),
    name_key TEXT COLLATE "C" NOT NULL CHECK (name_key <> ''),
    query TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    UNIQUE (org_id, user_id, name_key)
);

-- The version of the last write that a read model cannot apply as changed rows (a custom field
-- deleted, with its values): a read model holding an older version loads the organisation
-- afresh (see `customers::read_model`).
ALTER TABLE read_model_versions ADD COLUMN reload_version BIGINT NOT NULL DEFAULT 0;
