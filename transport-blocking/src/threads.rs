//! Counting the threads a client owns, so that shutdown can be checked rather than assumed.

use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
struct Count {
    live: Mutex<usize>,
    changed: Condvar,
}

impl Count {
    fn lock(&self) -> MutexGuard<'_, usize> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A live count of the threads one client started and that have not finished yet.
#[derive(Clone, Debug, Default)]
pub struct ThreadGauge(Arc<Count>);

/// Decrements the gauge when the thread's closure ends, even by unwinding.
struct Guard(Arc<Count>);

impl Drop for Guard {
    fn drop(&mut self) {
        *self.0.lock() -= 1;
        self.0.changed.notify_all();
    }
}

impl ThreadGauge {
    /// How many of the client's threads are still running.
    pub fn live(&self) -> usize {
        *self.0.lock()
    }

    /// Waits until no thread of the client runs, at most `timeout`; whether that happened.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        let mut live = self.0.lock();
        while *live > 0 {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            live = match self.0.changed.wait_timeout(live, left) {
                Ok((guard, _)) => guard,
                Err(e) => e.into_inner().0,
            };
        }
        true
    }

    /// Starts a named thread that counts as live until `f` returns.
    pub(crate) fn spawn<T: Send + 'static>(
        &self,
        name: &str,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> io::Result<JoinHandle<T>> {
        *self.0.lock() += 1;
        let guard = Guard(self.0.clone());
        // On failure the closure, and with it the guard, is dropped: the count is right again.
        thread::Builder::new().name(name.into()).spawn(move || {
            let _guard = guard;
            f()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_until_the_closure_ends() {
        let gauge = ThreadGauge::default();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let h = gauge.spawn("t", move || rx.recv().is_err()).expect("spawn");
        assert_eq!(gauge.live(), 1);
        assert!(!gauge.wait_idle(Duration::from_millis(10)));
        drop(tx);
        assert!(gauge.wait_idle(Duration::from_secs(5)));
        assert!(h.join().expect("join"));
        let p = gauge.spawn("p", || panic!("boom")).expect("spawn");
        assert!(p.join().is_err());
        assert_eq!(gauge.live(), 0);
    }
}
