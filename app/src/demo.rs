//! Deterministic demo data: a realistic support-and-sales organisation. The same seed gives
//! the same data, so screenshots, bug reports and benchmarks can be reproduced.

use crate::conversations::model::Channel;
use crate::conversations::store::{write_conversations, NewConversation};
use crate::db::{Db, StoreError, StoreResult};
use crate::orgs::model::{CustomField, FieldKind, Role};
use crate::orgs::store::{create_organisation_with, find_organisation, upsert_user, NewUser};

pub const DEMO_ORG_SLUG: &str = "demo";

#[derive(Clone, Copy, Debug)]
pub struct DemoOptions {
    pub customers: u32,
    pub conversations: u32,
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            customers: 3_000,
            conversations: 24_000,
            seed: 7,
        }
    }
}

/// SplitMix64: tiny, fast and stable across versions, which a library RNG does not promise.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `0.0..1.0`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1_u64 << 53) as f64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Approximately normal, by the sum of uniforms.
    fn normal(&mut self, mean: f64, deviation: f64) -> f64 {
        let sum: f64 = (0..6).map(|_| self.unit()).sum();
        mean + (sum - 3.0) * deviation / (0.5_f64).sqrt()
    }
}

const FIRST_NAMES: &[&str] = &[
    "Olivia", "Liam", "Amara", "Noah", "Zoë", "Mateo", "Sofia", "Yusuf", "Hannah", "Kenji",
    "Priya", "Lucas", "Chloé", "Ibrahim", "Maya", "Oskar", "Leila", "Tomás", "Ingrid", "Arjun",
    "Fatima", "Jonas", "Mei", "Diego", "Aoife", "Ravi", "Elena", "Kwame", "Sara", "Björn",
];
const LAST_NAMES: &[&str] = &[
    "Okafor",
    "Lindqvist",
    "García",
    "Chen",
    "Müller",
    "Haddad",
    "Kowalski",
    "Nakamura",
    "O'Brien",
    "Silva",
    "Andersen",
    "Patel",
    "Rossi",
    "Dubois",
    "Novak",
    "Kim",
    "Mensah",
    "Fernández",
    "Ivanova",
    "Walsh",
    "Schmidt",
    "Costa",
    "Yilmaz",
    "Brennan",
    "Sato",
];
const DOMAINS: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "proton.me",
    "northwind.co",
    "fabrikam.io",
    "contoso.com",
    "yahoo.com",
    "icloud.com",
];
const COMPANIES: &[&str] = &[
    "Northwind Traders",
    "Fabrikam Ltd",
    "Contoso Retail",
    "Tailspin Toys",
    "Litware Inc",
    "Adventure Works",
    "Wide World Importers",
    "Proseware",
    "Lucerne Publishing",
    "Alpine Ski House",
];
/// The demo's password for its sign-ins below. Only `server demo` and `serve --demo` use it.
pub const DEMO_PASSWORD: &str = "playbook-demo";
/// One sign-in per role; Alex Morgan is also one of the representatives in the data.
pub const DEMO_SIGN_INS: &[(&str, &str, Role)] = &[
    ("admin@demo.example", "Ada Admin", Role::Admin),
    ("manager@demo.example", "Max Manager", Role::Manager),
    (
        "alex.morgan@demo.example",
        "Alex Morgan",
        Role::Representative,
    ),
];
const REPRESENTATIVES: &[(&str, &str)] = &[
    ("Alex Morgan", "alex.morgan"),
    ("Bea Santos", "bea.santos"),
    ("Chidi Obi", "chidi.obi"),
    ("Dana Kowalczyk", "dana.kowalczyk"),
    ("Eitan Levi", "eitan.levi"),
    ("Freya Nilsen", "freya.nilsen"),
    ("Gus Ahmed", "gus.ahmed"),
    ("Hana Suzuki", "hana.suzuki"),
    ("Ivo Petrov", "ivo.petrov"),
    ("Jade Thompson", "jade.thompson"),
    ("Kai Müller", "kai.muller"),
    ("Lena Rossi", "lena.rossi"),
];
const TOPICS: &[(&str, &str)] = &[
    ("Billing", "Invoice shows a duplicate charge"),
    ("Billing", "Refund for cancelled order"),
    ("Billing", "Update card on file"),
    ("Billing", "Question about VAT on invoice"),
    ("Technical", "Router keeps dropping connection"),
    ("Technical", "Cannot sign in after password reset"),
    ("Technical", "App crashes when exporting reports"),
    ("Technical", "Sync stuck at 90%"),
    ("Sales", "Upgrade to the Business plan"),
    ("Sales", "Quote for 40 additional seats"),
    ("Sales", "Annual billing discount"),
    ("Retention", "Wants to cancel subscription"),
    ("Retention", "Unhappy with recent price change"),
    ("Retention", "Pausing account over the summer"),
];
const PRODUCTS: &[&str] = &[
    "Router X200",
    "Mesh Pro",
    "Cloud Backup",
    "Team Plan",
    "Router X100",
    "Smart Hub",
];

/// Where demo customers are, weighted towards EMEA.
const DEMO_REGIONS: &[&str] = &["EMEA", "EMEA", "Americas", "APAC"];

/// The demo's custom fields: two select fields and one text field.
pub fn demo_fields() -> Vec<CustomField> {
    vec![
        CustomField {
            key: "queue".to_owned(),
            label: "Queue".to_owned(),
            kind: FieldKind::Select,
            options: ["Billing", "Technical", "Sales", "Retention"]
                .map(str::to_owned)
                .to_vec(),
        },
        CustomField {
            key: "region".to_owned(),
            label: "Region".to_owned(),
            kind: FieldKind::Select,
            options: ["EMEA", "Americas", "APAC"].map(str::to_owned).to_vec(),
        },
        CustomField {
            key: "product".to_owned(),
            label: "Product".to_owned(),
            kind: FieldKind::Text,
            options: Vec::new(),
        },
    ]
}

struct DemoCustomer {
    identifier: String,
    name: Option<String>,
    region: &'static str,
    /// Customers whose conversations were never scored (they stay off the Customers page).
    unscored_only: bool,
}

fn make_customer(rng: &mut Rng, index: u32) -> DemoCustomer {
    let first = *rng.pick(FIRST_NAMES);
    let last = *rng.pick(LAST_NAMES);
    let roll = rng.below(100);
    let (identifier, name) = if roll < 55 {
        let local = format!("{first}.{last}{index}")
            .to_lowercase()
            .replace(['\'', ' '], "")
            .chars()
            .map(|c| match c {
                'ë' | 'é' => 'e',
                'á' => 'a',
                'ö' => 'o',
                'ü' => 'u',
                'ø' => 'o',
                other => other,
            })
            .collect::<String>();
        (
            format!("{local}@{}", rng.pick(DOMAINS)),
            Some(format!("{first} {last}")),
        )
    } else if roll < 85 {
        // 7919 is coprime with 10^9, so every index gets its own number.
        let n = (u64::from(index) * 7_919 + 12_345) % 1_000_000_000;
        let number = format!("+44 7{:03} {:06}", n / 1_000_000, n % 1_000_000);
        let named = rng.below(100) < 70;
        (number, named.then(|| format!("{first} {last}")))
    } else {
        (
            format!("ACC-{:06}", 100_000 + index),
            Some(rng.pick(COMPANIES).to_string()),
        )
    };
    let region = *rng.pick(DEMO_REGIONS);
    DemoCustomer {
        identifier,
        name,
        region,
        unscored_only: rng.below(100) < 3,
    }
}

/// A QA score in hundredths: most between 60 and 95, a long tail below.
fn make_score(rng: &mut Rng, skill: f64) -> i64 {
    let score = rng.normal(76.0 + skill, 11.0).clamp(8.0, 100.0);
    // Scorecards give whole or half points, sometimes quarters.
    ((score * 4.0).round() * 25.0) as i64
}

/// Gives the demo's sign-ins their password when a demo database made before sign-in existed
/// lacks it. Never touches an account that already has a password, nor any other organisation.
pub async fn ensure_demo_sign_ins(db: &Db) -> StoreResult<()> {
    let Some(organisation) = find_organisation(db, DEMO_ORG_SLUG).await? else {
        return Ok(());
    };
    for (email, name, role) in DEMO_SIGN_INS {
        let accounts = crate::auth::store::login_accounts(db, email).await?;
        if accounts
            .iter()
            .any(|account| account.org_id == organisation.id)
        {
            continue;
        }
        let hash = crate::auth::password::hash_password(DEMO_PASSWORD)
            .map_err(|e| StoreError::internal("hashing the demo password", e))?;
        match crate::auth::store::find_user_id(db, organisation.id, email).await? {
            Some(user_id) => {
                crate::auth::store::set_password_hash(db, organisation.id, user_id, &hash).await?
            }
            None => {
                let mut tx = db.begin().await?;
                upsert_user(
                    &mut tx,
                    organisation.id,
                    &NewUser {
                        email,
                        name,
                        role: *role,
                        password_hash: Some(&hash),
                    },
                )
                .await?;
                tx.commit().await?;
            }
        }
    }
    Ok(())
}

/// Creates the demo organisation with its people, fields, customers and conversations.
/// Refuses when it already exists, so nothing is ever duplicated or overwritten.
pub async fn seed_demo(db: &Db, options: DemoOptions) -> StoreResult<()> {
    if find_organisation(db, DEMO_ORG_SLUG).await?.is_some() {
        return Err(StoreError::Invalid(format!(
            "the organisation `{DEMO_ORG_SLUG}` already exists; use a fresh database for new demo data"
        )));
    }
    if options.customers == 0 {
        return Err(StoreError::Invalid(
            "the demo needs at least one customer".to_owned(),
        ));
    }
    let mut rng = Rng(options.seed);
    let mut tx = db.begin().await?;
    // The demo's sign-ins all share DEMO_PASSWORD: it is a demo, and `make run` prints it.
    let demo_hash = crate::auth::password::hash_password(DEMO_PASSWORD)
        .map_err(|e| StoreError::internal("hashing the demo password", e))?;
    let sign_ins: Vec<NewUser<'_>> = DEMO_SIGN_INS
        .iter()
        .map(|(email, name, role)| NewUser {
            email,
            name,
            role: *role,
            password_hash: Some(&demo_hash),
        })
        .collect();
    let org_id = create_organisation_with(
        &mut tx,
        DEMO_ORG_SLUG,
        "Northwind Support",
        "Europe/London",
        &sign_ins,
        &demo_fields(),
    )
    .await?;
    tx.commit().await?;

    let customers: Vec<DemoCustomer> = (0..options.customers)
        .map(|i| make_customer(&mut rng, i))
        .collect();
    let skills: Vec<f64> = REPRESENTATIVES
        .iter()
        .map(|_| rng.normal(0.0, 5.0))
        .collect();
    // The demo's "now": fixed, so the data does not depend on the day it is made.
    let end_ms: i64 = 1_793_491_200_000; // 2026-11-01T00:00:00Z
    let span_ms: i64 = 540 * 24 * 3_600_000;

    let mut batch = Vec::with_capacity(2_000);
    for index in 0..options.conversations {
        // Every customer gets a conversation first; after that, a skewed pick gives a few
        // customers many conversations and most a handful.
        let customer_index = if index < options.customers {
            index as usize
        } else {
            let u = rng.unit();
            (u.powf(1.6) * f64::from(options.customers)) as usize % customers.len()
        };
        let customer = &customers[customer_index];
        let rep_index = rng.below(REPRESENTATIVES.len() as u64) as usize;
        let (rep_name, rep_local) = REPRESENTATIVES[rep_index];
        let (queue, topic) = *rng.pick(TOPICS);
        let channel = match rng.below(10) {
            0..=3 => Channel::Voice,
            4..=7 => Channel::Chat,
            _ => Channel::Email,
        };
        let scored = !customer.unscored_only && rng.below(100) >= 10;
        let mut fields = vec![
            ("queue".to_owned(), queue.to_owned()),
            ("region".to_owned(), customer.region.to_owned()),
        ];
        if queue == "Technical" || rng.below(3) == 0 {
            fields.push(("product".to_owned(), rng.pick(PRODUCTS).to_string()));
        }
        batch.push(NewConversation {
            external_id: format!("demo-{:07}", index + 1),
            customer: customer.identifier.clone(),
            customer_name: customer.name.clone(),
            representative: format!("{rep_local}@demo.example"),
            representative_name: Some(rep_name.to_owned()),
            title: topic.to_owned(),
            channel,
            occurred_at_ms: end_ms - (rng.unit() * span_ms as f64) as i64,
            score_hundredths: scored.then(|| make_score(&mut rng, skills[rep_index])),
            fields,
        });
        if batch.len() == batch.capacity() {
            write_conversations(db, org_id, &batch).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        write_conversations(db, org_id, &batch).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic() {
        let mut a = Rng(42);
        let mut b = Rng(42);
        let first: Vec<String> = (0..50)
            .map(|i| make_customer(&mut a, i).identifier)
            .collect();
        let second: Vec<String> = (0..50)
            .map(|i| make_customer(&mut b, i).identifier)
            .collect();
        assert_eq!(first, second);
    }

    #[test]
    fn scores_stay_in_range_and_spread_like_qa_scores() {
        let mut rng = Rng(1);
        let scores: Vec<i64> = (0..10_000).map(|_| make_score(&mut rng, 0.0)).collect();
        assert!(scores.iter().all(|s| (0..=10_000).contains(s)));
        let mean = scores.iter().sum::<i64>() as f64 / scores.len() as f64 / 100.0;
        assert!((70.0..82.0).contains(&mean), "mean {mean}");
        assert!(scores.iter().any(|s| *s < 5_000), "some low scores");
        assert!(scores.iter().any(|s| *s >= 9_500), "some high scores");
    }
}
