-- Who did it (issue 15): the user (005) who made each asset and who changed it last, who set
-- each schedule, who started each job and how (a person, a schedule or an event), and the
-- audit log of every change.
--
-- Before users existed every change was the administrator's (005...1, made by
-- Store::ensure_admin), so existing rows name it.
ALTER TABLE dataflow ADD COLUMN created_by TEXT NOT NULL DEFAULT '005Sw0000000001IAA';
ALTER TABLE dataflow ADD COLUMN last_modified_by TEXT NOT NULL DEFAULT '005Sw0000000001IAA';
ALTER TABLE dataflow_history ADD COLUMN created_by TEXT NOT NULL DEFAULT '005Sw0000000001IAA';
ALTER TABLE data_connector ADD COLUMN created_by TEXT NOT NULL DEFAULT '005Sw0000000001IAA';
ALTER TABLE data_connector ADD COLUMN last_modified_by TEXT NOT NULL DEFAULT '005Sw0000000001IAA';
ALTER TABLE replicated_dataset ADD COLUMN created_by TEXT NOT NULL DEFAULT '005Sw0000000001IAA';
ALTER TABLE replicated_dataset ADD COLUMN last_modified_by TEXT NOT NULL DEFAULT '005Sw0000000001IAA';
ALTER TABLE dataset ADD COLUMN created_by TEXT NOT NULL DEFAULT '005Sw0000000001IAA';
ALTER TABLE dataset ADD COLUMN last_modified_by TEXT NOT NULL DEFAULT '005Sw0000000001IAA';
ALTER TABLE dataset_version ADD COLUMN created_by TEXT NOT NULL DEFAULT '005Sw0000000001IAA';
ALTER TABLE schedule ADD COLUMN last_modified_by TEXT NOT NULL DEFAULT '005Sw0000000001IAA';

-- A job's starter: the person who pressed start, or for a schedule or an event the person
-- who last set that schedule (swell_core::Trigger says which).
ALTER TABLE job ADD COLUMN started_by TEXT NOT NULL DEFAULT '005Sw0000000001IAA';
ALTER TABLE job ADD COLUMN trigger TEXT NOT NULL DEFAULT 'user';
UPDATE job SET trigger = 'schedule' WHERE id IN (SELECT job_id FROM schedule_firing WHERE job_id IS NOT NULL);
UPDATE job SET trigger = 'event'
 WHERE id IN (SELECT f.job_id FROM schedule_firing f JOIN schedule s ON s.asset_id = f.asset_id
               WHERE f.job_id IS NOT NULL AND s.frequency = 'eventdriven');

-- Every change and every refused one (swell-app's `Action`), and every failed sign-in.
-- `seq` orders them; `user_id` is absent for a sign-in with an unknown username.
CREATE TABLE audit_event (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    user_id TEXT,
    username TEXT NOT NULL,
    action TEXT NOT NULL,
    asset_id TEXT,
    asset_name TEXT,
    -- success, refused (the role does not allow it) or failed (a sign-in)
    outcome TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX audit_event_at ON audit_event (at);
CREATE INDEX audit_event_asset ON audit_event (asset_id);

-- Connected apps (issue 15): a client id that signs one user in without their password, with
-- its secret (OAuth2 client_credentials; kept as its SHA-256) or a certificate whose key signs
-- JWT assertions (the JWT bearer flow of `sf org login jwt`).
CREATE TABLE oauth_client (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL,
    certificate TEXT,
    created_date BIGINT NOT NULL,
    revoked_date BIGINT
);
CREATE INDEX oauth_client_user ON oauth_client (user_id);
-- the client a sign-in token was made for: revoking the client revokes them
ALTER TABLE api_token ADD COLUMN client_id TEXT;

-- Sign-in attempts that failed lately (or are being checked), by key (`user:<name>`, `client:<id>`, `addr:<ip>`): what locks a
-- name or an address out, shared by every server on the database. Rows older than the
-- lockout window are removed as new ones come.
CREATE TABLE sign_in_failure (
    key TEXT NOT NULL,
    at BIGINT NOT NULL,
    -- the sign-in attempt that wrote it: an attempt is counted before it is checked, and its
    -- rows are removed when it succeeds or is refused unchecked
    attempt TEXT NOT NULL
);
CREATE INDEX sign_in_failure_attempt ON sign_in_failure (attempt);
CREATE INDEX sign_in_failure_key ON sign_in_failure (key, at);
