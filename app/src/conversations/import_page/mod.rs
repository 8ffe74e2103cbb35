//! The Import page, in front of the command line's import: the column mapping an Admin
//! chooses (guessed, remembered per organisation), the upload streamed to disk, the import as
//! the organisation's one job, and the page that follows it.

pub mod columns;
#[cfg(feature = "ssr")]
pub mod jobs;
#[cfg(feature = "ssr")]
pub mod mapping;
pub mod server;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod upload;
pub mod view;
