-- 003: when each snapshot row was written, beside closed_at (when its hour closed in the worker), so the
-- delay from an hour closing to its row being in PostgreSQL can be read back.
ALTER TABLE hourly_snapshots ADD COLUMN written_at timestamptz NOT NULL DEFAULT clock_timestamp();
