//! A connected object's sync settings and outcome: its connection mode and the status of its
//! last sync, each spelled once. The store keeps the stored spelling (`PeriodicFull`,
//! `Success`); the API shows the wire spelling (`periodicFull`, `success`).

use std::fmt;

/// The message of a sync job's node whose object had nothing new (an incremental sync that
/// read no rows); the UI shows it in place of a bare Success.
pub const NO_CHANGES: &str = "No changes";

/// How a connected object syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ConnectionMode {
    /// Every row, every sync.
    #[default]
    Full,
    /// Rows changed since the last sync, upserted by the primary key; deletions detected.
    Incremental,
    /// Incremental, with a full sync from time to time.
    PeriodicFull,
}

impl ConnectionMode {
    pub const ALL: [ConnectionMode; 3] =
        [ConnectionMode::Full, ConnectionMode::Incremental, ConnectionMode::PeriodicFull];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionMode::Full => "Full",
            ConnectionMode::Incremental => "Incremental",
            ConnectionMode::PeriodicFull => "PeriodicFull",
        }
    }

    /// The API's spelling (`connectionMode`, `supportedConnectionModes`).
    pub fn wire(self) -> &'static str {
        match self {
            ConnectionMode::Full => "full",
            ConnectionMode::Incremental => "incremental",
            ConnectionMode::PeriodicFull => "periodicFull",
        }
    }

    /// Any case of either spelling.
    pub fn parse(s: &str) -> Option<ConnectionMode> {
        ConnectionMode::ALL.into_iter().find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl fmt::Display for ConnectionMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status of a connected object's last sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SyncStatus {
    /// Never synced.
    #[default]
    New,
    Success,
    Failure,
    /// Stopped before it finished.
    Cancelled,
}

impl SyncStatus {
    pub const ALL: [SyncStatus; 4] = [SyncStatus::New, SyncStatus::Success, SyncStatus::Failure, SyncStatus::Cancelled];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncStatus::New => "New",
            SyncStatus::Success => "Success",
            SyncStatus::Failure => "Failure",
            SyncStatus::Cancelled => "Cancelled",
        }
    }

    /// The API's spelling (a connected object's `status`).
    pub fn wire(self) -> &'static str {
        match self {
            SyncStatus::New => "new",
            SyncStatus::Success => "success",
            SyncStatus::Failure => "failure",
            SyncStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<SyncStatus> {
        SyncStatus::ALL.into_iter().find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl fmt::Display for SyncStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_spelling_reads_back() {
        for m in ConnectionMode::ALL {
            assert_eq!(ConnectionMode::parse(m.as_str()), Some(m));
            assert_eq!(ConnectionMode::parse(m.wire()), Some(m));
        }
        assert_eq!(ConnectionMode::parse("PERIODICFULL"), Some(ConnectionMode::PeriodicFull));
        assert_eq!(ConnectionMode::parse("periodic"), None);
        for s in SyncStatus::ALL {
            assert_eq!(SyncStatus::parse(s.as_str()), Some(s));
            assert_eq!(SyncStatus::parse(s.wire()), Some(s));
        }
    }
}
