//! The database handle: one type for both backends, chosen by `DATABASE_URL`.
//!
//! SQL is written once with `$N` placeholders, which SQLite and PostgreSQL both accept,
//! and bound from a small list of portable values. Store modules build [`Sql`] values and
//! run them through [`Db`] or [`Tx`]; nothing outside the store layer sees SQL.
//!
//! `error.rs` classifies what goes wrong (and retries what may pass); `sql.rs` is the
//! statement builder; this file holds the pools and transactions.

mod error;
mod sql;
#[cfg(test)]
mod tests;

pub use error::*;
pub use sql::*;

use futures_util::TryStreamExt;
use sqlx::{
    postgres::{PgPool, PgPoolOptions},
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
    AssertSqlSafe, Postgres, Sqlite,
};
use std::{str::FromStr, time::Duration};

/// Runs one statement on an executor of either backend. `$exec` is an expression usable as
/// an executor (a pool reference, or `&mut *transaction`); the same body compiles for each.
macro_rules! run_on {
    ($db:ty, $exec:expr, $sql:expr, $($call:tt)+) => {
        match $sql.arguments::<$db>() {
            Ok(arguments) => run_on!(@call $db, $exec, $sql, arguments, $($call)+),
            Err(error) => Err(sqlx::Error::Encode(error)),
        }
    };
    (@call $db:ty, $exec:expr, $sql:expr, $args:ident, fetch_all as $row:ty) => {
        sqlx::query_as_with::<$db, $row, _>(AssertSqlSafe($sql.text_for::<$db>()), $args).fetch_all($exec).await
    };
    (@call $db:ty, $exec:expr, $sql:expr, $args:ident, fetch_optional as $row:ty) => {
        sqlx::query_as_with::<$db, $row, _>(AssertSqlSafe($sql.text_for::<$db>()), $args).fetch_optional($exec).await
    };
    (@call $db:ty, $exec:expr, $sql:expr, $args:ident, scalar as $row:ty) => {
        sqlx::query_scalar_with::<$db, $row, _>(AssertSqlSafe($sql.text_for::<$db>()), $args).fetch_one($exec).await
    };
    (@call $db:ty, $exec:expr, $sql:expr, $args:ident, execute) => {
        sqlx::query_with::<$db, _>(AssertSqlSafe($sql.text_for::<$db>()), $args)
            .execute($exec)
            .await
            .map(|done| done.rows_affected())
    };
}

/// SQLite page cache per pooled connection, in MiB: the tables and their indexes at
/// 100,000 customers are read mostly from the operating system's cache beyond this, and the
/// server's memory stays small with a full pool.
pub const SQLITE_CACHE_MIB: u32 = 8;

/// A connection pool on one of the two backends.
#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The application's database: a connection pool on one of the two backends, and the time
/// budget of each Customers question.
#[derive(Clone, Debug)]
pub struct Db {
    pool: Pool,
    query_budget: Duration,
}

/// How to connect: pool size, SQLite page cache, and how long writes wait for locks.
#[derive(Clone, Copy, Debug)]
pub struct ConnectOptions {
    pub max_connections: u32,
    /// SQLite page cache per connection, in MiB (PostgreSQL ignores it).
    pub sqlite_cache_mib: u32,
    /// `Some`: a write waits at most this long for another writer (SQLite busy timeout,
    /// PostgreSQL `lock_timeout`), then fails with a lock timeout
    /// ([`StoreError::is_lock_timeout`]). The server sets it so
    /// that a long import makes API writes answer 503 quickly instead of hanging.
    pub lock_wait: Option<Duration>,
    /// `Some`: a statement waits at most this long for a free connection of the pool, then
    /// fails with `PoolTimedOut` ([`StoreError::is_unavailable`]: a 503 with Retry-After). The
    /// server keeps it short ([`SERVER_ACQUIRE_WAIT`]) so that a request never queues for long
    /// behind heavy reads. `None`: 30 s on SQLite, 10 s on PostgreSQL, for commands and tests.
    pub acquire_wait: Option<Duration>,
}

impl ConnectOptions {
    pub fn new(max_connections: u32) -> ConnectOptions {
        ConnectOptions {
            max_connections,
            sqlite_cache_mib: SQLITE_CACHE_MIB,
            lock_wait: None,
            acquire_wait: None,
        }
    }
}

/// How long the server's requests wait for a pooled connection before the answer is 503 with
/// Retry-After (`PLAYBOOK_DB_ACQUIRE_WAIT_MS`).
pub const SERVER_ACQUIRE_WAIT: Duration = Duration::from_secs(2);

/// The file that holds an SQLite database's sign-in state (sessions and failed attempts),
/// attached to every connection as `auth`. Its own file has its own write lock, so signing in
/// and keeping a session alive never wait for a long import into the main file.
pub fn auth_file_for(main_file: &std::path::Path) -> String {
    let main = main_file.to_string_lossy();
    if main.is_empty() || main == ":memory:" {
        ":memory:".to_owned()
    } else {
        format!("{main}-auth")
    }
}

/// The embedded default database: an SQLite file under `data/`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/playbook.db";

/// How long one Customers question may take unless configured otherwise.
pub const DEFAULT_QUERY_BUDGET: Duration = Duration::from_secs(5);

/// The server's pool: connections for pages, the API and imports.
pub const SERVER_CONNECTIONS: u32 = 8;

/// The server's second pool, for signing in and session checks only.
pub const SERVER_SIGN_IN_CONNECTIONS: u32 = 2;

/// How long a server's write waits for another writer's lock before it is answered 503.
pub const SERVER_LOCK_WAIT: Duration = Duration::from_millis(1_500);

/// An open transaction on either backend.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Db {
    /// Connects to `url` (`sqlite://PATH` or `postgres://…`), creating an SQLite file and its
    /// directory when missing.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Db> {
        Db::connect_with(url, ConnectOptions::new(max_connections)).await
    }

    /// [`Db::connect`] with an SQLite page cache of `cache_mib` MiB per connection (PostgreSQL
    /// ignores it). Bulk writes want a large one: a transaction whose changed pages do not fit
    /// spills them to the write-ahead log again and again.
    pub async fn connect_with_cache(
        url: &str,
        max_connections: u32,
        cache_mib: u32,
    ) -> StoreResult<Db> {
        let mut options = ConnectOptions::new(max_connections);
        options.sqlite_cache_mib = cache_mib;
        Db::connect_with(url, options).await
    }

    /// Connects with every setting given.
    pub async fn connect_with(url: &str, connect: ConnectOptions) -> StoreResult<Db> {
        let ConnectOptions {
            max_connections,
            sqlite_cache_mib: cache_mib,
            lock_wait,
            acquire_wait,
        } = connect;
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .context("reading the SQLite URL")?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(lock_wait.unwrap_or(Duration::from_secs(10)))
                // A negative cache_size is in KiB.
                .pragma("cache_size", format!("-{}", u64::from(cache_mib) * 1024))
                .pragma("temp_store", "memory");
            if let Some(dir) = std::path::Path::new(options.get_filename()).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).map_err(|source| StoreError::Directory {
                        path: dir.display().to_string(),
                        source,
                    })?;
                }
            }
            let attach = format!(
                "ATTACH DATABASE '{}' AS auth",
                auth_file_for(options.get_filename()).replace('\'', "''")
            );
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(acquire_wait.unwrap_or(Duration::from_secs(30)))
                .after_connect(move |connection, _| {
                    let attach = attach.clone();
                    Box::pin(async move {
                        use sqlx::Executor;
                        connection.execute(AssertSqlSafe(attach)).await?;
                        connection
                            .execute(
                                "PRAGMA auth.journal_mode = WAL; PRAGMA auth.synchronous = NORMAL",
                            )
                            .await?;
                        Ok(())
                    })
                })
                .connect_with(options)
                .await
                .context("opening the SQLite database")?;
            Ok(Db::from_pool(Pool::Sqlite(pool)))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let lock_timeout =
                lock_wait.map(|wait| format!("SET lock_timeout = {}", wait.as_millis()));
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(acquire_wait.unwrap_or(Duration::from_secs(10)))
                .after_connect(move |connection, _| {
                    let lock_timeout = lock_timeout.clone();
                    Box::pin(async move {
                        if let Some(statement) = lock_timeout {
                            use sqlx::Executor;
                            connection.execute(AssertSqlSafe(statement)).await?;
                        }
                        Ok(())
                    })
                })
                .connect(url)
                .await
                .context("connecting to PostgreSQL")?;
            Ok(Db::from_pool(Pool::Postgres(pool)))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    fn from_pool(pool: Pool) -> Db {
        Db {
            pool,
            query_budget: DEFAULT_QUERY_BUDGET,
        }
    }

    /// The same database with another time budget for each Customers question.
    pub fn with_query_budget(mut self, budget: Duration) -> Db {
        self.query_budget = budget.max(Duration::from_millis(1));
        self
    }

    pub fn query_budget(&self) -> Duration {
        self.query_budget
    }

    /// Runs read-only `work` in a transaction that the database itself stops once the query
    /// budget is spent (PostgreSQL `statement_timeout`; an SQLite progress handler that
    /// interrupts the statement), so that the connection comes back to the pool at once and
    /// nothing goes on running. Past the budget the answer is [`StoreError::OverBudget`].
    pub async fn read_within_budget<T>(
        &self,
        work: impl AsyncFnOnce(&mut Tx) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let budget = self.query_budget;
        let mut tx = self.begin().await?;
        match &mut tx {
            Tx::Postgres(_) => {
                let limit = format!("SET LOCAL statement_timeout = {}", budget.as_millis());
                tx.execute(&Sql::new(&limit), "setting the query budget")
                    .await?;
            }
            Tx::Sqlite(connection) => {
                let deadline = std::time::Instant::now() + budget;
                connection
                    .lock_handle()
                    .await
                    .context("setting the query budget")?
                    .set_progress_handler(1_000, move || std::time::Instant::now() < deadline);
            }
        }
        let result = work(&mut tx).await;
        if let Tx::Sqlite(connection) = &mut tx {
            if let Ok(mut handle) = connection.lock_handle().await {
                handle.remove_progress_handler();
            }
        }
        // Read-only: nothing to keep. A failed rollback closes the connection instead.
        let _ = tx.rollback().await;
        result.map_err(|error| {
            if error.is_cancelled() {
                StoreError::OverBudget {
                    budget_ms: budget.as_millis(),
                }
            } else {
                error
            }
        })
    }

    /// A read-only transaction that sees one consistent snapshot of the database from its
    /// first statement on (PostgreSQL REPEATABLE READ; an SQLite read transaction in WAL mode).
    pub async fn begin_snapshot(&self) -> StoreResult<Tx> {
        let mut tx = self.begin().await?;
        if let Tx::Postgres(_) = tx {
            tx.execute(
                &Sql::new("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"),
                "starting a snapshot",
            )
            .await?;
        }
        Ok(tx)
    }

    /// On PostgreSQL, refreshes the planner's statistics of the conversation tables once a
    /// tenth of their rows (and at least a thousand) changed since the last ANALYZE, so that
    /// right after a bulk load the planner does not choose plans made for empty tables (the
    /// autovacuum daemon would, but only a minute or more later). SQLite needs none.
    pub async fn refresh_statistics(&self) -> StoreResult<()> {
        let Pool::Postgres(_) = &self.pool else {
            return Ok(());
        };
        let stale = Sql::new(
            "SELECT COUNT(*) FROM pg_stat_user_tables \
             WHERE relname IN ('conversations', 'conversation_field_values', 'customers') \
             AND n_mod_since_analyze > 1000 + n_live_tup / 10",
        );
        let stale: i64 = self.scalar(&stale, "reading table statistics").await?;
        if stale > 0 {
            self.execute(
                &Sql::new("ANALYZE conversations, conversation_field_values, customers"),
                "refreshing table statistics",
            )
            .await?;
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match &self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Brings the schema up to date. Each backend has its own migration set.
    pub async fn migrate(&self) -> StoreResult<()> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Pool::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }

    pub async fn begin(&self) -> StoreResult<Tx> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => Tx::Sqlite(pool.begin().await.context("starting a transaction")?),
            Pool::Postgres(pool) => {
                Tx::Postgres(pool.begin().await.context("starting a transaction")?)
            }
        })
    }

    /// A transaction for a bulk load, which fills temporary staging tables. On SQLite they go
    /// to a temporary file rather than memory (the pool's connections keep theirs in memory,
    /// for sorts): the setting is made before the transaction, as SQLite requires, and the
    /// connection is closed afterwards instead of going back to the pool with it.
    pub async fn begin_bulk(&self) -> StoreResult<Tx> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                let mut connection = pool.acquire().await.context("starting a bulk load")?;
                sqlx::query("PRAGMA temp_store = FILE")
                    .execute(&mut *connection)
                    .await
                    .context("keeping the staging tables on disk")?;
                connection.close_on_drop();
                let tx = sqlx::Transaction::begin(connection, None)
                    .await
                    .context("starting a transaction")?;
                Ok(Tx::Sqlite(tx))
            }
            Pool::Postgres(_) => self.begin().await,
        }
    }

    pub async fn fetch_all<R: AnyRow>(
        &self,
        sql: &Sql,
        context: &'static str,
    ) -> StoreResult<Vec<R>> {
        match &self.pool {
            Pool::Sqlite(pool) => run_on!(Sqlite, pool, sql, fetch_all as R),
            Pool::Postgres(pool) => run_on!(Postgres, pool, sql, fetch_all as R),
        }
        .context(context)
    }

    pub async fn fetch_optional<R: AnyRow>(
        &self,
        sql: &Sql,
        context: &'static str,
    ) -> StoreResult<Option<R>> {
        match &self.pool {
            Pool::Sqlite(pool) => run_on!(Sqlite, pool, sql, fetch_optional as R),
            Pool::Postgres(pool) => run_on!(Postgres, pool, sql, fetch_optional as R),
        }
        .context(context)
    }

    pub async fn scalar<T: AnyScalar>(&self, sql: &Sql, context: &'static str) -> StoreResult<T> {
        match &self.pool {
            Pool::Sqlite(pool) => run_on!(Sqlite, pool, sql, scalar as T),
            Pool::Postgres(pool) => run_on!(Postgres, pool, sql, scalar as T),
        }
        .context(context)
    }

    pub async fn execute(&self, sql: &Sql, context: &'static str) -> StoreResult<u64> {
        match &self.pool {
            Pool::Sqlite(pool) => run_on!(Sqlite, pool, sql, execute),
            Pool::Postgres(pool) => run_on!(Postgres, pool, sql, execute),
        }
        .context(context)
    }
}

impl Tx {
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn commit(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
        .context("committing a transaction")
    }

    pub async fn rollback(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await,
            Tx::Postgres(tx) => tx.rollback().await,
        }
        .context("rolling back a transaction")
    }

    pub async fn fetch_optional<R: AnyRow>(
        &mut self,
        sql: &Sql,
        context: &'static str,
    ) -> StoreResult<Option<R>> {
        match self {
            Tx::Sqlite(tx) => run_on!(Sqlite, &mut **tx, sql, fetch_optional as R),
            Tx::Postgres(tx) => run_on!(Postgres, &mut **tx, sql, fetch_optional as R),
        }
        .context(context)
    }

    pub async fn fetch_all<R: AnyRow>(
        &mut self,
        sql: &Sql,
        context: &'static str,
    ) -> StoreResult<Vec<R>> {
        match self {
            Tx::Sqlite(tx) => run_on!(Sqlite, &mut **tx, sql, fetch_all as R),
            Tx::Postgres(tx) => run_on!(Postgres, &mut **tx, sql, fetch_all as R),
        }
        .context(context)
    }

    pub async fn scalar<T: AnyScalar>(
        &mut self,
        sql: &Sql,
        context: &'static str,
    ) -> StoreResult<T> {
        match self {
            Tx::Sqlite(tx) => run_on!(Sqlite, &mut **tx, sql, scalar as T),
            Tx::Postgres(tx) => run_on!(Postgres, &mut **tx, sql, scalar as T),
        }
        .context(context)
    }

    /// Runs a query and hands each row to `each` as it arrives, without collecting them: for
    /// reads of millions of rows.
    pub async fn for_each_row<R: AnyRow>(
        &mut self,
        sql: &Sql,
        context: &'static str,
        mut each: impl FnMut(R) + Send,
    ) -> StoreResult<()> {
        macro_rules! stream_on {
            ($db:ty, $exec:expr) => {{
                let arguments = sql
                    .arguments::<$db>()
                    .map_err(sqlx::Error::Encode)
                    .context(context)?;
                let mut rows = sqlx::query_as_with::<$db, R, _>(
                    AssertSqlSafe(sql.text_for::<$db>()),
                    arguments,
                )
                .fetch($exec);
                while let Some(row) = rows.try_next().await.context(context)? {
                    each(row);
                }
            }};
        }
        match self {
            Tx::Sqlite(tx) => stream_on!(Sqlite, &mut **tx),
            Tx::Postgres(tx) => stream_on!(Postgres, &mut **tx),
        }
        Ok(())
    }

    /// Runs `COPY … FROM STDIN` with `data` in COPY's text format: PostgreSQL's fastest way
    /// in. Answers the rows copied. SQLite has no COPY; a caller asks only on PostgreSQL.
    pub async fn copy_in(
        &mut self,
        statement: &'static str,
        data: &[u8],
        context: &'static str,
    ) -> StoreResult<u64> {
        let Tx::Postgres(tx) = self else {
            return Err(StoreError::internal(context, "COPY is PostgreSQL's alone"));
        };
        let mut copy = tx.copy_in_raw(statement).await.context(context)?;
        if let Err(error) = copy.send(data).await {
            // The connection is usable again only once the COPY is ended one way or the other.
            let _ = copy.abort("the data could not be sent").await;
            return Err(error).context(context);
        }
        copy.finish().await.context(context)
    }

    pub async fn execute(&mut self, sql: &Sql, context: &'static str) -> StoreResult<u64> {
        match self {
            Tx::Sqlite(tx) => run_on!(Sqlite, &mut **tx, sql, execute),
            Tx::Postgres(tx) => run_on!(Postgres, &mut **tx, sql, execute),
        }
        .context(context)
    }
}
