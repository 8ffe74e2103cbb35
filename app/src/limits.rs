//! What may be stored, the same on both backends and on every way in: imports, the API, the
//! command line and forms. PostgreSQL refuses NUL in text and long index keys while SQLite
//! takes anything, so the limits are checked here, before either sees a value.

/// Customer identifiers, external ids, emails, and the names of people and organisations.
pub const MAX_IDENTIFIER_CHARS: usize = 256;
/// Conversation titles.
pub const MAX_TITLE_CHARS: usize = 1_000;
/// Custom field values (and select options).
pub const MAX_FIELD_VALUE_CHARS: usize = 500;
/// Custom field keys: lower-case letters, digits and underscores.
pub const MAX_FIELD_KEY_CHARS: usize = 64;
/// Custom fields one organisation may have.
pub const MAX_FIELDS_PER_ORG: usize = 100;
/// Fields one import file or API call may create by using keys the organisation lacks.
pub const MAX_NEW_FIELDS_PER_BATCH: usize = 20;

/// Why a text value is refused, as a phrase that follows the field's name.
pub fn text_problem(value: &str, max_chars: usize) -> Option<String> {
    if let Some(control) = value.chars().find(|c| c.is_control()) {
        return Some(format!(
            "contains a control character (U+{:04X}); remove it",
            u32::from(control)
        ));
    }
    let chars = value.chars().count();
    (chars > max_chars).then(|| format!("is {chars} characters long; the limit is {max_chars}"))
}

/// Whether `key` is a well-formed custom field key: 1 to [`MAX_FIELD_KEY_CHARS`] lower-case
/// letters, digits and underscores.
pub fn is_field_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_FIELD_KEY_CHARS
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The phrase that explains the field key pattern, for error messages.
pub const FIELD_KEY_RULE: &str =
    "is not a valid field key: use 1 to 64 lower-case letters, digits and underscores";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_length_are_refused_with_the_limit_named() {
        assert_eq!(text_problem("Zoë Smith", MAX_IDENTIFIER_CHARS), None);
        assert_eq!(
            text_problem("a\0b", MAX_IDENTIFIER_CHARS).as_deref(),
            Some("contains a control character (U+0000); remove it")
        );
        assert!(text_problem("tab\there", MAX_TITLE_CHARS).is_some());
        let long = "x".repeat(257);
        assert_eq!(
            text_problem(&long, MAX_IDENTIFIER_CHARS).as_deref(),
            Some("is 257 characters long; the limit is 256")
        );
        // Characters, not bytes: 256 three-byte characters fit.
        assert_eq!(text_problem(&"€".repeat(256), MAX_IDENTIFIER_CHARS), None);
    }

    #[test]
    fn field_keys_follow_the_pattern() {
        assert!(is_field_key("queue_2"));
        assert!(!is_field_key("Queue"));
        assert!(!is_field_key(""));
        assert!(!is_field_key(&"k".repeat(65)));
        assert!(is_field_key(&"k".repeat(64)));
    }
}
