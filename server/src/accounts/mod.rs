//! `server org …` and `server user …`: organisations and the people who sign in.
//! Passwords are read from standard input only, never from arguments (which other users of
//! the machine can see in the process list).

use anyhow::Context as _;
use app::api::tokens::TokenScope;
use app::auth::model::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};
use app::auth::password::hash_password;
use app::auth::store::{delete_sessions_of, find_user_id, set_password_hash, set_role};
use app::db::Db;
use app::orgs::model::{Band, Role, ScoreBands};
use app::orgs::store::{
    create_organisation, find_organisation, score_bands, set_score_bands, upsert_user, NewUser,
    Organisation,
};
use clap::Subcommand;
use std::io::Read;

type CliResult = Result<(), anyhow::Error>;

#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Create an organisation.
    Create {
        /// Lower-case letters, digits and dashes.
        slug: String,
        #[arg(long)]
        name: String,
        /// IANA time zone every date is shown in, e.g. Europe/London.
        #[arg(long)]
        timezone: String,
    },
    /// Delete an organisation and everything of it, for good: its customers, conversations,
    /// fields, people, sessions, saved views and API tokens. One transaction.
    Delete {
        slug: String,
        /// The slug again, to confirm.
        #[arg(long)]
        confirm: String,
    },
    /// Set where scores change band, in points: Low below LOW, Medium from LOW up to HIGH,
    /// High from HIGH (e.g. `60 80`, the default, or `55.5 85`).
    SetScoreBands {
        #[arg(long)]
        org: String,
        /// Points (0 to 100, up to two decimals) where Medium starts.
        #[arg(allow_negative_numbers = true)]
        low: f64,
        /// Points where High starts; above LOW.
        #[arg(allow_negative_numbers = true)]
        high: f64,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a person to an organisation.
    Add {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, manager or representative
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read a password from standard input; without it the person cannot sign in.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change someone's role (and end their sessions).
    SetRole {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Disable someone: their sessions end at once and sign-in refuses them (with the answer
    /// a wrong password gets) until they are enabled again.
    Disable {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
    },
    /// Let a disabled person sign in again.
    Enable {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
    },
    /// Set someone's password from standard input (and end their sessions).
    SetPassword {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create an API token; it is printed once and only its digest is kept.
    Create {
        #[arg(long)]
        org: String,
        /// What the token is for, e.g. "crm-sync"; unique in the organisation.
        #[arg(long)]
        name: String,
        /// An Admin token: it may also erase customers and conversations (the API's DELETE
        /// calls). Without it a token reads customers and writes conversations.
        #[arg(long)]
        admin: bool,
    },
    /// Revoke an API token by its name.
    Revoke {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
    },
}

pub async fn run_token(db: &Db, command: TokenCommand) -> CliResult {
    match command {
        TokenCommand::Create { org, name, admin } => {
            let organisation = organisation(db, &org).await?;
            let scope = if admin {
                TokenScope::Admin
            } else {
                TokenScope::ReadWrite
            };
            let token = app::api::tokens::create_token(db, organisation.id, &name, scope).await?;
            let kind = if admin {
                "Admin API token"
            } else {
                "API token"
            };
            eprintln!("created the {kind} `{name}` for `{org}`; it is shown only this once:");
            println!("{token}");
            Ok(())
        }
        TokenCommand::Revoke { org, name } => {
            let organisation = organisation(db, &org).await?;
            if app::api::tokens::revoke_token(db, organisation.id, &name).await? {
                println!("revoked the API token `{name}` of `{org}`");
                Ok(())
            } else {
                Err(anyhow::anyhow!(
                    "`{org}` has no live API token named `{name}`"
                ))
            }
        }
    }
}

fn parse_role(value: &str) -> Result<Role, String> {
    Role::parse(value)
        .ok_or_else(|| format!("`{value}` is not a role: use admin, manager or representative"))
}

/// Checks a new password's length.
pub fn check_password(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!(
            "the password must have at most {MAX_PASSWORD_CHARS} characters"
        ));
    }
    Ok(())
}

fn read_password_from_stdin() -> Result<String, anyhow::Error> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("could not read the password from standard input")?;
    password_from_input(&input)
}

/// The password in what was read: one trailing line break is not part of it.
fn password_from_input(input: &str) -> Result<String, anyhow::Error> {
    let password = input.strip_suffix('\n').unwrap_or(input);
    let password = password.strip_suffix('\r').unwrap_or(password).to_owned();
    check_password(&password).map_err(anyhow::Error::msg)?;
    Ok(password)
}

pub async fn organisation(db: &Db, slug: &str) -> Result<Organisation, anyhow::Error> {
    find_organisation(db, slug).await?.ok_or_else(|| {
        anyhow::anyhow!(
            "there is no organisation `{slug}` (server org create {slug} --name … --timezone …)"
        )
    })
}

pub async fn run_org(db: &Db, command: OrgCommand) -> CliResult {
    match command {
        OrgCommand::Create {
            slug,
            name,
            timezone,
        } => {
            if find_organisation(db, &slug).await?.is_some() {
                return Err(anyhow::anyhow!("the organisation `{slug}` already exists"));
            }
            let mut tx = db.begin().await?;
            create_organisation(&mut tx, &slug, &name, &timezone).await?;
            tx.commit().await?;
            println!("created the organisation `{slug}` ({name}, {timezone})");
            Ok(())
        }
        OrgCommand::Delete { slug, confirm } => {
            if confirm != slug {
                return Err(anyhow::anyhow!(
                    "deleting `{slug}` erases all of its data for good: confirm with --confirm {slug}"
                ));
            }
            let organisation = organisation(db, &slug).await?;
            let erased = app::erasure::delete_organisation(db, organisation.id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("there is no organisation `{slug}`"))?;
            println!(
                "deleted the organisation `{slug}` ({}): {} customer(s), {} conversation(s), \
                 {} person(s), {} custom field(s), {} API token(s), {} saved view(s), {} session(s)",
                organisation.name,
                erased.customers,
                erased.conversations,
                erased.people,
                erased.custom_fields,
                erased.api_tokens,
                erased.saved_views,
                erased.sessions,
            );
            Ok(())
        }
        OrgCommand::SetScoreBands { org, low, high } => {
            let bands = ScoreBands::from_points(low, high).map_err(anyhow::Error::msg)?;
            let organisation = organisation(db, &org).await?;
            set_score_bands(db, organisation.id, bands).await?;
            let stored = score_bands(db, organisation.id).await?;
            println!("score bands of `{org}`: {}", describe_bands(&stored));
            Ok(())
        }
    }
}

/// "Low below 60, Medium 60 to 80, High 80 and above".
fn describe_bands(bands: &ScoreBands) -> String {
    Band::ALL
        .iter()
        .map(|band| {
            let range = bands.describe(*band);
            let mut chars = range.chars();
            let range = match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => range,
            };
            format!("{} {range}", band.name())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn run_user(db: &Db, command: UserCommand) -> CliResult {
    run_user_with(db, command, read_password_from_stdin).await
}

/// [`run_user`], with the password read by `read_password` (standard input, or a test's).
async fn run_user_with(
    db: &Db,
    command: UserCommand,
    read_password: impl Fn() -> Result<String, anyhow::Error>,
) -> CliResult {
    let command_kind = match command {
        UserCommand::Disable { .. } => "disable",
        _ => "other",
    };
    match command {
        UserCommand::Add {
            org,
            email,
            name,
            role,
            password_stdin,
        } => {
            let organisation = organisation(db, &org).await?;
            if find_user_id(db, organisation.id, &email).await?.is_some() {
                return Err(anyhow::anyhow!(
                    "{email} is already in `{org}`: use `server user set-role` or `set-password`"
                ));
            }
            let hash = if password_stdin {
                Some(hash_password(&read_password()?)?)
            } else {
                None
            };
            let mut tx = db.begin().await?;
            upsert_user(
                &mut tx,
                organisation.id,
                &NewUser {
                    email: &email,
                    name: &name,
                    role,
                    password_hash: hash.as_deref(),
                },
            )
            .await?;
            tx.commit().await?;
            let login = if hash.is_some() {
                "can sign in"
            } else {
                "cannot sign in until a password is set"
            };
            println!("added {email} to `{org}` as {} ({login})", role.label());
            Ok(())
        }
        UserCommand::SetRole { org, email, role } => {
            let organisation = organisation(db, &org).await?;
            let user_id = find_user_id(db, organisation.id, &email)
                .await?
                .ok_or_else(|| anyhow::anyhow!("there is no {email} in `{org}`"))?;
            set_role(db, organisation.id, user_id, role).await?;
            let ended = delete_sessions_of(db, organisation.id, user_id).await?;
            println!(
                "{email} is now {} in `{org}` ({ended} session(s) ended)",
                role.label()
            );
            Ok(())
        }
        UserCommand::SetPassword { org, email, .. } => {
            let organisation = organisation(db, &org).await?;
            let user_id = find_user_id(db, organisation.id, &email)
                .await?
                .ok_or_else(|| anyhow::anyhow!("there is no {email} in `{org}`"))?;
            let hash = hash_password(&read_password()?)?;
            set_password_hash(db, organisation.id, user_id, &hash).await?;
            let ended = delete_sessions_of(db, organisation.id, user_id).await?;
            println!("set the password of {email} in `{org}` ({ended} session(s) ended)");
            Ok(())
        }
        UserCommand::Disable { org, email } | UserCommand::Enable { org, email } => {
            let disable = matches!(command_kind, "disable");
            let organisation = organisation(db, &org).await?;
            let user_id = find_user_id(db, organisation.id, &email)
                .await?
                .ok_or_else(|| anyhow::anyhow!("there is no {email} in `{org}`"))?;
            let at = disable.then(app::clock::now_ms);
            app::auth::store::set_disabled(db, organisation.id, user_id, at).await?;
            if disable {
                println!(
                    "disabled {email} in `{org}`: their sessions ended and sign-in refuses them"
                );
            } else {
                println!("enabled {email} in `{org}`: they can sign in again");
            }
            Ok(())
        }
    }
}

/// `server check-text`: lists every stored value with a look-alike character, one a line
/// (escaped, so the terminal shows the character's code instead of obeying it), and fails
/// when there is any, so that a script notices. Nothing is rewritten: what to call a customer
/// is the organisation's decision.
pub async fn run_check_text(db: &Db) -> CliResult {
    let found = app::orgs::store::lookalike_values(db).await?;
    for value in &found {
        println!(
            "{}\t{}\t{}\t{}",
            value.organisation,
            value.what,
            value.row,
            value.value.escape_debug()
        );
    }
    if found.is_empty() {
        println!("no stored text holds invisible or direction-changing characters");
        Ok(())
    } else {
        Err(anyhow::anyhow!(
            "{} stored value(s) hold invisible or direction-changing characters (listed above; at most {} per column); nothing was changed",
            found.len(),
            app::orgs::store::MAX_LOOKALIKES_PER_COLUMN
        ))
    }
}

#[cfg(test)]
mod tests;
