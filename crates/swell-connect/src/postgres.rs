//! The PostgreSQL family (`AwsRdsPostgres`, `AwsRdsAuroraPostgres`, `HerokuPostgres`).
//!
//! Objects are the tables and views of one schema. Rows are read with `COPY (SELECT ...) TO
//! STDOUT (FORMAT csv)`, the server's fastest way out, and parsed by Arrow's CSV decoder into
//! batches. The SELECT shapes only what the decoder cannot read (booleans as `true`/`false`,
//! `timestamptz` in UTC, money as a number): expressions on the server cost more than the
//! whole decode (a SELECT that made every value text took twice as long as a plain one).
//!
//! Type mapping: integers, `numeric(p,s)`, `real`, `double precision` and `money` become
//! numerics (precision capped at 18; unconstrained `numeric` and floats get 18,6); `date`,
//! `timestamp` (read as UTC) and `timestamptz` become dates; `boolean` becomes text
//! `"true"`/`"false"`; everything else is read as its text form. The session runs in UTC.

use crate::source::{BatchStream, Read, Source, SourceField, SourceObject, finish_batch, numeric, read_tail};
use crate::{ConnectError, Properties, Result, quote_ident, quote_literal};
use async_trait::async_trait;
use datafusion::arrow::csv::ReaderBuilder;
use datafusion::arrow::datatypes::{DataType, Field as ArrowField, Schema as ArrowSchema, TimeUnit};
use futures::StreamExt;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::{Connection, Row};
use std::sync::Arc;
use swell_engine::schema::FieldType;

const BATCH_ROWS: usize = 8192;

pub struct PostgresSource {
    options: PgConnectOptions,
    schema: String,
    /// For messages: host:port/database, never the password.
    place: String,
}

impl PostgresSource {
    pub fn from_properties(p: &Properties) -> Result<Self> {
        let host = p.require("host", "PostgreSQL")?;
        let database = p.require("database", "PostgreSQL")?;
        let user = p.require("username", "PostgreSQL")?;
        let port: u16 = match p.get("port") {
            Some(v) => {
                v.trim().parse().map_err(|_| ConnectError::Config(format!("port '{v}' is not a port number")))?
            }
            None => 5432,
        };
        let ssl = match p.get("sslMode").map(str::to_ascii_lowercase).as_deref() {
            None | Some("prefer") => PgSslMode::Prefer,
            Some("disable") => PgSslMode::Disable,
            Some("require") => PgSslMode::Require,
            Some(other) => {
                return Err(ConnectError::Config(format!("sslMode '{other}' is not one of disable, prefer, require")));
            }
        };
        let mut options = PgConnectOptions::new()
            .host(host)
            .port(port)
            .database(database)
            .username(user)
            .ssl_mode(ssl)
            .application_name("swell-sync")
            .options([("TimeZone", "UTC")]);
        if let Some(pw) = p.get("password") {
            options = options.password(pw);
        }
        Ok(PostgresSource {
            options,
            schema: p.get("schema").unwrap_or("public").to_string(),
            place: format!("{host}:{port}/{database}"),
        })
    }

    async fn connect(&self) -> Result<PgConnection> {
        PgConnection::connect_with(&self.options).await.map_err(|e| self.error(e))
    }

    fn error(&self, e: sqlx::Error) -> ConnectError {
        crate::mysql::sqlx_error(&format!("PostgreSQL {}", self.place), &e)
    }

    /// The SELECT expression of a field. CSV output is each value's text form already, so most
    /// columns go out as they are; only what the decoder cannot read is shaped here.
    fn column_sql(f: &SourceField) -> String {
        let c = quote_ident(&f.name, '"');
        match (&f.ty, f.source_type.as_str()) {
            // the instant in UTC, as `2026-01-01 10:00:00.123`
            (FieldType::Date { .. }, "timestamp with time zone") => format!("({c} AT TIME ZONE 'UTC')"),
            (_, "boolean") => format!("CASE WHEN {c} THEN 'true' WHEN NOT {c} THEN 'false' END"),
            // money prints with a currency sign and separators
            (_, "money") => format!("{c}::numeric"),
            _ => c,
        }
    }

    /// How the CSV decoder reads a field: integers and floats natively (floats may print as
    /// `1e-05`), dates as timestamps, everything else as text for the cast to its type.
    fn raw_type(f: &SourceField) -> DataType {
        match (&f.ty, f.source_type.as_str()) {
            (FieldType::Date { .. }, _) => DataType::Timestamp(TimeUnit::Millisecond, None),
            (FieldType::Numeric { .. }, "smallint" | "integer" | "bigint") => DataType::Int64,
            (FieldType::Numeric { .. }, "real" | "double precision") => DataType::Float64,
            _ => DataType::Utf8,
        }
    }

    /// The SELECT of a read. A read of one field gets a constant second column: a NULL alone
    /// on its CSV line is an empty line, which the decoder skips (a key read or a one-column
    /// table lost its null rows).
    fn select(&self, read: &Read) -> String {
        let mut columns: Vec<String> = read.fields.iter().map(Self::column_sql).collect();
        if columns.len() == 1 {
            columns.push("0".to_string());
        }
        format!("SELECT {}{}", columns.join(", "), self.from(read))
    }

    /// ` FROM schema.object WHERE ... LIMIT n` of a read.
    fn from(&self, read: &Read) -> String {
        let mut sql = format!(" FROM {}.{}", quote_ident(&self.schema, '"'), quote_ident(&read.object, '"'));
        sql.push_str(&read_tail(read, |field, since| {
            format!(
                "{} >= {}::timestamptz",
                quote_ident(field, '"'),
                quote_literal(&since.format("%Y-%m-%d %H:%M:%S%.3f+00").to_string())
            )
        }));
        sql
    }
}

/// The dataset type of a PostgreSQL column.
fn field_type(data_type: &str, precision: Option<i64>, scale: Option<i64>) -> (FieldType, bool) {
    match data_type {
        "smallint" | "integer" | "bigint" => (FieldType::numeric(18, 0), false),
        "numeric" | "decimal" => (numeric(precision, scale), false),
        "real" | "double precision" => (numeric(None, None), false),
        "money" => (FieldType::numeric(18, 2), false),
        "date" => (FieldType::plain_date(), true),
        d if d.starts_with("timestamp") => (FieldType::plain_date(), false),
        _ => (FieldType::Text, false),
    }
}

#[async_trait]
impl Source for PostgresSource {
    async fn test(&self) -> Result<String> {
        let mut conn = self.connect().await?;
        let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1")
            .bind(&self.schema)
            .fetch_optional(&mut conn)
            .await
            .map_err(|e| self.error(e))?;
        if found.is_none() {
            return Err(ConnectError::Source(format!(
                "PostgreSQL {}: schema '{}' does not exist",
                self.place, self.schema
            )));
        }
        Ok("Connection Successful".to_string())
    }

    async fn objects(&self) -> Result<Vec<SourceObject>> {
        let mut conn = self.connect().await?;
        let rows = sqlx::query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
        )
        .bind(&self.schema)
        .fetch_all(&mut conn)
        .await
        .map_err(|e| self.error(e))?;
        Ok(rows.iter().map(|r| SourceObject::named(r.get(0))).collect())
    }

    async fn fields(&self, object: &str) -> Result<Vec<SourceField>> {
        let mut conn = self.connect().await?;
        let rows = sqlx::query(
            "SELECT c.column_name::text, c.data_type::text, c.numeric_precision::bigint, c.numeric_scale::bigint,
                    EXISTS (SELECT 1 FROM information_schema.table_constraints t
                            JOIN information_schema.key_column_usage k
                              ON k.constraint_name = t.constraint_name AND k.table_schema = t.table_schema
                             AND k.table_name = t.table_name
                            WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_schema = c.table_schema
                              AND t.table_name = c.table_name AND k.column_name = c.column_name)
             FROM information_schema.columns c
             WHERE c.table_schema = $1 AND c.table_name = $2
             ORDER BY c.ordinal_position",
        )
        .bind(&self.schema)
        .bind(object)
        .fetch_all(&mut conn)
        .await
        .map_err(|e| self.error(e))?;
        if rows.is_empty() {
            return Err(ConnectError::NotFound(format!(
                "PostgreSQL {}: no table or view '{object}' in schema '{}'",
                self.place, self.schema
            )));
        }
        Ok(rows
            .iter()
            .map(|r| {
                let data_type: String = r.get(1);
                let (ty, date_only) = field_type(&data_type, r.get(2), r.get(3));
                let mut f = SourceField::new(r.get::<String, _>(0), ty, data_type);
                f.date_only = date_only;
                f.primary_key = r.get(4);
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
        let copy = format!("COPY ({}) TO STDOUT (FORMAT csv)", self.select(read));
        let raw = Arc::new(ArrowSchema::new(
            read.fields
                .iter()
                .map(|f| ArrowField::new(f.name.as_str(), Self::raw_type(f), true))
                .chain((read.fields.len() == 1).then(|| ArrowField::new("__swell_pad", DataType::Int64, true)))
                .collect::<Vec<_>>(),
        ));
        let fields = read.fields.clone();
        let object = read.object.clone();
        let place = self.place.clone();
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<datafusion::arrow::array::RecordBatch>>(4);
        // the COPY stream borrows the connection: a task owns both and hands batches over
        tokio::spawn(async move {
            let fail = |m: String| ConnectError::Source(format!("PostgreSQL {place}: {m}"));
            let mut stream = match conn.copy_out_raw(&copy).await {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.send(Err(crate::mysql::sqlx_error(&format!("PostgreSQL {place}"), &e))).await;
                    return;
                }
            };
            let mut decoder = ReaderBuilder::new(raw).with_header(false).with_batch_size(BATCH_ROWS).build_decoder();
            let emit = |decoder: &mut datafusion::arrow::csv::reader::Decoder| -> Result<Option<_>> {
                match decoder.flush().map_err(|e| ConnectError::Source(format!("{object}: {e}")))? {
                    Some(b) => finish_batch(b.columns()[..fields.len()].to_vec(), &fields, &object).map(Some),
                    None => Ok(None),
                }
            };
            loop {
                let chunk = match stream.next().await {
                    Some(Ok(c)) => c,
                    Some(Err(e)) => {
                        let _ = tx.send(Err(crate::mysql::sqlx_error(&format!("PostgreSQL {place}"), &e))).await;
                        return;
                    }
                    None => break,
                };
                let mut buf: &[u8] = &chunk;
                while !buf.is_empty() {
                    let used = match decoder.decode(buf) {
                        Ok(n) => n,
                        Err(e) => {
                            let _ = tx.send(Err(fail(format!("unreadable row: {e}")))).await;
                            return;
                        }
                    };
                    buf = &buf[used..];
                    if decoder.capacity() == 0 {
                        match emit(&mut decoder) {
                            Ok(Some(b)) => {
                                if tx.send(Ok(b)).await.is_err() {
                                    return; // the reader went away (stopped)
                                }
                            }
                            Ok(None) => {}
                            Err(e) => {
                                let _ = tx.send(Err(e)).await;
                                return;
                            }
                        }
                    }
                }
            }
            let _ = decoder.decode(&[]);
            match emit(&mut decoder) {
                Ok(Some(b)) => {
                    let _ = tx.send(Ok(b)).await;
                }
                Ok(None) => {}
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                }
            }
        });
        Ok(crate::source::channel_stream(rx))
    }
}
