//! `server customer delete` and `server conversation delete`: erasure from the command line
//! (`server org delete` is with the other organisation commands). Each is one transaction;
//! every server's Customers figures follow at their next question.

use crate::accounts::organisation;
use app::db::Db;
use app::erasure::{delete_conversation, delete_customer};
use clap::Subcommand;

type CliResult = Result<(), anyhow::Error>;

#[derive(Subcommand, Debug)]
pub enum CustomerCommand {
    /// Delete a customer with all their conversations and those conversations' field values,
    /// for good (a customer who asks to be forgotten).
    Delete {
        #[arg(long)]
        org: String,
        /// The customer's identifier, as the Customers page shows it.
        #[arg(long)]
        identifier: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ConversationCommand {
    /// Delete one conversation with its field values, for good; its customer goes too when it
    /// was their last conversation.
    Delete {
        #[arg(long)]
        org: String,
        #[arg(long)]
        external_id: String,
    },
}

pub async fn run_customer(db: &Db, command: CustomerCommand) -> CliResult {
    let CustomerCommand::Delete { org, identifier } = command;
    let organisation = organisation(db, &org).await?;
    let erased = delete_customer(db, organisation.id, &identifier)
        .await?
        .ok_or_else(|| anyhow::anyhow!("`{org}` has no customer `{}`", identifier.trim()))?;
    println!(
        "deleted the customer `{}` of `{org}` with {} conversation(s)",
        identifier.trim(),
        erased.conversations
    );
    Ok(())
}

pub async fn run_conversation(db: &Db, command: ConversationCommand) -> CliResult {
    let ConversationCommand::Delete { org, external_id } = command;
    let organisation = organisation(db, &org).await?;
    let erased = delete_conversation(db, organisation.id, &external_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("`{org}` has no conversation `{}`", external_id.trim()))?;
    let customer = if erased.customers > 0 {
        " and its customer, who had no other conversation"
    } else {
        ""
    };
    println!(
        "deleted the conversation `{}` of `{org}`{customer}",
        external_id.trim()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{run_org, OrgCommand};
    use app::conversations::store::write_conversations;
    use app::customers::store::find_customer_id;
    use app::orgs::store::find_organisation;
    use tools::test_data::conversation;

    #[tokio::test]
    async fn customers_conversations_and_organisations_are_erased_from_the_command_line() {
        let temp = tools::test_db::TestDb::sqlite().await;
        let db = temp.db.clone();
        for slug in ["acme", "globex"] {
            run_org(
                &db,
                OrgCommand::Create {
                    slug: slug.to_owned(),
                    name: slug.to_uppercase(),
                    timezone: "Europe/London".to_owned(),
                },
            )
            .await
            .expect("create");
        }
        let acme = find_organisation(&db, "acme").await.unwrap().unwrap().id;
        let globex = find_organisation(&db, "globex").await.unwrap().unwrap().id;
        let batch = vec![
            conversation("z1", "zoe@example.com", 1_000, Some(8_000)),
            conversation("z2", "zoe@example.com", 2_000, Some(6_000)),
            conversation("a1", "ann@example.com", 3_000, Some(7_000)),
        ];
        write_conversations(&db, acme, &batch).await.expect("write");
        write_conversations(&db, globex, &batch[..1])
            .await
            .expect("write");

        let delete_customer = |org: &str, identifier: &str| CustomerCommand::Delete {
            org: org.to_owned(),
            identifier: identifier.to_owned(),
        };
        run_customer(&db, delete_customer("acme", " zoe@example.com "))
            .await
            .expect("delete a customer");
        assert_eq!(
            find_customer_id(&db, acme, "zoe@example.com")
                .await
                .unwrap(),
            None
        );
        // The same identifier in another organisation is another customer.
        assert!(find_customer_id(&db, globex, "zoe@example.com")
            .await
            .unwrap()
            .is_some());
        let error = run_customer(&db, delete_customer("acme", "zoe@example.com"))
            .await
            .unwrap_err();
        assert!(error.to_string().contains("has no customer"), "{error}");
        assert!(run_customer(&db, delete_customer("nope", "x"))
            .await
            .unwrap_err()
            .to_string()
            .contains("no organisation `nope`"));

        let delete_conversation = |external_id: &str| ConversationCommand::Delete {
            org: "acme".to_owned(),
            external_id: external_id.to_owned(),
        };
        run_conversation(&db, delete_conversation("a1"))
            .await
            .expect("delete a conversation");
        assert_eq!(
            find_customer_id(&db, acme, "ann@example.com")
                .await
                .unwrap(),
            None,
            "a customer goes with their last conversation"
        );
        assert!(run_conversation(&db, delete_conversation("a1"))
            .await
            .unwrap_err()
            .to_string()
            .contains("has no conversation `a1`"));

        let delete_org = |confirm: &str| OrgCommand::Delete {
            slug: "globex".to_owned(),
            confirm: confirm.to_owned(),
        };
        let error = run_org(&db, delete_org("acme")).await.unwrap_err();
        assert!(error.to_string().contains("--confirm globex"), "{error}");
        assert!(find_organisation(&db, "globex").await.unwrap().is_some());
        run_org(&db, delete_org("globex"))
            .await
            .expect("delete an organisation");
        assert!(find_organisation(&db, "globex").await.unwrap().is_none());
        assert!(find_organisation(&db, "acme").await.unwrap().is_some());
    }

    #[test]
    fn the_commands_parse() {
        use clap::Parser;
        #[derive(Parser, Debug)]
        struct Cli {
            #[command(subcommand)]
            customer: CustomerCommand,
        }
        let parsed = Cli::try_parse_from([
            "server",
            "delete",
            "--org",
            "acme",
            "--identifier",
            "zoe@example.com",
        ])
        .expect("parses");
        assert!(matches!(
            parsed.customer,
            CustomerCommand::Delete { ref org, ref identifier } if org == "acme" && identifier == "zoe@example.com"
        ));
        assert!(Cli::try_parse_from(["server", "delete", "--org", "acme"]).is_err());
    }
}
