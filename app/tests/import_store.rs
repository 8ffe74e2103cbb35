//! Imports on SQLite and PostgreSQL: round trips, re-import idempotence, and bad input that
//! leaves the database exactly as it was.
#![cfg(feature = "ssr")]

mod support;

use app::conversations::import::{
    import_file, import_file_as, import_rows, parse_csv, parse_ndjson, FileFormat, ImportDesign,
    ImportError, ImportOptions, ImportRow, ImportSummary,
};
use app::customers::query::{CustomerQuery, PAGE_SIZE};
use app::customers::store::{customers_page, resolve_filters, Conditions};
use app::db::Db;
use app::limits::{MAX_FIELDS_PER_ORG, MAX_NEW_FIELDS_PER_BATCH};
use app::orgs::model::{CustomField, FieldKind};
use app::orgs::store::{define_field, list_fields};
use support::organisation_with_queue;

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

/// Streams `bytes` as a file of `format` through `design`, `chunk_rows` rows at a time.
async fn import_as(
    db: &Db,
    org_id: i64,
    format: FileFormat,
    design: ImportDesign,
    bytes: &[u8],
    chunk_rows: usize,
) -> Result<ImportSummary, ImportError> {
    let options = ImportOptions {
        dry_run: false,
        chunk_rows,
    };
    let mut open = || Ok(bytes);
    import_file_as(db, org_id, format, options, design, &mut open, &mut |_| {}).await
}

fn counts(summary: &ImportSummary) -> (u64, u64, u64) {
    (
        summary.written.created,
        summary.written.updated,
        summary.written.skipped,
    )
}

/// Everything an import writes, read back plainly: each conversation with its customer,
/// representative, columns and field values, each customer with its name and search text,
/// each user, and the organisation's data version.
async fn everything(db: &Db, org_id: i64) -> Vec<String> {
    #[derive(sqlx::FromRow)]
    struct Line {
        line: String,
    }
    let statements = [
        "SELECT v.external_id || '|' || c.identifier || '|' || u.email || '|' || v.title || '|' || v.channel || '|' \
         || CAST(v.occurred_at_ms AS TEXT) || '|' || COALESCE(CAST(v.score_hundredths AS TEXT), '-') AS line \
         FROM conversations v JOIN customers c ON c.id = v.customer_id JOIN users u ON u.id = v.representative_id \
         WHERE v.org_id = $1 ORDER BY v.external_id",
        "SELECT v.external_id || '|' || f.key || '=' || fv.value || '|' || fv.value_folded AS line \
         FROM conversation_field_values fv JOIN conversations v ON v.id = fv.conversation_id \
         JOIN custom_fields f ON f.id = fv.field_id WHERE fv.org_id = $1 ORDER BY v.external_id, f.key",
        "SELECT identifier || '|' || COALESCE(display_name, '-') || '|' || search_text AS line \
         FROM customers WHERE org_id = $1 ORDER BY identifier",
        "SELECT email || '|' || name || '|' || role AS line FROM users WHERE org_id = $1 ORDER BY email",
    ];
    let mut lines = Vec::new();
    for statement in statements {
        let rows: Vec<Line> = db
            .fetch_all(&app::sql!(statement, org_id), "reading back")
            .await
            .expect("read back");
        lines.extend(rows.into_iter().map(|row| row.line));
    }
    lines
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
        let org_id = organisation_with_queue(db, "acme", "Europe/London").await;
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
        let org_id = organisation_with_queue(db, "acme", "Europe/London").await;
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
        let org_id = organisation_with_queue(db, "acme", "Europe/London").await;
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
        let org_id = organisation_with_queue(db, "acme", "Europe/London").await;
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
        let org_id = organisation_with_queue(db, "acme", "Europe/London").await;
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

    async fn an_external_id_repeated_with_other_values_is_refused(db: &Db) {
        let org_id = organisation_with_queue(db, "acme", "Europe/London").await;
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
                // c4 again on line 6 says the same as line 5: accepted, as c1 would be.
                assert_eq!(
                    errors[..2],
                    [
                        "line 4: external_id: `c1` is already on line 1 with other values",
                        "line 7: customer: is required",
                    ]
                );
            }
            other => panic!("expected row errors, got {other:?}"),
        }
        assert_eq!(snapshot(db, org_id).await, Vec::new(), "nothing was written");
        assert_eq!(list_fields(db, org_id).await.unwrap().len(), 1, "nor any field defined");
    }

    async fn an_unchanged_repeat_is_accepted_in_one_chunk_and_across_chunks(db: &Db) {
        let org_id = organisation_with_queue(db, "acme", "Europe/London").await;
        let c1 = line("c1", "zoe@example.com", "80", "Billing");
        let lines = [
            c1.clone(),
            c1.clone(),
            line("c2", "zoe@example.com", "70", "Billing"),
            // The same as line 1 with the fields given in another order: the same conversation.
            c1.replace(r#""queue": "Billing", "channel_note": "web""#, r#""channel_note": "web", "queue": "Billing""#),
        ];
        for design in [ImportDesign::Staged, ImportDesign::StagedByInserts] {
            // Two rows a chunk: the first repeat is within a chunk, the second across chunks.
            let summary = import_as(db, org_id, FileFormat::Ndjson, design, lines.join("\n").as_bytes(), 2)
                .await
                .expect("repeats that say the same are accepted");
            assert_eq!(summary.rows, 4);
            if summary.written.created > 0 {
                assert_eq!(counts(&summary), (2, 0, 2), "{design:?}");
            } else {
                assert_eq!(counts(&summary), (0, 0, 4), "{design:?}: the second import changes nothing");
            }
        }
        assert_eq!(snapshot(db, org_id).await, vec![("zoe@example.com".to_owned(), 2, 15000)]);

        // The same rule when the rows are already parsed (as the API and tools hand them over).
        let parsed = rows(&lines);
        assert_eq!(parsed.len(), 4);
        let summary = import(db, org_id, &parsed, false).await.expect("parsed repeats");
        assert_eq!(counts(&summary), (0, 0, 4));
    }

    async fn a_repeat_with_other_values_is_refused_in_one_chunk_and_across_chunks(db: &Db) {
        let org_id = organisation_with_queue(db, "acme", "Europe/London").await;
        let lines = [
            line("c1", "zoe@example.com", "80", "Billing"),
            line("c1", "zoe@example.com", "80", "Technical"),
            line("c2", "zoe@example.com", "70", "Billing"),
            line("c1", "ann@example.com", "80", "Billing"),
            line("c2", "zoe@example.com", "70.5", "Billing"),
        ];
        for chunk_rows in [2, 1_000] {
            match import_stream(db, org_id, lines.join("\n").as_bytes(), chunk_rows).await {
                Err(ImportError::Rows(errors)) => assert_eq!(
                    errors.errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    [
                        "line 2: external_id: `c1` is already on line 1 with other values",
                        "line 4: external_id: `c1` is already on line 1 with other values",
                        "line 5: external_id: `c2` is already on line 3 with other values",
                    ],
                    "{chunk_rows} rows a chunk"
                ),
                other => panic!("expected row errors, got {other:?}"),
            }
        }
        assert!(everything(db, org_id).await.is_empty(), "nothing was written");
        assert_eq!(list_fields(db, org_id).await.unwrap().len(), 1, "nor any field defined");
    }

    async fn a_file_whose_last_line_is_bad_writes_nothing(db: &Db) {
        let org_id = organisation_with_queue(db, "acme", "Europe/London").await;
        import(db, org_id, &rows(&[line("c0", "old@example.com", "10", "Billing")]), false).await.expect("first");
        let before = everything(db, org_id).await;
        let mut lines: Vec<String> = (1..=25)
            .map(|n| line(&format!("c{n}"), &format!("customer{}@example.com", n % 4), "50", "Technical"))
            .collect();
        // c0 changed too, so that a partial write would show.
        lines.push(line("c0", "old@example.com", "99", "Technical"));
        lines.push(r#"{"external_id": "c99", "customer": "zoe@example.com", "representative": "rep@acme.example", "title": "Last", "type": "chat", "occurred_at": "yesterday"}"#.to_owned());
        for design in [ImportDesign::Staged, ImportDesign::StagedByInserts] {
            for chunk_rows in [4, 5_000] {
                match import_as(db, org_id, FileFormat::Ndjson, design, lines.join("\n").as_bytes(), chunk_rows).await {
                    Err(ImportError::Rows(errors)) => {
                        assert_eq!(errors.total, 1);
                        assert_eq!(errors.errors[0].line, 27);
                        assert_eq!(errors.errors[0].field.as_deref(), Some("occurred_at"));
                    }
                    other => panic!("expected row errors, got {other:?}"),
                }
                assert_eq!(everything(db, org_id).await, before, "{design:?}, {chunk_rows} rows a chunk");
            }
        }
        // A CSV whose last row is bad, too.
        let csv = "external_id,customer,representative,title,type,occurred_at,score\n\
                   c1,zoe@example.com,rep@acme.example,Hi,chat,2026-03-14T09:30:00Z,50\n\
                   c2,zoe@example.com,rep@acme.example,Hi,chat,2026-03-14T09:30:00Z,101\n";
        match import_as(db, org_id, FileFormat::Csv, ImportDesign::Staged, csv.as_bytes(), 1).await {
            Err(ImportError::Rows(errors)) => assert_eq!(
                errors.errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
                ["line 3: score: 101 is not between 0 and 100"]
            ),
            other => panic!("expected row errors, got {other:?}"),
        }
        assert_eq!(everything(db, org_id).await, before);
    }

    async fn the_bulk_path_writes_what_the_rows_say(db: &Db) {
        let org_id = organisation_with_queue(db, "acme", "Europe/London").await;
        // An Admin who is also a representative in the file keeps their role and name.
        let mut tx = db.begin().await.expect("begin");
        let admin = app::orgs::store::NewUser {
            email: "boss@acme.example",
            name: "The Boss",
            role: app::orgs::model::Role::Admin,
            password_hash: None,
        };
        app::orgs::store::upsert_user(&mut tx, org_id, &admin).await.expect("admin");
        tx.commit().await.expect("commit");
        // A byte-order mark, a header with quoted names, a customer named on a later row only,
        // a customer renamed (the last name wins), a representative named by the file and one not.
        let csv = "\u{feff}\"external_id\",customer,customer_name,representative,representative_name,title,type,occurred_at,score,field.queue,field.note\n\
                   c1,zoe@example.com,,Rep@Acme.example,Rep One,Hello,chat,2026-03-14T09:30:00Z,87.25,Billing,first\n\
                   c2,zoe@example.com,Zoë Ä,boss@acme.example,,Again,voice,2026-03-15T09:30:00+01:00,,Technical,\n\
                   c3,ann@example.com,Ann,new@acme.example,,Third,email,2026-03-16T09:30:00Z,10,,\n\
                   c4,ann@example.com,Annie,new@acme.example,,Fourth,email,2026-03-16T09:30:00Z,20,,\n";
        let summary = import_as(db, org_id, FileFormat::Csv, ImportDesign::Staged, csv.as_bytes(), 2).await.expect("csv");
        assert_eq!((counts(&summary), summary.new_fields, summary.rows), ((4, 0, 0), 1, 4));
        let written = everything(db, org_id).await;
        assert_eq!(
            written,
            [
                "c1|zoe@example.com|rep@acme.example|Hello|chat|1773480600000|8725",
                "c2|zoe@example.com|boss@acme.example|Again|voice|1773563400000|-",
                "c3|ann@example.com|new@acme.example|Third|email|1773653400000|1000",
                "c4|ann@example.com|new@acme.example|Fourth|email|1773653400000|2000",
                "c1|note=first|first",
                "c1|queue=Billing|billing",
                "c2|queue=Technical|technical",
                "ann@example.com|Annie|ann@example.com\nannie",
                "zoe@example.com|Zoë Ä|zoe@example.com\nzoë ä",
                "boss@acme.example|The Boss|admin",
                "new@acme.example|new|representative",
                "rep@acme.example|Rep One|representative",
            ]
        );

        // The same again, through PostgreSQL's other staging and the older chunked design: the
        // same rows. Then changes: a value changed, a value removed, a column changed, a
        // customer given no name (the stored one stays).
        for design in [ImportDesign::StagedByInserts, ImportDesign::Chunked] {
            let again = import_as(db, org_id, FileFormat::Csv, design, csv.as_bytes(), 3).await.expect("again");
            assert_eq!(counts(&again), (0, 0, 4), "{design:?}");
            assert_eq!(everything(db, org_id).await, written, "{design:?}");
        }
        let changed = "external_id,customer,representative,title,type,occurred_at,score,field.queue,field.note\n\
                       c1,zoe@example.com,rep@acme.example,Hello,chat,2026-03-14T09:30:00Z,87.25,Technical,first\n\
                       c2,zoe@example.com,boss@acme.example,Again,voice,2026-03-15T09:30:00+01:00,,,\n\
                       c3,ann@example.com,new@acme.example,Third,email,2026-03-16T09:30:00Z,10,,\n\
                       c4,ann@example.com,new@acme.example,Fourth!,email,2026-03-16T09:30:00Z,20,,\n\
                       c5,bob@example.com,new@acme.example,Fifth,chat,2026-03-17T09:30:00Z,,Billing,\n";
        let summary = import_as(db, org_id, FileFormat::Csv, ImportDesign::Staged, changed.as_bytes(), 2).await.expect("changes");
        assert_eq!(counts(&summary), (1, 3, 1));
        let after = everything(db, org_id).await;
        assert!(after.contains(&"c1|queue=Technical|technical".to_owned()), "{after:?}");
        assert!(!after.iter().any(|line| line.starts_with("c2|queue")), "{after:?}");
        assert!(after.contains(&"c4|ann@example.com|new@acme.example|Fourth!|email|1773653400000|2000".to_owned()));
        assert!(after.contains(&"ann@example.com|Annie|ann@example.com\nannie".to_owned()), "{after:?}");
        assert!(after.contains(&"bob@example.com|-|bob@example.com".to_owned()), "{after:?}");
    }
}
