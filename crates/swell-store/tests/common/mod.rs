//! What every store test shares: a store on SQLite and one on PostgreSQL, and `on_both!`,
//! which runs a test body on each.

#![allow(dead_code)]

use swell_store::{NodeState, Store};

pub enum Guard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin: String, db: String },
}

impl Guard {
    pub async fn cleanup(self) {
        if let Guard::Postgres { admin, db } = self {
            let store = Store::open(&admin).await.unwrap();
            store.execute_admin(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await.unwrap();
        }
    }
}

impl Guard {
    /// The database's address: a second store on it is a second server.
    pub async fn second(&self) -> Store {
        let url = match self {
            Guard::Sqlite(dir) => format!("sqlite://{}", dir.path().join("swell.db").display()),
            Guard::Postgres { admin, db } => format!("{}/{db}", admin.rsplit_once('/').unwrap().0),
        };
        Store::open(&url).await.unwrap()
    }
}

/// A job node `n` of type `node_type` with one row in and out.
pub fn node(node_type: &str, status: &str) -> NodeState {
    NodeState {
        name: "n".into(),
        node_type: node_type.into(),
        status: swell_core::NodeStatus::parse(status).expect("a node status"),
        start_date: None,
        duration_ms: None,
        input_rows: 1,
        output_rows: 1,
        message: None,
    }
}

pub async fn sqlite() -> (Store, Guard) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("swell.db").display());
    (Store::open(&url).await.unwrap(), Guard::Sqlite(dir))
}

pub async fn postgres() -> Option<(Store, Guard)> {
    let admin =
        std::env::var("SWELL_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let admin_store = match Store::open(&admin).await {
        Ok(s) => s,
        Err(e) if std::env::var("CI").is_err() => {
            eprintln!("skipping the PostgreSQL half: {e}");
            return None;
        }
        Err(e) => panic!("PostgreSQL at {admin} is needed under CI: {e}"),
    };
    let db = format!("swell_test_{}", uuid::Uuid::new_v4().simple());
    admin_store.execute_admin(&format!("CREATE DATABASE {db}")).await.unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    let store = Store::open(&format!("{base}/{db}")).await.unwrap();
    Some((store, Guard::Postgres { admin, db }))
}

/// Runs a test body on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let (s, g) = $crate::common::sqlite().await;
                super::$body(s).await;
                g.cleanup().await;
            }
            #[tokio::test]
            async fn postgres() {
                if let Some((s, g)) = $crate::common::postgres().await {
                    super::$body(s).await;
                    g.cleanup().await;
                }
            }
        }
    };
}

/// Runs a test body on two stores on one database (two servers), on SQLite and PostgreSQL.
#[macro_export]
macro_rules! on_both_twice {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let (s, g) = $crate::common::sqlite().await;
                super::$body(s, g.second().await).await;
                g.cleanup().await;
            }
            #[tokio::test]
            async fn postgres() {
                if let Some((s, g)) = $crate::common::postgres().await {
                    super::$body(s, g.second().await).await;
                    g.cleanup().await;
                }
            }
        }
    };
}

/// An RFC 3339 time in UTC.
pub fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc)
}
