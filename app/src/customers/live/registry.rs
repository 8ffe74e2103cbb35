//! Which organisations have open event streams on this server, and each one's data version:
//! one watcher per organisation (not one database poll per stream), reading the stored
//! version about once a second while at least one stream is open, and gone at its next tick
//! after the last stream closes. Reading the database, not this server's own writes, is what
//! makes writes through another server sharing the PostgreSQL reach this server's pages.

use crate::db::{Db, StoreError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::watch;

/// Most organisations watched at once on one server by default: each costs one small
/// statement a second, so this also bounds the watchers' load on the database.
pub const DEFAULT_MOST_WATCHED: usize = 2_000;

/// How the live page behaves; the defaults are the product's, tests shorten them.
#[derive(Clone, Copy, Debug)]
pub struct LiveSettings {
    /// How often a watched organisation's data version is read.
    pub poll_every: Duration,
    /// How often an open stream checks that its session is still valid.
    pub session_check_every: Duration,
    /// At most one event per this long per stream.
    pub notice_every: Duration,
    /// Most organisations watched at once; a stream for one more is refused (503).
    pub most_watched: usize,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            poll_every: Duration::from_secs(1),
            session_check_every: Duration::from_secs(30),
            notice_every: Duration::from_secs(super::NOTICE_EVERY_SECS),
            most_watched: DEFAULT_MOST_WATCHED,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("too many organisations have live pages open on this server; try again shortly")]
    TooManyWatched,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every watched organisation of this server.
#[derive(Debug, Default)]
pub struct LiveVersions {
    settings: LiveSettings,
    watched: Mutex<HashMap<i64, watch::Sender<i64>>>,
    open_streams: Arc<AtomicUsize>,
}

/// One stream's view of its organisation's data version; counted as an open stream until
/// dropped.
#[derive(Debug)]
pub struct Watching {
    pub version: watch::Receiver<i64>,
    open_streams: Arc<AtomicUsize>,
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.open_streams.fetch_sub(1, Ordering::Relaxed);
    }
}

impl LiveVersions {
    pub fn new(settings: LiveSettings) -> LiveVersions {
        LiveVersions {
            settings,
            ..LiveVersions::default()
        }
    }

    pub fn settings(&self) -> LiveSettings {
        self.settings
    }

    /// Organisations watched now.
    pub fn watched(&self) -> usize {
        self.lock().len()
    }

    /// Event streams open now on this server.
    pub fn open_streams(&self) -> usize {
        self.open_streams.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, watch::Sender<i64>>> {
        self.watched.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn watching(&self, version: watch::Receiver<i64>) -> Watching {
        self.open_streams.fetch_add(1, Ordering::Relaxed);
        Watching {
            version,
            open_streams: self.open_streams.clone(),
        }
    }

    /// The organisation's data version, kept current while the answer is held: joins the
    /// organisation's watcher, or starts one (reading the version first, so the first value
    /// is current, not a second old).
    #[tracing::instrument(skip_all, fields(org_id = org_id))]
    pub async fn watch(self: &Arc<Self>, db: &Db, org_id: i64) -> Result<Watching, LiveError> {
        if let Some(receiver) = self.lock().get(&org_id).map(watch::Sender::subscribe) {
            return Ok(self.watching(receiver));
        }
        let version = crate::versions::stored_version(db, org_id).await?;
        let mut watched = self.lock();
        // Another stream may have started the watcher while the version was read.
        if let Some(receiver) = watched.get(&org_id).map(watch::Sender::subscribe) {
            return Ok(self.watching(receiver));
        }
        if watched.len() >= self.settings.most_watched {
            return Err(LiveError::TooManyWatched);
        }
        let (sender, receiver) = watch::channel(version);
        watched.insert(org_id, sender.clone());
        drop(watched);
        tokio::spawn(follow(self.clone(), db.clone(), org_id, sender));
        Ok(self.watching(receiver))
    }
}

/// The watcher of one organisation: reads its version every `poll_every` and tells the
/// streams when it grew; leaves the registry at the first tick with no stream left. The
/// count is checked under the registry's lock, which a new stream holds while it joins, so
/// no stream can join a watcher that is leaving.
async fn follow(registry: Arc<LiveVersions>, db: Db, org_id: i64, sender: watch::Sender<i64>) {
    let mut ticks = tokio::time::interval(registry.settings.poll_every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        {
            let mut watched = registry.lock();
            if sender.receiver_count() == 0 {
                watched.remove(&org_id);
                return;
            }
        }
        match crate::versions::stored_version(&db, org_id).await {
            Ok(stored) => {
                sender.send_if_modified(|held| {
                    let newer = stored > *held;
                    if newer {
                        *held = stored;
                    }
                    newer
                });
            }
            // A busy or unreachable database: the streams hear nothing new, and the next
            // tick tries again.
            Err(error) => tracing::warn!(org_id, %error, "could not read a watched data version"),
        }
    }
}
