//! A migrated SQLite database in a temp file, removed when dropped: for the server's tests.

use app::db::Db;
use std::path::PathBuf;

pub struct TempDb {
    pub db: Db,
    path: PathBuf,
}

impl TempDb {
    pub async fn new(prefix: &str) -> TempDb {
        let dir = std::env::temp_dir().join("playbook-server-tests");
        std::fs::create_dir_all(&dir).expect("temp dir");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path = dir.join(format!("{prefix}_{}_{nanos}.db", std::process::id()));
        let db = Db::connect(&format!("sqlite://{}", path.display()), 4)
            .await
            .expect("open");
        db.migrate().await.expect("migrate");
        TempDb { db, path }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}
