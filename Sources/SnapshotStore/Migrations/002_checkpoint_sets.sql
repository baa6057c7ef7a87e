-- 002: all open windows of one worker in one row, so a checkpoint flush is one small write.
CREATE TABLE window_checkpoint_sets (
    owner    text        PRIMARY KEY,
    taken_at timestamptz NOT NULL,
    windows  integer     NOT NULL,
    state    bytea       NOT NULL
);

-- Stored uncompressed: compressing on every flush costs more than it saves.
ALTER TABLE window_checkpoint_sets ALTER COLUMN state SET STORAGE EXTERNAL;
