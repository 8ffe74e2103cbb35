//! Fair use of the database pools (issue 25, item 10), on SQLite and PostgreSQL: a statement
//! waits about 2 s for a connection, then fails as "busy" (a 503 with Retry-After), and the
//! sign-in pool keeps signing people in and recognising their sessions while heavy reads hold
//! every connection of the main pool.
#![cfg(feature = "ssr")]

mod support;

use app::auth::password::hash_password;
use app::auth::service::{authenticate, sign_in, SignIn};
use app::db::{ConnectOptions, Db, Failure, Sql, Tx, SERVER_ACQUIRE_WAIT};
use app::orgs::model::Role;
use app::orgs::store::{create_organisation, upsert_user, NewUser};
use std::time::{Duration, Instant};
use support::TestDb;

const PASSWORD: &str = "correct horse battery";

/// The server's pool settings: `connections`, waiting [`SERVER_ACQUIRE_WAIT`] for one.
async fn server_pool(url: &str, connections: u32) -> Db {
    let mut options = ConnectOptions::new(connections);
    options.acquire_wait = Some(SERVER_ACQUIRE_WAIT);
    Db::connect_with(url, options).await.expect("a pool")
}

/// Borrows every connection of `db`, as long questions running at once do.
async fn hold_every_connection(db: &Db, connections: u32) -> Vec<Tx> {
    let mut held = Vec::new();
    for _ in 0..connections {
        let mut tx = db.begin().await.expect("a connection");
        tx.scalar::<i64>(&Sql::new("SELECT COUNT(*) FROM organisations"), "reading")
            .await
            .expect("read");
        held.push(tx);
    }
    held
}

async fn a_statement_waits_about_2_s_for_a_connection_then_is_answered_503(test: &TestDb) {
    let db = server_pool(&test.url, 2).await;
    let held = hold_every_connection(&db, 2).await;
    let started = Instant::now();
    let outcome = db
        .scalar::<i64>(&Sql::new("SELECT COUNT(*) FROM users"), "counting people")
        .await;
    let waited = started.elapsed();
    let error = outcome.expect_err("no connection was free");
    assert!(error.is_unavailable(), "{error}");
    assert_eq!(error.failure(), Failure::Busy);
    let answer = app::error::answer(error);
    assert_eq!(answer.status_code(), 503);
    assert!(
        waited >= Duration::from_millis(1_800) && waited < Duration::from_secs(4),
        "waited {waited:?}"
    );
    // Given back, the connections serve again at once.
    drop(held);
    let people: i64 = db
        .scalar(&Sql::new("SELECT COUNT(*) FROM users"), "counting people")
        .await
        .expect("a connection again");
    assert_eq!(people, 0);
    db.close().await;
}

async fn sign_in_and_session_checks_go_on_while_reads_hold_the_main_pool(test: &TestDb) {
    let mut tx = test.db.begin().await.expect("begin");
    let org_id = create_organisation(&mut tx, "acme", "Acme", "UTC")
        .await
        .expect("org");
    let hash = hash_password(PASSWORD).expect("hash");
    upsert_user(
        &mut tx,
        org_id,
        &NewUser {
            email: "pat@acme.example",
            name: "Pat",
            role: Role::Manager,
            password_hash: Some(&hash),
        },
    )
    .await
    .expect("person");
    tx.commit().await.expect("commit");

    let main = server_pool(&test.url, 2).await;
    let sign_in_db = server_pool(&test.url, 1).await;
    let now = app::clock::now_ms();
    let held = hold_every_connection(&main, 2).await;
    // The main pool is exhausted: a sign-in through it would wait, then fail (what happened
    // when sign-in shared the one pool).
    let shared = sign_in(&main, "pat@acme.example", PASSWORD, now).await;
    assert!(
        matches!(&shared, Err(error) if error.is_unavailable()),
        "the main pool has no connection to give"
    );
    // Its own pool signs in and recognises the session at once.
    let started = Instant::now();
    let token = match sign_in(&sign_in_db, "pat@acme.example", PASSWORD, now)
        .await
        .expect("signed in")
    {
        SignIn::Started { token } => token,
        _ => panic!("the right password was refused"),
    };
    let session = authenticate(&sign_in_db, &token, now + 1_000)
        .await
        .expect("session check")
        .expect("a session");
    assert_eq!(session.viewer.org_id, org_id);
    assert!(
        started.elapsed() < SERVER_ACQUIRE_WAIT,
        "{:?}",
        started.elapsed()
    );
    drop(held);
    main.close().await;
    sign_in_db.close().await;
}

on_both_backends_threaded!(
    2;
    a_statement_waits_about_2_s_for_a_connection_then_is_answered_503,
    sign_in_and_session_checks_go_on_while_reads_hold_the_main_pool
);
