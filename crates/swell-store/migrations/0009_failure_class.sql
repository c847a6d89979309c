-- Why a failed job failed (swell_core::FailureClass: definition, source, resources,
-- internal), so that a monitor can tell a wrong definition from a source that was down.
-- Jobs that failed before this column have none.
ALTER TABLE job ADD COLUMN failure_class TEXT;
