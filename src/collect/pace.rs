//! Keeping a run inside AWS's request quotas: CloudWatch Logs answers
//! `GetLogEvents` at 25 requests per second per account and Region by
//! default, and a sweep reads one stream per container of every task. A
//! throttled read is a gap, so a sweep that outran the quota would report
//! tasks as inconclusive that it could have diagnosed by waiting its turn.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Spaces requests per key (a Region): a burst of `burst` at once, then one
/// every `interval` (the generic cell rate algorithm: each key keeps the
/// time its next request would be due at the steady rate).
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    burst: u32,
    due: Mutex<HashMap<String, Instant>>,
}

impl Pacer {
    /// `per_second` requests a second after a burst of `burst`.
    pub fn new(per_second: u32, burst: u32) -> Self {
        Pacer {
            interval: Duration::from_secs(1) / per_second.max(1),
            burst: burst.max(1),
            due: Mutex::default(),
        }
    }

    /// `GetLogEvents`: below the default quota, leaving room for the
    /// account's other readers.
    pub fn log_reads() -> Self {
        Pacer::new(20, 10)
    }

    /// Wait until a request under `key` may start.
    pub async fn wait(&self, key: &str) {
        let start = {
            let mut due = self.due.lock().expect("pacer lock");
            let due = due.entry(key.to_string()).or_insert_with(Instant::now);
            self.admit(due, Instant::now())
        };
        tokio::time::sleep_until(start).await;
    }

    /// When a request arriving at `now` may start, given the key's due time
    /// (which it advances by one interval).
    fn admit(&self, due: &mut Instant, now: Instant) -> Instant {
        let steady = (*due).max(now);
        let tolerance = self.interval * (self.burst - 1);
        let start = steady.checked_sub(tolerance).map_or(now, |s| s.max(now));
        *due = steady + self.interval;
        start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_starts_at_once_and_the_rest_follow_at_the_rate() {
        let pacer = Pacer::new(20, 10);
        let now = Instant::now();
        let mut due = now;
        let starts: Vec<Duration> = (0..14).map(|_| pacer.admit(&mut due, now) - now).collect();
        assert!(starts[..10].iter().all(|s| s.is_zero()), "{starts:?}");
        let ms: Vec<u128> = starts[10..].iter().map(Duration::as_millis).collect();
        assert_eq!(ms, vec![50, 100, 150, 200]);
    }

    #[test]
    fn an_idle_key_gets_its_burst_back() {
        let pacer = Pacer::new(20, 10);
        let now = Instant::now();
        let mut due = now;
        for _ in 0..12 {
            pacer.admit(&mut due, now);
        }
        let later = now + Duration::from_secs(2);
        assert_eq!(pacer.admit(&mut due, later), later);
    }

    #[tokio::test]
    async fn keys_are_paced_apart() {
        let pacer = Pacer::new(1, 1);
        let begun = Instant::now();
        pacer.wait("eu-west-1").await;
        pacer.wait("us-east-1").await;
        assert!(begun.elapsed() < Duration::from_millis(500));
    }
}
