//! Playbook criteria written with plain SQL, for the store's and the server's tests (the
//! criteria's own store and ingestion are tested apart).

use app::db::{Db, Sql};

/// Defines a criterion of the organisation, labelled as its key with a capital ("greeting":
/// "Greeting"); answers its id.
pub async fn define_criterion(db: &Db, org_id: i64, key: &str, position: i64) -> i64 {
    let mut label: Vec<char> = key.chars().collect();
    if let Some(first) = label.first_mut() {
        *first = first.to_ascii_uppercase();
    }
    let mut sql = Sql::new("INSERT INTO criteria (org_id, key, label, position) VALUES (");
    sql.bind(org_id)
        .push(", ")
        .bind(key)
        .push(", ")
        .bind(label.into_iter().collect::<String>())
        .push(", ")
        .bind(position)
        .push(") RETURNING id");
    db.scalar(&sql, "defining a criterion")
        .await
        .expect("a criterion")
}

/// Scores the conversation `external_id` on the criterion `key`: `Some(hundredths)`, or
/// `None` for "not applicable".
pub async fn score_criterion(
    db: &Db,
    org_id: i64,
    external_id: &str,
    key: &str,
    score: Option<i64>,
) {
    let mut sql = Sql::new(
        "INSERT INTO conversation_criterion_scores \
         (org_id, conversation_id, criterion_id, score_hundredths) SELECT v.org_id, v.id, k.id, ",
    );
    sql.bind(score)
        .push(" FROM conversations v JOIN criteria k ON k.org_id = v.org_id WHERE v.org_id = ")
        .bind(org_id)
        .push(" AND v.external_id = ")
        .bind(external_id)
        .push(" AND k.key = ")
        .bind(key);
    let written = db
        .execute(&sql, "scoring a criterion")
        .await
        .expect("a criterion score");
    assert_eq!(written, 1, "{external_id} {key}");
}
