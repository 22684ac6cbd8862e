//! Failed authentications, counted per source address: past [`MOST_FAILURES`] in a
//! [`WINDOW`], an address's credentialed requests are refused (429) until its window ends —
//! before its credentials are looked at, so guessing keys costs the guesser, not the server.
//! Successful requests are never counted: a busy, honest client is never slowed.
//! `softland_auth_failures_total` and `softland_auth_throttled_total` count both.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failed authentications an address may have in one window.
pub const MOST_FAILURES: u32 = 20;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered at most (the oldest windows are forgotten first when full).
const MOST_ADDRESSES: usize = 100_000;

/// The failures per address (a fixed window each).
#[derive(Debug, Clone, Default)]
pub struct Failures(Arc<Mutex<HashMap<IpAddr, (Instant, u32)>>>);

impl Failures {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (Instant, u32)>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `ip` has used up its failures for now (a refused attempt is counted).
    pub fn blocked(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let blocked = self
            .map()
            .get(&ip)
            .is_some_and(|(since, n)| now.duration_since(*since) < WINDOW && *n >= MOST_FAILURES);
        if blocked {
            metrics::counter!("softland_auth_throttled_total").increment(1);
        }
        blocked
    }

    /// Records a failed authentication from `ip`.
    pub fn failed(&self, ip: IpAddr) {
        metrics::counter!("softland_auth_failures_total").increment(1);
        let now = Instant::now();
        let mut map = self.map();
        if map.len() >= MOST_ADDRESSES && !map.contains_key(&ip) {
            map.retain(|_, (since, _)| now.duration_since(*since) < WINDOW);
            if map.len() >= MOST_ADDRESSES {
                return; // a flood from everywhere: the per-caller shares still hold
            }
        }
        let entry = map.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_blocked_after_its_failures_and_others_are_not() {
        let f = Failures::default();
        let (guesser, honest) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        for _ in 0..MOST_FAILURES - 1 {
            f.failed(guesser);
        }
        assert!(!f.blocked(guesser));
        f.failed(guesser);
        assert!(f.blocked(guesser));
        assert!(!f.blocked(honest));
    }
}
