//! What keeps a flood of sign-in attempts from guessing passwords or exhausting the server:
//! rate limits per client address and per account (the email tried, whether or not it has an
//! account, so the limit tells nothing), and a cap on password verifications running at once
//! (each argon2 run takes 19 MiB and tens of milliseconds of a core).

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

type KeyedLimiter<K> = RateLimiter<K, HashMapStateStore<K>, DefaultClock>;

/// Attempts one client address may make: a burst of 300, then five a second. Generous, because
/// an office behind one NAT signs in from one address; it stops floods, not colleagues.
pub const ATTEMPTS_PER_ADDRESS_PER_MINUTE: u32 = 300;
/// Attempts on one email: a burst of 60, then one a second. The lock-out (5 failures in 15
/// minutes) stops guessing; this stops hammering an account.
pub const ATTEMPTS_PER_ACCOUNT_PER_MINUTE: u32 = 60;
/// How long an attempt waits for a verification slot before it is told to come back.
const VERIFICATION_QUEUE_WAIT: Duration = Duration::from_secs(10);

/// Why an attempt was not let through: come back after this long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TryLater {
    pub after: Duration,
}

impl TryLater {
    /// Whole seconds, at least one, for a `Retry-After` header.
    pub fn seconds(self) -> u64 {
        self.after.as_secs() + u64::from(self.after.subsec_nanos() > 0)
    }
}

pub struct SignInGuard {
    per_address: KeyedLimiter<IpAddr>,
    per_account: KeyedLimiter<String>,
    verifications: Semaphore,
}

impl fmt::Debug for SignInGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignInGuard")
            .field(
                "free_verification_slots",
                &self.verifications.available_permits(),
            )
            .finish()
    }
}

impl Default for SignInGuard {
    fn default() -> Self {
        // As many verifications at once as there are cores (2 to 4): more would only queue
        // on the cores while holding their memory.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        SignInGuard::new(
            ATTEMPTS_PER_ADDRESS_PER_MINUTE,
            ATTEMPTS_PER_ACCOUNT_PER_MINUTE,
            cores.clamp(2, 4),
        )
    }
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl SignInGuard {
    pub fn new(per_address: u32, per_account: u32, verifications: usize) -> SignInGuard {
        SignInGuard {
            per_address: RateLimiter::hashmap(per_minute(per_address)),
            per_account: RateLimiter::hashmap(per_minute(per_account)),
            verifications: Semaphore::new(verifications.max(1)),
        }
    }

    /// Counts an attempt from `address` (when known) on `email`, or says when to come back.
    pub fn admit(&self, address: Option<IpAddr>, email: &str) -> Result<(), TryLater> {
        if let Some(address) = address {
            if let Err(not_until) = self.per_address.check_key(&address) {
                return Err(TryLater {
                    after: not_until.wait_time_from(self.per_address.clock().now()),
                });
            }
        }
        // Capped, so that a flood of megabyte-long "emails" cannot fill the map.
        let account: String = email
            .trim()
            .chars()
            .take(256)
            .collect::<String>()
            .to_lowercase();
        self.per_account
            .check_key(&account)
            .map_err(|not_until| TryLater {
                after: not_until.wait_time_from(self.per_account.clock().now()),
            })
    }

    /// A slot to verify one password in; held while the verification runs. When all are busy
    /// for longer than a few seconds, the attempt is told to come back.
    pub async fn verification_slot(&self) -> Result<SemaphorePermit<'_>, TryLater> {
        match tokio::time::timeout(VERIFICATION_QUEUE_WAIT, self.verifications.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(TryLater {
                after: Duration::from_secs(5),
            }),
        }
    }

    /// Forgets the addresses and accounts whose limits have fully recovered, so the maps stay
    /// small.
    pub fn forget_recovered(&self) {
        self.per_address.retain_recent();
        self.per_account.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_and_an_account_are_limited_separately() {
        let guard = SignInGuard::new(3, 2, 1);
        let here: IpAddr = [10, 0, 0, 1].into();
        let there: IpAddr = [10, 0, 0, 2].into();
        assert!(guard.admit(Some(here), "a@x.example").is_ok());
        assert!(guard.admit(Some(here), "A@x.example ").is_ok());
        // The third attempt on the account is refused, from any address, case aside.
        let refused = guard.admit(Some(there), "a@x.example").unwrap_err();
        assert!(
            refused.seconds() >= 1 && refused.seconds() <= 30,
            "{refused:?}"
        );
        // The first address has one attempt left, then it is refused for any email.
        assert!(guard.admit(Some(here), "b@x.example").is_ok());
        assert!(guard.admit(Some(here), "c@x.example").is_err());
        assert!(guard.admit(Some(there), "c@x.example").is_ok());
    }

    #[tokio::test]
    async fn verifications_wait_for_a_free_slot() {
        let guard = SignInGuard::new(10, 10, 1);
        let first = guard.verification_slot().await.expect("a free slot");
        assert_eq!(guard.verifications.available_permits(), 0);
        drop(first);
        assert!(guard.verification_slot().await.is_ok());
    }
}
