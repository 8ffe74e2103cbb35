//! The command line's organisation, people, token and text-check commands, against a real database.

use super::*;

#[tokio::test]
async fn a_person_is_disabled_and_enabled_from_the_command_line() {
    use app::auth::service::{authenticate, sign_in, SignIn};
    let temp = tools::test_db::TestDb::sqlite().await;
    let db = temp.db.clone();
    run_org(
        &db,
        OrgCommand::Create {
            slug: "acme".into(),
            name: "Acme".into(),
            timezone: "UTC".into(),
        },
    )
    .await
    .unwrap();
    let add = UserCommand::Add {
        org: "acme".into(),
        email: "pat@acme.example".into(),
        name: "Pat".into(),
        role: Role::Manager,
        password_stdin: true,
    };
    run_user_with(&db, add, || Ok("first password".to_owned()))
        .await
        .unwrap();
    let SignIn::Started { token } = sign_in(&db, "pat@acme.example", "first password", 0)
        .await
        .unwrap()
    else {
        panic!("signs in")
    };
    let who = || ("acme".to_owned(), "pat@acme.example".to_owned());
    let (org, email) = who();
    run_user(&db, UserCommand::Disable { org, email })
        .await
        .unwrap();
    assert!(authenticate(&db, &token, 1).await.unwrap().is_none());
    assert!(matches!(
        sign_in(&db, "pat@acme.example", "first password", 2)
            .await
            .unwrap(),
        SignIn::Refused
    ));
    let (org, email) = who();
    run_user(&db, UserCommand::Enable { org, email })
        .await
        .unwrap();
    assert!(matches!(
        sign_in(&db, "pat@acme.example", "first password", 3)
            .await
            .unwrap(),
        SignIn::Started { .. }
    ));
    let missing = run_user(
        &db,
        UserCommand::Disable {
            org: "acme".into(),
            email: "nobody@acme.example".into(),
        },
    )
    .await;
    assert!(missing.is_err());
}

#[test]
fn passwords_need_a_sensible_length() {
    assert!(check_password("short").is_err());
    assert!(check_password("long enough now").is_ok());
    assert!(check_password(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
}

#[test]
fn one_trailing_line_break_is_not_part_of_the_password() {
    assert_eq!(
        password_from_input("long enough now\r\n").unwrap(),
        "long enough now"
    );
    assert_eq!(
        password_from_input("long enough now \n").unwrap(),
        "long enough now "
    );
    assert!(password_from_input("short\n").is_err());
}

fn given(password: &'static str) -> impl Fn() -> Result<String, anyhow::Error> {
    move || password_from_input(password)
}

#[tokio::test]
async fn organisations_and_people_are_managed_from_the_command_line() {
    use app::auth::service::{authenticate, sign_in, SignIn};
    let temp = tools::test_db::TestDb::sqlite().await;
    let db = temp.db.clone();
    let create = || OrgCommand::Create {
        slug: "acme".to_owned(),
        name: "Acme".to_owned(),
        timezone: "Europe/London".to_owned(),
    };
    run_org(&db, create()).await.expect("create");
    assert!(run_org(&db, create())
        .await
        .unwrap_err()
        .to_string()
        .contains("already exists"));
    let bad_zone = OrgCommand::Create {
        slug: "mars".to_owned(),
        name: "Mars".to_owned(),
        timezone: "Mars/Olympus".to_owned(),
    };
    assert!(run_org(&db, bad_zone)
        .await
        .unwrap_err()
        .to_string()
        .contains("IANA time zone"));

    let add = |email: &str, password_stdin: bool| UserCommand::Add {
        org: "acme".to_owned(),
        email: email.to_owned(),
        name: "Pat".to_owned(),
        role: Role::Manager,
        password_stdin,
    };
    run_user_with(
        &db,
        add("pat@acme.example", true),
        given("first password\n"),
    )
    .await
    .expect("add");
    let error = run_user_with(&db, add("pat@acme.example", true), given("first password"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("already in `acme`"));
    let error = run_user_with(&db, add("short@acme.example", true), given("short"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("at least"));
    run_user_with(&db, add("nologin@acme.example", false), given("unused"))
        .await
        .expect("add");
    assert!(matches!(
        sign_in(&db, "nologin@acme.example", "unused", 0)
            .await
            .unwrap(),
        SignIn::Refused
    ));

    let SignIn::Started { token } = sign_in(&db, "pat@acme.example", "first password", 0)
        .await
        .unwrap()
    else {
        panic!("pat signs in");
    };
    let set_role = UserCommand::SetRole {
        org: "acme".to_owned(),
        email: "pat@acme.example".to_owned(),
        role: Role::Representative,
    };
    run_user_with(&db, set_role, given("unused"))
        .await
        .expect("set role");
    assert!(
        authenticate(&db, &token, 1).await.unwrap().is_none(),
        "a role change ends sessions"
    );

    let set_password = UserCommand::SetPassword {
        org: "acme".to_owned(),
        email: "pat@acme.example".to_owned(),
        password_stdin: true,
    };
    run_user_with(&db, set_password, given("second password"))
        .await
        .expect("set password");
    assert!(matches!(
        sign_in(&db, "pat@acme.example", "first password", 2)
            .await
            .unwrap(),
        SignIn::Refused
    ));
    let SignIn::Started { token } = sign_in(&db, "pat@acme.example", "second password", 3)
        .await
        .unwrap()
    else {
        panic!("the new password works");
    };
    let viewer = authenticate(&db, &token, 4)
        .await
        .unwrap()
        .expect("session")
        .viewer;
    assert_eq!(viewer.role, Role::Representative);

    let missing = UserCommand::SetRole {
        org: "nope".to_owned(),
        email: "pat@acme.example".to_owned(),
        role: Role::Admin,
    };
    assert!(run_user_with(&db, missing, given("x"))
        .await
        .unwrap_err()
        .to_string()
        .contains("no organisation `nope`"));
}

#[tokio::test]
async fn score_bands_are_set_from_the_command_line() {
    use app::orgs::store::score_bands;
    let temp = tools::test_db::TestDb::sqlite().await;
    let db = temp.db.clone();
    run_org(
        &db,
        OrgCommand::Create {
            slug: "acme".to_owned(),
            name: "Acme".to_owned(),
            timezone: "Europe/London".to_owned(),
        },
    )
    .await
    .expect("create");
    let org_id = find_organisation(&db, "acme").await.unwrap().unwrap().id;
    assert_eq!(
        score_bands(&db, org_id).await.unwrap(),
        ScoreBands::default()
    );
    assert_eq!(
        describe_bands(&ScoreBands::default()),
        "Low below 60, Medium 60 to 80, High 80 and above"
    );

    let set = |low: f64, high: f64| OrgCommand::SetScoreBands {
        org: "acme".to_owned(),
        low,
        high,
    };
    run_org(&db, set(55.5, 85.0)).await.expect("set bands");
    let bands = score_bands(&db, org_id).await.unwrap();
    assert_eq!(
        bands,
        ScoreBands {
            low: 5_550,
            high: 8_500
        }
    );
    assert_eq!(
        describe_bands(&bands),
        "Low below 55.5, Medium 55.5 to 85, High 85 and above"
    );

    // Bad edges are refused with a reason, and nothing is written.
    for (low, high, reason) in [
        (80.0, 60.0, "must be below"),
        (70.0, 70.0, "must be below"),
        (-1.0, 60.0, "from 0 to 100"),
        (60.0, 100.5, "from 0 to 100"),
        (f64::NAN, 60.0, "from 0 to 100"),
    ] {
        let error = run_org(&db, set(low, high)).await.unwrap_err().to_string();
        assert!(error.contains(reason), "{low} {high}: {error}");
    }
    assert_eq!(score_bands(&db, org_id).await.unwrap(), bands);

    let missing = OrgCommand::SetScoreBands {
        org: "nope".to_owned(),
        low: 50.0,
        high: 70.0,
    };
    assert!(run_org(&db, missing)
        .await
        .unwrap_err()
        .to_string()
        .contains("no organisation `nope`"));
}

#[test]
fn score_band_edges_parse_from_the_command_line() {
    use clap::Parser;
    #[derive(Parser, Debug)]
    struct Cli {
        #[command(subcommand)]
        org: OrgCommand,
    }
    let parsed = Cli::try_parse_from(["server", "set-score-bands", "--org", "acme", "55.5", "85"])
        .expect("parses");
    assert!(matches!(
        parsed.org,
        OrgCommand::SetScoreBands { ref org, low, high } if org == "acme" && low == 55.5 && high == 85.0
    ));
    // A negative edge reaches the validation (and its message) instead of being a flag.
    assert!(
        Cli::try_parse_from(["server", "set-score-bands", "--org", "acme", "-5", "60"]).is_ok()
    );
    assert!(
        Cli::try_parse_from(["server", "set-score-bands", "--org", "acme", "sixty", "80"]).is_err()
    );
}

#[tokio::test]
async fn tokens_are_made_read_write_or_admin_from_the_command_line() {
    use app::api::tokens::authenticate_token;
    let temp = tools::test_db::TestDb::sqlite().await;
    let db = temp.db.clone();
    run_org(
        &db,
        OrgCommand::Create {
            slug: "acme".to_owned(),
            name: "Acme".to_owned(),
            timezone: "Europe/London".to_owned(),
        },
    )
    .await
    .expect("create");
    let org_id = find_organisation(&db, "acme").await.unwrap().unwrap().id;
    for (name, admin, scope) in [
        ("sync", false, TokenScope::ReadWrite),
        ("eraser", true, TokenScope::Admin),
    ] {
        let create = TokenCommand::Create {
            org: "acme".to_owned(),
            name: name.to_owned(),
            admin,
        };
        run_token(&db, create).await.expect("create a token");
        // The command prints the token once; the store is asked here what it stands for.
        let token = app::api::tokens::create_token(&db, org_id, &format!("{name}-2"), scope)
            .await
            .expect("token");
        let client = authenticate_token(&db, &token)
            .await
            .unwrap()
            .expect("valid");
        assert_eq!((client.org_id, client.scope), (org_id, scope), "{name}");
    }
    use clap::Parser;
    #[derive(Parser, Debug)]
    struct Cli {
        #[command(subcommand)]
        token: TokenCommand,
    }
    let parsed = Cli::try_parse_from([
        "server", "create", "--org", "acme", "--name", "x", "--admin",
    ])
    .expect("parses");
    assert!(matches!(
        parsed.token,
        TokenCommand::Create { admin: true, .. }
    ));
    let parsed =
        Cli::try_parse_from(["server", "create", "--org", "acme", "--name", "x"]).expect("parses");
    assert!(matches!(
        parsed.token,
        TokenCommand::Create { admin: false, .. }
    ));
}

#[test]
fn roles_parse_with_a_helpful_error() {
    assert_eq!(parse_role("manager"), Ok(Role::Manager));
    assert!(parse_role("boss")
        .unwrap_err()
        .contains("admin, manager or representative"));
}
