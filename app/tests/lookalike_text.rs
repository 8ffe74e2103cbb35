//! Text that looks like other text: refused on the way in (the store, as the command line
//! and the API write), and reported, not rewritten, where it was stored before the rule.
#![cfg(feature = "ssr")]

mod support;

use app::db::Db;
use app::orgs::model::Role;
use app::orgs::store::{create_organisation, lookalike_values, upsert_user, NewUser};
use app::sql;

on_both_backends! {
    async fn names_with_lookalike_characters_are_refused_naming_the_field(db: &Db) {
        let mut tx = db.begin().await.expect("begin");
        let refused = create_organisation(&mut tx, "acme", "Ac\u{202E}me", "UTC")
            .await
            .expect_err("refused");
        assert!(
            refused.to_string().contains("organisation name") && refused.to_string().contains("U+202E"),
            "{refused}"
        );
        tx.rollback().await.expect("rollback");
        let mut tx = db.begin().await.expect("begin");
        let org_id = create_organisation(&mut tx, "acme", "Acme", "UTC").await.expect("org");
        for (email, name, field, code) in [
            ("pat@acme.example", "Pat\u{2066} Person", "name", "U+2066"),
            ("pat\u{FEFF}@acme.example", "Pat Person", "email", "U+FEFF"),
            ("pat@acme.example", "Pat\u{2060}Person", "name", "U+2060"),
        ] {
            let refused = upsert_user(
                &mut tx,
                org_id,
                &NewUser { email, name, role: Role::Manager, password_hash: None },
            )
            .await
            .expect_err("refused");
            let message = refused.to_string();
            assert!(message.contains(field) && message.contains(code), "{message}");
        }
        // Joiners are part of many scripts' spelling.
        upsert_user(
            &mut tx,
            org_id,
            &NewUser {
                email: "parisa@acme.example",
                name: "پریسا می\u{200C}خواهد",
                role: Role::Manager,
                password_hash: None,
            },
        )
        .await
        .expect("joiners are allowed");
        tx.commit().await.expect("commit");
    }

    async fn the_check_reports_stored_lookalikes_without_rewriting_them(db: &Db) {
        let mut tx = db.begin().await.expect("begin");
        let org_id = create_organisation(&mut tx, "acme", "Acme", "UTC").await.expect("org");
        upsert_user(
            &mut tx,
            org_id,
            &NewUser { email: "pat@acme.example", name: "Pat", role: Role::Manager, password_hash: None },
        )
        .await
        .expect("user");
        tx.commit().await.expect("commit");
        assert_eq!(lookalike_values(db).await.expect("check"), vec![]);
        // Rows written before the rule (or around it, straight into the database).
        let spoofed = "Pat\u{202E}nosrep";
        db.execute(&sql!("UPDATE users SET name = $1 WHERE org_id = $2", spoofed, org_id), "test")
            .await
            .expect("update");
        db.execute(&sql!("UPDATE organisations SET name = $1 WHERE id = $2", "Ac\u{200B}me", org_id), "test")
            .await
            .expect("update");
        let found = lookalike_values(db).await.expect("check");
        let what: Vec<&str> = found.iter().map(|f| f.what).collect();
        assert_eq!(what, vec!["organisations.name", "users.name"], "{found:?}");
        assert!(found.iter().all(|f| f.organisation == "acme"));
        assert_eq!(found[1].value, spoofed);
        // Reported, not rewritten.
        assert_eq!(lookalike_values(db).await.expect("check again"), found);
    }
}
