//! Sign-in and session rules, on SQLite and on PostgreSQL.
#![cfg(feature = "ssr")]

mod support;

use app::auth::password::hash_password;
use app::auth::service::{
    authenticate, sign_in, sign_in_from, sign_out, sign_out_everywhere, source_key, SignIn,
    ABSOLUTE_LIFETIME_MS, FAILURE_WINDOW_MS, IDLE_TIMEOUT_MS, LOCK_OUT_MS, MAX_FAILED_LOGINS,
};
use app::auth::store::{delete_idle_sessions, delete_sessions_of, find_user_id, set_disabled};
use app::db::Db;
use app::orgs::model::Role;
use app::orgs::store::{create_organisation, upsert_user, NewUser};

const NOW: i64 = 1_790_000_000_000;
const PASSWORD: &str = "correct horse battery";

async fn person(db: &Db, slug: &str, email: &str, role: Role, password: Option<&str>) -> i64 {
    let mut tx = db.begin().await.expect("begin");
    let org_id = match app::orgs::store::find_organisation(db, slug)
        .await
        .expect("find")
    {
        Some(org) => org.id,
        None => create_organisation(&mut tx, slug, &format!("Org {slug}"), "America/New_York")
            .await
            .expect("org"),
    };
    let hash = password.map(|p| hash_password(p).expect("hash"));
    upsert_user(
        &mut tx,
        org_id,
        &NewUser {
            email,
            name: "Pat Person",
            role,
            password_hash: hash.as_deref(),
        },
    )
    .await
    .expect("user");
    tx.commit().await.expect("commit");
    org_id
}

async fn token_of(outcome: SignIn) -> String {
    match outcome {
        SignIn::Started { token } => token,
        SignIn::Refused => panic!("expected a session, the sign-in was refused"),
        SignIn::Locked { minutes } => {
            panic!("expected a session, the account is locked for {minutes} min")
        }
    }
}

on_both_backends! {
    async fn the_right_password_starts_a_session_that_knows_its_viewer(db: &Db) {
        let org_id = person(db, "acme", "pat@acme.example", Role::Manager, Some(PASSWORD)).await;
        // Emails are matched case-insensitively.
        let token = token_of(sign_in(db, " PAT@acme.example ", PASSWORD, NOW).await.unwrap()).await;
        let viewer = authenticate(db, &token, NOW + 1000).await.unwrap().expect("a valid session").viewer;
        assert_eq!(viewer.org_id, org_id);
        assert_eq!(viewer.role, Role::Manager);
        assert_eq!(viewer.email, "pat@acme.example");
        assert_eq!(viewer.organisation, "Org acme");
        assert_eq!(viewer.time_zone.name(), "America/New_York");
        assert!(authenticate(db, "not-a-token", NOW).await.unwrap().is_none());
    }

    async fn wrong_email_and_wrong_password_are_refused_alike(db: &Db) {
        person(db, "acme", "pat@acme.example", Role::Admin, Some(PASSWORD)).await;
        person(db, "acme", "nopass@acme.example", Role::Representative, None).await;
        assert!(matches!(sign_in(db, "pat@acme.example", "wrong password", NOW).await.unwrap(), SignIn::Refused));
        assert!(matches!(sign_in(db, "nobody@acme.example", PASSWORD, NOW).await.unwrap(), SignIn::Refused));
        // A person without a password cannot sign in at all.
        assert!(matches!(sign_in(db, "nopass@acme.example", "", NOW).await.unwrap(), SignIn::Refused));
    }

    async fn five_failures_lock_the_account_even_for_the_right_password(db: &Db) {
        person(db, "acme", "pat@acme.example", Role::Admin, Some(PASSWORD)).await;
        for attempt in 0..MAX_FAILED_LOGINS {
            let outcome = sign_in(db, "pat@acme.example", "wrong password", NOW + attempt * 1000).await.unwrap();
            assert!(matches!(outcome, SignIn::Refused), "attempt {attempt}");
        }
        match sign_in(db, "pat@acme.example", PASSWORD, NOW + 10_000).await.unwrap() {
            SignIn::Locked { minutes } => assert_eq!(minutes, LOCK_OUT_MS / 60_000),
            _ => panic!("the sixth attempt must be refused as locked"),
        }
        // After the lock-out, the right password works and the counter starts again.
        let later = NOW + 4_000 + LOCK_OUT_MS + 1;
        token_of(sign_in(db, "pat@acme.example", PASSWORD, later).await.unwrap()).await;
        assert!(matches!(sign_in(db, "pat@acme.example", "wrong", later + 1).await.unwrap(), SignIn::Refused));
        token_of(sign_in(db, "pat@acme.example", PASSWORD, later + 2).await.unwrap()).await;
    }

    async fn failures_spread_beyond_the_window_do_not_lock(db: &Db) {
        person(db, "acme", "pat@acme.example", Role::Admin, Some(PASSWORD)).await;
        for attempt in 0..(MAX_FAILED_LOGINS * 2) {
            let at = NOW + attempt * (FAILURE_WINDOW_MS / 3);
            let outcome = sign_in(db, "pat@acme.example", "wrong password", at).await.unwrap();
            assert!(matches!(outcome, SignIn::Refused), "attempt {attempt}");
        }
        let at = NOW + MAX_FAILED_LOGINS * 2 * (FAILURE_WINDOW_MS / 3);
        token_of(sign_in(db, "pat@acme.example", PASSWORD, at).await.unwrap()).await;
    }

    async fn sessions_end_when_idle_on_sign_out_and_on_demand(db: &Db) {
        let org_id = person(db, "acme", "pat@acme.example", Role::Manager, Some(PASSWORD)).await;
        let token = token_of(sign_in(db, "pat@acme.example", PASSWORD, NOW).await.unwrap()).await;
        // Used within the idle time, it stays valid and its idle clock restarts.
        let used = NOW + IDLE_TIMEOUT_MS - 1000;
        assert!(authenticate(db, &token, used).await.unwrap().is_some());
        assert!(authenticate(db, &token, used + IDLE_TIMEOUT_MS - 1000).await.unwrap().is_some());
        // Idle for longer than the timeout, it is gone.
        let idle = used + IDLE_TIMEOUT_MS - 1000 + IDLE_TIMEOUT_MS + 1;
        assert!(authenticate(db, &token, idle).await.unwrap().is_none());

        let second = token_of(sign_in(db, "pat@acme.example", PASSWORD, NOW).await.unwrap()).await;
        sign_out(db, &second).await.unwrap();
        assert!(authenticate(db, &second, NOW + 1).await.unwrap().is_none());

        let third = token_of(sign_in(db, "pat@acme.example", PASSWORD, NOW).await.unwrap()).await;
        let user_id = find_user_id(db, org_id, "pat@acme.example").await.unwrap().expect("user");
        assert_eq!(delete_sessions_of(db, org_id, user_id).await.unwrap(), 1);
        assert!(authenticate(db, &third, NOW + 1).await.unwrap().is_none());

        let fourth = token_of(sign_in(db, "pat@acme.example", PASSWORD, NOW).await.unwrap()).await;
        assert_eq!(delete_idle_sessions(db, NOW + 1).await.unwrap(), 1);
        assert!(authenticate(db, &fourth, NOW + 2).await.unwrap().is_none());
    }

    async fn the_same_email_in_two_organisations_signs_into_the_one_whose_password_matches(db: &Db) {
        let acme = person(db, "acme", "pat@shared.example", Role::Manager, Some(PASSWORD)).await;
        let globex = person(db, "globex", "pat@shared.example", Role::Admin, Some("another password")).await;
        let token = token_of(sign_in(db, "pat@shared.example", "another password", NOW).await.unwrap()).await;
        assert_eq!(authenticate(db, &token, NOW).await.unwrap().expect("session").viewer.org_id, globex);
        let token = token_of(sign_in(db, "pat@shared.example", PASSWORD, NOW).await.unwrap()).await;
        assert_eq!(authenticate(db, &token, NOW).await.unwrap().expect("session").viewer.org_id, acme);
    }

    async fn parallel_wrong_guesses_each_count(db: &Db) {
        person(db, "acme", "pat@acme.example", Role::Admin, Some(PASSWORD)).await;
        // One fewer than the limit, all at once: if any of them overwrote another's count,
        // the next single failure would not reach the limit.
        let guesses = (1..MAX_FAILED_LOGINS).map(|n| async move {
            sign_in(db, "pat@acme.example", &format!("wrong {n}"), NOW + n).await.unwrap()
        });
        let outcomes = futures_util::future::join_all(guesses).await;
        assert!(outcomes.iter().all(|o| matches!(o, SignIn::Refused)));
        assert!(matches!(sign_in(db, "pat@acme.example", "wrong again", NOW + 100).await.unwrap(), SignIn::Refused));
        assert!(
            matches!(sign_in(db, "pat@acme.example", PASSWORD, NOW + 200).await.unwrap(), SignIn::Locked { .. }),
            "{MAX_FAILED_LOGINS} failures, {} of them in parallel, lock the account",
            MAX_FAILED_LOGINS - 1
        );
    }

    async fn a_lock_is_never_cleared_by_the_right_password(db: &Db) {
        person(db, "acme", "pat@acme.example", Role::Admin, Some(PASSWORD)).await;
        // Many parallel guesses with the right password among them, as a slow request that
        // started before the lock would be: the lock, once set, stays.
        let attempts = (0..(MAX_FAILED_LOGINS * 2)).map(|n| async move {
            let password = if n % 3 == 0 { PASSWORD.to_owned() } else { format!("wrong {n}") };
            sign_in(db, "pat@acme.example", &password, NOW + n).await.unwrap()
        });
        futures_util::future::join_all(attempts).await;
        for _ in 0..(MAX_FAILED_LOGINS * 2) {
            sign_in(db, "pat@acme.example", "wrong", NOW + 1_000).await.unwrap();
        }
        for at in [NOW + 2_000, NOW + 3_000] {
            assert!(matches!(sign_in(db, "pat@acme.example", PASSWORD, at).await.unwrap(), SignIn::Locked { .. }));
        }
        // Time ends it.
        let later = NOW + 1_000 + LOCK_OUT_MS + 1;
        token_of(sign_in(db, "pat@acme.example", PASSWORD, later).await.unwrap()).await;
    }

    async fn an_active_session_slides_but_ends_after_its_absolute_lifetime(db: &Db) {
        person(db, "acme", "pat@acme.example", Role::Manager, Some(PASSWORD)).await;
        let token = token_of(sign_in(db, "pat@acme.example", PASSWORD, NOW).await.unwrap()).await;
        // Within a minute of the last write, nothing to refresh; after it, the cookie slides.
        let soon = authenticate(db, &token, NOW + 30_000).await.unwrap().expect("valid");
        assert_eq!(soon.refresh_cookie_max_age, None);
        let later = authenticate(db, &token, NOW + 120_000).await.unwrap().expect("valid");
        assert_eq!(later.refresh_cookie_max_age, Some(IDLE_TIMEOUT_MS / 1000));
        // Used every few hours, it stays valid, the cookie never outliving the lifetime...
        let mut at = NOW;
        let step = IDLE_TIMEOUT_MS / 2;
        while at + step < NOW + ABSOLUTE_LIFETIME_MS {
            at += step;
            let session = authenticate(db, &token, at).await.unwrap().expect("still valid");
            let max_age = session.refresh_cookie_max_age.expect("refreshed");
            assert!(at + max_age * 1000 <= NOW + ABSOLUTE_LIFETIME_MS);
        }
        // ...until a week after sign-in.
        assert!(authenticate(db, &token, NOW + ABSOLUTE_LIFETIME_MS + 1).await.unwrap().is_none());
    }

    async fn sign_in_and_sessions_do_not_wait_for_a_long_write(db: &Db) {
        let org_id = person(db, "acme", "pat@acme.example", Role::Manager, Some(PASSWORD)).await;
        let token = token_of(sign_in(db, "pat@acme.example", PASSWORD, NOW).await.unwrap()).await;
        // An import holds the organisation's write lock (on SQLite, the main file's).
        let mut import = db.begin().await.expect("begin");
        app::versions::claim_write_version(&mut import, org_id).await.expect("claim");
        let started = std::time::Instant::now();
        let other = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            let session = authenticate(db, &token, NOW + 120_000).await.unwrap().expect("valid");
            assert!(session.refresh_cookie_max_age.is_some(), "the session was kept alive");
            token_of(sign_in(db, "pat@acme.example", PASSWORD, NOW + 130_000).await.unwrap()).await;
            assert!(matches!(sign_in(db, "pat@acme.example", "wrong", NOW + 140_000).await.unwrap(), SignIn::Refused));
        })
        .await;
        assert!(other.is_ok(), "sign-in waited for the import");
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
        import.rollback().await.expect("rollback");
    }
    async fn a_strangers_guesses_do_not_keep_the_owner_out(db: &Db) {
        person(db, "acme", "pat@acme.example", Role::Manager, Some(PASSWORD)).await;
        let stranger = source_key(Some("203.0.113.7".parse().unwrap()));
        let owner = source_key(Some("198.51.100.20".parse().unwrap()));
        for n in 0..(MAX_FAILED_LOGINS * 3) {
            sign_in_from(db, "pat@acme.example", "guess", &stranger, NOW + n).await.unwrap();
        }
        // The stranger is locked out of this email, even with the right password ...
        assert!(matches!(
            sign_in_from(db, "pat@acme.example", PASSWORD, &stranger, NOW + 100).await.unwrap(),
            SignIn::Locked { .. }
        ));
        // ... and the owner, from their own address, signs in at once.
        token_of(sign_in_from(db, "pat@acme.example", PASSWORD, &owner, NOW + 200).await.unwrap()).await;
        // A client rotating addresses within one IPv6 /64 is one source.
        for n in 0..MAX_FAILED_LOGINS {
            let address = format!("2001:db8:7:7::{:x}", n + 1).parse().unwrap();
            sign_in_from(db, "pat@acme.example", "guess", &source_key(Some(address)), NOW + 300 + n).await.unwrap();
        }
        let same_64 = source_key(Some("2001:db8:7:7:ffff::1".parse().unwrap()));
        assert!(matches!(
            sign_in_from(db, "pat@acme.example", PASSWORD, &same_64, NOW + 400).await.unwrap(),
            SignIn::Locked { .. }
        ));
        // One attacker gets MAX_FAILED_LOGINS guesses per lock-out period on an account.
        let later = NOW + 400 + LOCK_OUT_MS + 1;
        token_of(sign_in_from(db, "pat@acme.example", PASSWORD, &same_64, later).await.unwrap()).await;
    }

    async fn a_wrong_guess_writes_the_same_whether_or_not_the_email_has_an_account(db: &Db) {
        person(db, "acme", "pat@acme.example", Role::Manager, Some(PASSWORD)).await;
        let count = |table: &'static str| async move {
            db.scalar::<i64>(&app::sql!(&format!("SELECT COUNT(*) FROM {table}")), "count").await.unwrap()
        };
        let from = source_key(Some("192.0.2.1".parse().unwrap()));
        sign_in_from(db, "pat@acme.example", "wrong", &from, NOW).await.unwrap();
        let after_known = (count("sign_in_guesses").await, count("sign_in_failures").await);
        sign_in_from(db, "nobody@acme.example", "wrong", &from, NOW).await.unwrap();
        let after_unknown = (count("sign_in_guesses").await, count("sign_in_failures").await);
        assert_eq!(after_known, (1, 0));
        assert_eq!(after_unknown, (2, 0), "one row per (email, source), account or not");
        // Emails are kept only as digests.
        let keys: Vec<app::db::IdRow> = db
            .fetch_all(&app::sql!("SELECT COUNT(*) AS id FROM sign_in_guesses WHERE account_key LIKE '%@%'"), "keys")
            .await
            .unwrap();
        assert_eq!(keys[0].id, 0);
    }

    async fn a_disabled_person_is_signed_out_at_once_and_refused_until_enabled(db: &Db) {
        let org_id = person(db, "acme", "pat@acme.example", Role::Manager, Some(PASSWORD)).await;
        let user_id = find_user_id(db, org_id, "pat@acme.example").await.unwrap().unwrap();
        let token = token_of(sign_in(db, "pat@acme.example", PASSWORD, NOW).await.unwrap()).await;
        assert!(set_disabled(db, org_id, user_id, Some(NOW + 1)).await.unwrap());
        assert!(authenticate(db, &token, NOW + 2).await.unwrap().is_none(), "the session ended");
        // Refused as any wrong password is.
        assert!(matches!(sign_in(db, "pat@acme.example", PASSWORD, NOW + 3).await.unwrap(), SignIn::Refused));
        assert!(set_disabled(db, org_id, user_id, None).await.unwrap());
        token_of(sign_in(db, "pat@acme.example", PASSWORD, NOW + 4).await.unwrap()).await;
    }

    async fn signing_out_everywhere_ends_every_session_of_that_person_only(db: &Db) {
        let org_id = person(db, "acme", "pat@acme.example", Role::Manager, Some(PASSWORD)).await;
        person(db, "acme", "sam@acme.example", Role::Manager, Some(PASSWORD)).await;
        let user_id = find_user_id(db, org_id, "pat@acme.example").await.unwrap().unwrap();
        let laptop = token_of(sign_in(db, "pat@acme.example", PASSWORD, NOW).await.unwrap()).await;
        let phone = token_of(sign_in(db, "pat@acme.example", PASSWORD, NOW).await.unwrap()).await;
        let other = token_of(sign_in(db, "sam@acme.example", PASSWORD, NOW).await.unwrap()).await;
        assert_eq!(sign_out_everywhere(db, org_id, user_id).await.unwrap(), 2);
        assert!(authenticate(db, &laptop, NOW + 1).await.unwrap().is_none());
        assert!(authenticate(db, &phone, NOW + 1).await.unwrap().is_none());
        assert!(authenticate(db, &other, NOW + 1).await.unwrap().is_some());
    }
}
