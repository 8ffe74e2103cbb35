//! Conversations: how they are stored (the write path every loader uses) and the
//! conversation page; the Import page (`import_*`), in front of the command line's import.

#[cfg(feature = "ssr")]
pub mod import;
pub mod import_columns;
#[cfg(feature = "ssr")]
pub mod import_jobs;
#[cfg(feature = "ssr")]
pub mod import_mapping;
#[cfg(feature = "ssr")]
pub mod import_page_store;
pub mod import_server;
#[cfg(feature = "ssr")]
pub mod import_upload;
pub mod import_view;
pub mod model;
pub mod server;
#[cfg(feature = "ssr")]
pub mod store;
pub mod view;
