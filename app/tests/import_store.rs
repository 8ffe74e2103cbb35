//! Imports on SQLite and PostgreSQL: round trips, re-import idempotence, and bad input that
//! leaves the database exactly as it was.
#![cfg(feature = "ssr")]

mod support;

use app::conversations::import::{import_rows, parse_csv, parse_ndjson, ImportError, ImportRow};
use app::customers::query::CustomerQuery;
use app::customers::store::{customer_page, resolve_filters, Conditions};
use app::db::Db;
use app::orgs::model::{CustomField, FieldKind};
use app::orgs::store::{create_organisation, define_field, list_fields};

async fn organisation(db: &Db) -> i64 {
    let mut tx = db.begin().await.expect("begin");
    let org_id = create_organisation(&mut tx, "acme", "Acme", "Europe/London")
        .await
        .expect("org");
    let queue = CustomField {
        key: "queue".to_owned(),
        label: "Queue".to_owned(),
        kind: FieldKind::Select,
        options: vec!["Billing".to_owned(), "Technical".to_owned()],
    };
    define_field(&mut tx, org_id, &queue, 0)
        .await
        .expect("field");
    tx.commit().await.expect("commit");
    org_id
}

fn line(id: &str, customer: &str, score: &str, queue: &str) -> String {
    format!(
        r#"{{"external_id": "{id}", "customer": "{customer}", "customer_name": "Name of {customer}", "representative": "rep@acme.example", "title": "Call {id}", "type": "voice", "occurred_at": "2026-03-14T09:30:00Z", "score": {score}, "fields": {{"queue": "{queue}", "channel_note": "web"}}}}"#
    )
}

fn rows(lines: &[String]) -> Vec<ImportRow> {
    parse_ndjson(lines.join("\n").as_bytes()).expect("valid lines")
}

async fn import(
    db: &Db,
    org_id: i64,
    rows: &[ImportRow],
    dry_run: bool,
) -> Result<app::conversations::import::ImportSummary, ImportError> {
    import_rows(db, org_id, rows, dry_run, &mut |_| {}).await
}

/// (identifier, interactions, avg score text) of every customer on the first page.
async fn snapshot(db: &Db, org_id: i64) -> Vec<(String, i64, i64)> {
    let fields = list_fields(db, org_id).await.expect("fields");
    let query = CustomerQuery::default();
    let page = customer_page(
        db,
        org_id,
        &query,
        &Conditions::from(resolve_filters(&query, &fields)),
    )
    .await
    .expect("page");
    page.rows
        .into_iter()
        .map(|row| (row.identifier, row.interactions, row.score_sum))
        .collect()
}

on_both_backends! {
    async fn an_import_round_trips_and_a_reimport_changes_nothing(db: &Db) {
        let org_id = organisation(db).await;
        let batch = rows(&[
            line("c1", "zoe@example.com", "80", "Billing"),
            line("c2", "zoe@example.com", "90.5", "Technical"),
            line("c3", "ann@example.com", "null", "Billing"),
        ]);
        let summary = import(db, org_id, &batch, false).await.expect("import");
        assert_eq!((summary.written.created, summary.written.updated, summary.written.skipped), (3, 0, 0));
        assert_eq!(summary.new_fields, 1, "channel_note becomes a text field");
        let fields = list_fields(db, org_id).await.unwrap();
        let note = fields.iter().find(|f| f.field.key == "channel_note").expect("new field");
        assert_eq!(note.field.kind, FieldKind::Text);
        assert_eq!(snapshot(db, org_id).await, vec![("zoe@example.com".to_owned(), 2, 17050)]);

        let again = import(db, org_id, &batch, false).await.expect("re-import");
        assert_eq!((again.written.created, again.written.updated, again.written.skipped), (0, 0, 3));
        assert_eq!(again.new_fields, 0);

        // A changed score and a changed field value are updates, not new conversations.
        let changed = rows(&[line("c1", "zoe@example.com", "60", "Billing"), line("c2", "zoe@example.com", "90.5", "Billing")]);
        let summary = import(db, org_id, &changed, false).await.expect("update");
        assert_eq!((summary.written.created, summary.written.updated, summary.written.skipped), (0, 2, 0));
        assert_eq!(snapshot(db, org_id).await, vec![("zoe@example.com".to_owned(), 2, 15050)]);
    }

    async fn a_bad_row_or_a_dry_run_writes_nothing(db: &Db) {
        let org_id = organisation(db).await;
        import(db, org_id, &rows(&[line("c1", "zoe@example.com", "80", "Billing")]), false).await.expect("first");
        let before = snapshot(db, org_id).await;
        let fields_before = list_fields(db, org_id).await.unwrap().len();

        // "Sales" is not an option of the select field: the whole batch is refused.
        let batch = rows(&[line("c2", "new@example.com", "70", "Billing"), line("c3", "new@example.com", "70", "Sales")]);
        match import(db, org_id, &batch, false).await {
            Err(ImportError::Rows(errors)) => {
                assert_eq!(errors.total, 1);
                assert_eq!(errors.errors[0].to_string(), "line 2: fields.queue: `Sales` is not one of the options: Billing, Technical");
            }
            other => panic!("expected row errors, got {other:?}"),
        }
        assert_eq!(snapshot(db, org_id).await, before);

        let dry = import(db, org_id, &rows(&[line("c2", "new@example.com", "70", "Billing")]), true).await.expect("dry run");
        assert_eq!(dry.written.created, 1);
        assert_eq!(snapshot(db, org_id).await, before, "a dry run writes nothing");

        let csv = "external_id,customer,representative,title,type,occurred_at,score,field.brand_new\n\
                   c9,csv@example.com,rep@acme.example,From CSV,chat,2026-03-14T09:30:00Z,50,x\n";
        let dry = import(db, org_id, &parse_csv(csv.as_bytes()).unwrap(), true).await.expect("dry csv");
        assert_eq!(dry.new_fields, 1);
        assert_eq!(list_fields(db, org_id).await.unwrap().len(), fields_before, "nor defines fields");
    }
}
