-- At most one queued job per dataflow, enforced by the database: starts from the API, the
-- scheduler and several servers cannot queue a dataflow twice. Older databases could hold
-- duplicates from a race; all but one are failed first.
UPDATE job SET status = 'Failure', message = 'The dataflow job can''t start because it''s already in the queue.'
 WHERE status = 'Queued'
   AND id NOT IN (SELECT min(id) FROM job WHERE status = 'Queued' GROUP BY dataflow_id);
CREATE UNIQUE INDEX job_one_queued_per_dataflow ON job(dataflow_id) WHERE status = 'Queued';

-- The schedule of a dataflow, recipe or data connector (one each). `definition` is the
-- schedule's output JSON; `next_run` the nominal UTC instant of its next tick (NULL when it
-- does not run by time: none, eventdriven).
CREATE TABLE schedule (
    asset_id TEXT PRIMARY KEY,
    asset_type TEXT NOT NULL,
    frequency TEXT NOT NULL,
    definition TEXT NOT NULL,
    next_run BIGINT,
    created_date BIGINT NOT NULL,
    last_modified_date BIGINT NOT NULL
);
CREATE INDEX schedule_by_next_run ON schedule(next_run);

-- Every tick that fired, keyed by (asset, nominal time): the key is what makes a tick run
-- once, across restarts and across servers sharing the database.
CREATE TABLE schedule_firing (
    asset_id TEXT NOT NULL,
    nominal BIGINT NOT NULL,
    fired_at BIGINT NOT NULL,
    job_id TEXT,
    PRIMARY KEY (asset_id, nominal)
);
