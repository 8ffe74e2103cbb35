//! The dataset: deterministic customers, representatives and conversations written as NDJSON for the real import.

use super::BenchResult;
use anyhow::Context as _;
use app::orgs::model::{CustomField, FieldKind};
use std::io::Write;
use std::path::Path;

pub(super) const FIRST_NAMES: [&str; 24] = [
    "Ava", "Noah", "Mia", "Liam", "Zoë", "Omar", "Ines", "Yuki", "Sven", "Priya", "Mateo", "Chloé",
    "Aaliyah", "Jonas", "Freya", "Kofi", "Lena", "Ravi", "Sofia", "Tomás", "Elif", "Hugo", "Nadia",
    "Oskar",
];

pub(super) const LAST_NAMES: [&str; 24] = [
    "Andersen",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Haddad",
    "García",
    "Novak",
    "Johansson",
    "Kowalski",
    "Nguyen",
    "Rossi",
    "Fischer",
    "Dubois",
    "Petrov",
    "Silva",
    "Murphy",
    "Kaya",
    "Larsen",
    "Mendes",
    "Ishikawa",
    "Brennan",
    "Costa",
    "Ward",
];

pub(super) const QUEUES: [&str; 5] = ["Billing", "Technical", "Sales", "Returns", "Onboarding"];

pub(super) const REGIONS: [&str; 4] = ["EMEA", "North America", "APAC", "LATAM"];

pub(super) const TIERS: [&str; 3] = ["Gold", "Silver", "Bronze"];

pub(super) const KINDS: [&str; 3] = ["voice", "chat", "email"];

pub(super) const TOPICS: [&str; 8] = [
    "Refund request",
    "Login trouble",
    "Upgrade question",
    "Invoice dispute",
    "Delivery delay",
    "Renewal call",
    "Setup help",
    "Cancellation",
];

/// The four custom fields of the benchmark organisation: three selects and a text field.
pub(super) fn bench_fields() -> Vec<CustomField> {
    let select = |key: &str, label: &str, options: &[&str]| CustomField {
        key: key.to_owned(),
        label: label.to_owned(),
        kind: FieldKind::Select,
        options: options.iter().map(|o| (*o).to_owned()).collect(),
    };
    vec![
        select("queue", "Queue", &QUEUES),
        select("region", "Region", &REGIONS),
        select("tier", "Tier", &TIERS),
        CustomField {
            key: "campaign".to_owned(),
            label: "Campaign".to_owned(),
            kind: FieldKind::Text,
            options: Vec::new(),
        },
    ]
}

pub(super) fn customer_identity(index: u32) -> (String, String) {
    let first = FIRST_NAMES[(index as usize) % FIRST_NAMES.len()];
    let last = LAST_NAMES[(index as usize / FIRST_NAMES.len()) % LAST_NAMES.len()];
    let ascii = |s: &str| {
        s.to_lowercase()
            .replace(['ë', 'é'], "e")
            .replace('í', "i")
            .replace('á', "a")
    };
    (
        format!("{}.{}.{index}@example.com", ascii(first), ascii(last)),
        format!("{first} {last}"),
    )
}

/// Writes the dataset as an import CSV. Customers get conversations unevenly (a few have
/// hundreds, most a handful), over the year 2026, by 200 representatives; each scored one has
/// a score on the demo's six playbook criteria.
pub(super) fn write_dataset(path: &Path, customers: u32, conversations: u32) -> BenchResult<()> {
    write_dataset_from(path, customers, conversations, 0, DATASET_SEED)
}

/// The dataset's seed: every run measures the same data (Cargo.lock pins the generator).
pub(super) const DATASET_SEED: u64 = 0x5EED_2026;

/// [`write_dataset`] with external ids from `first` on, drawn with `seed`.
pub(super) fn write_dataset_from(
    path: &Path,
    customers: u32,
    conversations: u32,
    first: u32,
    seed: u64,
) -> BenchResult<()> {
    let file = std::fs::File::create(path)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    write_rows(&mut out, customers, conversations, first, seed, true)?;
    out.flush()?;
    Ok(())
}

pub(super) fn write_rows(
    out: &mut impl Write,
    customers: u32,
    conversations: u32,
    first: u32,
    seed: u64,
    criteria: bool,
) -> BenchResult<()> {
    write!(
        out,
        "external_id,customer,customer_name,representative,title,type,occurred_at,score,\
         field.queue,field.region,field.tier,field.campaign"
    )?;
    if criteria {
        for (key, _, _) in app::demo::DEMO_CRITERIA {
            write!(out, ",criterion.{key}")?;
        }
    }
    writeln!(out)?;
    let mut random = fastrand::Rng::with_seed(seed);
    // The criteria's own generator, so the other columns are the same with or without them.
    let mut spread = fastrand::Rng::with_seed(seed ^ 0xC817_E21A);
    let year_start = 1_767_225_600_i64; // 2026-01-01T00:00:00Z
    for n in first..first.saturating_add(conversations) {
        // Every customer appears at least once; the rest are skewed towards low indices.
        let customer = if n - first < customers {
            n - first
        } else {
            let u = random.f64();
            ((u * u) * f64::from(customers)) as u32 % customers
        };
        let (identifier, name) = customer_identity(customer);
        let rep = random.u64(..200);
        let seconds = year_start + random.u64(..365 * 86_400) as i64;
        let at = chrono::DateTime::from_timestamp(seconds, 0)
            .context("timestamp out of range")?
            .format("%Y-%m-%dT%H:%M:%SZ");
        let points = (random.u64(..10) != 0).then(|| 40.0 + random.u64(..6_001) as f64 / 100.0);
        let score = points.map_or_else(String::new, |points| format!("{points:.2}"));
        let campaign = if random.u64(..2) == 0 {
            format!("spring-{}", random.u64(..60))
        } else {
            String::new()
        };
        write!(
            out,
            "c{n:08},{identifier},{name},rep{rep}@bench.example,{} #{n},{},{at},{score},{},{},{},{campaign}",
            TOPICS[random.u64(..TOPICS.len() as u64) as usize],
            KINDS[random.u64(..3) as usize],
            QUEUES[random.u64(..QUEUES.len() as u64) as usize],
            REGIONS[random.u64(..REGIONS.len() as u64) as usize],
            TIERS[random.u64(..TIERS.len() as u64) as usize],
        )?;
        if criteria {
            // Whole points within 15 of the overall score; empty (not scored) when it is not.
            for _ in app::demo::DEMO_CRITERIA {
                match points {
                    Some(points) => {
                        let scattered = points + spread.i64(-15..=15) as f64;
                        write!(out, ",{:.0}", scattered.clamp(0.0, 100.0))?;
                    }
                    None => write!(out, ",")?,
                }
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Store level
