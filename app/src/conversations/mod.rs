//! Conversations: how they are stored (the write path every loader uses) and the
//! conversation page.

#[cfg(feature = "ssr")]
pub mod bulk_store;
#[cfg(feature = "ssr")]
pub mod import;
pub mod model;
pub mod server;
#[cfg(feature = "ssr")]
pub mod store;
pub mod view;
