//! What keeps API writes (conversation batches and erasures) from exhausting the server: at
//! most a few run at once, each parsing and writing up to 4 MiB, the others wait briefly for a
//! slot and are then told to come back (503); and each token may write at a bounded rate
//! (429). Both answers say when to try again.

use crate::auth::guard::TryLater;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Writes that may parse and write at once when not configured (`PLAYBOOK_API_WRITERS`).
pub const DEFAULT_CONCURRENT_WRITES: usize = 4;
/// Writes one token may make per minute when not configured
/// (`PLAYBOOK_API_WRITES_PER_MINUTE`): a burst of this many, then one every 60/n seconds.
pub const DEFAULT_WRITES_PER_MINUTE: u32 = 120;
/// How long a write waits for a free slot before it is answered 503.
pub const DEFAULT_SLOT_WAIT: Duration = Duration::from_millis(1_500);
/// Tokens whose rate is tracked before the ones whose limit has recovered are forgotten: the
/// map holds only tokens that were valid when they wrote, and never grows past this for long.
const MAX_TRACKED_TOKENS: usize = 10_000;

/// The limits of API writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteLimits {
    /// Writes that may parse and write at once, over every token.
    pub concurrent_writes: usize,
    /// How long a write waits for a slot before it is answered 503.
    pub slot_wait: Duration,
    /// Writes one token may make per minute (a burst of this many).
    pub writes_per_minute: u32,
}

impl Default for WriteLimits {
    fn default() -> Self {
        WriteLimits {
            concurrent_writes: DEFAULT_CONCURRENT_WRITES,
            slot_wait: DEFAULT_SLOT_WAIT,
            writes_per_minute: DEFAULT_WRITES_PER_MINUTE,
        }
    }
}

type KeyedLimiter = RateLimiter<i64, HashMapStateStore<i64>, DefaultClock>;

/// The slots and the per-token rates of one server.
pub struct WriteGuard {
    slots: Semaphore,
    slot_wait: Duration,
    per_token: KeyedLimiter,
}

impl fmt::Debug for WriteGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteGuard")
            .field("free_slots", &self.slots.available_permits())
            .finish_non_exhaustive()
    }
}

impl WriteGuard {
    pub fn new(limits: WriteLimits) -> WriteGuard {
        let per_minute =
            NonZeroU32::new(limits.writes_per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        WriteGuard {
            slots: Semaphore::new(limits.concurrent_writes.max(1)),
            slot_wait: limits.slot_wait,
            per_token: RateLimiter::hashmap(Quota::per_minute(per_minute)),
        }
    }

    /// Counts a write by the token `token_id`, or says when it may write again.
    pub fn admit(&self, token_id: i64) -> Result<(), TryLater> {
        if self.per_token.len() > MAX_TRACKED_TOKENS {
            self.per_token.retain_recent();
        }
        self.per_token
            .check_key(&token_id)
            .map_err(|not_until| TryLater {
                after: not_until.wait_time_from(self.per_token.clock().now()),
            })
    }

    /// A slot to parse and write in, held until the write is done; when none frees up within
    /// the slot wait, the write is told to come back.
    pub async fn slot(&self) -> Result<SemaphorePermit<'_>, TryLater> {
        match tokio::time::timeout(self.slot_wait, self.slots.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(TryLater {
                after: Duration::from_secs(u64::from(crate::error::RETRY_AFTER_SECS)),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_token_writes_at_its_own_rate() {
        let guard = WriteGuard::new(WriteLimits {
            writes_per_minute: 2,
            ..WriteLimits::default()
        });
        assert!(guard.admit(1).is_ok());
        assert!(guard.admit(1).is_ok());
        let refused = guard.admit(1).unwrap_err();
        // One write every 30 seconds once the burst is spent.
        assert!((1..=30).contains(&refused.seconds()), "{refused:?}");
        assert!(guard.admit(2).is_ok(), "another token has its own rate");
    }

    #[tokio::test]
    async fn writes_past_the_slots_wait_then_are_told_to_come_back() {
        let guard = WriteGuard::new(WriteLimits {
            concurrent_writes: 1,
            slot_wait: Duration::from_millis(50),
            ..WriteLimits::default()
        });
        let first = guard.slot().await.expect("a free slot");
        let started = std::time::Instant::now();
        let refused = guard.slot().await.unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert_eq!(refused.seconds(), u64::from(crate::error::RETRY_AFTER_SECS));
        drop(first);
        assert!(guard.slot().await.is_ok(), "a freed slot is taken");
    }
}
