//! What the background workers (scheduler, outbox relay, fan-out, delivery, place and report
//! keepers) say when a pass fails. While the database is out of reach — a failover takes
//! seconds to tens of seconds, and a worker tries again every pass — each says so once, and
//! once more when it is back, with how long and how many passes failed; any other failure is a
//! warning each time.

use std::time::Instant;

use crate::Error;

/// One worker's record of its failed passes.
#[derive(Debug)]
pub struct PassLog {
    worker: &'static str,
    /// Since when the database is out of reach, and how many passes failed since.
    outage: Option<(Instant, u64)>,
}

impl PassLog {
    /// For the worker named `worker` (`"scheduler"`, `"outbox relay"`, …).
    pub fn new(worker: &'static str) -> Self {
        Self {
            worker,
            outage: None,
        }
    }

    /// A pass succeeded: ends an outage, saying so.
    pub fn succeeded(&mut self) {
        if let Some((since, failed)) = self.outage.take() {
            tracing::info!(
                worker = self.worker,
                seconds = since.elapsed().as_secs_f64(),
                failed_passes = failed,
                "database reachable again; the worker goes on"
            );
        }
    }

    /// A pass failed with `e`.
    pub fn failed(&mut self, e: &Error) {
        self.failed_with(e.is_unreachable(), e);
    }

    /// A pass failed with `e`, which is (or is not) the database being out of reach.
    pub(crate) fn failed_with(&mut self, unreachable: bool, e: &dyn std::fmt::Display) {
        if !unreachable {
            tracing::warn!(worker = self.worker, error = %e, "pass failed");
            return;
        }
        match &mut self.outage {
            Some((_, failed)) => *failed += 1,
            None => {
                tracing::warn!(
                    worker = self.worker,
                    error = %e,
                    "database out of reach; trying again every pass"
                );
                self.outage = Some((Instant::now(), 1));
            }
        }
    }

    /// Records a pass's result.
    pub fn pass<T>(&mut self, result: &Result<T, Error>) {
        match result {
            Ok(_) => self.succeeded(),
            Err(e) => self.failed(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_one_warning_and_its_end_one_note() {
        let mut log = PassLog::new("test");
        let gone = Error::Db(sea_orm::DbErr::ConnectionAcquire(
            sea_orm::error::ConnAcquireErr::Timeout,
        ));
        log.failed(&gone);
        log.failed(&gone);
        log.failed(&gone);
        assert!(matches!(log.outage, Some((_, 3))));
        // Another failure is not part of the outage's count.
        log.failed(&Error::Unavailable("the compiler thread stopped".into()));
        assert!(matches!(log.outage, Some((_, 3))));
        log.pass(&Ok::<(), Error>(()));
        assert!(log.outage.is_none());
    }
}
