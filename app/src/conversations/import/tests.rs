//! The import's rules: readers, row checks, repeats and the staged write.

use super::checks::*;
use super::readers::*;
use super::*;
use crate::limits::FIELD_KEY_RULE;
use serde_json::Value;

const GOOD: &str = r#"{"external_id": "c1", "customer": "zoe@example.com", "customer_name": "Zoë", "representative": "Rep@Acme.example", "title": "Hello", "type": "chat", "occurred_at": "2026-03-14T09:30:00+01:00", "score": 87.25, "fields": {"queue": "Billing"}}"#;

fn errors_of(result: Result<Vec<ImportRow>, RowErrors>) -> Vec<String> {
    match result {
        Ok(_) => panic!("expected errors"),
        Err(errors) => errors.errors.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_good_ndjson_line_becomes_a_conversation() {
    let rows = parse_ndjson(format!("{GOOD}\n\n").as_bytes()).expect("valid");
    assert_eq!(rows.len(), 1);
    let conversation = &rows[0].conversation;
    assert_eq!(conversation.score_hundredths, Some(8725));
    assert_eq!(conversation.occurred_at_ms, 1_773_477_000_000);
    assert_eq!(conversation.representative, "rep@acme.example");
    assert_eq!(
        conversation.fields,
        vec![("queue".to_owned(), "Billing".to_owned())]
    );
}

#[test]
fn every_bad_line_is_reported_with_its_line_field_and_reason() {
    let lines = [
        GOOD.to_owned(),
        "{not json".to_owned(),
        GOOD.replace("+01:00", "").replace("c1", "c2"),
        GOOD.replace("87.25", "101").replace("c1", "c3"),
        GOOD.replace(r#""title": "Hello", "#, "")
            .replace("c1", "c4"),
        GOOD.replace("chat", "fax").replace("c1", "c5"),
        GOOD.replace("Hello", "Other"),
        // The same conversation again, though its customer's name differs: accepted.
        GOOD.replace("Zoë", "Zoe"),
    ];
    let mut bytes = lines.join("\n").into_bytes();
    bytes.extend_from_slice(b"\n\xff\xfe\n");
    let errors = errors_of(parse_ndjson(&bytes));
    assert_eq!(
        errors,
        vec![
            "line 2: malformed JSON: key must be a string at line 1 column 2",
            "line 3: occurred_at: `2026-03-14T09:30:00` has no UTC offset: add one, such as Z or +01:00",
            "line 4: score: 101 is not between 0 and 100",
            "line 5: title: is required",
            "line 6: type: `fax` is not voice, chat or email",
            "line 7: external_id: `c1` is already on line 1 with other values",
            "line 9: is not valid UTF-8",
        ]
    );
}

#[test]
fn values_of_the_wrong_kind_are_named_without_being_kept() {
    let bad = GOOD
        .replace(r#""Hello""#, "[1, [2, {\"deep\": 3}]]")
        .replace(r#""chat""#, "true")
        .replace("87.25", r#"{"points": 80}"#)
        .replace(r#""Billing""#, "12.5")
        .replace(r#""customer_name": "Zoë", "#, r#""colour": {"a": [1]}, "#);
    assert_eq!(
        errors_of(parse_ndjson(bad.as_bytes())),
        vec![
            "line 1: colour: is not a known key",
            "line 1: title: must be text, not […]",
            "line 1: type: must be text, not true",
            "line 1: fields.queue: must be text, not 12.5",
            "line 1: title: is required",
            "line 1: type: is required",
            "line 1: score: `{…}` is not a number",
        ]
    );
    for line in ["[1, 2]", "\"text\"", "42", "null"] {
        assert_eq!(
            errors_of(parse_ndjson(line.as_bytes())),
            vec!["line 1: is not a JSON object"],
            "{line}"
        );
    }
    assert_eq!(
        errors_of(parse_ndjson(format!("{GOOD} 7").as_bytes())),
        vec!["line 1: malformed JSON: trailing characters at line 1 column 243"]
    );
}

#[test]
fn a_key_given_twice_keeps_its_last_value() {
    let twice = GOOD
        .replace(
            r#""title": "Hello""#,
            r#""title": "First", "title": "Hello""#,
        )
        .replace(
            r#"{"queue": "Billing"}"#,
            r#"{"queue": "Technical", "queue": "Billing", "team": null}"#,
        );
    let rows = parse_ndjson(twice.as_bytes()).expect("valid");
    assert_eq!(rows[0].conversation.title, "Hello");
    assert_eq!(
        rows[0].conversation.fields,
        vec![("queue".to_owned(), "Billing".to_owned())]
    );
}

fn batch_of(items: &[String]) -> String {
    format!("[{}]", items.join(",\n"))
}

#[test]
fn an_api_batch_is_read_item_by_item_with_every_bad_item_named() {
    let items = [
        GOOD.to_owned(),
        GOOD.replace("c1", "c2").replace("87.25", "101"),
        "17".to_owned(),
        GOOD.replace("c1", "c4").replace("chat", "fax"),
    ];
    match parse_batch(batch_of(&items).as_bytes(), 10) {
        Err(BatchError::Rows(errors)) => assert_eq!(
            errors
                .errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            vec![
                "line 2: score: 101 is not between 0 and 100",
                "line 3: is not a JSON object",
                "line 4: type: `fax` is not voice, chat or email",
            ]
        ),
        other => panic!("expected bad items, got {other:?}"),
    }
    let good = [GOOD.to_owned(), GOOD.replace("c1", "c2")];
    let rows = parse_batch(batch_of(&good).as_bytes(), 2).expect("valid");
    assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(parse_batch(b" [ ] ", 2).expect("empty"), Vec::new());
}

#[test]
fn an_api_batch_past_the_item_limit_is_refused_before_the_next_item_is_read() {
    let items = vec![GOOD.to_owned(); 3];
    // A fourth item that is not even JSON: the limit is met before it is read.
    let over = format!("[{}, {{not json at all", items.join(","));
    assert_eq!(
        parse_batch(over.as_bytes(), 3),
        Err(BatchError::Refused(BatchRefusal::TooManyItems { max: 3 }))
    );
    // Exactly at the limit is read (and its repeats are one conversation).
    assert_eq!(
        parse_batch(batch_of(&items).as_bytes(), 3)
            .expect("valid")
            .len(),
        1
    );
    for (body, refusal) in [
        ("{}", BatchRefusal::NotAnArray),
        ("\"text\"", BatchRefusal::NotAnArray),
        ("null", BatchRefusal::NotAnArray),
    ] {
        assert_eq!(
            parse_batch(body.as_bytes(), 3),
            Err(BatchError::Refused(refusal)),
            "{body}"
        );
    }
    for body in ["not json", "[", "[1,]", "[] []"] {
        assert!(
            matches!(
                parse_batch(body.as_bytes(), 3),
                Err(BatchError::Refused(BatchRefusal::NotJson(_)))
            ),
            "{body}"
        );
    }
}

#[test]
fn in_an_api_batch_the_last_item_of_an_external_id_is_the_one_written() {
    let items = [
        GOOD.replace("Hello", "First"),
        GOOD.replace("c1", "c2"),
        GOOD.replace(r#""c1""#, r#"" c1  ""#)
            .replace("Hello", "Last"),
    ];
    let rows = parse_batch(batch_of(&items).as_bytes(), 10).expect("valid");
    assert_eq!(
        rows.iter()
            .map(|row| (
                row.line,
                row.conversation.external_id.as_str(),
                row.conversation.title.as_str()
            ))
            .collect::<Vec<_>>(),
        vec![(2, "c2", "Hello"), (3, "c1", "Last")]
    );
    // Every item is still checked, the dropped ones too.
    let bad_first = [GOOD.replace("87.25", "101"), GOOD.to_owned()];
    assert!(matches!(
        parse_batch(batch_of(&bad_first).as_bytes(), 10),
        Err(BatchError::Rows(errors)) if errors.errors[0].line == 1
    ));
    // The same rule for items already parsed.
    let values: Vec<Value> = items
        .iter()
        .map(|item| serde_json::from_str(item).unwrap())
        .collect();
    assert_eq!(parse_items(values).expect("valid"), rows);
}

#[test]
fn csv_rows_read_like_ndjson_lines() {
    let csv = "external_id,customer,customer_name,representative,title,type,occurred_at,score,field.queue\n\
               c1,zoe@example.com,Zoë,rep@acme.example,\"Hello, again\",voice,2026-03-14T09:30:00Z,87.5,Billing\n\
               c2,ann@example.com,,rep@acme.example,Unscored,email,2026-03-15T09:30:00Z,,\n";
    let rows = parse_csv(csv.as_bytes()).expect("valid");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].conversation.title, "Hello, again");
    assert_eq!(rows[0].conversation.score_hundredths, Some(8750));
    assert_eq!(rows[1].line, 3);
    assert_eq!(rows[1].conversation.customer_name, None);
    assert_eq!(rows[1].conversation.score_hundredths, None);
    assert!(rows[1].conversation.fields.is_empty());
}

#[test]
fn bad_csv_is_reported_by_line() {
    let missing = "external_id,customer,title\nc1,zoe@example.com,Hi\n";
    let errors = errors_of(parse_csv(missing.as_bytes()));
    assert!(
        errors.contains(&"line 1: representative: column is missing".to_owned()),
        "{errors:?}"
    );
    let unknown = "external_id,customer,representative,title,type,occurred_at,colour\n";
    assert!(errors_of(parse_csv(unknown.as_bytes()))
        .iter()
        .any(|e| e.starts_with("line 1: colour: is not a known column")));
    let rows = "external_id,customer,representative,title,type,occurred_at,score\n\
                c1,zoe@example.com,rep@acme.example,Hi,chat,2026-03-14T09:30:00Z,high\n\
                c2,zoe@example.com,rep@acme.example,,chat,2026-03-14T09:30:00Z,50\n";
    assert_eq!(
        errors_of(parse_csv(rows.as_bytes())),
        vec![
            "line 2: score: `high` is not a number",
            "line 3: title: is required"
        ]
    );
}

#[test]
fn at_most_a_hundred_errors_are_listed_but_all_are_counted() {
    let bad: Vec<String> = (0..150)
        .map(|i| format!("{{\"external_id\": \"c{i}\"}}"))
        .collect();
    match parse_ndjson(bad.join("\n").as_bytes()) {
        Err(errors) => {
            assert_eq!(errors.errors.len(), MAX_REPORTED_ERRORS);
            assert_eq!(errors.total, 750);
        }
        Ok(_) => panic!("expected errors"),
    }
}

fn with_customer(customer: &str) -> String {
    serde_json::json!({
        "external_id": "c1", "customer": customer, "representative": "rep@acme.example",
        "title": "Hello", "type": "chat", "occurred_at": "2026-03-14T09:30:00Z"
    })
    .to_string()
}

#[test]
fn an_identifier_over_the_limit_is_refused_naming_the_field_and_the_limit() {
    let long = "c".repeat(6_000);
    assert_eq!(
        errors_of(parse_ndjson(with_customer(&long).as_bytes())),
        vec!["line 1: customer: is 6000 characters long; the limit is 256"]
    );
    let fits = "c".repeat(256);
    assert!(parse_ndjson(with_customer(&fits).as_bytes()).is_ok());
    let names = GOOD.replace("Zoë", &"z".repeat(257)).replace(
        "Rep@Acme.example",
        &format!("{}@acme.example", "r".repeat(300)),
    );
    assert_eq!(
        errors_of(parse_ndjson(names.as_bytes())),
        vec![
            "line 1: customer_name: is 257 characters long; the limit is 256",
            "line 1: representative: is 313 characters long; the limit is 256",
        ]
    );
}

#[test]
fn control_characters_are_refused() {
    assert_eq!(
        errors_of(parse_ndjson(
            with_customer("zoe\u{0}@example.com").as_bytes()
        )),
        vec!["line 1: customer: contains a control character (U+0000); remove it"]
    );
    let csv = "external_id,customer,representative,title,type,occurred_at\n\
               c1,zoe@example.com,rep@acme.example,\"Bell \u{7} rings\",chat,2026-03-14T09:30:00Z\n";
    assert_eq!(
        errors_of(parse_csv(csv.as_bytes())),
        vec!["line 2: title: contains a control character (U+0007); remove it"]
    );
}

#[test]
fn characters_that_make_text_look_like_other_text_are_refused_in_import_files() {
    assert_eq!(
        errors_of(parse_ndjson(
            with_customer("\u{202E}moc.elpmaxe@eoz").as_bytes()
        )),
        vec!["line 1: customer: contains an invisible or direction-changing character (U+202E) that can make it look like other text; remove it"]
    );
    let csv = "external_id,customer,representative,title,type,occurred_at,field.queue\n\
               c1,zoe@example.com,rep@acme.example,Hello,chat,2026-03-14T09:30:00Z,bil\u{200B}ling\n";
    assert_eq!(
        errors_of(parse_csv(csv.as_bytes())),
        vec!["line 2: fields.queue: contains an invisible or direction-changing character (U+200B) that can make it look like other text; remove it"]
    );
    // The joiners stay: Persian needs the zero-width non-joiner.
    assert!(parse_ndjson(with_customer("می\u{200C}خواهم@example.com").as_bytes()).is_ok());
}

#[test]
fn a_title_over_a_thousand_characters_is_refused() {
    let long = GOOD.replace("Hello", &"t".repeat(1_001));
    assert_eq!(
        errors_of(parse_ndjson(long.as_bytes())),
        vec!["line 1: title: is 1001 characters long; the limit is 1000"]
    );
    let fits = GOOD.replace("Hello", &"t".repeat(1_000));
    assert!(parse_ndjson(fits.as_bytes()).is_ok());
}

#[test]
fn a_field_value_over_five_hundred_characters_is_refused() {
    let long = GOOD.replace("Billing", &"b".repeat(501));
    assert_eq!(
        errors_of(parse_ndjson(long.as_bytes())),
        vec!["line 1: fields.queue: is 501 characters long; the limit is 500"]
    );
    // Measured after trimming, as it is stored.
    let padded = GOOD.replace("Billing", &format!("  {}  ", "b".repeat(500)));
    assert!(parse_ndjson(padded.as_bytes()).is_ok());
}

#[test]
fn a_bad_field_key_is_refused_with_the_rule() {
    let bad = GOOD.replace(r#""queue""#, r#""Queue""#);
    assert_eq!(
        errors_of(parse_ndjson(bad.as_bytes())),
        vec![format!("line 1: fields.Queue: {FIELD_KEY_RULE}")]
    );
    let csv = "external_id,customer,representative,title,type,occurred_at,field.my-queue\n\
               c1,zoe@example.com,rep@acme.example,Hi,chat,2026-03-14T09:30:00Z,Billing\n";
    assert_eq!(
        errors_of(parse_csv(csv.as_bytes())),
        vec![format!("line 2: fields.my-queue: {FIELD_KEY_RULE}")]
    );
}

#[test]
fn long_or_garbled_values_are_shortened_in_messages() {
    let bad = GOOD.replace("87.25", &format!("\"{}\"", "9".repeat(5_000)));
    let errors = errors_of(parse_ndjson(bad.as_bytes()));
    assert_eq!(
        errors,
        vec![format!(
            "line 1: score: `\"{}…` is not a number",
            "9".repeat(59)
        )]
    );
}

#[test]
fn a_byte_order_mark_starts_an_ndjson_file_harmlessly() {
    let bytes = format!("\u{feff}{GOOD}\n{}\n", GOOD.replace("c1", "c2"));
    let rows = parse_ndjson(bytes.as_bytes()).expect("valid");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].line, 1);
    assert_eq!(rows[0].conversation.external_id, "c1");
}

#[test]
fn a_byte_order_mark_starts_a_csv_file_harmlessly() {
    for header in [
        "external_id,customer,representative,title,type,occurred_at",
        "\"external_id\",\"customer\",\"representative\",\"title\",\"type\",\"occurred_at\"",
    ] {
        let csv = format!(
            "\u{feff}{header}\nc1,zoe@example.com,rep@acme.example,Hi,chat,2026-03-14T09:30:00Z\n"
        );
        let rows = parse_csv(csv.as_bytes()).unwrap_or_else(|e| panic!("{header}: {e}"));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].conversation.external_id, "c1");
    }
}

#[test]
fn a_column_named_twice_in_the_csv_header_is_refused() {
    let csv = "external_id,customer,representative,title,type,occurred_at,field.queue,title,field.queue,field.queue\n\
               c1,zoe@example.com,rep@acme.example,Hi,chat,2026-03-14T09:30:00Z,Billing,Hello,Technical,Billing\n";
    assert_eq!(
        errors_of(parse_csv(csv.as_bytes())),
        vec![
            "line 1: title: appears twice in the header",
            "line 1: field.queue: appears twice in the header",
        ]
    );
}

#[test]
fn an_ndjson_line_over_the_byte_limit_is_reported_and_skipped() {
    let huge = format!("{{\"title\": \"{}\"}}", "t".repeat(MAX_LINE_BYTES));
    let bytes = format!("{GOOD}\n{huge}\n{}\n", GOOD.replace("c1", "c2"));
    assert_eq!(
        errors_of(parse_ndjson(bytes.as_bytes())),
        vec!["line 2: is longer than 4 MiB; no conversation needs that much"]
    );
}

#[test]
fn a_file_is_read_in_chunks_of_good_rows() {
    let lines: Vec<String> = (1..=7)
        .map(|i| GOOD.replace("\"c1\"", &format!("\"c{i}\"")))
        .collect();
    let mut bytes = lines.join("\n");
    bytes.push_str("\n{not json\n");
    let mut reader = RowReader::new(FileFormat::Ndjson, bytes.as_bytes());
    let mut errors = Collector::new();
    let mut chunk = Chunk::default();
    let mut sizes = Vec::new();
    loop {
        let end = reader.fill(3, &mut chunk, &mut errors);
        sizes.push((chunk.conversations.len(), chunk.lines.clone()));
        if end {
            break;
        }
    }
    assert_eq!(
        sizes,
        vec![(3, vec![1, 2, 3]), (3, vec![4, 5, 6]), (1, vec![7]),]
    );
    assert_eq!(errors.total, 1);
}

#[test]
fn the_errors_kept_are_those_of_the_lowest_lines() {
    let mut errors = Collector::new();
    for line in (1..=200).rev() {
        errors.add(line, None, "bad");
    }
    let kept = errors.finish(()).unwrap_err();
    assert_eq!(kept.total, 200);
    assert_eq!(
        kept.errors.iter().map(|e| e.line).collect::<Vec<_>>(),
        (1..=100).collect::<Vec<_>>()
    );
}
