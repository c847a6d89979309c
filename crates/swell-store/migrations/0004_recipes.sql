-- A recipe is a thin row over the dataflow that runs it (its targetDataflowId, kind
-- 'recipe'): name, label, definition and histories live there, so starting, scheduling and
-- listing jobs work the same for both.
CREATE TABLE recipe (
    id TEXT PRIMARY KEY,
    dataflow_id TEXT NOT NULL UNIQUE REFERENCES dataflow(id) ON DELETE CASCADE,
    format TEXT NOT NULL DEFAULT 'R3',
    created_date BIGINT NOT NULL
);
