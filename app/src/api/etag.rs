//! Entity tags of the API's read answers: a digest of everything an answer depends on, so a
//! client that already holds it is answered 304 without the figures being computed again.

use crate::customers::service::Question;
use axum::http::{HeaderMap, HeaderValue};
use blake2::{Blake2s256, Digest};

/// Bumped when an answer's shape changes, so tags from before never match.
const SHAPE: &str = "customers-api-1";

/// The weak tag (`W/"…"`: the same JSON may be compressed differently on the way out) of an
/// answer to `question`, at data `version` (read before the answer is computed, so a write
/// landing meanwhile can only make the tag older than the body, never newer), in `zone`, with
/// `extra` (the call, its paging, the customer).
///
/// `question` carries the rest: the applied view, the conditions with the UTC bounds the
/// period resolved to today (and the previous period's), and the organisation's fields as
/// read for it (the filters resolve against them). Score bands are not part of any API answer.
pub fn entity_tag(version: i64, zone: &str, question: &Question, extra: &[&str]) -> String {
    let mut digest = Blake2s256::new();
    for part in [
        SHAPE,
        &version.to_string(),
        zone,
        &question.applied.to_query_string(),
        &format!("{:?}", question.conditions),
        &format!("{:?}", question.fields),
    ]
    .into_iter()
    .chain(extra.iter().copied())
    {
        // Each part with its length, so that no two lists of parts run together alike.
        digest.update((part.len() as u64).to_le_bytes());
        digest.update(part.as_bytes());
    }
    let hex: String = digest.finalize()[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("W/\"{hex}\"")
}

/// Whether `If-None-Match` names `tag` (or is `*`), compared weakly as RFC 9110 asks.
pub fn none_match(headers: &HeaderMap, tag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let wanted = opaque(tag);
    headers
        .get_all(axum::http::header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value: &HeaderValue| value.to_str().ok())
        .flat_map(|list| list.split(','))
        .any(|candidate| candidate.trim() == "*" || opaque(candidate) == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_reads_lists() {
        let tag = "W/\"abc\"";
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                axum::http::header::IF_NONE_MATCH,
                HeaderValue::from_str(value).expect("header"),
            );
            headers
        };
        assert!(none_match(&with("W/\"abc\""), tag));
        assert!(none_match(&with("\"abc\""), tag));
        assert!(none_match(&with("\"x\", W/\"abc\""), tag));
        assert!(none_match(&with("*"), tag));
        assert!(!none_match(&with("W/\"abd\""), tag));
        assert!(!none_match(&HeaderMap::new(), tag));
    }
}
