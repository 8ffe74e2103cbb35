//! The wall clock, in the unit every stored time uses: UTC milliseconds since the epoch.

/// Now, in UTC milliseconds since the epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
