//! Database-enforced tenancy (migration 0013): a row can point only at rows of its own
//! organisation. Each test writes plain SQL, as a bug in the store code would, and the database
//! itself must refuse the reference across organisations while accepting the same row within
//! one (so that a refusal for any other reason cannot pass the test).
#![cfg(feature = "ssr")]

mod support;

use app::db::{Db, Sql};
use app::sql;

async fn id(db: &Db, statement: Sql) -> i64 {
    db.scalar(&statement, "inserting a test row")
        .await
        .expect("inserted")
}

/// Two organisations, each with a person, a customer, a field and a conversation.
struct Two {
    org: [i64; 2],
    person: [i64; 2],
    customer: [i64; 2],
    field: [i64; 2],
    conversation: [i64; 2],
}

async fn two_organisations(db: &Db) -> Two {
    let mut two = Two {
        org: [0; 2],
        person: [0; 2],
        customer: [0; 2],
        field: [0; 2],
        conversation: [0; 2],
    };
    for (n, slug) in ["acme", "globex"].into_iter().enumerate() {
        let org = id(
            db,
            sql!(
                "INSERT INTO organisations (slug, name, time_zone) VALUES ($1, $2, 'UTC') RETURNING id",
                slug,
                slug
            ),
        )
        .await;
        two.org[n] = org;
        two.person[n] = id(
            db,
            sql!(
                "INSERT INTO users (org_id, email, name, role) VALUES ($1, $2, 'Rep', 'representative') RETURNING id",
                org,
                format!("rep@{slug}.example")
            ),
        )
        .await;
        two.customer[n] = id(
            db,
            sql!(
                "INSERT INTO customers (org_id, identifier, search_text) VALUES ($1, 'C-1', 'c-1') RETURNING id",
                org
            ),
        )
        .await;
        two.field[n] = id(
            db,
            sql!(
                "INSERT INTO custom_fields (org_id, key, label, kind) VALUES ($1, 'region', 'Region', 'select') RETURNING id",
                org
            ),
        )
        .await;
        two.conversation[n] = id(
            db,
            conversation_row(org, &format!("E-{slug}"), two.customer[n], two.person[n]),
        )
        .await;
    }
    two
}

fn conversation_row(org: i64, external_id: &str, customer: i64, person: i64) -> Sql {
    sql!(
        "INSERT INTO conversations (org_id, external_id, customer_id, representative_id, title, channel, occurred_at_ms) VALUES ($1, $2, $3, $4, 'Call', 'voice', 0) RETURNING id",
        org,
        external_id,
        customer,
        person
    )
}

/// Runs `statement`, which must be refused by a foreign key.
async fn refused(db: &Db, statement: Sql, what: &str) {
    let outcome = db.execute(&statement, "linking across organisations").await;
    let error = outcome.expect_err(what);
    let message = error.to_string().to_lowercase();
    assert!(message.contains("foreign key"), "{what}: {message}");
}

async fn accepted(db: &Db, statement: Sql, what: &str) {
    db.execute(&statement, "linking within an organisation")
        .await
        .unwrap_or_else(|error| panic!("{what}: {error}"));
}

on_both_backends! {
    async fn a_conversation_cannot_point_at_another_organisations_customer_or_person(db: &Db) {
        let two = two_organisations(db).await;
        let (acme, globex) = (two.org[0], two.org[1]);
        refused(
            db,
            conversation_row(globex, "E-2", two.customer[0], two.person[1]),
            "a Globex conversation of an Acme customer",
        )
        .await;
        refused(
            db,
            conversation_row(globex, "E-2", two.customer[1], two.person[0]),
            "a Globex conversation by an Acme person",
        )
        .await;
        refused(
            db,
            sql!(
                "UPDATE conversations SET customer_id = $1 WHERE org_id = $2",
                two.customer[0],
                globex
            ),
            "moving a Globex conversation to an Acme customer",
        )
        .await;
        refused(
            db,
            sql!("UPDATE conversations SET org_id = $1 WHERE org_id = $2", globex, acme),
            "moving an Acme conversation to Globex, its customer left behind",
        )
        .await;
        accepted(
            db,
            conversation_row(globex, "E-2", two.customer[1], two.person[1]),
            "the same conversation within Globex",
        )
        .await;
    }

    async fn field_values_options_and_saved_views_stay_in_their_organisation(db: &Db) {
        let two = two_organisations(db).await;
        let globex = two.org[1];
        refused(
            db,
            sql!(
                "INSERT INTO conversation_field_values (org_id, conversation_id, field_id, value, value_folded) VALUES ($1, $2, $3, 'north', 'north')",
                globex,
                two.conversation[0],
                two.field[1]
            ),
            "a Globex value on an Acme conversation",
        )
        .await;
        refused(
            db,
            sql!(
                "INSERT INTO conversation_field_values (org_id, conversation_id, field_id, value, value_folded) VALUES ($1, $2, $3, 'north', 'north')",
                globex,
                two.conversation[1],
                two.field[0]
            ),
            "a Globex value of an Acme field",
        )
        .await;
        refused(
            db,
            sql!(
                "INSERT INTO custom_field_options (org_id, field_id, position, value) VALUES ($1, $2, 0, 'north')",
                globex,
                two.field[0]
            ),
            "a Globex option of an Acme field",
        )
        .await;
        refused(
            db,
            sql!(
                "INSERT INTO saved_views (org_id, user_id, name, name_key, query, created_at_ms, updated_at_ms) VALUES ($1, $2, 'Mine', 'mine', '', 0, 0)",
                globex,
                two.person[0]
            ),
            "a Globex view of an Acme person",
        )
        .await;
        accepted(
            db,
            sql!(
                "INSERT INTO conversation_field_values (org_id, conversation_id, field_id, value, value_folded) VALUES ($1, $2, $3, 'north', 'north')",
                globex,
                two.conversation[1],
                two.field[1]
            ),
            "a Globex value of a Globex field",
        )
        .await;
        accepted(
            db,
            sql!(
                "INSERT INTO custom_field_options (org_id, field_id, position, value) VALUES ($1, $2, 0, 'north')",
                globex,
                two.field[1]
            ),
            "a Globex option",
        )
        .await;
        accepted(
            db,
            sql!(
                "INSERT INTO saved_views (org_id, user_id, name, name_key, query, created_at_ms, updated_at_ms) VALUES ($1, $2, 'Mine', 'mine', '', 0, 0)",
                globex,
                two.person[1]
            ),
            "a Globex view of a Globex person",
        )
        .await;
    }
}
