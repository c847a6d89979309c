-- swell metadata, version 1. Times are epoch milliseconds (UTC); JSON is stored as text.
-- Portable SQL: the same file migrates SQLite and PostgreSQL.

CREATE TABLE id_sequence (
    prefix TEXT PRIMARY KEY,
    next_value BIGINT NOT NULL
);

CREATE TABLE dataflow (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    description TEXT,
    -- 'dataflow' or 'recipe' (the target dataflow of a recipe)
    kind TEXT NOT NULL DEFAULT 'dataflow',
    definition TEXT NOT NULL,
    created_date BIGINT NOT NULL,
    last_modified_date BIGINT NOT NULL
);

CREATE TABLE dataflow_history (
    id TEXT PRIMARY KEY,
    dataflow_id TEXT NOT NULL REFERENCES dataflow(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_date BIGINT NOT NULL
);
CREATE INDEX dataflow_history_by_dataflow ON dataflow_history(dataflow_id, created_date);

CREATE TABLE job (
    id TEXT PRIMARY KEY,
    dataflow_id TEXT NOT NULL REFERENCES dataflow(id) ON DELETE CASCADE,
    job_type TEXT NOT NULL,
    label TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT,
    progress DOUBLE PRECISION NOT NULL DEFAULT 0,
    retry_count BIGINT NOT NULL DEFAULT 0,
    -- intent written by the API; the runner alone writes the observed status
    stop_requested BIGINT NOT NULL DEFAULT 0,
    created_date BIGINT NOT NULL,
    executed_date BIGINT,
    end_date BIGINT
);
CREATE INDEX job_by_created ON job(created_date DESC);
CREATE INDEX job_by_dataflow ON job(dataflow_id, status);
CREATE INDEX job_by_status ON job(status, created_date);

CREATE TABLE job_transition (
    job_id TEXT NOT NULL REFERENCES job(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE UNIQUE INDEX job_transition_by_job ON job_transition(job_id, seq);

CREATE TABLE job_node (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES job(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    node_type TEXT NOT NULL,
    status TEXT NOT NULL,
    start_date BIGINT,
    duration_ms BIGINT,
    input_rows BIGINT NOT NULL DEFAULT 0,
    output_rows BIGINT NOT NULL DEFAULT 0,
    message TEXT,
    UNIQUE (job_id, position)
);

CREATE TABLE dataset (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    current_version_id TEXT,
    created_date BIGINT NOT NULL,
    last_modified_date BIGINT NOT NULL
);

CREATE TABLE dataset_version (
    id TEXT PRIMARY KEY,
    dataset_id TEXT NOT NULL REFERENCES dataset(id) ON DELETE CASCADE,
    -- the engine's version directory name under datasets/<name>/versions/
    storage_version TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    job_id TEXT,
    created_date BIGINT NOT NULL
);
CREATE INDEX dataset_version_by_dataset ON dataset_version(dataset_id, created_date);
