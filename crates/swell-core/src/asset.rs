//! What an asset is, and which job it starts: the one home of that rule.
//!
//! Every runnable definition is stored as a dataflow record (`02K`): a user's dataflow, a
//! recipe's target dataflow (the recipe `05v` owns it) and a data connection's sync dataflow
//! (the connection `0It` owns it). Schedules and triggers name the asset a person sees: the
//! dataflow, the recipe or the connection. [`AssetKind`] covers both, with one spelling each.

use crate::id::KeyPrefix;
use crate::job::JobType;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetKind {
    /// A dataflow a person wrote (`02K`).
    Dataflow,
    /// A Data Prep recipe (`05v`); its target dataflow is a dataflow record of this kind.
    Recipe,
    /// A data connection's sync dataflow: a dataflow record owned by its connection.
    Sync,
    /// A data connection (`0It`); schedules name it, its sync dataflow runs.
    Connection,
}

impl AssetKind {
    /// Every kind, in the order above.
    pub const ALL: [AssetKind; 4] = [AssetKind::Dataflow, AssetKind::Recipe, AssetKind::Sync, AssetKind::Connection];

    /// The stored spelling: a dataflow record's `kind` and a schedule's `asset_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            AssetKind::Dataflow => "dataflow",
            AssetKind::Recipe => "recipe",
            AssetKind::Sync => "sync",
            AssetKind::Connection => "dataconnector",
        }
    }

    /// Reads the stored spelling (any case).
    pub fn parse(s: &str) -> Result<AssetKind, String> {
        AssetKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown asset kind '{s}' (dataflow, recipe, sync or dataconnector)"))
    }

    /// The job type a run of this asset is.
    pub fn job_type(self) -> JobType {
        match self {
            AssetKind::Dataflow => JobType::User,
            AssetKind::Recipe => JobType::RecipeV3,
            AssetKind::Sync | AssetKind::Connection => JobType::DataSync,
        }
    }

    /// The key prefix of the id a person uses for the asset.
    pub fn key_prefix(self) -> KeyPrefix {
        match self {
            AssetKind::Dataflow | AssetKind::Sync => KeyPrefix::Dataflow,
            AssetKind::Recipe => KeyPrefix::Recipe,
            AssetKind::Connection => KeyPrefix::DataConnector,
        }
    }

    /// The asset a person schedules by an id of this prefix (a sync dataflow is scheduled
    /// through its connection, so `02K` is a dataflow).
    pub fn of_prefix(prefix: KeyPrefix) -> Option<AssetKind> {
        match prefix {
            KeyPrefix::Dataflow => Some(AssetKind::Dataflow),
            KeyPrefix::Recipe => Some(AssetKind::Recipe),
            KeyPrefix::DataConnector => Some(AssetKind::Connection),
            _ => None,
        }
    }

    /// How messages name an asset of this kind: a job's failure, a refusal.
    pub fn word(self) -> &'static str {
        match self {
            AssetKind::Dataflow | AssetKind::Sync => "dataflow",
            AssetKind::Recipe => "recipe",
            AssetKind::Connection => "data connection",
        }
    }
}

impl fmt::Display for AssetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_one_spelling_that_reads_back() {
        for k in AssetKind::ALL {
            assert_eq!(AssetKind::parse(k.as_str()), Ok(k));
            assert_eq!(AssetKind::parse(&k.as_str().to_uppercase()), Ok(k));
        }
        assert!(AssetKind::parse("flow").unwrap_err().contains("'flow'"));
    }

    #[test]
    fn each_kind_starts_its_job_type_and_is_named_by_its_prefix() {
        assert_eq!(AssetKind::Recipe.job_type(), JobType::RecipeV3);
        assert_eq!(AssetKind::Connection.job_type(), JobType::DataSync);
        assert_eq!(AssetKind::Sync.job_type(), JobType::DataSync);
        assert_eq!(AssetKind::Dataflow.job_type(), JobType::User);
        for k in [AssetKind::Dataflow, AssetKind::Recipe, AssetKind::Connection] {
            assert_eq!(AssetKind::of_prefix(k.key_prefix()), Some(k));
        }
        assert_eq!(AssetKind::of_prefix(KeyPrefix::Schedule), None);
    }
}
