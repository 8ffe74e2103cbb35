//! Test databases on both backends (from the tools crate, which the server's tests use too).
//! Each test gets a database of its own and drops it.

#[allow(dead_code)] // each test binary uses its own part of this module
pub mod criteria;

#[allow(unused_imports)] // each test binary uses its own part of this module
pub use tools::test_data::{conversation, organisation, organisation_with_queue, ConversationExt};
#[allow(unused_imports)]
pub use tools::test_db::{postgres_admin_url, TestDb};

/// Writes each test body twice: once against SQLite, once against PostgreSQL, so the output
/// names the backend of every test that ran.
#[macro_export]
macro_rules! on_both_backends {
    ($(async fn $name:ident($db:ident: &Db) $body:block)*) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let test_db = support::TestDb::sqlite().await;
                    {
                        let $db: &Db = &test_db.db;
                        $body
                    }
                    test_db.drop_database().await;
                }
            )*
        }
        mod postgres {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let test_db = support::TestDb::postgres().await;
                    {
                        let $db: &Db = &test_db.db;
                        $body
                    }
                    test_db.drop_database().await;
                }
            )*
        }
    };
}

/// Runs each named test function, which takes the whole [`TestDb`], once against SQLite and
/// once against PostgreSQL, on a multi-threaded runtime of `$workers` threads (for tests
/// whose writers or servers must really run at once).
#[macro_export]
macro_rules! on_both_backends_threaded {
    ($workers:tt; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = $workers)]
                async fn $name() {
                    let test = super::support::TestDb::sqlite().await;
                    super::$name(&test).await;
                    test.drop_database().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = $workers)]
                async fn $name() {
                    let test = super::support::TestDb::postgres().await;
                    super::$name(&test).await;
                    test.drop_database().await;
                }
            )*
        }
    };
}
