//! Representative profiles: who they are and the conversations they handled.

pub mod model;
pub mod server;
#[cfg(feature = "ssr")]
pub mod store;
pub mod view;
