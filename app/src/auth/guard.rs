//! What keeps a flood of sign-in attempts from guessing passwords or exhausting the server:
//! rate limits per client address and per account (the email tried, whether or not it has an
//! account, so the limit tells nothing), and a cap on password verifications running at once
//! (each argon2 run takes 19 MiB and tens of milliseconds of a core).

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use std::fmt;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::RwLock;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Keys are 64-bit hashes (with a per-process random key, so no one can aim collisions): a
/// flood of megabyte-long emails or of distinct addresses costs the same small entry each.
type KeyedLimiter = RateLimiter<u64, HashMapStateStore<u64>, DefaultClock>;

/// Attempts one client address may make: a burst of 300, then five a second. Generous, because
/// an office behind one NAT signs in from one address; it stops floods, not colleagues.
pub const ATTEMPTS_PER_ADDRESS_PER_MINUTE: u32 = 300;
/// Attempts on one email from one address: a burst of 60, then one a second. The lock-out
/// (5 failures in 15 minutes per email and address) stops guessing; this stops hammering.
/// Counted per address too, so that no stranger can spend the owner's allowance.
pub const ATTEMPTS_PER_ACCOUNT_PER_MINUTE: u32 = 60;
/// Most keys one limiter holds. Past it, keys whose limits have recovered are forgotten; if
/// that is not enough (a flood of distinct keys within a minute), the limiter starts afresh:
/// memory stays bounded, and the lock-out in the database still holds.
pub const MAX_KEYS: usize = 20_000;

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

/// One keyed limit, bounded in size.
struct Limit {
    quota: Quota,
    limiter: RwLock<KeyedLimiter>,
}

impl Limit {
    fn new(per_minute_count: u32) -> Limit {
        let quota = per_minute(per_minute_count);
        Limit {
            quota,
            limiter: RwLock::new(RateLimiter::hashmap(quota)),
        }
    }

    fn check(&self, key: u64) -> Result<(), TryLater> {
        let outcome = {
            let limiter = self.limiter.read().unwrap_or_else(|e| e.into_inner());
            let outcome = limiter.check_key(&key).map_err(|not_until| TryLater {
                after: not_until.wait_time_from(limiter.clock().now()),
            });
            if limiter.len() <= MAX_KEYS {
                return outcome;
            }
            limiter.retain_recent();
            if limiter.len() <= MAX_KEYS {
                return outcome;
            }
            outcome
        };
        let mut limiter = self.limiter.write().unwrap_or_else(|e| e.into_inner());
        if limiter.len() > MAX_KEYS {
            *limiter = RateLimiter::hashmap(self.quota);
        }
        outcome
    }

    fn len(&self) -> usize {
        self.limiter.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn forget_recovered(&self) {
        let limiter = self.limiter.read().unwrap_or_else(|e| e.into_inner());
        limiter.retain_recent();
        limiter.shrink_to_fit();
    }
}

pub struct SignInGuard {
    keys: std::hash::RandomState,
    per_address: Limit,
    per_account: Limit,
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

/// An address as rate limits see it: IPv4 whole, IPv6 by its /64 (what one subscriber gets).
pub fn address_group(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

impl SignInGuard {
    pub fn new(per_address: u32, per_account: u32, verifications: usize) -> SignInGuard {
        SignInGuard {
            keys: std::hash::RandomState::new(),
            per_address: Limit::new(per_address),
            per_account: Limit::new(per_account),
            verifications: Semaphore::new(verifications.max(1)),
        }
    }

    /// Counts an attempt from `address` (when known) on `email`, or says when to come back.
    pub fn admit(&self, address: Option<IpAddr>, email: &str) -> Result<(), TryLater> {
        let group = address.map(address_group);
        if let Some(group) = group {
            self.per_address.check(self.keys.hash_one(group))?;
        }
        // At most 256 characters count, so that hashing costs the same for any length.
        let account: String = email
            .trim()
            .chars()
            .take(256)
            .collect::<String>()
            .to_lowercase();
        self.per_account.check(self.keys.hash_one((account, group)))
    }

    /// Keys held now, per address and per account: for tests and figures.
    pub fn keys_held(&self) -> (usize, usize) {
        (self.per_address.len(), self.per_account.len())
    }

    /// A slot to verify one attempt's passwords in; held while they run. When every slot is
    /// busy the attempt is told at once to come back (no queue: a flood must not make real
    /// people wait behind it, nor pile up requests).
    pub fn verification_slot(&self) -> Result<SemaphorePermit<'_>, TryLater> {
        self.verifications.try_acquire().map_err(|_| TryLater {
            after: Duration::from_secs(1),
        })
    }

    /// Forgets the addresses and accounts whose limits have fully recovered, so the maps stay
    /// small.
    pub fn forget_recovered(&self) {
        self.per_address.forget_recovered();
        self.per_account.forget_recovered();
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
        // The third attempt on the account from here is refused, case aside ...
        let refused = guard.admit(Some(here), "a@x.example").unwrap_err();
        assert!(
            refused.seconds() >= 1 && refused.seconds() <= 30,
            "{refused:?}"
        );
        // ... but not from another address: a stranger cannot spend the owner's allowance.
        assert!(guard.admit(Some(there), "a@x.example").is_ok());
        // The first address is out of attempts for any email.
        assert!(guard.admit(Some(here), "c@x.example").is_err());
        assert!(guard.admit(Some(there), "c@x.example").is_ok());
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_bit_prefix() {
        let guard = SignInGuard::new(2, 100, 1);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let elsewhere: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(guard.admit(Some(a), "x@y.example").is_ok());
        assert!(guard.admit(Some(b), "z@y.example").is_ok());
        assert!(guard.admit(Some(b), "w@y.example").is_err(), "same /64");
        assert!(guard.admit(Some(elsewhere), "w@y.example").is_ok());
    }

    #[test]
    fn a_flood_of_distinct_keys_keeps_the_limiters_bounded() {
        let guard = SignInGuard::default();
        let mut most = (0, 0);
        for n in 0..100_000_u32 {
            // A rotating IPv6 client: a new /64 and a new long email every time.
            let address = IpAddr::V6(std::net::Ipv6Addr::new(
                0x2001,
                0xdb8,
                (n >> 16) as u16,
                n as u16,
                1,
                2,
                3,
                4,
            ));
            let email = format!("{}{n}@flood.example", "x".repeat(200));
            let _ = guard.admit(Some(address), &email);
            let held = guard.keys_held();
            most = (most.0.max(held.0), most.1.max(held.1));
        }
        // Each entry: a u64 key and a u64 state, plus the map's own overhead (~2x).
        let bytes = (most.0 + most.1) * 16 * 2;
        eprintln!(
            "100,000 distinct keys: at most {} address and {} account entries held, about {} KiB",
            most.0,
            most.1,
            bytes / 1024
        );
        assert!(most.0 <= MAX_KEYS + 1 && most.1 <= MAX_KEYS + 1, "{most:?}");
        assert!(bytes < 2 * 1024 * 1024, "{bytes}");
    }

    #[test]
    fn when_every_verification_slot_is_busy_the_attempt_is_refused_at_once() {
        let guard = SignInGuard::new(10, 10, 1);
        let first = guard.verification_slot().expect("a free slot");
        let started = std::time::Instant::now();
        let refused = guard.verification_slot().unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(50));
        assert_eq!(refused.seconds(), 1);
        drop(first);
        assert!(guard.verification_slot().is_ok());
    }
}
