//! Bookkeeping of parked long-polls, so tests can wait until a subscriber is listening.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Number of parked long-polls per channel or group name.
#[derive(Debug, Default)]
pub(crate) struct Parked {
    counts: Mutex<HashMap<String, usize>>,
    changed: Condvar,
}

/// Counts one long-poll as parked on some names until dropped.
pub(crate) struct ParkGuard<'a> {
    parked: &'a Parked,
    names: Vec<String>,
}

impl Parked {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, usize>> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks a long-poll parked on `names` until the guard is dropped.
    pub(crate) fn enter(&self, names: Vec<String>) -> ParkGuard<'_> {
        let mut counts = self.lock();
        for name in &names {
            *counts.entry(name.clone()).or_default() += 1;
        }
        drop(counts);
        self.changed.notify_all();
        ParkGuard {
            parked: self,
            names,
        }
    }

    /// How many long-polls are parked on `name`.
    pub(crate) fn count(&self, name: &str) -> usize {
        self.lock().get(name).copied().unwrap_or(0)
    }

    /// Blocks until at least `n` long-polls are parked on `name`, or `timeout` passes.
    pub(crate) fn wait(&self, name: &str, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut counts = self.lock();
        while counts.get(name).copied().unwrap_or(0) < n {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            counts = match self.changed.wait_timeout(counts, deadline - now) {
                Ok((guard, _)) => guard,
                Err(e) => e.into_inner().0,
            };
        }
        true
    }
}

impl Drop for ParkGuard<'_> {
    fn drop(&mut self) {
        let mut counts = self.parked.lock();
        for name in &self.names {
            if let Some(count) = counts.get_mut(name) {
                *count -= 1;
                if *count == 0 {
                    counts.remove(name);
                }
            }
        }
        drop(counts);
        self.parked.changed.notify_all();
    }
}
