//! Loads a fixed dataset from JSON: organisations with their people, custom fields and
//! conversations. The browser tests create their data this way. One transaction per batch;
//! a malformed file is refused before anything is written.

use app::conversations::model::Channel;
use app::conversations::store::{write_conversations, NewConversation};
use app::db::Db;
use app::orgs::model::{CustomField, FieldKind, Role};
use app::orgs::store::{create_organisation_with, NewUser};
use chrono::DateTime;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    organisations: Vec<FixtureOrganisation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureOrganisation {
    slug: String,
    name: String,
    time_zone: String,
    #[serde(default)]
    users: Vec<FixtureUser>,
    #[serde(default)]
    fields: Vec<FixtureField>,
    #[serde(default)]
    conversations: Vec<FixtureConversation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureUser {
    email: String,
    name: String,
    role: String,
    /// A password for test data; stored as an argon2id hash like any other.
    #[serde(default)]
    password: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureField {
    key: String,
    label: String,
    kind: String,
    #[serde(default)]
    options: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureConversation {
    external_id: String,
    customer: String,
    #[serde(default)]
    customer_name: Option<String>,
    representative: String,
    #[serde(default)]
    representative_name: Option<String>,
    title: String,
    #[serde(rename = "type")]
    channel: String,
    /// RFC 3339 with an offset.
    occurred_at: String,
    #[serde(default)]
    score: Option<f64>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("could not read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid fixture: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error(transparent)]
    Store(#[from] app::db::StoreError),
}

fn convert(conversation: FixtureConversation) -> Result<NewConversation, String> {
    let id = conversation.external_id.clone();
    let channel = Channel::parse(&conversation.channel).ok_or_else(|| {
        format!(
            "conversation {id}: unknown type `{}` (voice, chat or email)",
            conversation.channel
        )
    })?;
    let occurred_at = DateTime::parse_from_rfc3339(&conversation.occurred_at).map_err(|e| {
        format!(
            "conversation {id}: occurred_at `{}`: {e}",
            conversation.occurred_at
        )
    })?;
    let score_hundredths = match conversation.score {
        Some(score) if (0.0..=100.0).contains(&score) => Some((score * 100.0).round() as i64),
        Some(score) => {
            return Err(format!(
                "conversation {id}: score {score} is not between 0 and 100"
            ))
        }
        None => None,
    };
    Ok(NewConversation {
        external_id: conversation.external_id,
        customer: conversation.customer,
        customer_name: conversation.customer_name,
        representative: conversation.representative,
        representative_name: conversation.representative_name,
        title: conversation.title,
        channel,
        occurred_at_ms: occurred_at.timestamp_millis(),
        score_hundredths,
        fields: conversation.fields.into_iter().collect(),
    })
}

/// An organisation from the file, checked and ready to write.
struct PreparedOrganisation {
    slug: String,
    name: String,
    time_zone: String,
    users: Vec<(String, String, Role, Option<String>)>,
    fields: Vec<CustomField>,
    conversations: Vec<NewConversation>,
}

/// Parses and checks a whole file; nothing is written unless all of it is valid.
fn prepare(text: &str, shown: &str) -> Result<Vec<PreparedOrganisation>, FixtureError> {
    let fixture: Fixture = serde_json::from_str(text).map_err(|source| FixtureError::Parse {
        path: shown.to_owned(),
        source,
    })?;
    let invalid = |message: String| FixtureError::Invalid {
        path: shown.to_owned(),
        message,
    };
    let mut prepared = Vec::new();
    for organisation in fixture.organisations {
        if app::orgs::time::parse_time_zone(&organisation.time_zone).is_none() {
            return Err(invalid(format!(
                "organisation {}: `{}` is not an IANA time zone (e.g. Europe/London)",
                organisation.slug, organisation.time_zone
            )));
        }
        let mut users = Vec::new();
        for user in &organisation.users {
            let role = Role::parse(&user.role).ok_or_else(|| {
                invalid(format!("user {}: unknown role `{}`", user.email, user.role))
            })?;
            let hash = match &user.password {
                Some(password) => Some(
                    app::auth::password::hash_password(password)
                        .map_err(|e| invalid(format!("user {}: {e}", user.email)))?,
                ),
                None => None,
            };
            users.push((user.email.clone(), user.name.clone(), role, hash));
        }
        let mut fields = Vec::new();
        for field in &organisation.fields {
            let kind = FieldKind::parse(&field.kind).ok_or_else(|| {
                invalid(format!(
                    "field {}: unknown kind `{}`",
                    field.key, field.kind
                ))
            })?;
            fields.push(CustomField {
                key: field.key.clone(),
                label: field.label.clone(),
                kind,
                options: field.options.clone(),
            });
        }
        let conversations = organisation
            .conversations
            .into_iter()
            .map(convert)
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        prepared.push(PreparedOrganisation {
            slug: organisation.slug,
            name: organisation.name,
            time_zone: organisation.time_zone,
            users,
            fields,
            conversations,
        });
    }
    Ok(prepared)
}

pub async fn load(db: &Db, path: &Path) -> Result<String, FixtureError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
        path: shown.clone(),
        source,
    })?;
    load_text(db, &text, &shown).await
}

/// Loads a fixture given as text; `shown` names it in errors.
pub async fn load_text(db: &Db, text: &str, shown: &str) -> Result<String, FixtureError> {
    let prepared = prepare(text, shown)?;
    let mut summary = Vec::new();
    for PreparedOrganisation {
        slug,
        name,
        time_zone,
        users,
        fields,
        conversations,
    } in prepared
    {
        let mut tx = db.begin().await?;
        let people: Vec<NewUser<'_>> = users
            .iter()
            .map(|(email, name, role, password_hash)| NewUser {
                email,
                name,
                role: *role,
                password_hash: password_hash.as_deref(),
            })
            .collect();
        let org_id =
            create_organisation_with(&mut tx, &slug, &name, &time_zone, &people, &fields).await?;
        tx.commit().await?;
        write_conversations(db, org_id, &conversations).await?;
        summary.push(format!(
            "{slug}: {} users, {} fields, {} conversations",
            users.len(),
            fields.len(),
            conversations.len()
        ));
    }
    Ok(format!("loaded {}", summary.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(conversation: &str) -> String {
        format!(
            r#"{{"organisations": [{{"slug": "acme", "name": "Acme", "time_zone": "Europe/London",
                "users": [{{"email": "rep@acme.example", "name": "Rep", "role": "representative"}}],
                "fields": [{{"key": "queue", "label": "Queue", "kind": "select", "options": ["Billing"]}}],
                "conversations": [{conversation}]}}]}}"#
        )
    }

    const GOOD: &str = r#"{"external_id": "c1", "customer": "zoe@example.com", "representative": "rep@acme.example",
        "title": "Hello", "type": "chat", "occurred_at": "2026-03-14T09:30:00+01:00", "score": 87.25,
        "fields": {"queue": "Billing"}}"#;

    fn error_of(text: &str) -> String {
        match prepare(text, "test.json") {
            Ok(_) => panic!("expected the file to be refused"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn a_valid_file_is_prepared_with_utc_times_and_hundredth_scores() {
        let prepared = prepare(&file(GOOD), "test.json").expect("valid");
        let conversation = &prepared[0].conversations[0];
        assert_eq!(conversation.score_hundredths, Some(8725));
        assert_eq!(conversation.occurred_at_ms, 1_773_477_000_000); // 08:30 UTC
        assert_eq!(prepared[0].users[0].2, Role::Representative);
    }

    #[test]
    fn bad_files_are_refused_with_a_message_that_says_where() {
        assert!(error_of("{").contains("test.json is not a valid fixture"));
        assert!(error_of(&file(&GOOD.replace("\"chat\"", "\"fax\"")))
            .contains("conversation c1: unknown type `fax`"));
        assert!(error_of(&file(&GOOD.replace("87.25", "120")))
            .contains("score 120 is not between 0 and 100"));
        assert!(error_of(&file(
            &GOOD.replace("2026-03-14T09:30:00+01:00", "yesterday")
        ))
        .contains("occurred_at `yesterday`"));
        assert!(error_of(&file(
            &GOOD.replace("\"title\"", "\"colour\": 1, \"title\"")
        ))
        .contains("unknown field `colour`"));
        assert!(
            error_of(&file(GOOD).replace("Europe/London", "Mars/Olympus"))
                .contains("not an IANA time zone")
        );
        assert!(
            error_of(&file(GOOD).replace("\"representative\"}", "\"boss\"}"))
                .contains("unknown role `boss`")
        );
    }
}
