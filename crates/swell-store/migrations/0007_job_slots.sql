-- One row per job type, written (and so locked) by every claim of that type: counting the
-- running jobs and claiming one happen under this lock, so that servers sharing a database
-- never run more jobs of a type at once than the limit allows. Rows are made by the claims.
CREATE TABLE job_slot (
    job_type TEXT PRIMARY KEY,
    claimed_at BIGINT NOT NULL DEFAULT 0
);
