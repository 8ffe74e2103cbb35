//! The Customers page: its query type, store code, server functions and views.

pub mod early_input;
#[cfg(feature = "ssr")]
pub mod export;
pub mod live;
pub mod model;
pub mod query;
#[cfg(feature = "ssr")]
pub mod question;
#[cfg(feature = "ssr")]
pub mod read_model;
pub mod saved_views;
#[cfg(feature = "ssr")]
pub mod saved_views_store;
pub mod server;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;
pub mod trend;
pub mod view;
