-- 004: late readings are added to written rows in increments, each with an id; an increment whose id is here was
-- applied, so a retry of a write whose answer was lost adds nothing twice. Ids older than a day are pruned (a
-- retry comes within minutes).
CREATE TABLE late_increments (
    id         text        PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX late_increments_applied_at ON late_increments (applied_at);
