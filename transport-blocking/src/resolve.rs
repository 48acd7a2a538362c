//! Host resolution that remembers its last answer for a while.
//!
//! ureq resolves the host before every request, even one that then reuses a pooled
//! connection, and with a timeout set (every request of ours has one) its default resolver
//! does so on a freshly spawned thread: a thread and a `getaddrinfo` per publish, which made
//! sequential publishes several times slower than the other adapters. Remembering the answer
//! for [`TTL`] keeps requests on a kept-alive connection free of both; a new host or an
//! expired answer is resolved as before.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long an answer is reused.
pub(crate) const TTL: Duration = Duration::from_secs(30);

/// A [`Resolver`] that reuses the last answer for the same scheme and authority within a TTL.
#[derive(Debug)]
pub(crate) struct CachingResolver<R = DefaultResolver> {
    inner: R,
    ttl: Duration,
    last: Mutex<Option<Remembered>>,
}

#[derive(Debug)]
struct Remembered {
    key: String,
    at: Instant,
    addrs: ResolvedSocketAddrs,
}

impl Default for CachingResolver {
    fn default() -> Self {
        CachingResolver::new(DefaultResolver::default(), TTL)
    }
}

impl<R: Resolver> CachingResolver<R> {
    /// Answers from `inner`, each reused for `ttl`.
    pub(crate) fn new(inner: R, ttl: Duration) -> Self {
        CachingResolver {
            inner,
            ttl,
            last: Mutex::new(None),
        }
    }
}

impl<R: Resolver> Resolver for CachingResolver<R> {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let key = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or(""),
            uri.authority().map_or("", |a| a.as_str())
        );
        let now = Instant::now();
        {
            let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(r) = last.as_ref()
                && r.key == key
                && now.duration_since(r.at) < self.ttl
            {
                return Ok(r.addrs.clone());
            }
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(Remembered {
            key,
            at: now,
            addrs: addrs.clone(),
        });
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Counts its calls; answers with the default resolver (numeric addresses only).
    #[derive(Debug, Default)]
    struct Counting(AtomicUsize, DefaultResolver);

    impl Resolver for &'static Counting {
        fn resolve(
            &self,
            uri: &Uri,
            config: &Config,
            timeout: NextTimeout,
        ) -> Result<ResolvedSocketAddrs, ureq::Error> {
            self.0.fetch_add(1, Ordering::SeqCst);
            self.1.resolve(uri, config, timeout)
        }
    }

    fn resolve(r: &impl Resolver, uri: &str) -> ResolvedSocketAddrs {
        let uri: Uri = uri.parse().unwrap();
        let timeout = NextTimeout {
            after: ureq::unversioned::transport::time::Duration::NotHappening,
            reason: ureq::Timeout::Resolve,
            per_read: None,
            per_write: None,
        };
        r.resolve(&uri, &Config::default(), timeout).unwrap()
    }

    #[test]
    fn the_same_host_is_resolved_once_within_the_ttl() {
        let counting: &'static Counting = Box::leak(Box::default());
        let r = CachingResolver::new(counting, TTL);
        let first = resolve(&r, "http://127.0.0.1:8090/publish/a");
        let again = resolve(&r, "http://127.0.0.1:8090/time/0");
        assert_eq!(first.to_vec(), again.to_vec());
        assert_eq!(counting.0.load(Ordering::SeqCst), 1);
        // Another port is another host.
        let other = resolve(&r, "http://127.0.0.1:8091/time/0");
        assert_eq!(other[0].port(), 8091);
        assert_eq!(counting.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn an_expired_answer_is_resolved_again() {
        let counting: &'static Counting = Box::leak(Box::default());
        let r = CachingResolver::new(counting, Duration::ZERO);
        resolve(&r, "http://127.0.0.1:8090/a");
        resolve(&r, "http://127.0.0.1:8090/a");
        assert_eq!(counting.0.load(Ordering::SeqCst), 2);
    }
}
