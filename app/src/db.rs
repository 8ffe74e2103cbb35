//! The database handle: one type for both backends, chosen by `DATABASE_URL`.
//!
//! SQL is written once with `$N` placeholders, which SQLite and PostgreSQL both accept,
//! and bound from a small list of portable values. Store modules build [`Sql`] values and
//! run them through [`Db`] or [`Tx`]; nothing outside the store layer sees SQL.

use futures_util::TryStreamExt;
use sqlx::{
    error::BoxDynError,
    postgres::{PgPool, PgPoolOptions, PgRow},
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
        SqliteSynchronous,
    },
    Arguments, AssertSqlSafe, Database, Encode, FromRow, Postgres, Sqlite, Type,
};
use std::{str::FromStr, time::Duration};

/// Errors of the store layer. Each carries what was being done, for the logs;
/// users are shown a short message instead (see `crate::error`).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error while {context}: {source}")]
    Database {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("unsupported DATABASE_URL `{0}`: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("could not prepare the database directory {path}: {source}")]
    Directory {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The caller's input was refused (a name in use, a value out of range, an unknown
    /// field): theirs to fix, a 4xx.
    #[error("{0}")]
    Invalid(String),
    /// Something that cannot be the caller's doing failed: no randomness, a password hash,
    /// a broken invariant. Always a 5xx.
    #[error("internal failure while {context}: {detail}")]
    Internal {
        context: &'static str,
        detail: String,
    },
    /// No connection could be made within the time given.
    #[error("the database could not be reached within {waited_ms} ms")]
    Unreachable { waited_ms: u128 },
    /// The data a question needs is still being loaded (after a start), past the budget.
    #[error("the customer figures are still loading")]
    Loading,
    /// A question ran past its time budget and was stopped on the database.
    #[error("the question took longer than its budget of {budget_ms} ms and was stopped")]
    OverBudget { budget_ms: u128 },
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What a [`StoreError`] means to whoever answers the request: the one classification both
/// the server functions (`AppError`) and the HTTP API (`ApiError`) map to their statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure<'a> {
    /// The caller's input was refused, with the reason (4xx).
    Refused(&'a str),
    /// The database refused a value it was given (4xx).
    BadValue,
    /// The question ran past its time budget (4xx: narrow it).
    OverBudget,
    /// The read model is still loading after a start (503).
    Loading,
    /// The database is busy with another writer or briefly out of reach (503).
    Busy,
    /// Anything else: the server's failure (500).
    Internal,
}

impl StoreError {
    /// An internal failure while `context`, from any error that says what went wrong.
    pub fn internal(context: &'static str, detail: impl std::fmt::Display) -> StoreError {
        StoreError::Internal {
            context,
            detail: detail.to_string(),
        }
    }

    pub fn failure(&self) -> Failure<'_> {
        match self {
            StoreError::Invalid(reason) => Failure::Refused(reason),
            StoreError::OverBudget { .. } => Failure::OverBudget,
            StoreError::Loading => Failure::Loading,
            error if error.is_unavailable() || error.is_lock_timeout() => Failure::Busy,
            error if error.is_bad_value() => Failure::BadValue,
            _ => Failure::Internal,
        }
    }
}

impl StoreError {
    /// Whether the database refused the work only because of other transactions running at
    /// the same time (a deadlock, a serialization failure, SQLite busy or locked): the same
    /// work, tried again, can succeed.
    pub fn is_transient(&self) -> bool {
        match self.database_code().as_deref() {
            // PostgreSQL: serialization_failure, deadlock_detected.
            Some("40001" | "40P01") => true,
            // SQLite: SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
            Some(code) => code
                .parse::<i64>()
                .is_ok_and(|code| matches!(code & 0xff, 5 | 6)),
            None => false,
        }
    }
}

impl StoreError {
    /// The database's own error code, when the database answered with one: the one place
    /// the classifications below read it from.
    fn database_code(&self) -> Option<String> {
        match self {
            StoreError::Database {
                source: sqlx::Error::Database(error),
                ..
            } => error.code().map(|code| code.into_owned()),
            _ => None,
        }
    }

    /// Whether the database was out of reach: the connection was lost or ended by the server
    /// (PostgreSQL admin shutdown, class 08 and 57P0x), or no connection could be had in
    /// time. Trying again shortly can succeed; users get "unavailable", not a failure.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database { source, .. } => match source {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed
                | sqlx::Error::Protocol(_) => true,
                sqlx::Error::Database(_) => self
                    .database_code()
                    .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
                _ => false,
            },
            StoreError::Unreachable { .. } => true,
            _ => false,
        }
    }

    /// Whether the database refused a value it was given (PostgreSQL class 22, data
    /// exceptions such as a NUL byte in text, and 54000, an index row too large). The limits
    /// in `crate::limits` keep such values out; this is the net under them, so that a value
    /// that slips through is the caller's 4xx, not a 5xx.
    pub fn is_bad_value(&self) -> bool {
        self.database_code()
            .is_some_and(|code| code.starts_with("22") || code == "54000")
    }

    /// Whether a write gave up waiting for another writer's lock: PostgreSQL lock_not_available
    /// (55P03, what `lock_timeout` raises) or SQLite's plain SQLITE_BUSY after its busy timeout.
    /// Not retried: the wait was the budget.
    pub fn is_lock_timeout(&self) -> bool {
        matches!(self.database_code().as_deref(), Some("55P03" | "5"))
    }

    /// Whether the database stopped the statement: PostgreSQL query_canceled (57014, what
    /// statement_timeout raises), SQLite SQLITE_INTERRUPT (9).
    fn is_cancelled(&self) -> bool {
        matches!(self.database_code().as_deref(), Some("57014" | "9"))
    }
}

impl StoreError {
    /// Whether the work that failed so should be tried again: a transient conflict, but not a
    /// lock wait that already used up its time.
    pub fn is_retryable(&self) -> bool {
        self.is_transient() && !self.is_lock_timeout()
    }
}

/// Attempts a transaction gets before a transient failure is reported.
pub const TRANSIENT_ATTEMPTS: u32 = 6;

/// The waits after transient failures: 10, 20, 40, 80, 160 ms, each spread by up to 10 ms so
/// that writers that collided do not collide again in step.
pub const TRANSIENT_BACKOFF: crate::retry::Backoff = crate::retry::Backoff {
    first: Duration::from_millis(10),
    most: Duration::from_millis(1280),
    spread: Duration::from_millis(10),
};

/// Runs `work` (a whole transaction) again when it fails with a transient error, up to
/// [`TRANSIENT_ATTEMPTS`] times in all, waiting a little longer after each failure.
pub async fn retry_transient<T, F, Fut>(work: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = StoreResult<T>>,
{
    crate::retry::retry(TRANSIENT_BACKOFF, work, |error, attempt, _| {
        should_retry(error, attempt)
    })
    .await
}

/// The wait after the `attempt`th transient failure, said in the log.
pub async fn back_off(attempt: u32, error: &StoreError) {
    tracing::warn!(attempt, %error, "retrying a transaction after a transient conflict");
    tokio::time::sleep(TRANSIENT_BACKOFF.pause(attempt)).await;
}

/// Whether a transaction that failed so, on its `attempt`th try, gets another; said in the log.
pub fn should_retry(error: &StoreError, attempt: u32) -> bool {
    let again = error.is_retryable() && attempt < TRANSIENT_ATTEMPTS;
    if again {
        tracing::warn!(attempt, %error, "retrying a transaction after a transient conflict");
    }
    again
}

/// Adds what was being done to a sqlx error.
pub trait Context<T> {
    fn context(self, context: &'static str) -> StoreResult<T>;
}

impl<T> Context<T> for Result<T, sqlx::Error> {
    fn context(self, context: &'static str) -> StoreResult<T> {
        self.map_err(|source| StoreError::Database { context, source })
    }
}

/// Which SQL engine a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A value bound to a placeholder. Only the types the schema uses.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::OptText(v)
    }
}

/// A statement under construction: text with `$N` placeholders and the values for them.
#[derive(Clone, Debug, Default)]
pub struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Sql {
            text: text.to_owned(),
            args: Vec::new(),
        }
    }

    /// Appends SQL text. Only for text written in the source, never for user input.
    pub fn push(&mut self, text: &str) -> &mut Self {
        debug_assert!(
            !text.contains('$'),
            "placeholders come from bind(), not push(): {text}"
        );
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        use std::fmt::Write as _;
        self.args.push(value.into());
        // Writing into the text directly: a multi-row insert binds thousands of values.
        let _ = write!(self.text, "${}", self.args.len());
        self
    }

    /// Adds the value for the next placeholder already written in the text. For statements
    /// written whole (`... WHERE org_id = $1 AND revision > $2`): each `$N` once, in order.
    pub fn arg(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.args.push(value.into());
        self
    }

    /// Appends `a, b, c` as placeholders: the inside of an `IN (…)` list.
    pub fn push_list<T: Into<Arg>>(&mut self, items: impl IntoIterator<Item = T>) -> &mut Self {
        for (n, item) in items.into_iter().enumerate() {
            if n > 0 {
                self.text.push_str(", ");
            }
            self.bind(item);
        }
        self
    }

    /// Appends `VALUES (…), (…), …`: one row per item, the values `row` binds separated by
    /// commas, as sqlx's `QueryBuilder::push_values` writes them (this works on either backend,
    /// and keeps SQLite's placeholders positional; see [`Sql::text_for`]).
    pub fn push_values<T>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        mut row: impl FnMut(&mut ValuesRow<'_>, T),
    ) -> &mut Self {
        self.text.push_str(" VALUES ");
        for (n, item) in items.into_iter().enumerate() {
            self.text.push_str(if n == 0 { "(" } else { ", (" });
            row(
                &mut ValuesRow {
                    sql: self,
                    first: true,
                },
                item,
            );
            self.text.push(')');
        }
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text as `DB` runs it. For SQLite, `$N` becomes a plain `?`: SQLite keeps named
    /// and numbered parameters in a list that every lookup walks, which makes binding a
    /// statement with thousands of them (a multi-row insert) quadratic, while plain `?` are
    /// bound by position. [`Sql::bind`] numbers placeholders in the order it writes them, and
    /// nothing else writes `$` (see [`Sql::push`]), so position and number agree.
    fn text_for<DB: Database>(&self) -> String {
        if DB::NAME != "SQLite" {
            return self.text.clone();
        }
        let mut text = String::with_capacity(self.text.len());
        let mut chars = self.text.chars().peekable();
        let mut expected = 1_u32;
        while let Some(ch) = chars.next() {
            if ch == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                let mut number = 0_u32;
                while let Some(digit) = chars.peek().and_then(|c| c.to_digit(10)) {
                    number = number.saturating_mul(10).saturating_add(digit);
                    chars.next();
                }
                if number != expected {
                    // A placeholder used twice or out of order: only its number can say which
                    // value it takes, and SQLite (through sqlx) binds `$N` by number too.
                    return self.text.clone();
                }
                expected += 1;
                text.push('?');
            } else {
                text.push(ch);
            }
        }
        text
    }

    fn arguments<'q, DB: Database>(&self) -> Result<DB::Arguments, BoxDynError>
    where
        i64: Encode<'q, DB> + Type<DB>,
        Option<i64>: Encode<'q, DB> + Type<DB>,
        String: Encode<'q, DB> + Type<DB>,
        Option<String>: Encode<'q, DB> + Type<DB>,
    {
        let mut arguments = DB::Arguments::default();
        for arg in &self.args {
            match arg {
                Arg::Int(v) => arguments.add(*v)?,
                Arg::OptInt(v) => arguments.add(*v)?,
                Arg::Text(v) => arguments.add(v.clone())?,
                Arg::OptText(v) => arguments.add(v.clone())?,
            }
        }
        Ok(arguments)
    }
}

/// One row of [`Sql::push_values`]: each bound value is its next column.
pub struct ValuesRow<'a> {
    sql: &'a mut Sql,
    first: bool,
}

impl ValuesRow<'_> {
    pub fn bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        if !self.first {
            self.sql.text.push_str(", ");
        }
        self.first = false;
        self.sql.bind(value);
        self
    }
}

/// A statement written whole, with the values of its `$1`, `$2`, … in that order:
/// `sql!("SELECT id FROM users WHERE org_id = $1 AND email = $2", org_id, email)`.
#[macro_export]
macro_rules! sql {
    ($text:expr $(, $value:expr)* $(,)?) => {{
        #[allow(unused_mut)]
        let mut statement = $crate::db::Sql::new($text);
        $( statement.arg($value); )*
        statement
    }};
}

/// A row holding only an id, for lookups by a natural key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromRow)]
pub struct IdRow {
    pub id: i64,
}

/// A row type readable from both backends.
pub trait AnyRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> AnyRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// A scalar readable from both backends.
pub trait AnyScalar:
    for<'r> sqlx::Decode<'r, Sqlite>
    + Type<Sqlite>
    + for<'r> sqlx::Decode<'r, Postgres>
    + Type<Postgres>
    + Send
    + Unpin
{
}
impl<T> AnyScalar for T where
    T: for<'r> sqlx::Decode<'r, Sqlite>
        + Type<Sqlite>
        + for<'r> sqlx::Decode<'r, Postgres>
        + Type<Postgres>
        + Send
        + Unpin
{
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_bind_order() {
        let mut sql = Sql::new("SELECT 1 WHERE a = ");
        sql.bind(1_i64).push(" AND b = ").bind("x");
        assert_eq!(sql.text(), "SELECT 1 WHERE a = $1 AND b = $2");
        assert_eq!(sql.text_for::<Sqlite>(), "SELECT 1 WHERE a = ? AND b = ?");
        assert_eq!(sql.text_for::<Postgres>(), sql.text());
        assert_eq!(sql.args, vec![Arg::Int(1), Arg::Text("x".into())]);
    }

    #[test]
    fn rows_of_values_are_bound_in_order() {
        let mut sql = Sql::new("INSERT INTO t (a, b)");
        sql.push_values([(1_i64, "x"), (2, "y")], |row, (a, b)| {
            row.bind(a).bind(b);
        })
        .push(" RETURNING id");
        assert_eq!(
            sql.text(),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) RETURNING id"
        );
        assert_eq!(sql.text_for::<Sqlite>().matches('?').count(), 4);
        assert_eq!(sql.args.len(), 4);
    }

    #[test]
    fn statements_written_whole_take_their_values_in_order() {
        let sql = sql!("SELECT 1 WHERE a = $1 AND b = $2", 7_i64, "x");
        assert_eq!(sql.text_for::<Sqlite>(), "SELECT 1 WHERE a = ? AND b = ?");
        assert_eq!(sql.args, vec![Arg::Int(7), Arg::Text("x".into())]);
    }

    #[test]
    fn placeholders_used_twice_keep_their_numbers_on_sqlite() {
        let mut sql = Sql::new("SELECT 1 WHERE a = $1 AND b = $2 AND c = $1");
        sql.arg(1_i64).arg(2_i64);
        assert_eq!(sql.text_for::<Sqlite>(), sql.text());
    }
}
