-- Users (005) with one role each, and their API tokens (issue 15). A token is kept only as
-- the SHA-256 of its text: the text is shown once, when it is made. The administrator of the
-- server's own token (005...1) is a row too, made at start (Store::ensure_admin).
CREATE TABLE app_user (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT,
    -- viewer, operator, editor or admin (swell_core::Role)
    role TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    password_hash TEXT,
    created_date BIGINT NOT NULL,
    last_modified_date BIGINT NOT NULL
);
-- usernames are unique regardless of case, as an org's are
CREATE UNIQUE INDEX app_user_username ON app_user (lower(username));

CREATE TABLE api_token (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    -- hex SHA-256 of the token's text
    hash TEXT NOT NULL UNIQUE,
    created_date BIGINT NOT NULL,
    last_used BIGINT,
    expires BIGINT,
    revoked_date BIGINT
);
CREATE INDEX api_token_user ON api_token (user_id);
