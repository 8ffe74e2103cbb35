#![recursion_limit = "256"]
//! The Playbook web app: one codebase for the server (feature `ssr`) and the browser
//! (feature `hydrate`). Features are organised by folder: each keeps its query types, store
//! code, server functions and views together.

pub mod app;
pub mod auth;
pub mod components;
pub mod conversations;
pub mod criteria;
pub mod customers;
pub mod error;
pub mod limits;
pub mod orgs;
pub mod page;
pub mod representatives;
pub mod text;
#[cfg(feature = "ssr")]
pub mod versions;

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod clock;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod demo;
#[cfg(feature = "ssr")]
pub mod erasure;
#[cfg(feature = "ssr")]
pub mod hash_list;
#[cfg(feature = "ssr")]
pub mod retry;
#[cfg(feature = "ssr")]
pub mod session;

pub use app::{shell, App};
