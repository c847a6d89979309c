-- At most one queued or running job per dataflow (recipe, sync): a start while the dataflow
-- runs is refused as CRM Analytics refuses it ("can't start because it's already in the
-- queue"; a real org recorded that failure for a scheduled run that met the previous one
-- still running). Two runs of one dataflow would write the same datasets back to back, and a
-- schedule whose runs outlast its interval would pile them up. Queued jobs of a dataflow that
-- is running now are failed first, with that message.
UPDATE job SET status = 'Failure', message = 'The dataflow job can''t start because it''s already in the queue.'
 WHERE status = 'Queued'
   AND dataflow_id IN (SELECT dataflow_id FROM job WHERE status = 'Running');
DROP INDEX job_one_queued_per_dataflow;
CREATE UNIQUE INDEX job_one_active_per_dataflow ON job(dataflow_id) WHERE status IN ('Queued', 'Running');
