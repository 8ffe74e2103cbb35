//! Store tests of the Import page on SQLite and PostgreSQL: the column mapping an
//! organisation remembers (its own only, replaced column by column, bounded), and the count of
//! customers an import touched.
#![cfg(feature = "ssr")]

mod support;

use app::conversations::import_page::columns::{choose_mapping, MappedColumn};
use app::conversations::import_page::store::{
    current_write_version, customers_changed_since, remember_mapping, remembered_mapping,
    MAX_REMEMBERED_COLUMNS,
};
use app::conversations::store::write_conversations;
use app::db::{Db, StoreError};
use support::{conversation, organisation};

fn column(source: &str, target: &str) -> MappedColumn {
    MappedColumn {
        source: source.to_owned(),
        target: target.to_owned(),
    }
}

on_both_backends! {
    async fn a_mapping_is_remembered_per_organisation_by_loose_column_name(db: &Db) {
        let acme = organisation(db, "acme").await;
        let globex = organisation(db, "globex").await;
        assert!(remembered_mapping(db, acme).await.expect("none yet").is_empty());
        remember_mapping(
            db,
            acme,
            &[column("Call ID", "external_id"), column("Queue", "field.queue"), column("Notes", "")],
        )
        .await
        .expect("remember");
        // Another organisation remembers its own, and sees nothing of Acme's.
        remember_mapping(db, globex, &[column("Call ID", "")]).await.expect("globex");
        let remembered = remembered_mapping(db, acme).await.expect("acme");
        assert_eq!(
            remembered,
            vec![
                ("call id".to_owned(), "external_id".to_owned()),
                ("notes".to_owned(), String::new()),
                ("queue".to_owned(), "field.queue".to_owned()),
            ]
        );
        assert_eq!(
            remembered_mapping(db, globex).await.expect("globex"),
            vec![("call id".to_owned(), String::new())]
        );
        // The next file with those columns (spelt otherwise) is read the same way; a column
        // changed is replaced, the others kept.
        let header = vec!["call_id".to_owned(), "QUEUE".to_owned(), "Caller".to_owned()];
        let targets: Vec<String> = choose_mapping(&header, None, &remembered)
            .into_iter()
            .map(|c| c.target)
            .collect();
        assert_eq!(targets, ["external_id", "field.queue", "customer"]);
        remember_mapping(db, acme, &[column("QUEUE", "")]).await.expect("change");
        let remembered = remembered_mapping(db, acme).await.expect("acme");
        assert_eq!(remembered.len(), 3);
        assert!(remembered.contains(&("queue".to_owned(), String::new())));
    }

    async fn a_bad_mapping_is_refused_and_the_remembered_columns_are_bounded(db: &Db) {
        let acme = organisation(db, "acme").await;
        let error = remember_mapping(db, acme, &[column("Call ID", "password")])
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Invalid(_)), "{error:?}");
        assert!(remembered_mapping(db, acme).await.expect("none").is_empty());
        for batch in 0..6 {
            let columns: Vec<MappedColumn> = (0..200)
                .map(|n| column(&format!("column {batch} {n}"), ""))
                .collect();
            remember_mapping(db, acme, &columns).await.expect("remember");
        }
        let remembered = remembered_mapping(db, acme).await.expect("acme");
        assert_eq!(remembered.len() as i64, MAX_REMEMBERED_COLUMNS);
        assert!(remembered.iter().any(|(key, _)| key == "column 5 199"), "the latest are kept");
    }

    async fn customers_touched_are_those_written_after_the_version(db: &Db) {
        let acme = organisation(db, "acme").await;
        write_conversations(db, acme, &[conversation("c1", "ann@example.com", 1_767_225_600_000, Some(8_000)), conversation("c2", "bob@example.com", 1_767_225_600_001, None)])
            .await
            .expect("first write");
        let before = current_write_version(db, acme).await.expect("version");
        assert!(before > 0);
        write_conversations(db, acme, &[conversation("c3", "bob@example.com", 1_767_225_600_002, None)])
            .await
            .expect("second write");
        assert_eq!(customers_changed_since(db, acme, before).await.expect("count"), 1);
        assert_eq!(customers_changed_since(db, acme, 0).await.expect("count"), 2);
    }
}
