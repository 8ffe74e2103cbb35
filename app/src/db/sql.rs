//! The statement builder: whole SQL strings with `$N` placeholders and their portable values.

use sqlx::{
    error::BoxDynError, postgres::PgRow, sqlite::SqliteRow, Arguments, Database, Encode, FromRow,
    Postgres, Sqlite, Type,
};

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
    pub(super) text: String,
    pub(super) args: Vec<Arg>,
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
    pub(super) fn text_for<DB: Database>(&self) -> String {
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

    pub(super) fn arguments<'q, DB: Database>(&self) -> Result<DB::Arguments, BoxDynError>
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
    pub(super) sql: &'a mut Sql,
    pub(super) first: bool,
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
