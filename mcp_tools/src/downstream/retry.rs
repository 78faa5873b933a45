//! When a failed attempt is tried again, and how long to wait first.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

pub const MAX_ATTEMPTS: u32 = 3;
const BASE_DELAY: Duration = Duration::from_millis(200);
const MAX_DELAY: Duration = Duration::from_secs(2);

/// Whether a status is worth another attempt, given whether the method is idempotent.
/// 502/503/504 may have been half-processed, so only idempotent methods retry them; 429 and
/// 503 with `Retry-After` say the request was not processed, so every method may.
pub fn retry_status(status: StatusCode, idempotent: bool, has_retry_after: bool) -> bool {
    match status.as_u16() {
        429 => true,
        503 if has_retry_after => true,
        502..=504 => idempotent,
        _ => false,
    }
}

/// `Retry-After` in seconds. HTTP dates are rare from APIs and ignored (backoff applies).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Exponential backoff with jitter: for attempt n (1-based) a delay drawn from
/// [d/2, d] with d = 200 ms · 2^(n-1), at most 2 s. Jitter keeps many callers that failed
/// together from retrying together.
pub fn backoff(attempt: u32) -> Duration {
    let exp = BASE_DELAY.saturating_mul(1 << attempt.saturating_sub(1).min(8));
    let full = exp.min(MAX_DELAY);
    let half = full / 2;
    let jitter = next_random() % (half.as_millis() as u64 + 1);
    half + Duration::from_millis(jitter)
}

/// xorshift64*: plenty for jitter, and no dependency for it.
fn next_random() -> u64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        x = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0x9e37_79b9_7f4a_7c15, |d| d.as_nanos() as u64)
            | 1;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    STATE.store(x, Ordering::Relaxed);
    x.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_a_cap() {
        for _ in 0..50 {
            let first = backoff(1);
            assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(200));
            let late = backoff(10);
            assert!(late >= Duration::from_secs(1) && late <= MAX_DELAY);
        }
    }

    #[test]
    fn which_statuses_retry() {
        let s = |n| StatusCode::from_u16(n).unwrap_or(StatusCode::OK);
        assert!(retry_status(s(503), true, false));
        assert!(!retry_status(s(503), false, false));
        assert!(retry_status(s(503), false, true));
        assert!(retry_status(s(429), false, false));
        assert!(!retry_status(s(500), true, false));
        assert!(!retry_status(s(404), true, false));
    }
}
