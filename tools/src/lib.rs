//! Playbook's developer tools, kept out of the shipped `server` binary: the benchmark
//! (`tools bench`, run by `make bench`) and the fixture loader (`tools load-fixture`, which the
//! browser tests run; the server's HTTP tests call [`fixture::load_text`]).

pub mod bench;
pub mod fixture;
