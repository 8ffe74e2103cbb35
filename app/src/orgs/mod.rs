//! Organisations, their people and their custom field definitions.

pub mod model;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod time;
