//! Imports on SQLite and PostgreSQL: round trips, re-import idempotence, and bad input that
//! leaves the database exactly as it was.
#![cfg(feature = "ssr")]

mod support;

use app::conversations::import::{
    import_file, import_rows, parse_csv, parse_ndjson, FileFormat, ImportError, ImportOptions,
    ImportRow, ImportSummary,
};
use app::customers::query::{CustomerQuery, PAGE_SIZE};
use app::customers::store::{customers_page, resolve_filters, Conditions};
use app::db::Db;
use app::limits::{MAX_FIELDS_PER_ORG, MAX_NEW_FIELDS_PER_BATCH};
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

/// Streams `bytes` as an NDJSON file, `chunk_rows` rows at a time.
async fn import_stream(
    db: &Db,
    org_id: i64,
    bytes: &[u8],
    chunk_rows: usize,
) -> Result<ImportSummary, ImportError> {
    let options = ImportOptions {
        dry_run: false,
        chunk_rows,
    };
    let mut open = || Ok(bytes);
    import_file(
        db,
        org_id,
        FileFormat::Ndjson,
        options,
        &mut open,
        &mut |_| {},
    )
    .await
}

/// A line whose fields are the given keys, each with the value `x`.
fn line_with_fields(id: &str, keys: &[String]) -> String {
    let fields: Vec<String> = keys.iter().map(|key| format!(r#""{key}": "x""#)).collect();
    format!(
        r#"{{"external_id": "{id}", "customer": "zoe@example.com", "representative": "rep@acme.example", "title": "Call {id}", "type": "chat", "occurred_at": "2026-03-14T09:30:00Z", "fields": {{{}}}}}"#,
        fields.join(", ")
    )
}

/// (identifier, interactions, avg score text) of every customer on the first page.
async fn snapshot(db: &Db, org_id: i64) -> Vec<(String, i64, i64)> {
    let fields = list_fields(db, org_id).await.expect("fields");
    let query = CustomerQuery::default();
    let page = customers_page(
        db,
        &app::customers::read_model::ReadModels::default(),
        org_id,
        &query,
        &Conditions::from(resolve_filters(&query, &fields)),
        PAGE_SIZE,
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

    async fn more_new_field_keys_than_one_import_may_define_are_refused(db: &Db) {
        let org_id = organisation(db).await;
        let keys: Vec<String> = (1..=MAX_NEW_FIELDS_PER_BATCH + 1).map(|n| format!("extra_{n}")).collect();
        // Spread over two lines: the count is of the whole import.
        let batch = rows(&[line_with_fields("c1", &keys[..10]), line_with_fields("c2", &keys[10..])]);
        match import(db, org_id, &batch, false).await {
            Err(ImportError::Fields(message)) => {
                assert!(message.contains("uses 21 field keys"), "{message}");
                assert!(message.contains("at most 20 new fields"), "{message}");
                assert!(message.contains("server field define --org SLUG --key KEY --label LABEL --kind text|select"), "{message}");
            }
            other => panic!("expected a fields error, got {other:?}"),
        }
        assert_eq!(list_fields(db, org_id).await.unwrap().len(), 1, "no field was defined");
        assert_eq!(snapshot(db, org_id).await, Vec::new(), "no conversation was written");

        // Twenty are fine.
        let batch = rows(&[line_with_fields("c1", &keys[..MAX_NEW_FIELDS_PER_BATCH])]);
        let summary = import(db, org_id, &batch, false).await.expect("twenty new keys");
        assert_eq!(summary.new_fields, MAX_NEW_FIELDS_PER_BATCH);
    }

    async fn an_organisation_with_a_hundred_fields_refuses_another(db: &Db) {
        let org_id = organisation(db).await;
        let mut tx = db.begin().await.expect("begin");
        for position in 1..MAX_FIELDS_PER_ORG {
            let field = CustomField {
                key: format!("defined_{position}"),
                label: format!("Defined {position}"),
                kind: FieldKind::Text,
                options: Vec::new(),
            };
            define_field(&mut tx, org_id, &field, position as i64).await.expect("field");
        }
        tx.commit().await.expect("commit");
        assert_eq!(list_fields(db, org_id).await.unwrap().len(), MAX_FIELDS_PER_ORG);

        let batch = rows(&[line_with_fields("c1", &["defined_7".to_owned(), "one_more".to_owned()])]);
        match import(db, org_id, &batch, false).await {
            Err(ImportError::Fields(message)) => {
                assert!(message.contains("has 100 custom fields"), "{message}");
                assert!(message.contains("would add 1 more (`one_more`)"), "{message}");
                assert!(message.contains("at most 100"), "{message}");
            }
            other => panic!("expected a fields error, got {other:?}"),
        }
        assert_eq!(list_fields(db, org_id).await.unwrap().len(), MAX_FIELDS_PER_ORG);
        assert_eq!(snapshot(db, org_id).await, Vec::new());

        // The fields it has can still be used.
        let batch = rows(&[line_with_fields("c1", &["defined_7".to_owned()])]);
        let summary = import(db, org_id, &batch, false).await.expect("existing fields");
        assert_eq!((summary.written.created, summary.new_fields), (1, 0));
    }

    async fn a_file_longer_than_a_chunk_is_streamed_in_one_transaction(db: &Db) {
        let org_id = organisation(db).await;
        // Eight rows, three to a chunk; a key the organisation lacks first appears in the last.
        let mut lines: Vec<String> = (1..=7)
            .map(|n| line(&format!("c{n}"), &format!("customer{}@example.com", n % 3), "50", "Billing"))
            .collect();
        lines.push(line_with_fields("c8", &["late_key".to_owned()]));
        let file = lines.join("\n");
        let summary = import_stream(db, org_id, file.as_bytes(), 3).await.expect("streamed");
        assert_eq!(summary.rows, 8);
        assert_eq!((summary.written.created, summary.written.updated, summary.written.skipped), (8, 0, 0));
        assert_eq!(summary.new_fields, 2, "channel_note and late_key, each defined once");
        let keys: Vec<String> = list_fields(db, org_id).await.unwrap().into_iter().map(|f| f.field.key).collect();
        assert_eq!(keys, vec!["queue", "channel_note", "late_key"]);
        let customers = snapshot(db, org_id).await;
        assert_eq!(customers.iter().map(|c| c.1).sum::<i64>(), 7, "c8 has no score");

        let again = import_stream(db, org_id, file.as_bytes(), 3).await.expect("again");
        assert_eq!((again.written.created, again.written.updated, again.written.skipped, again.new_fields), (0, 0, 8, 0));

        // A bad row in the last chunk: the chunks before it, already written in the
        // transaction, are rolled back with it.
        let mut changed: Vec<String> = (1..=7)
            .map(|n| line(&format!("c{n}"), "moved@example.com", "10", "Technical"))
            .collect();
        changed.push(line("c9", "moved@example.com", "10", "Sales"));
        match import_stream(db, org_id, changed.join("\n").as_bytes(), 3).await {
            Err(ImportError::Rows(errors)) => assert_eq!(
                errors.errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
                vec!["line 8: fields.queue: `Sales` is not one of the options: Billing, Technical"]
            ),
            other => panic!("expected row errors, got {other:?}"),
        }
        assert_eq!(snapshot(db, org_id).await, customers, "nothing was written");
    }

    async fn an_external_id_repeated_in_a_later_chunk_is_refused(db: &Db) {
        let org_id = organisation(db).await;
        let lines = [
            line("c1", "zoe@example.com", "80", "Billing"),
            line("c2", "zoe@example.com", "80", "Billing"),
            line("c3", "ann@example.com", "80", "Billing"),
            line("c1", "ann@example.com", "20", "Technical"),
            line("c4", "ann@example.com", "80", "Billing"),
            line("c4", "ann@example.com", "80", "Billing"),
            r#"{"external_id": "c5"}"#.to_owned(),
        ];
        match import_stream(db, org_id, lines.join("\n").as_bytes(), 2).await {
            Err(ImportError::Rows(errors)) => {
                let errors: Vec<String> = errors.errors.iter().map(ToString::to_string).collect();
                assert_eq!(
                    errors[..3],
                    [
                        "line 4: external_id: `c1` appears earlier in this file",
                        "line 6: external_id: `c4` is already on line 5",
                        "line 7: customer: is required",
                    ]
                );
            }
            other => panic!("expected row errors, got {other:?}"),
        }
        assert_eq!(snapshot(db, org_id).await, Vec::new(), "nothing was written");
        assert_eq!(list_fields(db, org_id).await.unwrap().len(), 1, "nor any field defined");
    }
}
