//! Each caller's share of the server: at most [`PER_CALLER`] (`serve --requests-per-caller`)
//! GraphQL requests of one caller run at once — a person (whatever keys or sessions they use), or, unauthenticated, an address.
//! A further request waits its turn up to [`WAIT`], then is refused (429, `LIMIT_EXCEEDED`),
//! so one key flooding the server with expensive queries waits on itself while everyone else's
//! requests find the database's connections free. (Commands and queries already have separate
//! connection pools on PostgreSQL; the cost limit bounds what each request may ask.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Requests one caller may have running at once, unless configured otherwise.
pub const PER_CALLER: usize = 4;
/// How long a request waits for its caller's turn.
pub const WAIT: Duration = Duration::from_secs(5);

/// The callers' shares (one semaphore per caller with requests running or waiting).
#[derive(Debug, Clone)]
pub struct Shares {
    map: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    wait: Duration,
    per_caller: usize,
}

impl Default for Shares {
    fn default() -> Self {
        Shares::new(PER_CALLER, WAIT)
    }
}

/// A running request's turn; the caller's share is forgotten when its last turn ends.
#[derive(Debug)]
pub struct Turn {
    permit: Option<OwnedSemaphorePermit>,
    caller: String,
    shares: Shares,
}

impl Shares {
    /// Shares of `per_caller` requests at once, waiting up to `wait` for a turn.
    pub fn new(per_caller: usize, wait: Duration) -> Self {
        Shares {
            map: Arc::default(),
            wait,
            per_caller: per_caller.max(1),
        }
    }

    /// Requests one caller may have running at once.
    pub fn per_caller(&self) -> usize {
        self.per_caller
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Semaphore>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `caller`'s turn, waiting up to the shares' wait; `None` when it did not come.
    pub async fn turn(&self, caller: &str) -> Option<Turn> {
        let share = self
            .map()
            .entry(caller.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_caller)))
            .clone();
        let permit = tokio::time::timeout(self.wait, share.clone().acquire_owned()).await;
        let turn = Turn {
            permit: permit.ok().and_then(Result::ok),
            caller: caller.to_owned(),
            shares: self.clone(),
        };
        if turn.permit.is_none() {
            metrics::counter!("softland_requests_throttled_total").increment(1);
            return None; // the drop below forgets an idle share
        }
        Some(turn)
    }

    /// How many callers have a share now (for tests).
    #[cfg(test)]
    fn callers(&self) -> usize {
        self.map().len()
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut map = self.shares.map();
        drop(self.permit.take());
        // Idle: every permit back, and nobody but the map holds the semaphore (a waiter holds
        // a clone, taken under this lock).
        if let Some(share) = map.get(&self.caller)
            && share.available_permits() == self.shares.per_caller
            && Arc::strong_count(share) == 1
        {
            map.remove(&self.caller);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_caller_waits_on_itself_and_idle_shares_are_forgotten() {
        let shares = Shares::new(PER_CALLER, Duration::from_millis(50));
        let mut held = Vec::new();
        for _ in 0..PER_CALLER {
            held.push(shares.turn("mallory").await.expect("a turn"));
        }
        // another caller is not held up by mallory's full share
        let polite = shares.turn("li").await;
        assert!(polite.is_some());
        drop(polite);
        assert_eq!(shares.callers(), 1, "li's idle share is forgotten");
        assert!(
            shares.turn("mallory").await.is_none(),
            "refused after the wait"
        );
        held.pop();
        assert!(
            shares.turn("mallory").await.is_some(),
            "a freed turn is taken"
        );
        held.clear();
        assert_eq!(shares.callers(), 0);
    }
}
