-- Data connections (0It) and their connected objects (0Iu, replicated datasets).
-- A connection owns a hidden dataflow (kind 'sync', named 'sync:<connection name>'): its
-- sync jobs (datasync) run on it, so queueing, stop, the one-queued-job rule and schedules
-- work as for dataflows and recipes.
CREATE TABLE data_connector (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    description TEXT,
    connector_type TEXT NOT NULL,
    -- JSON array of {name, value}; secrets are never returned by the API
    properties TEXT NOT NULL,
    dataflow_id TEXT NOT NULL UNIQUE REFERENCES dataflow(id),
    created_date BIGINT NOT NULL,
    last_modified_date BIGINT NOT NULL
);

CREATE TABLE replicated_dataset (
    id TEXT PRIMARY KEY,
    connector_id TEXT NOT NULL REFERENCES data_connector(id) ON DELETE CASCADE,
    source_object TEXT NOT NULL,
    -- Full, Incremental or PeriodicFull
    connection_mode TEXT NOT NULL,
    full_refresh BIGINT NOT NULL DEFAULT 0,
    pass_through_filter TEXT,
    row_level_sharing BIGINT NOT NULL DEFAULT 0,
    advanced_properties TEXT NOT NULL DEFAULT '[]',
    -- JSON array of fields {name, label, fieldType, precision, scale, skipped, ...}; NULL
    -- until the object was first described
    fields TEXT,
    -- bumped by every change of sync settings; the sync records the one it ran with
    settings_version BIGINT NOT NULL DEFAULT 1,
    synced_settings_version BIGINT,
    status TEXT NOT NULL DEFAULT 'New',
    last_refreshed BIGINT,
    watermark BIGINT,
    last_full_sync BIGINT,
    created_date BIGINT NOT NULL,
    last_modified_date BIGINT NOT NULL,
    UNIQUE (connector_id, source_object)
);

-- The sync dataflows a dataflow or recipe job synced before it ran (JSON array of ids).
ALTER TABLE job ADD COLUMN sync_dataflows TEXT;
