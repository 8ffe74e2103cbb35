//! Playbook's developer tools, kept out of the shipped `server` binary: the benchmark
//! (`tools bench`, run by `make bench`) and the fixture loader (`tools load-fixture`, which the
//! browser tests run; the server's HTTP tests call [`fixture::load_text`]), and the
//! temporary databases and test data that the store tests and the server's tests share.

pub mod bench;
pub mod databases;
pub mod fixture;
mod tenants;
pub mod test_criteria;
pub mod test_data;
pub mod test_db;
