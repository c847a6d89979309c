//! The MySQL family (`AwsRdsMySQL`, `AwsRdsAuroraMySQL`, `AwsRdsMariaDB`): MySQL and MariaDB.
//!
//! Objects are the tables and views of the connection's database. Rows stream from one
//! SELECT whose expressions shape every value (numbers and text as text, `tinyint(1)` and
//! `bit(1)` booleans as `true`/`false`, dates as epoch milliseconds computed by the server
//! with the session in UTC) and are cast to the storage types per batch.
//!
//! Type mapping: integer types, `decimal(p,s)`, `float`, `double` become numerics (precision
//! capped at 18; floats get 18,6); `date`, `datetime` (read as UTC) and `timestamp` become
//! dates; `tinyint(1)` becomes text `"true"`/`"false"`; everything else is read as text.

use crate::source::{
    BatchStream, Read, Source, SourceField, SourceObject, channel_stream, finish_batch, numeric, read_tail,
};
use crate::{ConnectError, Properties, Result, quote_ident, quote_literal};
use async_trait::async_trait;
use datafusion::arrow::array::{ArrayBuilder, ArrayRef, Int64Builder, StringBuilder};
use futures::StreamExt;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlRow};
use sqlx::{Connection, Row};
use swell_engine::schema::FieldType;

const BATCH_ROWS: usize = 8192;

pub struct MySqlSource {
    options: MySqlConnectOptions,
    database: String,
    place: String,
}

/// A driver error as one line, without the SQL it ran.
pub(crate) fn clean_sqlx(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        sqlx::Error::Io(io) => format!("cannot reach the server: {io}"),
        sqlx::Error::PoolTimedOut => "timed out connecting".to_string(),
        other => other.to_string(),
    }
}

/// A driver error as a connector error. The server refusing the SQL itself (SQLSTATE class
/// 42: a syntax error, an unknown column or table, no right to read it; in practice the
/// connected object's passThroughFilter or names) is the definition's fault, reported as
/// such; anything else (the network, the server, credentials) is the source's.
pub(crate) fn sqlx_error(place: &str, e: &sqlx::Error) -> ConnectError {
    let message = format!("{place}: {}", clean_sqlx(e));
    match e {
        sqlx::Error::Database(d) if d.code().is_some_and(|c| c.starts_with("42")) => ConnectError::Config(message),
        _ => ConnectError::Source(message),
    }
}

impl MySqlSource {
    pub fn from_properties(p: &Properties) -> Result<Self> {
        let host = p.require("host", "MySQL")?;
        let database = p.require("database", "MySQL")?;
        let user = p.require("username", "MySQL")?;
        let port: u16 = match p.get("port") {
            Some(v) => {
                v.trim().parse().map_err(|_| ConnectError::Config(format!("port '{v}' is not a port number")))?
            }
            None => 3306,
        };
        let mut options = MySqlConnectOptions::new()
            .host(host)
            .port(port)
            .database(database)
            .username(user)
            .timezone(Some("+00:00".into()));
        if let Some(pw) = p.get("password") {
            options = options.password(pw);
        }
        Ok(MySqlSource { options, database: database.to_string(), place: format!("{host}:{port}/{database}") })
    }

    async fn connect(&self) -> Result<MySqlConnection> {
        MySqlConnection::connect_with(&self.options).await.map_err(|e| self.error(e))
    }

    fn error(&self, e: sqlx::Error) -> ConnectError {
        sqlx_error(&format!("MySQL {}", self.place), &e)
    }

    fn column_sql(f: &SourceField) -> String {
        let c = quote_ident(&f.name, '`');
        match (&f.ty, f.source_type.as_str()) {
            (FieldType::Date { .. }, _) => format!("TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', {c}) DIV 1000"),
            (_, "tinyint(1)" | "bit(1)") => {
                format!("CASE WHEN {c} IS NULL THEN NULL WHEN {c} <> 0 THEN 'true' ELSE 'false' END")
            }
            _ => format!("CAST({c} AS CHAR)"),
        }
    }

    fn select(&self, read: &Read) -> String {
        let columns: Vec<String> = read.fields.iter().map(Self::column_sql).collect();
        format!("SELECT {}{}", columns.join(", "), self.from(read))
    }

    /// ` FROM object WHERE ... LIMIT n` of a read.
    fn from(&self, read: &Read) -> String {
        let mut sql = format!(" FROM {}", quote_ident(&read.object, '`'));
        sql.push_str(&read_tail(read, |field, since| {
            format!(
                "{} >= {}",
                quote_ident(field, '`'),
                quote_literal(&since.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
            )
        }));
        sql
    }
}

fn field_type(data_type: &str, column_type: &str, precision: Option<i64>, scale: Option<i64>) -> (FieldType, bool) {
    match data_type {
        "tinyint" if column_type.starts_with("tinyint(1)") => (FieldType::Text, false),
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year" => {
            (FieldType::numeric(18, 0), false)
        }
        "decimal" | "numeric" => (numeric(precision, scale), false),
        "float" | "double" | "real" => (numeric(None, None), false),
        "date" => (FieldType::plain_date(), true),
        "datetime" | "timestamp" => (FieldType::plain_date(), false),
        _ => (FieldType::Text, false),
    }
}

/// Column builders of one batch: text, or epoch milliseconds for dates.
enum Column {
    Text(StringBuilder),
    Millis(Int64Builder),
}

impl Column {
    fn push(&mut self, row: &MySqlRow, i: usize) -> std::result::Result<(), sqlx::Error> {
        match self {
            Column::Text(b) => b.append_option(row.try_get::<Option<String>, _>(i)?),
            Column::Millis(b) => b.append_option(row.try_get::<Option<i64>, _>(i)?),
        }
        Ok(())
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Column::Text(b) => std::sync::Arc::new(b.finish()),
            Column::Millis(b) => std::sync::Arc::new(b.finish()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Column::Text(b) => b.len(),
            Column::Millis(b) => b.len(),
        }
    }
}

#[async_trait]
impl Source for MySqlSource {
    async fn test(&self) -> Result<String> {
        let mut conn = self.connect().await?;
        sqlx::query("SELECT 1").execute(&mut conn).await.map_err(|e| self.error(e))?;
        Ok("Connection Successful".to_string())
    }

    async fn objects(&self) -> Result<Vec<SourceObject>> {
        let mut conn = self.connect().await?;
        let rows = sqlx::query(
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name",
        )
        .bind(&self.database)
        .fetch_all(&mut conn)
        .await
        .map_err(|e| self.error(e))?;
        Ok(rows.iter().map(|r| SourceObject::named(r.get(0))).collect())
    }

    async fn fields(&self, object: &str) -> Result<Vec<SourceField>> {
        let mut conn = self.connect().await?;
        let rows = sqlx::query(
            "SELECT CAST(column_name AS CHAR), CAST(data_type AS CHAR), CAST(column_type AS CHAR),
                    CAST(numeric_precision AS SIGNED), CAST(numeric_scale AS SIGNED),
                    CAST(column_key = 'PRI' AS SIGNED)
             FROM information_schema.columns WHERE table_schema = ? AND table_name = ?
             ORDER BY ordinal_position",
        )
        .bind(&self.database)
        .bind(object)
        .fetch_all(&mut conn)
        .await
        .map_err(|e| self.error(e))?;
        if rows.is_empty() {
            return Err(ConnectError::NotFound(format!(
                "MySQL {}: no table or view '{object}' in database '{}'",
                self.place, self.database
            )));
        }
        Ok(rows
            .iter()
            .map(|r| {
                let data_type: String = r.get::<String, _>(1).to_ascii_lowercase();
                let column_type: String = r.get::<String, _>(2).to_ascii_lowercase();
                let (ty, date_only) = field_type(&data_type, &column_type, r.get(3), r.get(4));
                let source_type = if column_type.starts_with("tinyint(1)") || column_type == "bit(1)" {
                    column_type[..column_type.find(')').map_or(column_type.len(), |i| i + 1)].to_string()
                } else {
                    data_type
                };
                let mut f = SourceField::new(r.get::<String, _>(0), ty, source_type);
                f.date_only = date_only;
                f.primary_key = r.get::<Option<i64>, _>(5) == Some(1);
                f
            })
            .collect())
    }

    async fn count(&self, read: &Read) -> Result<Option<u64>> {
        let mut conn = self.connect().await?;
        let sql = format!("SELECT count(*){}", self.from(&Read { limit: None, ..read.clone() }));
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut conn).await.map_err(|e| self.error(e))?;
        Ok(Some(n as u64))
    }

    async fn read(&self, read: &Read) -> Result<BatchStream> {
        let mut conn = self.connect().await?;
        let sql = self.select(read);
        let fields = read.fields.clone();
        let object = read.object.clone();
        let place = self.place.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            let fail = |e: sqlx::Error| sqlx_error(&format!("MySQL {place}"), &e);
            let mut columns: Vec<Column> = fields
                .iter()
                .map(|f| {
                    if f.ty.is_date() {
                        Column::Millis(Int64Builder::with_capacity(BATCH_ROWS))
                    } else {
                        Column::Text(StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 16))
                    }
                })
                .collect();
            let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut conn);
            loop {
                match rows.next().await {
                    Some(Ok(row)) => {
                        for (i, c) in columns.iter_mut().enumerate() {
                            if let Err(e) = c.push(&row, i) {
                                let _ = tx.send(Err(fail(e))).await;
                                return;
                            }
                        }
                        if columns[0].len() >= BATCH_ROWS {
                            let arrays = columns.iter_mut().map(Column::finish).collect();
                            if tx.send(finish_batch(arrays, &fields, &object)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Some(Err(e)) => {
                        let _ = tx.send(Err(fail(e))).await;
                        return;
                    }
                    None => break,
                }
            }
            if columns.first().is_some_and(|c| c.len() > 0) {
                let arrays = columns.iter_mut().map(Column::finish).collect();
                let _ = tx.send(finish_batch(arrays, &fields, &object)).await;
            }
        });
        Ok(channel_stream(rx))
    }
}
