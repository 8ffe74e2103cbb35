//! The SQL builder, the error classes and the pool, on both backends where it matters.

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
    let sql = crate::sql!("SELECT 1 WHERE a = $1 AND b = $2", 7_i64, "x");
    assert_eq!(sql.text_for::<Sqlite>(), "SELECT 1 WHERE a = ? AND b = ?");
    assert_eq!(sql.args, vec![Arg::Int(7), Arg::Text("x".into())]);
}

#[test]
fn placeholders_used_twice_keep_their_numbers_on_sqlite() {
    let mut sql = Sql::new("SELECT 1 WHERE a = $1 AND b = $2 AND c = $1");
    sql.arg(1_i64).arg(2_i64);
    assert_eq!(sql.text_for::<Sqlite>(), sql.text());
}
