//! The API's contract as the routes check it: limits, error bodies, the conversation item and
//! the query parameters, each with its OpenAPI schema beside it. Every limit, default and list
//! of values comes from the constant or enum the server checks with ([`crate::limits`],
//! [`crate::customers::query`]), never from a copy of the number here. The routes use these
//! types; the document ([`super::openapi`]) reads them and the routes, and nothing here reads
//! either, so the dependencies run one way.

use crate::conversations::import::MAX_REPORTED_ERRORS;
use crate::conversations::model::Channel;
use crate::customers::query::{
    Period, SortDir, SortKey, FILTER_PREFIX, MAX_EMAIL_CHARS, MAX_FILTERS, MAX_FILTER_CHARS,
    MAX_PAGE, MAX_SEARCH_CHARS, PAGE_SIZE,
};
use crate::limits::{
    MAX_FIELDS_PER_ORG, MAX_FIELD_KEY_CHARS, MAX_FIELD_VALUE_CHARS, MAX_IDENTIFIER_CHARS,
    MAX_NEW_FIELDS_PER_BATCH, MAX_TITLE_CHARS,
};
use serde::Serialize;
use serde_json::json;
use std::borrow::Cow;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr, Required};
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// Most conversations one call may carry.
pub const MAX_ITEMS_PER_CALL: usize = 1000;
/// Largest body of a conversations call.
pub const MAX_INGEST_BYTES: usize = 4 * 1024 * 1024;
/// Most rows a read returns per page.
pub const MAX_PER_PAGE: u32 = 100;
/// Rows of a customer's interactions per page when `per_page` is not given.
pub const INTERACTIONS_PER_PAGE: u32 = 20;
pub use crate::error::RETRY_AFTER_SECS;
/// The parameters every Customers read takes besides the custom-field filters.
pub const VIEW_PARAMETERS: [&str; 5] = ["period", "from", "to", "type", "rep"];
/// The parameters the interactions call takes besides [`VIEW_PARAMETERS`] and the filters.
pub const INTERACTIONS_PARAMETERS: [&str; 2] = ["page", "per_page"];

// ---------------------------------------------------------------------------------------------
// Text rules, as the server applies them.

/// Characters `char::is_control` is true of (Unicode Cc): refused in every text.
const CONTROL: &[(char, char)] = &[('\u{0}', '\u{1f}'), ('\u{7f}', '\u{9f}')];
/// Characters that make stored text look like other text (`limits::is_lookalike_char`):
/// refused in what is stored, allowed in what is searched for.
const LOOKALIKE: &[(char, char)] = &[
    ('\u{200b}', '\u{200b}'),
    ('\u{202a}', '\u{202e}'),
    ('\u{2060}', '\u{2060}'),
    ('\u{2066}', '\u{2069}'),
    ('\u{feff}', '\u{feff}'),
];
/// Characters `char::is_whitespace` is true of: what `str::trim` takes off both ends.
const WHITESPACE: &[(char, char)] = &[
    ('\t', '\r'),
    (' ', ' '),
    ('\u{85}', '\u{85}'),
    ('\u{a0}', '\u{a0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202f}', '\u{202f}'),
    ('\u{205f}', '\u{205f}'),
    ('\u{3000}', '\u{3000}'),
];

/// The ranges as the inside of a regular expression class, in `\uXXXX` escapes (which
/// ECMA-262, Python and Rust regular expressions all read alike).
fn class(sets: &[&[(char, char)]]) -> String {
    let escape = |c: char| format!("\\u{:04x}", u32::from(c));
    sets.iter()
        .flat_map(|set| set.iter())
        .map(|&(from, to)| {
            if from == to {
                escape(from)
            } else {
                format!("{}-{}", escape(from), escape(to))
            }
        })
        .collect()
}

/// A conversation's text as the import checks it: trimmed, then required (or not), free of
/// control characters and at most `max_chars` long; whitespace (control or not) at either end
/// is trimmed away first. The length is that of the trimmed text, so it is in the pattern
/// (`maxLength` would count the whitespace around it too).
fn item_text_pattern(required: bool, max_chars: usize) -> String {
    let (space, visible, control) = text_classes();
    let core = format!(
        "[^{visible}](?:[^{control}]{{0,{}}}[^{visible}])?",
        max_chars - 2
    );
    if required {
        format!("^[{space}]*{core}[{space}]*$")
    } else {
        format!("^[{space}]*(?:{core})?[{space}]*$")
    }
}

/// A representative's email as the import checks it: required text that contains `@`, with
/// at most half of `max_chars` (less one) either side of an `@`, so at most `max_chars` in all.
fn email_pattern(max_chars: usize) -> String {
    let (space, visible, control) = text_classes();
    let side = (max_chars - 1) / 2 - 1;
    format!("^[{space}]*(?:[^{visible}][^{control}]{{0,{side}}})?@(?:[^{control}]{{0,{side}}}[^{visible}])?[{space}]*$")
}

/// Whitespace; whitespace or refused; refused (control or look-alike): the classes the
/// text patterns of stored values are made of.
fn text_classes() -> (String, String, String) {
    (
        class(&[WHITESPACE]),
        class(&[WHITESPACE, CONTROL, LOOKALIKE]),
        class(&[CONTROL, LOOKALIKE]),
    )
}

/// `type=`: channel names in any case, comma-separated, each trimmed; empty parts are skipped
/// and at least one channel is named (as `parse_channels` reads it).
fn channels_pattern() -> String {
    // Whitespace that is not a control character (those are refused before trimming).
    let blank: Vec<(char, char)> = WHITESPACE
        .iter()
        .filter(|(from, _)| !from.is_control())
        .copied()
        .collect();
    let space = class(&[&blank]);
    let names = Channel::ALL
        .map(|channel| {
            channel
                .as_str()
                .chars()
                .map(|c| format!("[{c}{}]", c.to_ascii_uppercase()))
                .collect::<String>()
        })
        .join("|");
    let part = format!("[{space}]*(?:{names})[{space}]*");
    format!("^(?:[{space}]*,)*{part}(?:,(?:{part}|[{space}]*))*$")
}

/// A query parameter's text: no control character anywhere (the API refuses them before it
/// trims), and, when `visible`, something other than whitespace.
fn query_text_pattern(visible: bool) -> String {
    let control = class(&[CONTROL]);
    if visible {
        let blank = class(&[WHITESPACE, CONTROL]);
        format!("^[^{control}]*[^{blank}][^{control}]*$")
    } else {
        format!("^[^{control}]*$")
    }
}

/// `x-max-trimmed-length`: the limit a text pattern holds, for readers and tools.
fn trimmed_length(max_chars: usize) -> utoipa::openapi::extensions::Extensions {
    utoipa::openapi::extensions::ExtensionsBuilder::new()
        .add("x-max-trimmed-length", max_chars)
        .build()
}

pub(super) fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn nullable_string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

fn integer(minimum: u32, maximum: u32, default: u32) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(minimum))
        .maximum(Some(maximum))
        .default(Some(json!(default)))
}

// ---------------------------------------------------------------------------------------------
// Bodies.

/// What went wrong, as a stable word a client can act on (the `error` beside it is for people).
/// The list is closed: a new kind of error gets a new code, and a code keeps its meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    TooLarge,
    InvalidItems,
    InvalidValue,
    TooBroad,
    RateLimited,
    Internal,
    Busy,
    Loading,
    Timeout,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::BadRequest,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::TooLarge,
        ErrorCode::InvalidItems,
        ErrorCode::InvalidValue,
        ErrorCode::TooBroad,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
        ErrorCode::Busy,
        ErrorCode::Loading,
        ErrorCode::Timeout,
    ];

    /// As the answer writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::InvalidItems => "invalid_items",
            ErrorCode::InvalidValue => "invalid_value",
            ErrorCode::TooBroad => "too_broad",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
            ErrorCode::Busy => "busy",
            ErrorCode::Loading => "loading",
            ErrorCode::Timeout => "timeout",
        }
    }

    /// The status it comes with, and what it means.
    pub fn meaning(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "400: a parameter or body the call does not take (unknown, malformed, out of range)",
            ErrorCode::Unauthorized => "401: no token, or one that is not valid or was revoked",
            ErrorCode::Forbidden => "403: the token may not do this (erasure needs an Admin token)",
            ErrorCode::NotFound => "404: no such customer, conversation or call",
            ErrorCode::MethodNotAllowed => "405: the call does not take this method",
            ErrorCode::TooLarge => "413: more conversations or bytes than one call may carry; split the batch",
            ErrorCode::InvalidItems => "422: conversations that break the import's rules (each named in `errors`), or more new fields than allowed",
            ErrorCode::InvalidValue => "422: a value the database cannot store or search for",
            ErrorCode::TooBroad => "422: the question ran past the server's query budget and was stopped; narrow it",
            ErrorCode::RateLimited => "429: the token made more writes than it may for now; wait Retry-After seconds",
            ErrorCode::Internal => "500: the server failed; nothing the caller can fix",
            ErrorCode::Busy => "503: the database is busy or briefly out of reach, or too many writes run at once; wait Retry-After seconds",
            ErrorCode::Loading => "503: the server is still loading the figures after a start; wait Retry-After seconds",
            ErrorCode::Timeout => "503: the request ran past the server's request timeout and was stopped; wait Retry-After seconds",
        }
    }

    /// The code of an answer known only by its status.
    pub fn for_status(status: axum::http::StatusCode) -> ErrorCode {
        match status.as_u16() {
            401 => ErrorCode::Unauthorized,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            405 => ErrorCode::MethodNotAllowed,
            413 => ErrorCode::TooLarge,
            422 => ErrorCode::InvalidItems,
            429 => ErrorCode::RateLimited,
            503 => ErrorCode::Busy,
            500..=599 => ErrorCode::Internal,
            _ => ErrorCode::BadRequest,
        }
    }
}

impl ToSchema for ErrorCode {}

impl PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        let meanings = ErrorCode::ALL
            .iter()
            .map(|code| format!("`{}` ({})", code.as_str(), code.meaning()))
            .collect::<Vec<_>>()
            .join("; ");
        string()
            .enum_values(Some(ErrorCode::ALL.map(ErrorCode::as_str)))
            .description(Some(format!(
                "What went wrong, as a stable code to act on: {meanings}."
            )))
            .into()
    }
}

/// An error answer: `{"code": "…", "error": "…"}`, and for refused conversations the bad
/// items too.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ItemError>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<usize>,
}

impl ToSchema for ErrorBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Error")
    }
}

impl PartialSchema for ErrorBody {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .property("code", Ref::from_schema_name(ErrorCode::name()))
            .required("code")
            .property("error", string().description(Some("What went wrong, in a sentence for people (its wording may change; `code` does not).")))
            .required("error")
            .property(
                "errors",
                ArrayBuilder::new()
                    .items(Ref::from_schema_name(ItemError::name()))
                    .max_items(Some(MAX_REPORTED_ERRORS))
                    .description(Some("The bad items (422 `invalid_items` on a conversations call), the first ones if there are more.")),
            )
            .property(
                "total",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .description(Some("How many items are bad (422 `invalid_items` on a conversations call).")),
            )
            .into()
    }
}

/// One bad item of a refused conversations call.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemError {
    /// The key at fault (`fields.<key>` for a custom field), when there is one.
    pub field: Option<String>,
    /// 1-based position in the array.
    pub item: u64,
    pub message: String,
}

/// A channel: `type` of a conversation, named `Channel` in the document.
impl ToSchema for Channel {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Channel")
    }
}

impl PartialSchema for Channel {
    fn schema() -> RefOr<Schema> {
        string()
            .enum_values(Some(Channel::ALL.map(Channel::as_str)))
            .into()
    }
}

/// One conversation of a conversations call: the import's item, with its limits.
pub struct Conversation;

impl ToSchema for Conversation {}

impl PartialSchema for Conversation {
    fn schema() -> RefOr<Schema> {
        let required = |max: usize, description: &str| {
            string()
                .min_length(Some(1))
                .pattern(Some(item_text_pattern(true, max)))
                .extensions(Some(trimmed_length(max)))
                .description(Some(format!("{description} Required: text other than whitespace, without control characters, at most {max} characters once trimmed.")))
        };
        let optional = |max: usize, description: &str| {
            nullable_string()
                .pattern(Some(item_text_pattern(false, max)))
                .extensions(Some(trimmed_length(max)))
                .description(Some(format!("{description} At most {max} characters once trimmed, without control characters; empty: not given.")))
        };
        let field_key = format!("^[a-z0-9_]{{1,{MAX_FIELD_KEY_CHARS}}}$");
        ObjectBuilder::new()
            .property("external_id", required(MAX_IDENTIFIER_CHARS, "Unique per organisation, compared trimmed; sending it again updates the conversation. Given more than once in one call, the last item with it is the one written."))
            .property("customer", required(MAX_IDENTIFIER_CHARS, "The customer's identifier: an email, a phone number, an account id."))
            .property("customer_name", optional(MAX_IDENTIFIER_CHARS, "Updates the customer's display name when given."))
            .property("representative", required(MAX_IDENTIFIER_CHARS, "The representative's email (it must contain @).").pattern(Some(email_pattern(MAX_IDENTIFIER_CHARS))))
            .property("representative_name", optional(MAX_IDENTIFIER_CHARS, "The representative's name."))
            .property("title", required(MAX_TITLE_CHARS, "The conversation's title."))
            .property("type", RefOr::Ref(Ref::from_schema_name(<Channel as ToSchema>::name())))
            .property("occurred_at", string().format(Some(SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::DateTime))).description(Some("RFC 3339 with an offset.")))
            .property("score", ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::Number, Type::Null])).minimum(Some(0)).maximum(Some(100)).description(Some("null or absent: not scored.")))
            .property("fields", ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
                .property_names(Some(string().pattern(Some(field_key))))
                .additional_properties(Some(nullable_string().pattern(Some(item_text_pattern(false, MAX_FIELD_VALUE_CHARS))).extensions(Some(trimmed_length(MAX_FIELD_VALUE_CHARS)))))
                .description(Some(format!("Custom field key to value (an empty or null value is left out; null: no fields). A key the organisation lacks creates a text field: at most {MAX_NEW_FIELDS_PER_BATCH} new keys a call and {MAX_FIELDS_PER_ORG} fields an organisation; a select field's value must be one of its options."))))
            .required("external_id")
            .required("customer")
            .required("representative")
            .required("title")
            .required("type")
            .required("occurred_at")
            .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
            .into()
    }
}

/// The body of a conversations call: at most [`MAX_ITEMS_PER_CALL`] conversations.
pub struct ConversationBatch;

impl ToSchema for ConversationBatch {}

impl PartialSchema for ConversationBatch {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(Ref::from_schema_name(Conversation::name()))
            .max_items(Some(MAX_ITEMS_PER_CALL))
            .description(Some(format!(
                "At most {MAX_ITEMS_PER_CALL} conversations and {} MiB; more is a 413.",
                MAX_INGEST_BYTES >> 20
            )))
            .into()
    }
}

// ---------------------------------------------------------------------------------------------
// Query parameters: the ones [`crate::customers::query::CustomerQuery::from_pairs_strict`] reads.

fn query(name: &str, schema: ObjectBuilder, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .schema(Some(schema))
        .description(Some(description))
        .build()
}

/// `period`, `from`, `to`, `type` and `rep`: the conditions on conversations both reads take
/// (`VIEW_PARAMETERS`).
fn view_parameters() -> Vec<Parameter> {
    // `Day::parse` reads years 1000 to 9999.
    let date = || {
        string()
            .format(Some(SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Date,
            )))
            .pattern(Some("^[1-9][0-9]{3}-"))
    };
    let parameters = vec![
        query("period", string().enum_values(Some(Period::PRESETS.map(Period::param))).default(Some(json!(Period::All.param()))),
            "Conversations of a relative period in the organisation's time zone, in whole days (7d: today and the 6 days before). Ignored when `from` or `to` is given: a custom range wins over `period`."),
        query("from", date(), "First day (YYYY-MM-DD, inclusive) of a custom range in the organisation's time zone; either end may be left out. Given, it wins over `period`."),
        query("to", date(), "Last day (YYYY-MM-DD, inclusive) of a custom range; given, it wins over `period`; before `from` is a 400."),
        query("type", string().pattern(Some(channels_pattern())),
            &format!("Channels, comma-separated: {}.", Channel::ALL.map(Channel::as_str).join(", "))),
        query("rep", string().min_length(Some(1)).max_length(Some(MAX_EMAIL_CHARS)).pattern(Some(query_text_pattern(true))),
            "A representative's email (any case): only their conversations count. An email the organisation does not have is a 400."),
    ];
    debug_assert!(parameters
        .iter()
        .map(|p| p.name.as_str())
        .eq(VIEW_PARAMETERS));
    parameters
}

fn page_parameters(default_per_page: u32) -> Vec<Parameter> {
    vec![
        query(
            "page",
            integer(1, MAX_PAGE, 1),
            "Past the last page answers the last page.",
        ),
        query(
            "per_page",
            integer(1, MAX_PER_PAGE, default_per_page),
            "Rows per page.",
        ),
    ]
}

/// The custom-field filters, which are the organisation's own and so no fixed parameter.
pub(super) fn filters_description() -> String {
    format!(
        "Custom field filters: `{FILTER_PREFIX}<key>=<value>` for a field key of the organisation (lower-case letters, digits, underscores), e.g. `{FILTER_PREFIX}queue=Billing`: the option of a select field, or text a text field's value contains (case-insensitive), at most {MAX_FILTER_CHARS} characters. At most {MAX_FILTERS}; they combine: one conversation must match them all. An unknown field or option is a 400."
    )
}

/// The `x-filter-parameters` extension: the family of `f.<key>` parameters, for tools.
pub(super) fn filters_extension() -> utoipa::openapi::extensions::Extensions {
    utoipa::openapi::extensions::ExtensionsBuilder::new()
        .add(
            "x-filter-parameters",
            json!({
                "prefix": FILTER_PREFIX,
                "keyPattern": format!("^[a-z0-9_]{{1,{MAX_FIELD_KEY_CHARS}}}$"),
                "maxLength": MAX_FILTER_CHARS,
                "maxCount": MAX_FILTERS,
            }),
        )
        .build()
}

pub const CUSTOMERS_DESCRIPTION: &str = "Customers with scored conversations that match the conditions, with the Customers page's search, sort and paging. When a period with a previous one is chosen (a preset other than `all`, or a range with both ends), each customer also carries the previous period's figures under the same other conditions (`previous_interactions`, `previous_avg_score`) and the `change`: the previous period of a range or of the last 7/30/90 days is as many days just before it; of this month/quarter/year the same days of the previous month/quarter/year so far; of last month the month before. A custom range (`from`, `to`) wins over `period` when both are given, as on the page. Custom field filters are described in `x-filter-parameters` and below.";
pub const INTERACTIONS_DESCRIPTION: &str = "The customer's scored conversations that match the conditions, newest first. A custom range (`from`, `to`) wins over `period` when both are given. Custom field filters are described in `x-filter-parameters` and below.";
pub const CONVERSATIONS_DESCRIPTION: &str = "Each item is checked with the import's rules (the same limits as a file import); one bad item refuses the whole call, and the answer names every bad item. The body is read item by item and refused (413) as soon as it holds more items than `maxItems`. Items are written in order, as one transaction: an `external_id` given more than once in a call (compared trimmed, as it is stored) is one conversation, the last item with it the one written, and the counts are of conversations. A `fields` key the organisation lacks creates a text field (a call may create a few, an organisation may have a bounded number: over either is a 422). A write counts against the token's write rate (429) and waits briefly for one of the server's write slots (503).";
pub const DELETE_CUSTOMER_DESCRIPTION: &str = "Deletes the customer (identifier compared trimmed) with every one of their conversations and those conversations' field values, in one transaction: all of it or nothing. The Customers figures, histories and exports of every server show no trace at their next question. Admin tokens only; counts against the token's write rate.";
pub const DELETE_CONVERSATION_DESCRIPTION: &str = "Deletes the conversation (external id compared trimmed) with its field values, and its customer when it was that customer's last conversation, in one transaction. The Customers figures, histories and exports of every server show no trace at their next question. Admin tokens only; counts against the token's write rate.";

/// The parameters of `GET /api/v1/customers`.
pub struct CustomersParams;

impl IntoParams for CustomersParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut parameters = vec![
            query("q", string().max_length(Some(MAX_SEARCH_CHARS)).pattern(Some(query_text_pattern(false))),
                "Search in identifier or display name: case-insensitive, anywhere in the text; % _ \\ are plain characters."),
            query("sort", string().enum_values(Some(SortKey::ALL.map(SortKey::param))).default(Some(json!(SortKey::default().param()))), "Sort order. `change` sorts by the drop in the average (previous minus this period) when a period with a previous one is chosen (a `period` other than `all`, or both `from` and `to`): certain changes first, then uncertain ones (either side under 3 scored conversations), then customers new to the period (by identifier). Without such a period every customer is new: by identifier."),
            query("dir", string().enum_values(Some([SortDir::Desc, SortDir::Asc].map(SortDir::param))).default(Some(json!(SortDir::default().param()))), "Sort direction. With `sort=change`, `desc` puts the biggest drop first, `asc` the biggest rise."),
        ];
        parameters.extend(page_parameters(PAGE_SIZE));
        parameters.extend(view_parameters());
        parameters
    }
}

/// The parameters of `GET /api/v1/customers/{identifier}/interactions`.
pub struct InteractionsParams;

impl IntoParams for InteractionsParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut parameters = page_parameters(INTERACTIONS_PER_PAGE);
        debug_assert!(parameters
            .iter()
            .map(|p| p.name.as_str())
            .eq(INTERACTIONS_PARAMETERS));
        parameters.extend(view_parameters());
        parameters
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_classes_are_the_ones_rust_trims_and_refuses() {
        let within = |set: &[(char, char)], c: char| set.iter().any(|&(a, b)| (a..=b).contains(&c));
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            assert_eq!(within(CONTROL, c), c.is_control(), "{c:?}");
            assert_eq!(within(WHITESPACE, c), c.is_whitespace(), "{c:?}");
            assert_eq!(
                within(LOOKALIKE, c),
                crate::limits::is_lookalike_char(c),
                "{c:?}"
            );
        }
    }
}
