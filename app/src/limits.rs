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

/// Characters that make text look like other text: the bidirectional embeddings and
/// overrides (U+202A–U+202E) and isolates (U+2066–U+2069), which reorder what follows them,
/// and the invisible spaces U+200B, U+2060 and U+FEFF, which make two identifiers look the
/// same. The joiners U+200C and U+200D are not among them: Persian, Devanagari and emoji
/// sequences need them.
pub fn is_lookalike_char(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// Every character [`is_lookalike_char`] refuses, for the check of stored rows.
pub const LOOKALIKE_CHARS: [char; 12] = [
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200B}', '\u{2060}', '\u{FEFF}',
];

/// Why a text value is refused, as a phrase that follows the field's name: control
/// characters, characters that make it look like other text, or its length.
pub fn text_problem(value: &str, max_chars: usize) -> Option<String> {
    if let Some(problem) = read_problem(value, max_chars) {
        return Some(problem);
    }
    value.chars().find(|&c| is_lookalike_char(c)).map(|c| {
        format!(
            "contains an invisible or direction-changing character (U+{:04X}) that can make it look like other text; remove it",
            u32::from(c)
        )
    })
}

/// What no stored value can hold (control characters, over the length): for values that are
/// looked up rather than stored, where rows written before the look-alike rule must stay
/// reachable.
pub fn read_problem(value: &str, max_chars: usize) -> Option<String> {
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
    fn characters_that_make_text_look_like_other_text_are_refused_joiners_kept() {
        for c in LOOKALIKE_CHARS {
            let value = format!("zoe{c}@example.com");
            let problem = text_problem(&value, MAX_IDENTIFIER_CHARS).expect("refused");
            assert!(
                problem.contains(&format!("U+{:04X}", u32::from(c))),
                "{problem}"
            );
            assert_eq!(read_problem(&value, MAX_IDENTIFIER_CHARS), None);
        }
        assert!(text_problem("\u{202E}moc.elpmaxe@eoz", MAX_IDENTIFIER_CHARS).is_some());
        // Zero-width non-joiner and joiner: Persian and Devanagari need them.
        assert_eq!(text_problem("می\u{200C}خواهم", MAX_IDENTIFIER_CHARS), None);
        assert_eq!(text_problem("क्\u{200D}ष", MAX_IDENTIFIER_CHARS), None);
        assert_eq!(
            (0..=0x10FFFF_u32)
                .filter_map(char::from_u32)
                .filter(|&c| is_lookalike_char(c))
                .count(),
            LOOKALIKE_CHARS.len()
        );
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
