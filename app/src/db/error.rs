//! What goes wrong in the store, classified once, and the retries of what may pass.

use std::time::Duration;

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
    pub(super) fn database_code(&self) -> Option<String> {
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
    pub(super) fn is_cancelled(&self) -> bool {
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
