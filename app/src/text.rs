//! Small text rules shared by the browser and the server.

/// Folds text for case-insensitive matching: Unicode lower case, so "ZOË" matches "Zoë".
/// The same fold is applied to stored text (at write time) and to what is searched.
pub fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// Percent-encodes a query-string component (everything but RFC 3986 unreserved characters).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Decodes a query-string component (`+` is a space). Malformed escapes are kept as they are,
/// and invalid UTF-8 is replaced, so that no URL can make decoding fail.
pub fn decode_component(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(value) => {
                        out.push(value);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits `a=1&b=2` into decoded pairs. A leading `?` is ignored.
pub fn parse_query_string(query: &str) -> Vec<(String, String)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('=') {
            Some((key, value)) => (decode_component(key), decode_component(value)),
            None => (decode_component(part), String::new()),
        })
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

    #[test]
    fn components_round_trip() {
        for text in ["plain", "a b&c=d", "100% _under\\score", "Zoë 東京", "+"] {
            assert_eq!(decode_component(&encode_component(text)), text);
        }
    }

    #[test]
    fn malformed_escapes_are_kept() {
        assert_eq!(decode_component("50%"), "50%");
        assert_eq!(decode_component("%zz"), "%zz");
        assert_eq!(decode_component("%4"), "%4");
        assert_eq!(decode_component("%ff"), "\u{FFFD}");
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
