//! The live Customers page's count (issue 27, item 5) on SQLite and PostgreSQL: the scored
//! conversations written since a data version, whoever wrote them, exact under the version
//! protocol, and bounded.
#![cfg(feature = "ssr")]

mod support;

use app::conversations::store::write_conversations;
use app::customers::live::store::scored_written_since;
use app::customers::live::MOST_COUNTED;
use app::db::Db;
use app::versions::stored_version;
use support::{conversation, organisation};

on_both_backends! {
    async fn counts_the_scored_conversations_written_after_a_version(db: &Db) {
        let org_id = organisation(db, "live").await;
        let other = organisation(db, "other").await;
        let batch = |prefix: &str, scored: usize, unscored: usize| {
            (0..scored + unscored)
                .map(|i| {
                    let score = (i < scored).then_some(7_000);
                    conversation(&format!("{prefix}-{i}"), &format!("c{i}"), 1_000 * i as i64, score)
                })
                .collect::<Vec<_>>()
        };
        write_conversations(db, org_id, &batch("first", 5, 1)).await.expect("write");
        let rendered_at = stored_version(db, org_id).await.expect("version");
        assert_eq!(scored_written_since(db, org_id, rendered_at).await.unwrap(), 0);
        // Two more writes: 3 + 4 scored, 2 unscored; another organisation's do not count.
        write_conversations(db, org_id, &batch("second", 3, 2)).await.expect("write");
        write_conversations(db, org_id, &batch("third", 4, 0)).await.expect("write");
        write_conversations(db, other, &batch("elsewhere", 9, 0)).await.expect("write");
        assert_eq!(scored_written_since(db, org_id, rendered_at).await.unwrap(), 7);
        assert_eq!(scored_written_since(db, org_id, 0).await.unwrap(), 12);
        let now = stored_version(db, org_id).await.expect("version");
        assert_eq!(scored_written_since(db, org_id, now).await.unwrap(), 0);
        // A conversation written again (a corrected score) counts as written again.
        let corrected = vec![conversation("first-0", "c0", 0, Some(9_000))];
        write_conversations(db, org_id, &corrected).await.expect("write");
        assert_eq!(scored_written_since(db, org_id, now).await.unwrap(), 1);
    }

    async fn the_count_stops_just_past_the_most_counted(db: &Db) {
        let org_id = organisation(db, "many").await;
        let rows: Vec<_> = (0..MOST_COUNTED + 50)
            .map(|i| conversation(&format!("m-{i}"), &format!("c{}", i % 100), i, Some(5_000)))
            .collect();
        write_conversations(db, org_id, &rows).await.expect("write");
        assert_eq!(
            scored_written_since(db, org_id, 0).await.unwrap(),
            MOST_COUNTED + 1
        );
    }
}
