-- Which server runs a job, and when it last said so: with several servers on one database, a
-- restarting server fails only its own interrupted jobs and those whose owner went silent.
ALTER TABLE job ADD COLUMN owner TEXT;
ALTER TABLE job ADD COLUMN heartbeat BIGINT;
