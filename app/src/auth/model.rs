//! What the browser may know about who is signed in, and the rules both sides share.

use crate::orgs::model::Role;
use serde::{Deserialize, Serialize};

/// The signed-in person, as the header shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub name: String,
    pub email: String,
    pub role: Role,
    pub organisation: String,
}

impl SignedInUser {
    pub fn may_review(&self) -> bool {
        self.role.may_review()
    }
}

impl Role {
    /// Admins and Managers review conversations; Representatives have conversations reviewed.
    pub fn may_review(self) -> bool {
        matches!(self, Role::Admin | Role::Manager)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Manager => "Manager",
            Role::Representative => "Representative",
        }
    }
}

/// Longest email and password a sign-in accepts; anything longer is refused before hashing.
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// Shortest password the command line sets.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Where to go after sign-in: a path on this site, or `/`. Anything that could leave the site
/// (`//host`, `/\host`, `https://…`, control characters) becomes `/`.
pub fn safe_next(next: &str) -> String {
    let next = next.trim();
    let same_site = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && next.len() <= 2048;
    if same_site && !next.starts_with("/login") {
        // It travels in a Location header, which only carries ASCII: encode the rest (and
        // spaces; controls were refused above).
        const NOT_IN_A_LOCATION: &percent_encoding::AsciiSet =
            &percent_encoding::CONTROLS.add(b' ');
        percent_encoding::utf8_percent_encode(next, NOT_IN_A_LOCATION).to_string()
    } else {
        "/".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_site_paths_are_followed_after_sign_in() {
        assert_eq!(
            safe_next("/customers?q=zo%C3%AB&page=2"),
            "/customers?q=zo%C3%AB&page=2"
        );
        assert_eq!(safe_next("/conversations/12"), "/conversations/12");
        assert_eq!(safe_next("/customers?q=zoë x"), "/customers?q=zo%C3%AB%20x");
        for outside in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "/%0d%0a\r\nSet-Cookie: x",
            "javascript:alert(1)",
            "",
            "customers",
            "/login?next=/login",
        ] {
            assert_eq!(safe_next(outside), "/", "{outside:?}");
        }
    }

    #[test]
    fn only_admins_and_managers_review() {
        assert!(Role::Admin.may_review());
        assert!(Role::Manager.may_review());
        assert!(!Role::Representative.may_review());
    }
}

/// The signed-in person a request acts for, with their organisation.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    pub org_id: i64,
    pub user_id: i64,
    pub role: crate::orgs::model::Role,
    pub name: String,
    pub email: String,
    pub organisation: String,
    pub time_zone: chrono_tz::Tz,
}
