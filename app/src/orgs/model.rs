use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldKind {
    Text,
    Select,
}

impl FieldKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Select => "select",
        }
    }

    pub fn parse(value: &str) -> Option<FieldKind> {
        match value {
            "text" => Some(FieldKind::Text),
            "select" => Some(FieldKind::Select),
            _ => None,
        }
    }
}

/// A conversation custom field of an organisation, as the filters need it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomField {
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    /// The choices of a select field, in their defined order; empty for a text field.
    pub options: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Admin,
    Manager,
    Representative,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Representative => "representative",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "admin" => Some(Role::Admin),
            "manager" => Some(Role::Manager),
            "representative" => Some(Role::Representative),
            _ => None,
        }
    }
}
