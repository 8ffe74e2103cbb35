//! HTTP API v1 for integrations: bearer tokens per organisation, conversation ingestion with
//! the import's rules, and reads with the Customers page's exact semantics.

pub mod openapi;
pub mod routes;
pub mod tokens;
