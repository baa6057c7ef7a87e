-- 001: the pipeline's tables. Applied once, in a transaction, recorded in schema_migrations.

-- One row per boiler and hour of event time, written once when the hour closes.
CREATE TABLE hourly_snapshots (
    boiler_id        text             NOT NULL CHECK (boiler_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    hour_start       timestamptz      NOT NULL,
    mean_c           double precision,
    min_c            double precision,
    max_c            double precision,
    stddev_c         double precision,
    samples          bigint           NOT NULL CHECK (samples >= 0),
    expected_samples bigint           NOT NULL CHECK (expected_samples > 0),
    coverage         double precision NOT NULL CHECK (coverage >= 0),
    duplicates       bigint           NOT NULL DEFAULT 0,
    late_samples     bigint           NOT NULL DEFAULT 0,
    out_of_order     bigint           NOT NULL DEFAULT 0,
    max_gap_ms       bigint,
    first_ts         timestamptz,
    last_ts          timestamptz,
    closed_at        timestamptz      NOT NULL,
    revision         integer          NOT NULL DEFAULT 0,
    PRIMARY KEY (boiler_id, hour_start)
);

CREATE INDEX hourly_snapshots_hour_start ON hourly_snapshots (hour_start);

-- The open windows, saved every few seconds so that a restarted worker resumes them.
CREATE TABLE window_checkpoints (
    boiler_id  text        NOT NULL,
    hour_start timestamptz NOT NULL,
    samples    bigint      NOT NULL,
    state      jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (boiler_id, hour_start)
);

-- Every controller decision, trusted or not, once per boiler and tick.
CREATE TABLE controller_decisions (
    decision_id     text             PRIMARY KEY,
    boiler_id       text             NOT NULL,
    tick_at         timestamptz      NOT NULL,
    trusted         boolean          NOT NULL,
    reason          text             NOT NULL,
    current_c       double precision,
    hourly_mean_c   double precision,
    delta_c         double precision,
    room_setpoint_c double precision,
    published       boolean          NOT NULL DEFAULT false,
    recorded_at     timestamptz      NOT NULL DEFAULT now(),
    UNIQUE (boiler_id, tick_at)
);
