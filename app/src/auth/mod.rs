//! Sign-in, sessions and roles. Passwords are argon2id hashes; sessions live in the database
//! (so several app servers can share them) behind an HttpOnly, SameSite=Lax cookie.

pub mod model;
pub mod server;
pub mod view;

#[cfg(feature = "ssr")]
pub mod guard;
#[cfg(feature = "ssr")]
pub mod keys;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod routes;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;
