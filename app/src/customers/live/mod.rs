//! The live Customers page: when scored conversations arrive for the organisation while the
//! page is open, it says so ("12 new scored conversations: Update") without moving the rows;
//! Update refreshes the table and the opened rows in place.
//!
//! - `registry` (server): one watcher per organisation with open event streams on this
//!   server, which reads the organisation's data version (`crate::versions`) about once a
//!   second while a stream is open, so writes made through another server sharing the
//!   database are seen too; bounded in organisations, and gone when the last stream closes.
//! - `stream` (server): `GET /events/customers?since=V`, signed-in Admins and Managers only,
//!   a server-sent event `data-version` whenever the version passes what the page showed, at
//!   most one per [`NOTICE_EVERY_SECS`]; it re-checks the session and ends on sign-out.
//! - `store` (server) and `server`: how many scored conversations were written since the
//!   version a page was rendered at, asked by each tab for its own page.
//! - `notice` (view) and `shared_stream` (browser): the notice, and one event stream per
//!   browser shared by every open tab (Web Locks elect the tab that holds it; the others hear
//!   it over a `BroadcastChannel`).

pub mod notice;
#[cfg(feature = "ssr")]
pub mod registry;
pub mod server;
#[cfg(feature = "hydrate")]
mod shared_stream;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod stream;

/// Where the page's event stream is served (outside `/api/`: it is a page's, signed in with
/// the session cookie, not the token-authenticated API).
pub const EVENTS_PATH: &str = "/events/customers";

/// The name of the event that carries a newer data version.
pub const VERSION_EVENT: &str = "data-version";

/// The name of the event that says the session has ended: the stream ends after it.
pub const SIGNED_OUT_EVENT: &str = "signed-out";

/// At most one notice per this many seconds, per stream and per tab.
pub const NOTICE_EVERY_SECS: u64 = 3;

/// Counting new conversations stops past this many: the notice then says "10,000+", and a
/// page left open through a large import never makes the count a long scan.
pub const MOST_COUNTED: i64 = 10_000;
