//! Conversations for tests: one builder with plain defaults, refined by what a test cares about.

use app::conversations::model::Channel;
use app::conversations::store::NewConversation;
use app::db::Db;
use app::orgs::model::{CustomField, FieldKind};
use app::orgs::store::{create_organisation, define_field};

/// A new organisation named and slugged `slug`, on UTC, with nothing in it.
pub async fn organisation(db: &Db, slug: &str) -> i64 {
    let mut tx = db.begin().await.expect("begin");
    let org_id = create_organisation(&mut tx, slug, slug, "UTC")
        .await
        .expect("organisation");
    tx.commit().await.expect("commit");
    org_id
}

/// A new organisation (`slug`, in `time_zone`) with one select field, `queue`: Billing or
/// Technical.
pub async fn organisation_with_queue(db: &Db, slug: &str, time_zone: &str) -> i64 {
    let mut tx = db.begin().await.expect("begin");
    let org_id = create_organisation(&mut tx, slug, slug, time_zone)
        .await
        .expect("organisation");
    let queue = CustomField {
        key: "queue".to_owned(),
        label: "Queue".to_owned(),
        kind: FieldKind::Select,
        options: vec!["Billing".to_owned(), "Technical".to_owned()],
    };
    define_field(&mut tx, org_id, &queue, 0)
        .await
        .expect("field");
    tx.commit().await.expect("commit");
    org_id
}

/// A scored or unscored chat with `customer`, by rep@example.com, at `occurred_at_ms`.
pub fn conversation(
    external_id: &str,
    customer: &str,
    occurred_at_ms: i64,
    score_hundredths: Option<i64>,
) -> NewConversation {
    NewConversation {
        external_id: external_id.to_owned(),
        customer: customer.to_owned(),
        customer_name: None,
        representative: "rep@example.com".to_owned(),
        representative_name: None,
        title: format!("Conversation {external_id}"),
        channel: Channel::Chat,
        occurred_at_ms,
        score_hundredths,
        fields: Vec::new(),
        criteria: Vec::new(),
    }
}

/// Refinements of a test conversation.
pub trait ConversationExt {
    /// The customer's display name.
    fn named(self, name: &str) -> Self;
    /// A custom field's value.
    fn field(self, key: &str, value: &str) -> Self;
    /// A score on a criterion, in hundredths; `None` for not applicable.
    fn criterion(self, key: &str, score_hundredths: Option<i64>) -> Self;
    /// Another representative, by email.
    fn by(self, representative: &str) -> Self;
    /// The representative's display name.
    fn by_name(self, name: &str) -> Self;
}

impl ConversationExt for NewConversation {
    fn named(mut self, name: &str) -> Self {
        self.customer_name = Some(name.to_owned());
        self
    }
    fn field(mut self, key: &str, value: &str) -> Self {
        self.fields.push((key.to_owned(), value.to_owned()));
        self
    }
    fn criterion(mut self, key: &str, score_hundredths: Option<i64>) -> Self {
        self.criteria.push((key.to_owned(), score_hundredths));
        self
    }
    fn by(mut self, representative: &str) -> Self {
        self.representative = representative.to_owned();
        self
    }
    fn by_name(mut self, name: &str) -> Self {
        self.representative_name = Some(name.to_owned());
        self
    }
}
