//! Playbook criteria: the parts a playbook score is made of (greeting, discovery,
//! resolution, ...). An organisation defines its own; a conversation may carry a score on
//! each (or "not applicable") beside its overall score, which stays as given: criteria
//! explain a score, they do not compute it.

pub mod breakdown;
pub mod breakdown_server;
#[cfg(feature = "ssr")]
pub mod breakdown_store;
pub mod breakdown_view;
pub mod model;
#[cfg(feature = "ssr")]
pub mod scores;
#[cfg(feature = "ssr")]
pub mod store;
pub mod view;
