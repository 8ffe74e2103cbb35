//! `server criterion define` and `server criterion delete`: an organisation's playbook
//! criteria, the parts its conversations' scores are explained by.

use crate::import::org_id;
use app::criteria::store::{define_criterion, delete_criterion};
use app::db::Db;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum CriterionCommand {
    /// Define a playbook criterion, or relabel the one with that key (at most 50).
    Define {
        #[arg(long)]
        org: String,
        /// Lower-case letters, digits and underscores, like a field key.
        #[arg(long)]
        key: String,
        #[arg(long)]
        label: String,
    },
    /// Delete a playbook criterion with every conversation's score on it.
    Delete {
        #[arg(long)]
        org: String,
        #[arg(long)]
        key: String,
    },
}

pub async fn run_criterion(db: &Db, command: CriterionCommand) -> Result<(), anyhow::Error> {
    match command {
        CriterionCommand::Define { org, key, label } => {
            let org_id = org_id(db, &org).await?;
            let criterion = define_criterion(db, org_id, &key, &label).await?;
            println!(
                "defined the criterion `{}` ({}) in `{org}`",
                criterion.key, criterion.label
            );
        }
        CriterionCommand::Delete { org, key } => {
            let org_id = org_id(db, &org).await?;
            let scores = delete_criterion(db, org_id, &key)
                .await?
                .ok_or_else(|| anyhow::anyhow!("`{org}` has no criterion `{key}`"))?;
            println!(
                "deleted the criterion `{key}` of `{org}`, with {scores} conversation score(s)"
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::conversations::model::ConversationKind;
    use app::conversations::store::{write_conversations, NewConversation};
    use app::criteria::store::list_criteria;
    use app::orgs::store::create_organisation;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(subcommand)]
        criterion: CriterionCommand,
    }

    fn define(org: &str, key: &str, label: &str) -> CriterionCommand {
        CriterionCommand::Define {
            org: org.to_owned(),
            key: key.to_owned(),
            label: label.to_owned(),
        }
    }

    fn delete(org: &str, key: &str) -> CriterionCommand {
        CriterionCommand::Delete {
            org: org.to_owned(),
            key: key.to_owned(),
        }
    }

    async fn keys(db: &Db, org_id: i64) -> Vec<(String, String)> {
        list_criteria(db, org_id)
            .await
            .expect("criteria")
            .into_iter()
            .map(|criterion| (criterion.key, criterion.label))
            .collect()
    }

    #[test]
    fn criterion_commands_parse_and_need_every_option() {
        let parsed = Cli::try_parse_from([
            "server", "define", "--org", "acme", "--key", "greeting", "--label", "Greeting",
        ])
        .expect("parses");
        assert!(matches!(
            parsed.criterion,
            CriterionCommand::Define { ref key, ref label, .. } if key == "greeting" && label == "Greeting"
        ));
        assert!(Cli::try_parse_from(["server", "define", "--org", "acme", "--key", "k"]).is_err());
        assert!(Cli::try_parse_from(["server", "delete", "--org", "acme"]).is_err());
    }

    #[tokio::test]
    async fn criteria_are_defined_relabelled_and_deleted_from_the_command_line() {
        let temp = tools::test_db::TestDb::sqlite().await;
        let db = temp.db.clone();
        let mut tx = db.begin().await.expect("begin");
        let org_id = create_organisation(&mut tx, "acme", "Acme", "UTC")
            .await
            .expect("org");
        tx.commit().await.expect("commit");
        for (key, label) in [("greeting", "Greeting"), ("resolution", "Resolution")] {
            run_criterion(&db, define("acme", key, label))
                .await
                .expect("define");
        }
        // Relabelling keeps the criterion's place.
        run_criterion(&db, define("acme", "greeting", "  Opening  "))
            .await
            .expect("relabel");
        assert_eq!(
            keys(&db, org_id).await,
            vec![
                ("greeting".to_owned(), "Opening".to_owned()),
                ("resolution".to_owned(), "Resolution".to_owned())
            ]
        );
        let scored = NewConversation {
            external_id: "c1".to_owned(),
            customer: "ann@example.com".to_owned(),
            customer_name: None,
            representative: "rep@example.com".to_owned(),
            representative_name: None,
            title: "Hello".to_owned(),
            kind: ConversationKind::Chat,
            occurred_at_ms: 1_767_225_600_000,
            score_hundredths: Some(7_000),
            fields: Vec::new(),
            criteria: vec![
                ("greeting".to_owned(), Some(9_000)),
                ("resolution".to_owned(), None),
            ],
        };
        write_conversations(&db, org_id, &[scored])
            .await
            .expect("write");
        run_criterion(&db, delete("acme", "greeting"))
            .await
            .expect("delete");
        assert_eq!(
            keys(&db, org_id).await,
            vec![("resolution".to_owned(), "Resolution".to_owned())]
        );
        let left: i64 = db
            .scalar(
                &app::sql!("SELECT COUNT(*) FROM conversation_criterion_scores"),
                "counting scores",
            )
            .await
            .expect("count");
        assert_eq!(left, 1, "only the deleted criterion's score goes");
    }

    #[tokio::test]
    async fn bad_input_is_refused_with_a_clear_message_and_writes_nothing() {
        let temp = tools::test_db::TestDb::sqlite().await;
        let db = temp.db.clone();
        let mut tx = db.begin().await.expect("begin");
        let org_id = create_organisation(&mut tx, "acme", "Acme", "UTC")
            .await
            .expect("org");
        tx.commit().await.expect("commit");
        let refused = |command: CriterionCommand| {
            let db = db.clone();
            async move {
                run_criterion(&db, command)
                    .await
                    .expect_err("refused")
                    .to_string()
            }
        };
        let long = "x".repeat(257);
        for (command, expected) in [
            (
                define("nope", "greeting", "Greeting"),
                "there is no organisation `nope`",
            ),
            (
                define("acme", "Greeting", "Greeting"),
                "is not a valid criterion key",
            ),
            (
                define("acme", "greet ing", "Greeting"),
                "is not a valid criterion key",
            ),
            (
                define("acme", "", "Greeting"),
                "is not a valid criterion key",
            ),
            (
                define("acme", "greeting", "   "),
                "the criterion `greeting` needs a label",
            ),
            (define("acme", "greeting", &long), "the limit is 256"),
            (
                define("acme", "greeting", "Greet\u{202E}ing"),
                "direction-changing",
            ),
            (
                delete("acme", "greeting"),
                "`acme` has no criterion `greeting`",
            ),
            (
                delete("nope", "greeting"),
                "there is no organisation `nope`",
            ),
        ] {
            let message = refused(command).await;
            assert!(message.contains(expected), "{message}");
        }
        assert!(keys(&db, org_id).await.is_empty(), "nothing was written");

        for n in 0..50 {
            run_criterion(&db, define("acme", &format!("c{n}"), "C"))
                .await
                .expect("one of the 50");
        }
        let message = refused(define("acme", "c50", "C")).await;
        assert!(
            message.contains("already has 50 criteria, the most it may have (50)"),
            "{message}"
        );
        assert_eq!(keys(&db, org_id).await.len(), 50);
        // The 50th may still be relabelled.
        run_criterion(&db, define("acme", "c49", "Last"))
            .await
            .expect("relabel at the limit");
    }
}
