-- Live views (the web UI's Monitor and job pages, issue 16): when a job or one of its nodes
-- last changed, so that one reader can ask "what changed since t" for every open page at once,
-- also for jobs that another server sharing this database runs. Every write of a job row or
-- its nodes sets it (swell-store/src/jobs.rs).
ALTER TABLE job ADD COLUMN changed_at BIGINT NOT NULL DEFAULT 0;
UPDATE job SET changed_at = coalesce(end_date, executed_date, created_date);
CREATE INDEX job_by_changed ON job(changed_at);
-- The Monitor pages by key (created_date, id), newest first, under any filter.
CREATE INDEX job_by_created_id ON job(created_date, id);
CREATE INDEX job_by_type_created ON job(job_type, created_date, id);
