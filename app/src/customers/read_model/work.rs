//! Where the read model's heavy work runs: scans, sorts and export orders go to a bounded
//! pool of blocking threads, one permit per core, so a few broad questions on a large
//! organisation never occupy the async threads that answer sign-in and every other page.

use crate::db::{StoreError, StoreResult};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The moment a question's budget is spent; loops look at it every few thousand steps.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    at: Option<Instant>,
    budget: Duration,
}

impl Deadline {
    pub(crate) fn after(budget: Duration) -> Deadline {
        Deadline {
            at: Instant::now().checked_add(budget),
            budget,
        }
    }

    /// No deadline (tests, and work whose caller has no budget).
    #[cfg(test)]
    pub(crate) fn none() -> Deadline {
        Deadline {
            at: None,
            budget: Duration::MAX,
        }
    }

    /// `Err(OverBudget)` once the deadline has passed.
    #[inline]
    pub(crate) fn check(&self) -> StoreResult<()> {
        match self.at {
            Some(at) if Instant::now() >= at => Err(StoreError::OverBudget {
                budget_ms: self.budget.as_millis(),
            }),
            _ => Ok(()),
        }
    }

    /// The time left, zero once spent.
    pub(crate) fn remaining(&self) -> Duration {
        self.at.map_or(Duration::MAX, |at| {
            at.saturating_duration_since(Instant::now())
        })
    }
}

/// A bounded pool for CPU-heavy work: at most one job per core runs at once; the others wait
/// (within their deadline) for a permit.
#[derive(Debug)]
pub(crate) struct WorkPool {
    permits: Arc<Semaphore>,
}

impl WorkPool {
    pub(crate) fn new(threads: usize) -> WorkPool {
        WorkPool {
            permits: Arc::new(Semaphore::new(threads.max(1))),
        }
    }

    /// One permit per core of this machine.
    pub(crate) fn per_core() -> WorkPool {
        WorkPool::new(std::thread::available_parallelism().map_or(2, usize::from))
    }

    /// Runs `job` on a blocking thread once a permit is free. Waiting for the permit counts
    /// against `deadline`.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        deadline: Deadline,
        job: impl FnOnce() -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let permit =
            match tokio::time::timeout(deadline.remaining(), self.permits.clone().acquire_owned())
                .await
            {
                Ok(Ok(permit)) => permit,
                Ok(Err(closed)) => {
                    return Err(StoreError::internal("waiting for a worker", closed))
                }
                Err(_) => return Err(deadline.check().err().unwrap_or(StoreError::Loading)),
            };
        let joined = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        })
        .await;
        joined.map_err(|failed| StoreError::internal("running a read-model job", failed))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_jobs_run_at_once_than_the_pool_has_permits() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let pool = Arc::new(WorkPool::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..8)
            .map(|_| {
                let (pool, running, most) = (pool.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    pool.run(Deadline::after(Duration::from_secs(30)), move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                        Ok(())
                    })
                    .await
                })
            })
            .collect();
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }
}
