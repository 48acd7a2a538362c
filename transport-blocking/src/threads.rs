//! Counting the threads a client owns, so that shutdown can be checked rather than assumed.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// A live count of the threads one client started and that have not finished yet.
#[derive(Clone, Debug, Default)]
pub struct ThreadGauge(Arc<AtomicUsize>);

/// Decrements the gauge when the thread's closure ends, even by unwinding.
struct Guard(Arc<AtomicUsize>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl ThreadGauge {
    /// How many of the client's threads are still running.
    pub fn live(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    /// Waits until no thread of the client runs, at most `timeout`; whether that happened.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while self.live() > 0 {
            if Instant::now() >= end {
                return false;
            }
            thread::sleep(Duration::from_millis(5));
        }
        true
    }

    /// Starts a named thread that counts as live until `f` returns.
    pub(crate) fn spawn<T: Send + 'static>(
        &self,
        name: &str,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> io::Result<JoinHandle<T>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        let guard = Guard(self.0.clone());
        let spawned = thread::Builder::new().name(name.into()).spawn(move || {
            let _guard = guard;
            f()
        });
        // On failure the closure, and with it the guard, was dropped: the count is right again.
        spawned
    }
}
