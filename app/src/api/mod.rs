//! HTTP API v1 for integrations: bearer tokens per organisation, conversation ingestion with
//! the import's rules, reads with the Customers page's exact semantics, and erasure for Admin
//! tokens.

pub mod guard;
pub mod openapi;
pub mod routes;
pub mod tokens;
