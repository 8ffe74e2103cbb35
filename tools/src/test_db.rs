//! Temporary databases for tests, on either backend: a migrated SQLite file or a PostgreSQL
//! database of the test's own, created on the server `TEST_POSTGRES_URL` names (by default
//! the local one) and removed afterwards. The store tests (`app/tests`) and the server's tests
//! both use these.

use crate::databases::{
    create_postgres_database, drop_postgres_database, postgres_url, remove_sqlite_files,
};
use app::db::{ConnectOptions, Db};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// The PostgreSQL server the tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A name no other test of any process running now uses.
fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A migrated database of the test's own. An SQLite file is removed when this is dropped; a
/// PostgreSQL database when the test calls [`TestDb::drop_database`].
pub struct TestDb {
    pub db: Db,
    /// Where the database is, for a second connection pool (another server, in effect).
    pub url: String,
    place: Option<Place>,
}

enum Place {
    File(PathBuf),
    /// The database's name on the server [`postgres_admin_url`] reaches.
    Database(String),
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        TestDb::sqlite_with(ConnectOptions::new(4)).await
    }

    pub async fn sqlite_with(options: ConnectOptions) -> TestDb {
        let dir = std::env::temp_dir().join("playbook-tests");
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(format!("{}.db", unique_name("store")));
        let url = format!("sqlite://{}", path.display());
        let db = Db::connect_with(&url, options).await.expect("open SQLite");
        db.migrate().await.expect("migrate SQLite");
        TestDb {
            db,
            url,
            place: Some(Place::File(path)),
        }
    }

    pub async fn postgres() -> TestDb {
        let admin_url = postgres_admin_url();
        let name = unique_name("playbook_test");
        let admin = Db::connect(&admin_url, 1).await.unwrap_or_else(|error| {
            panic!("PostgreSQL is needed for the tests at {admin_url} (set TEST_POSTGRES_URL): {error}")
        });
        create_postgres_database(&admin, &name, false)
            .await
            .expect("create test database");
        // Closed at once: a test holds only its own pool's connections.
        admin.close().await;
        let url = postgres_url(&admin_url, &name).expect("TEST_POSTGRES_URL must end in /DATABASE");
        let db = Db::connect(&url, 4)
            .await
            .expect("connect to the test database");
        db.migrate().await.expect("migrate PostgreSQL");
        TestDb {
            db,
            url,
            place: Some(Place::Database(name)),
        }
    }

    /// The PostgreSQL database's name, for a test that watches or ends its sessions from
    /// outside (through [`postgres_admin_url`]).
    pub fn postgres_name(&self) -> Option<&str> {
        match &self.place {
            Some(Place::Database(name)) => Some(name),
            _ => None,
        }
    }

    /// Closes the pool and removes the database.
    pub async fn drop_database(mut self) {
        self.db.close().await;
        match self.place.take() {
            Some(Place::File(path)) => remove_sqlite_files(&path),
            Some(Place::Database(name)) => {
                if let Ok(admin) = Db::connect(&postgres_admin_url(), 1).await {
                    let _ = drop_postgres_database(&admin, &name).await;
                    admin.close().await;
                }
            }
            None => {}
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(Place::File(path)) = &self.place {
            remove_sqlite_files(path);
        }
    }
}
