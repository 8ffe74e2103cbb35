//! The keys failed sign-in guesses are counted under: short digests, so the tables hold no
//! email or address in the clear, and each key is a few bytes whatever was typed.

use blake2::{Blake2s256, Digest};

/// The key failed guesses on an email are counted under: a digest of the email as matched
/// (trimmed, lower case), so the table holds no email in the clear.
pub fn account_key(email: &str) -> String {
    short_digest(&format!("account:{}", email.trim().to_lowercase()))
}

/// The key a client's guesses are counted under: its address, IPv6 grouped by /64 (one
/// household or server gets a whole /64, and can rotate within it), as a digest.
pub fn source_key(address: Option<std::net::IpAddr>) -> String {
    use std::net::IpAddr;
    match address.map(|a| match a {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(a, IpAddr::V4),
        v4 => v4,
    }) {
        Some(IpAddr::V4(v4)) => short_digest(&format!("v4:{v4}")),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            short_digest(&format!(
                "v6:{:x}:{:x}:{:x}:{:x}::/64",
                s[0], s[1], s[2], s[3]
            ))
        }
        None => "unknown".to_owned(),
    }
}

fn short_digest(text: &str) -> String {
    Blake2s256::digest(text.as_bytes())
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}
