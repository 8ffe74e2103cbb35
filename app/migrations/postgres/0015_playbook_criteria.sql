-- Playbook criteria: the parts a playbook score is made of (greeting, discovery, resolution,
-- ...), defined per organisation (`server criterion define`), and each conversation's score on
-- them. The overall score stays as given: criteria explain it, they do not compute it.
-- A conversation's row for a criterion with a NULL score means "not applicable"; no row means
-- the criterion was not scored. Both tables carry their organisation, and every reference
-- stays within it (composite keys, as in 0013).
CREATE TABLE criteria (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations (id),
    key TEXT COLLATE "C" NOT NULL CHECK (key ~ '^[a-z0-9_]+$'),
    label TEXT NOT NULL,
    position BIGINT NOT NULL DEFAULT 0,
    UNIQUE (org_id, key),
    UNIQUE (org_id, id)
);

CREATE TABLE conversation_criterion_scores (
    org_id BIGINT NOT NULL REFERENCES organisations (id),
    conversation_id BIGINT NOT NULL,
    criterion_id BIGINT NOT NULL,
    score_hundredths BIGINT CHECK (score_hundredths BETWEEN 0 AND 10000),
    PRIMARY KEY (conversation_id, criterion_id),
    FOREIGN KEY (org_id, conversation_id) REFERENCES conversations (org_id, id),
    FOREIGN KEY (org_id, criterion_id) REFERENCES criteria (org_id, id)
);
-- Deleting a criterion (or checking its foreign key) reads its scores through this index.
CREATE INDEX conversation_criterion_scores_by_criterion
    ON conversation_criterion_scores (criterion_id, org_id);
