//! Conversations: how they are stored (the write path every loader uses) and the
//! conversation page; the Import page (`import_page/`), in front of the command line's import.

#[cfg(feature = "ssr")]
mod bulk_scores;
#[cfg(feature = "ssr")]
pub mod bulk_store;
#[cfg(feature = "ssr")]
pub mod import;
pub mod import_page;
pub mod model;
pub mod server;
#[cfg(feature = "ssr")]
pub mod store;
pub mod view;
