-- Store-wide locks, one row each. A transaction that updates a lock's row holds the lock until
-- it ends on every backend (PostgreSQL locks the row; SQLite takes its one write lock), so
-- servers sharing one database take turns where an in-process mutex could not make them.
-- 'rules': the event-driven schedules are checked against each other and written under it.
CREATE TABLE store_lock (
    name TEXT PRIMARY KEY,
    taken BIGINT NOT NULL
);
INSERT INTO store_lock (name, taken) VALUES ('rules', 0);
