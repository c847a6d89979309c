//! Lists of jobs: filtered, paged by number (the API) or by key (the web UI's Monitor), what
//! changed since a moment (live pages), and the runs of a day.

use crate::jobs::{JOB_COLUMNS, JobRecord, job};
use crate::{Result, Store, like_escape, millis};
use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};
use swell_core::{JobStatus, JobType, KeyPrefix, SalesforceId};

/// Filters of `GET /wave/dataflowjobs`.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub dataflow_id: Option<SalesforceId>,
    pub job_types: Vec<JobType>,
    pub status: Option<JobStatus>,
    pub q: Option<String>,
    pub started_after: Option<DateTime<Utc>>,
    pub started_before: Option<DateTime<Utc>>,
    pub offset: i64,
    pub limit: i64,
    /// [`Store::job_page`]: the page just older than this job.
    pub before: Option<JobKey>,
    /// [`Store::job_page`]: the page just newer than this job.
    pub after: Option<JobKey>,
}

/// A job's place in the list, newest first: when it was queued, then its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobKey {
    pub created: DateTime<Utc>,
    pub id: SalesforceId,
}

impl JobKey {
    pub fn of(job: &JobRecord) -> JobKey {
        JobKey { created: job.created_date, id: job.id.clone() }
    }
}

/// A value bound to a query: user values are always bound, never spliced.
enum Bind {
    Text(String),
    Int(i64),
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    binds: &[Bind],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for b in binds {
        q = match b {
            Bind::Text(t) => q.bind(t.clone()),
            Bind::Int(i) => q.bind(*i),
        };
    }
    q
}

/// The `WHERE` condition of a job filter (without its page key) and its values, in order
/// (`$1`, `$2`, ...). Only enum spellings are spliced.
fn job_conditions(filter: &JobFilter) -> (String, Vec<Bind>) {
    let mut conditions = vec!["1 = 1".to_string()];
    let mut binds: Vec<Bind> = Vec::new();
    if let Some(d) = &filter.dataflow_id {
        binds.push(Bind::Text(d.as_str().to_string()));
        conditions.push(format!("dataflow_id = ${}", binds.len()));
    }
    if !filter.job_types.is_empty() {
        let list: Vec<String> = filter.job_types.iter().map(|t| format!("'{}'", t.as_str())).collect();
        conditions.push(format!("job_type IN ({})", list.join(", ")));
    }
    if let Some(s) = filter.status {
        binds.push(Bind::Text(s.as_str().to_string()));
        conditions.push(format!("status = ${}", binds.len()));
    }
    if let Some(q) = &filter.q {
        for word in q.split_whitespace() {
            binds.push(Bind::Text(format!("%{}%", like_escape(&word.to_lowercase()))));
            conditions.push(format!("lower(label) LIKE ${} ESCAPE '\\'", binds.len()));
        }
    }
    if let Some(a) = filter.started_after {
        binds.push(Bind::Int(millis(&a)));
        conditions.push(format!("created_date >= ${}", binds.len()));
    }
    if let Some(b) = filter.started_before {
        binds.push(Bind::Int(millis(&b)));
        conditions.push(format!("created_date <= ${}", binds.len()));
    }
    (conditions.join(" AND "), binds)
}

/// The statement of [`Store::job_page`] and its values.
fn job_page_query(filter: &JobFilter) -> (String, Vec<Bind>) {
    let (mut where_, mut binds) = job_conditions(filter);
    let newer = filter.after.is_some() && filter.before.is_none();
    if let Some(k) = filter.before.as_ref().or(filter.after.as_ref()) {
        binds.push(Bind::Int(millis(&k.created)));
        binds.push(Bind::Text(k.id.as_str().to_string()));
        let op = if newer { ">" } else { "<" };
        where_.push_str(&format!(" AND (created_date, id) {op} (${}, ${})", binds.len() - 1, binds.len()));
    }
    let order = if newer { "ASC" } else { "DESC" };
    let sql = format!(
        "SELECT {JOB_COLUMNS} FROM job WHERE {where_} ORDER BY created_date {order}, id {order} LIMIT {}",
        filter.limit.max(1) + 1
    );
    (sql, binds)
}

impl Store {
    /// How the database would run [`Store::job_page`]'s statement for `filter`, one line per
    /// step (SQLite's `EXPLAIN QUERY PLAN` details, PostgreSQL's `EXPLAIN`): tests check that
    /// the Monitor's pages read an index on both backends, whatever the history's length.
    #[cfg(feature = "test-support")]
    pub async fn job_page_plan(&self, filter: &JobFilter) -> Result<Vec<String>> {
        let (sql, binds) = job_page_query(filter);
        let mut conn = self.pool.acquire().await?;
        let sqlite = conn.backend_name().eq_ignore_ascii_case("sqlite");
        let explain = if sqlite { format!("EXPLAIN QUERY PLAN {sql}") } else { format!("EXPLAIN {sql}") };
        let rows = bind_all(sqlx::query(AssertSqlSafe(explain)), &binds).fetch_all(&mut *conn).await?;
        Ok(rows.iter().map(|r| if sqlite { r.get::<String, _>("detail") } else { r.get::<String, _>(0) }).collect())
    }

    /// Jobs matching `filter`, newest first, and how many match in all.
    pub async fn list_jobs(&self, filter: &JobFilter) -> Result<(Vec<JobRecord>, i64)> {
        let (where_, binds) = job_conditions(filter);
        let count_sql = format!("SELECT count(*) FROM job WHERE {where_}");
        let list_sql = format!(
            "SELECT {JOB_COLUMNS} FROM job WHERE {where_} ORDER BY created_date DESC, id DESC LIMIT {} OFFSET {}",
            filter.limit.max(1),
            filter.offset.max(0)
        );
        let total: i64 = bind_all(sqlx::query(AssertSqlSafe(count_sql)), &binds).fetch_one(&self.pool).await?.get(0);
        let rows = bind_all(sqlx::query(AssertSqlSafe(list_sql)), &binds).fetch_all(&self.pool).await?;
        Ok((rows.iter().map(job).collect::<Result<Vec<_>>>()?, total))
    }

    /// One page of jobs matching `filter`, newest first, by key: the `filter.limit` jobs just
    /// older than `filter.before`, or just newer than `filter.after`, or the newest. Also says
    /// whether more jobs lie beyond the page in the direction it was read (older for `before`
    /// and the first page, newer for `after`). One query, whatever the history's length (the
    /// index `job_by_created_id`); no count.
    pub async fn job_page(&self, filter: &JobFilter) -> Result<(Vec<JobRecord>, bool)> {
        let (sql, binds) = job_page_query(filter);
        let newer = filter.after.is_some() && filter.before.is_none();
        let limit = filter.limit.max(1);
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), &binds).fetch_all(&self.pool).await?;
        let mut jobs = rows.iter().map(job).collect::<Result<Vec<_>>>()?;
        let more = jobs.len() as i64 > limit;
        jobs.truncate(limit as usize);
        if newer {
            jobs.reverse();
        }
        Ok((jobs, more))
    }

    /// Jobs whose row or nodes changed at or after `since`, oldest change first (at most
    /// `limit`). Live views read it on every wake ([`Store::watch_jobs`]) and every second, so
    /// that they also see what other servers sharing the database do.
    pub async fn jobs_changed_since(&self, since: DateTime<Utc>, limit: i64) -> Result<Vec<JobRecord>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM job WHERE changed_at >= $1 ORDER BY changed_at, id LIMIT {}",
            limit.max(1)
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(millis(&since)).fetch_all(&self.pool).await?;
        rows.iter().map(job).collect()
    }

    /// How many runs of dataflows and recipes were queued since `since` (the daily budget of
    /// the Monitor; refused requests and syncs do not count).
    pub async fn count_runs_since(&self, since: DateTime<Utc>) -> Result<i64> {
        Ok(sqlx::query("SELECT count(*) FROM job WHERE created_date >= $1 AND job_type IN ($2, $3) AND id NOT LIKE $4")
            .bind(millis(&since))
            .bind(JobType::User.as_str())
            .bind(JobType::RecipeV3.as_str())
            .bind(format!("{}%", KeyPrefix::JobRequest.as_str()))
            .fetch_one(&self.pool)
            .await?
            .get(0))
    }
}
