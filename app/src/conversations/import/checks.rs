//! Row checks: each row read into a conversation or its errors, and the repeat rules.

use super::{RowError, RowErrors, MAX_REPORTED_ERRORS};
use crate::conversations::model::Channel;
use crate::conversations::store::NewConversation;
use crate::limits::{
    is_field_key, text_problem, FIELD_KEY_RULE, MAX_FIELD_VALUE_CHARS, MAX_IDENTIFIER_CHARS,
    MAX_TITLE_CHARS,
};
use chrono::{DateTime, NaiveDateTime};
use std::collections::{HashMap, HashSet};

/// Gathers the errors of an input: all are counted, and the [`MAX_REPORTED_ERRORS`] with the
/// lowest lines are kept (errors mostly arrive in line order, but not always: a chunk's rows
/// are checked against the organisation's fields after they are all read).
pub(super) struct Collector {
    /// Each error with the order it came in, to keep a line's errors in that order.
    pub(super) errors: Vec<(u64, RowError)>,
    pub(super) total: usize,
    /// The highest line kept, once the list is full.
    pub(super) highest_kept: u64,
}

impl Collector {
    pub(super) fn new() -> Self {
        Collector {
            errors: Vec::new(),
            total: 0,
            highest_kept: 0,
        }
    }

    pub(super) fn add(&mut self, line: u64, field: Option<&str>, message: impl Into<String>) {
        let arrival = self.total as u64;
        self.total += 1;
        if self.errors.len() == MAX_REPORTED_ERRORS && line >= self.highest_kept {
            return;
        }
        let error = RowError {
            line,
            field: field.map(str::to_owned),
            message: message.into(),
        };
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push((arrival, error));
        } else if let Some(slot) = self
            .errors
            .iter_mut()
            .max_by_key(|(arrival, error)| (error.line, *arrival))
        {
            *slot = (arrival, error);
        }
        if self.errors.len() == MAX_REPORTED_ERRORS {
            self.highest_kept = self
                .errors
                .iter()
                .map(|(_, error)| error.line)
                .max()
                .unwrap_or(0);
        }
    }

    pub(super) fn finish<T>(mut self, value: T) -> Result<T, RowErrors> {
        self.errors
            .sort_by_key(|(arrival, error)| (error.line, *arrival));
        if self.total == 0 {
            Ok(value)
        } else {
            Err(RowErrors {
                total: self.total,
                errors: self.errors.into_iter().map(|(_, error)| error).collect(),
            })
        }
    }
}

/// A value as a message shows it: control characters escaped, and cut short after 60
/// characters, so that a huge or garbled value cannot make a huge or garbled report.
pub(super) fn shown(value: &str) -> String {
    pub(super) const SHOWN_CHARS: usize = 60;
    let mut out = String::new();
    for (n, c) in value.chars().enumerate() {
        if n == SHOWN_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A row read from any format, before its values are checked.
pub(super) struct RawRow {
    pub(super) line: u64,
    pub(super) text: HashMap<&'static str, String>,
    /// `None`: not scored. `Some(Err)`: not a number.
    pub(super) score: Option<Result<f64, String>>,
    pub(super) fields: Vec<(String, String)>,
}

impl RawRow {
    pub(super) fn new(line: u64) -> Self {
        RawRow {
            line,
            text: HashMap::new(),
            score: None,
            fields: Vec::new(),
        }
    }
}

/// A checked conversation and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportRow {
    pub line: u64,
    pub conversation: NewConversation,
}

/// Checks a row's values (trimmed) against their formats and the limits of
/// [`crate::limits`]; reports each problem and answers the conversation when there is none.
pub(super) fn check_row(raw: RawRow, errors: &mut Collector) -> Option<NewConversation> {
    let before = errors.total;
    let line = raw.line;
    let mut text = |name: &'static str, required: bool, max_chars: usize| match raw
        .text
        .get(name)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        None => {
            if required {
                errors.add(line, Some(name), "is required");
            }
            None
        }
        Some(value) => match text_problem(value, max_chars) {
            Some(problem) => {
                errors.add(line, Some(name), problem);
                None
            }
            None => Some(value.to_owned()),
        },
    };
    let external_id = text("external_id", true, MAX_IDENTIFIER_CHARS);
    let customer = text("customer", true, MAX_IDENTIFIER_CHARS);
    let customer_name = text("customer_name", false, MAX_IDENTIFIER_CHARS);
    let representative = text("representative", true, MAX_IDENTIFIER_CHARS);
    let representative_name = text("representative_name", false, MAX_IDENTIFIER_CHARS);
    let title = text("title", true, MAX_TITLE_CHARS);
    // Neither has a limit of its own; these keep a garbled value out of the messages below.
    let channel_text = text("type", true, MAX_IDENTIFIER_CHARS);
    let occurred_text = text("occurred_at", true, MAX_IDENTIFIER_CHARS);
    if let Some(email) = &representative {
        if !email.contains('@') {
            errors.add(
                line,
                Some("representative"),
                format!("`{email}` is not an email address"),
            );
        }
    }
    let channel = channel_text.as_deref().and_then(|channel| {
        let parsed = Channel::parse(&channel.to_lowercase());
        if parsed.is_none() {
            errors.add(
                line,
                Some("type"),
                format!("`{channel}` is not voice, chat or email"),
            );
        }
        parsed
    });
    let occurred_at_ms = occurred_text.as_deref().and_then(|when| match DateTime::parse_from_rfc3339(when) {
        Ok(time) => Some(time.timestamp_millis()),
        Err(_) => {
            let message = if NaiveDateTime::parse_from_str(when, "%Y-%m-%dT%H:%M:%S%.f").is_ok() {
                format!("`{when}` has no UTC offset: add one, such as Z or +01:00")
            } else {
                format!("`{when}` is not an RFC 3339 date and time, such as 2026-03-14T09:30:00+01:00")
            };
            errors.add(line, Some("occurred_at"), message);
            None
        }
    });
    let score_hundredths = match &raw.score {
        None => None,
        Some(Err(text)) => {
            errors.add(
                line,
                Some("score"),
                format!("`{}` is not a number", shown(text)),
            );
            None
        }
        Some(Ok(score)) if !score.is_finite() || !(0.0..=100.0).contains(score) => {
            errors.add(
                line,
                Some("score"),
                format!("{score} is not between 0 and 100"),
            );
            None
        }
        Some(Ok(score)) => Some((score * 100.0).round() as i64),
    };
    let mut fields = Vec::with_capacity(raw.fields.len());
    for (key, value) in raw.fields {
        if !is_field_key(&key) {
            errors.add(
                line,
                Some(&format!("fields.{}", shown(&key))),
                FIELD_KEY_RULE,
            );
            continue;
        }
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        if let Some(problem) = text_problem(value, MAX_FIELD_VALUE_CHARS) {
            errors.add(line, Some(&format!("fields.{key}")), problem);
            continue;
        }
        fields.push((key, value.to_owned()));
    }
    if errors.total > before {
        return None;
    }
    Some(NewConversation {
        external_id: external_id?,
        customer: customer?,
        customer_name,
        representative: representative?.to_lowercase(),
        representative_name,
        title: title?,
        channel: channel?,
        occurred_at_ms: occurred_at_ms?,
        score_hundredths,
        fields,
    })
}

/// Whether two rows say the same about their conversation: customer, representative, title,
/// type, time, score and field values. (The customer's and representative's names are
/// theirs, not the conversation's.)
pub(super) fn same_conversation(a: &NewConversation, b: &NewConversation) -> bool {
    let sorted = |conversation: &NewConversation| {
        let mut fields = conversation.fields.clone();
        fields.sort();
        fields
    };
    a.external_id == b.external_id
        && a.customer == b.customer
        && a.representative == b.representative
        && a.title == b.title
        && a.channel == b.channel
        && a.occurred_at_ms == b.occurred_at_ms
        && a.score_hundredths == b.score_hundredths
        && sorted(a) == sorted(b)
}

/// The error of a line that repeats an earlier line's external id with other values. A
/// repeat that says the same is accepted, in one chunk or across chunks: one rule.
pub(super) fn repeat_message(external_id: &str, first: u64) -> String {
    format!("`{external_id}` is already on line {first} with other values")
}

/// Checks every row and refuses an external id repeated with other values (see
/// [`same_conversation`]), keeping all the rows: for inputs that are whole in memory anyway.
pub(super) fn check_all(
    raws: impl IntoIterator<Item = RawRow>,
    errors: &mut Collector,
) -> Vec<ImportRow> {
    let mut rows: Vec<ImportRow> = Vec::new();
    // The position in `rows` of each external id's first row.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for raw in raws {
        let line = raw.line;
        if let Some(conversation) = check_row(raw, errors) {
            if let Some(first) = seen.get(&conversation.external_id) {
                let first = &rows[*first];
                if !same_conversation(&first.conversation, &conversation) {
                    errors.add(
                        line,
                        Some("external_id"),
                        repeat_message(&conversation.external_id, first.line),
                    );
                }
            } else {
                seen.insert(conversation.external_id.clone(), rows.len());
            }
            rows.push(ImportRow { line, conversation });
        }
    }
    rows
}

/// Checks every row, keeping the good ones in order.
pub(super) fn check_each(raws: Vec<RawRow>, errors: &mut Collector) -> Vec<ImportRow> {
    raws.into_iter()
        .filter_map(|raw| {
            let line = raw.line;
            check_row(raw, errors).map(|conversation| ImportRow { line, conversation })
        })
        .collect()
}

/// The rows without those whose external id a later row has again: one row per conversation,
/// the last one given, in input order.
pub(super) fn last_of_each_external_id(rows: Vec<ImportRow>) -> Vec<ImportRow> {
    let mut last: HashMap<&str, u64> = HashMap::with_capacity(rows.len());
    for row in &rows {
        last.insert(&row.conversation.external_id, row.line);
    }
    let keep: HashSet<u64> = last.into_values().collect();
    rows.into_iter()
        .filter(|row| keep.contains(&row.line))
        .collect()
}
