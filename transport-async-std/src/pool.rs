//! Idle kept-alive connections, checked for liveness before reuse.

use std::sync::Mutex;

use crate::conn::Stream;

/// Idle connections to the origin, at most `capacity` of them. Idle connections are not
/// polled by any task: they are plain sockets waiting in a list, closed when dropped.
pub(crate) struct Pool {
    idle: Mutex<Vec<Stream>>,
    capacity: usize,
}

impl Pool {
    /// An empty pool keeping at most `capacity` idle connections.
    pub(crate) fn new(capacity: usize) -> Pool {
        Pool {
            idle: Mutex::new(Vec::new()),
            capacity,
        }
    }

    /// The most recently used idle connection that is still open, if any.
    pub(crate) fn take(&self) -> Option<Stream> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(stream) = idle.pop() {
            if stream.is_reusable() {
                return Some(stream);
            }
        }
        None
    }

    /// Keeps `stream` for reuse, or closes it when the pool is full.
    pub(crate) fn put(&self, stream: Stream) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.capacity {
            idle.push(stream);
        }
    }
}
