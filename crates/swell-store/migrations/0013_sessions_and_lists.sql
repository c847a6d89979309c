-- A session that a token opened (the web UI's sign-in with a token) names that token: when
-- the token is revoked, so are the sessions it opened (swell-store/src/users.rs,
-- Store::revoke_token). Sessions never outlive their token's expiry either (set at sign-in).
ALTER TABLE api_token ADD COLUMN parent_id TEXT;
CREATE INDEX api_token_parent ON api_token (parent_id);
-- Pruning tokens that expired long ago reads by expiry.
CREATE INDEX api_token_expires ON api_token (expires);
-- The web UI's Dataflows & Recipes list reads each asset's latest run.
CREATE INDEX job_by_dataflow_created ON job(dataflow_id, created_date, id);
