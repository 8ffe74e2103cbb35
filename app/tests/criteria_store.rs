//! Playbook criteria on SQLite and PostgreSQL: definitions (define, relabel, list, delete, the
//! limit), conversations written with criterion scores (a re-post replaces them, a repeat is
//! skipped), imports of NDJSON and CSV with good and bad lines (a bad one writes nothing), and
//! erasures that take the scores with their conversations.
#![cfg(feature = "ssr")]

mod support;

use app::conversations::import::{
    import_file_as, FileFormat, ImportDesign, ImportError, ImportOptions, ImportSummary,
};
use app::conversations::store::write_conversations;
use app::criteria::model::MOST_CRITERIA;
use app::criteria::store::{define_criterion, delete_criterion, list_criteria};
use app::db::{Db, StoreError};
use app::erasure::{delete_conversation, delete_customer, delete_organisation};
use support::{conversation, ConversationExt};

async fn organisation(db: &Db, slug: &str) -> i64 {
    let org_id = support::organisation(db, slug).await;
    for (key, label) in [("greeting", "Greeting"), ("resolution", "Resolution")] {
        define_criterion(db, org_id, key, label)
            .await
            .expect("criterion");
    }
    org_id
}

/// Every stored criterion score of the organisation: `external_id key score` (`-` for not
/// applicable), in order.
async fn scores(db: &Db, org_id: i64) -> Vec<String> {
    #[derive(sqlx::FromRow)]
    struct Line {
        line: String,
    }
    let sql = app::sql!(
        "SELECT v.external_id || ' ' || k.key || ' ' || COALESCE(CAST(s.score_hundredths AS TEXT), '-') AS line \
         FROM conversation_criterion_scores s \
         JOIN conversations v ON v.id = s.conversation_id \
         JOIN criteria k ON k.id = s.criterion_id \
         WHERE s.org_id = $1 ORDER BY v.external_id, k.key",
        org_id
    );
    let rows: Vec<Line> = db.fetch_all(&sql, "reading scores").await.expect("scores");
    rows.into_iter().map(|row| row.line).collect()
}

async fn count(db: &Db, table: &str) -> i64 {
    db.scalar(
        &app::db::Sql::new(&format!("SELECT COUNT(*) FROM {table}")),
        "counting",
    )
    .await
    .expect("count")
}

async fn import(
    db: &Db,
    org_id: i64,
    format: FileFormat,
    design: ImportDesign,
    text: &str,
) -> Result<ImportSummary, ImportError> {
    let options = ImportOptions {
        dry_run: false,
        chunk_rows: 2,
    };
    let mut open = || Ok(text.as_bytes());
    import_file_as(db, org_id, format, options, design, &mut open, &mut |_| {}).await
}

fn counts(summary: &ImportSummary) -> (u64, u64, u64) {
    (
        summary.written.created,
        summary.written.updated,
        summary.written.skipped,
    )
}

fn ndjson(id: &str, criteria: &str) -> String {
    format!(
        r#"{{"external_id": "{id}", "customer": "zoe@example.com", "representative": "rep@acme.example", "title": "Call {id}", "type": "voice", "occurred_at": "2026-03-14T09:30:00Z", "score": 75, "criteria": {criteria}}}"#
    )
}

const CSV_HEADER: &str = "external_id,customer,representative,title,type,occurred_at,score,criterion.greeting,criterion.resolution";

fn csv_row(id: &str, greeting: &str, resolution: &str) -> String {
    format!("{id},ann@example.com,rep@acme.example,Call {id},chat,2026-03-14T09:30:00Z,70,{greeting},{resolution}")
}

/// The (line, field, message) of every bad row of a refused import.
fn row_errors(result: Result<ImportSummary, ImportError>) -> Vec<(u64, Option<String>, String)> {
    match result {
        Err(ImportError::Rows(errors)) => errors
            .errors
            .into_iter()
            .map(|error| (error.line, error.field, error.message))
            .collect(),
        other => panic!("expected bad rows, got {other:?}"),
    }
}

on_both_backends! {
    async fn criteria_are_defined_relabelled_listed_and_deleted(db: &Db) {
        let org_id = organisation(db, "acme").await;
        let other = organisation(db, "globex").await;
        define_criterion(db, org_id, "empathy", "Empathy").await.expect("third");
        define_criterion(db, org_id, "greeting", "Opening").await.expect("relabel");
        let listed: Vec<(String, String)> = list_criteria(db, org_id).await.unwrap().into_iter().map(|c| (c.key, c.label)).collect();
        assert_eq!(listed, [("greeting", "Opening"), ("resolution", "Resolution"), ("empathy", "Empathy")].map(|(k, l)| (k.to_owned(), l.to_owned())));

        for (key, label, expected) in [
            ("Greeting", "G", "is not a valid criterion key"),
            ("a-b", "G", "is not a valid criterion key"),
            ("ok", "", "needs a label"),
            ("ok", "bad\u{0}label", "control character"),
        ] {
            match define_criterion(db, org_id, key, label).await {
                Err(StoreError::Invalid(message)) => assert!(message.contains(expected), "{message}"),
                other => panic!("{key}: {other:?}"),
            }
        }
        for n in 3..MOST_CRITERIA {
            define_criterion(db, org_id, &format!("c{n}"), "C").await.expect("within the limit");
        }
        match define_criterion(db, org_id, "one_too_many", "C").await {
            Err(StoreError::Invalid(message)) => assert!(message.contains("the most it may have (50)"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(list_criteria(db, org_id).await.unwrap().len(), MOST_CRITERIA);

        write_conversations(db, org_id, &[conversation("c1", "zoe@example.com", 0, Some(8_000)).criterion("greeting", Some(9_000)).criterion("empathy", None)])
            .await
            .expect("write");
        assert_eq!(delete_criterion(db, org_id, "greeting").await.unwrap(), Some(1));
        assert_eq!(delete_criterion(db, org_id, "greeting").await.unwrap(), None);
        // Another organisation's criterion of the same key is its own.
        assert_eq!(delete_criterion(db, other, "empathy").await.unwrap(), None);
        assert_eq!(scores(db, org_id).await, ["c1 empathy -"]);
        assert_eq!(list_criteria(db, other).await.unwrap().len(), 2);
    }

    async fn conversations_carry_criteria_and_a_repost_replaces_them(db: &Db) {
        let org_id = organisation(db, "acme").await;
        let first = conversation("c1", "zoe@example.com", 0, Some(7_500))
            .criterion("greeting", Some(9_000))
            .criterion("resolution", None);
        let summary = write_conversations(db, org_id, std::slice::from_ref(&first)).await.unwrap();
        assert_eq!(summary.created, 1);
        assert_eq!(scores(db, org_id).await, ["c1 greeting 9000", "c1 resolution -"]);
        // The overall score stays as given: criteria explain it, they do not compute it.
        let overall: i64 = db.scalar(&app::sql!("SELECT COALESCE(score_hundredths, -1) FROM conversations WHERE org_id = $1", org_id), "score").await.unwrap();
        assert_eq!(overall, 7_500);

        let same_in_other_order = conversation("c1", "zoe@example.com", 0, Some(7_500))
            .criterion("resolution", None)
            .criterion("greeting", Some(9_000));
        assert_eq!(write_conversations(db, org_id, &[same_in_other_order]).await.unwrap().skipped, 1);

        let changed = conversation("c1", "zoe@example.com", 0, Some(7_500)).criterion("greeting", Some(4_000));
        assert_eq!(write_conversations(db, org_id, &[changed]).await.unwrap().updated, 1);
        assert_eq!(scores(db, org_id).await, ["c1 greeting 4000"]);

        let without = conversation("c1", "zoe@example.com", 0, Some(7_500));
        assert_eq!(write_conversations(db, org_id, &[without]).await.unwrap().updated, 1);
        assert!(scores(db, org_id).await.is_empty());

        // An unknown criterion or a score out of range refuses the batch: nothing is written.
        for bad in [
            conversation("c2", "ann@example.com", 0, Some(5_000)).criterion("empathy", Some(5_000)),
            conversation("c2", "ann@example.com", 0, Some(5_000)).criterion("greeting", Some(10_001)),
            conversation("c2", "ann@example.com", 0, Some(5_000)).criterion("greeting", Some(1)).criterion("greeting", Some(2)),
        ] {
            let batch = [conversation("c3", "ann@example.com", 0, None).criterion("greeting", Some(1)), bad];
            assert!(matches!(write_conversations(db, org_id, &batch).await, Err(StoreError::Invalid(_))));
        }
        assert_eq!(count(db, "conversations").await, 1);
        assert!(scores(db, org_id).await.is_empty());
    }

    async fn ndjson_and_csv_imports_write_criteria_and_refuse_bad_lines(db: &Db) {
        let org_id = organisation(db, "acme").await;
        for design in [ImportDesign::Staged, ImportDesign::StagedByInserts, ImportDesign::Chunked] {
            let file = [
                ndjson("n1", r#"{"greeting": 80.5, "resolution": null}"#),
                ndjson("n2", "{}"),
                ndjson("n3", "null"),
            ]
            .join("\n");
            let summary = import(db, org_id, FileFormat::Ndjson, design, &file).await.expect("ndjson");
            assert_eq!(summary.rows, 3, "{design:?}");
            let csv = [CSV_HEADER.to_owned(), csv_row("v1", "95", "N/A"), csv_row("v2", "", "12.25")].join("\n");
            import(db, org_id, FileFormat::Csv, design, &csv).await.expect("csv");
            assert_eq!(
                scores(db, org_id).await,
                ["n1 greeting 8050", "n1 resolution -", "v1 greeting 9500", "v1 resolution -", "v2 resolution 1225"],
                "{design:?}"
            );
            // The same file again changes nothing; other scores replace the stored ones.
            assert_eq!(counts(&import(db, org_id, FileFormat::Csv, design, &csv).await.unwrap()), (0, 0, 2), "{design:?}");
            let changed = [CSV_HEADER.to_owned(), csv_row("v1", "95", ""), csv_row("v2", "", "12.25")].join("\n");
            assert_eq!(counts(&import(db, org_id, FileFormat::Csv, design, &changed).await.unwrap()), (0, 1, 1), "{design:?}");
            assert_eq!(scores(db, org_id).await[2..], ["v1 greeting 9500".to_owned(), "v2 resolution 1225".to_owned()]);
            db.execute(&app::sql!("DELETE FROM conversation_criterion_scores WHERE org_id = $1", org_id), "reset").await.unwrap();
            db.execute(&app::sql!("DELETE FROM conversations WHERE org_id = $1", org_id), "reset").await.unwrap();
        }

        let before = count(db, "conversations").await;
        let bad = [
            ndjson("b1", r#"{"greeting": 101}"#),
            ndjson("b2", r#"{"greeting": "80"}"#),
            ndjson("b3", r#"{"empathy": 50}"#),
            ndjson("b4", r#"{"Greeting": 50}"#),
            ndjson("b5", "[80]"),
            ndjson("b6", r#"{"greeting": 50}"#),
            ndjson("b6", r#"{"greeting": 51}"#),
        ]
        .join("\n");
        let errors = row_errors(import(db, org_id, FileFormat::Ndjson, ImportDesign::Staged, &bad).await);
        let at = |line: u64| errors.iter().find(|(l, _, _)| *l == line).unwrap_or_else(|| panic!("line {line}: {errors:?}"));
        assert_eq!(at(1).1.as_deref(), Some("criteria.greeting"));
        assert!(at(1).2.contains("101 is not between 0 and 100"), "{errors:?}");
        assert!(at(2).2.contains(r#"must be a number from 0 to 100, or null for not applicable, not "80""#), "{errors:?}");
        assert_eq!(at(3).1.as_deref(), Some("criteria.empathy"));
        assert!(at(3).2.contains("has no criterion `empathy`"), "{errors:?}");
        assert!(at(4).2.contains("is not a valid criterion key"), "{errors:?}");
        assert_eq!(at(5).1.as_deref(), Some("criteria"));
        assert!(at(7).2.contains("already on line 6 with other values"), "{errors:?}");
        assert_eq!(errors.len(), 6, "{errors:?}");

        let csv = [CSV_HEADER.to_owned(), csv_row("x1", "high", ""), csv_row("x2", "-1", "")].join("\n");
        let errors = row_errors(import(db, org_id, FileFormat::Csv, ImportDesign::Staged, &csv).await);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].2.contains("not `high`"), "{errors:?}");
        assert_eq!(errors[0].1.as_deref(), Some("criteria.greeting"));
        let unknown = "external_id,customer,representative,title,type,occurred_at,criterion.empathy\n\
                       y1,ann@example.com,rep@acme.example,Call,chat,2026-03-14T09:30:00Z,50";
        let errors = row_errors(import(db, org_id, FileFormat::Csv, ImportDesign::Staged, unknown).await);
        assert_eq!(errors[0].1.as_deref(), Some("criteria.empathy"));
        assert_eq!(count(db, "conversations").await, before, "nothing was written");
        assert_eq!(count(db, "conversation_criterion_scores").await, 0);
    }

    async fn erasures_take_criterion_scores_with_their_conversations(db: &Db) {
        let org_id = organisation(db, "acme").await;
        let other = organisation(db, "globex").await;
        let scored = |id: &str, customer: &str| conversation(id, customer, 0, Some(6_000)).criterion("greeting", Some(7_000)).criterion("resolution", None);
        write_conversations(db, org_id, &[scored("c1", "zoe@example.com"), scored("c2", "zoe@example.com"), scored("c3", "ann@example.com")]).await.unwrap();
        write_conversations(db, other, &[scored("g1", "zoe@example.com")]).await.unwrap();

        delete_conversation(db, org_id, "c1").await.unwrap().expect("erased");
        assert_eq!(scores(db, org_id).await, ["c2 greeting 7000", "c2 resolution -", "c3 greeting 7000", "c3 resolution -"]);
        delete_customer(db, org_id, "zoe@example.com").await.unwrap().expect("erased");
        assert_eq!(scores(db, org_id).await, ["c3 greeting 7000", "c3 resolution -"]);
        delete_organisation(db, org_id).await.unwrap().expect("erased");
        assert!(scores(db, org_id).await.is_empty());
        assert_eq!(list_criteria(db, org_id).await.unwrap().len(), 0);
        assert_eq!(scores(db, other).await, ["g1 greeting 7000", "g1 resolution -"], "another organisation keeps its own");
    }
}
