//! Trying work again after a failure that may pass: the one loop behind the store's retries of
//! transient conflicts, the import's, and the server's wait for its database at start.

use std::time::Duration;

/// Pauses that double from `first` up to `most`, each spread by up to `spread` so that callers
/// that failed together do not try again in step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub most: Duration,
    pub spread: Duration,
}

impl Backoff {
    /// The pause after the `attempt`th failure (1-based).
    pub fn pause(&self, attempt: u32) -> Duration {
        let doubled = self
            .first
            .saturating_mul(1_u32 << attempt.saturating_sub(1).min(16));
        doubled.min(self.most) + self.jitter()
    }

    /// Up to `spread`, from the clock's nanoseconds: enough to break a lock-step.
    fn jitter(&self) -> Duration {
        let spread = self.spread.as_nanos().max(1);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| u128::from(since.subsec_nanos()));
        Duration::from_nanos(u64::try_from(nanos % spread).unwrap_or(0))
    }
}

/// Runs `work` until it succeeds, or fails in a way `again` does not want tried again. `again`
/// is given the error, the attempt that failed (1-based) and the pause that would follow, so it
/// can count attempts, keep a deadline and say in the log what happens next.
///
/// `work` is a plain closure returning a future (not an async closure), so the future it makes
/// is `Send` wherever the work is: server functions require that.
pub async fn retry<T, E, F, Fut>(
    backoff: Backoff,
    mut work: F,
    mut again: impl FnMut(&E, u32, Duration) -> bool,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut attempt = 1;
    loop {
        match work().await {
            Err(error) => {
                let pause = backoff.pause(attempt);
                if !again(&error, attempt, pause) {
                    return Err(error);
                }
                tokio::time::sleep(pause).await;
                attempt += 1;
            }
            done => return done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUICK: Backoff = Backoff {
        first: Duration::from_millis(1),
        most: Duration::from_millis(4),
        spread: Duration::ZERO,
    };

    #[test]
    fn pauses_double_up_to_the_most() {
        let pauses: Vec<u128> = (1..=5).map(|n| QUICK.pause(n).as_millis()).collect();
        assert_eq!(pauses, [1, 2, 4, 4, 4]);
    }

    #[tokio::test]
    async fn work_is_tried_again_while_asked_and_its_last_error_is_returned() {
        let mut calls = 0;
        let result: Result<(), u32> = retry(
            QUICK,
            || {
                calls += 1;
                std::future::ready(Err(calls))
            },
            |_, attempt, _| attempt < 3,
        )
        .await;
        assert_eq!(result, Err(3));
        assert_eq!(calls, 3);
        let mut calls = 0;
        let result: Result<u32, u32> = retry(
            QUICK,
            || {
                calls += 1;
                std::future::ready(if calls < 2 { Err(calls) } else { Ok(calls) })
            },
            |_, _, _| true,
        )
        .await;
        assert_eq!(result, Ok(2));
    }
}
