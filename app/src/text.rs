//! Small text rules shared by the browser and the server.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Folds text for case-insensitive matching: Unicode lower case, so "ZOË" matches "Zoë".
/// The same fold is applied to stored text (at write time) and to what is searched.
pub fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// What [`encode_component`] escapes: everything but RFC 3986's unreserved characters.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a query-string component (everything but RFC 3986 unreserved characters).
pub fn encode_component(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// Splits `a=1&b=2` into decoded pairs (`+` is a space). A leading `?` is ignored; malformed
/// escapes are kept as they are and invalid UTF-8 is replaced, so no URL makes this fail.
pub fn parse_query_string(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
        .into_owned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_is_unicode_aware() {
        assert_eq!(fold("ZOË"), fold("Zoë"));
        assert_eq!(fold("ÅSA Öberg"), "åsa öberg");
    }

    /// The value of `v=<text>` read back.
    fn decode_component(text: &str) -> String {
        parse_query_string(&format!("v={text}")).remove(0).1
    }

    #[test]
    fn components_round_trip() {
        for text in ["plain", "a b&c=d", "100% _under\\score", "Zoë 東京", "+"] {
            assert_eq!(decode_component(&encode_component(text)), text);
        }
        assert_eq!(encode_component("a b~*"), "a%20b~%2A");
    }

    #[test]
    fn malformed_escapes_are_kept() {
        assert_eq!(decode_component("50%"), "50%");
        assert_eq!(decode_component("%zz"), "%zz");
        assert_eq!(decode_component("%4"), "%4");
        assert_eq!(decode_component("%ff"), "\u{FFFD}");
        assert_eq!(decode_component("a+b"), "a b");
    }

    #[test]
    fn query_strings_split_into_pairs() {
        assert_eq!(
            parse_query_string("?q=zo%C3%AB&sort=score&flag"),
            vec![
                ("q".to_owned(), "zoë".to_owned()),
                ("sort".to_owned(), "score".to_owned()),
                ("flag".to_owned(), String::new())
            ]
        );
    }
}
