//! Fault injection and request observation, controlled per server through [`Faults`].

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How many recent requests [`Faults::requests`] remembers.
const REQUEST_LOG_CAP: usize = 1000;

/// What goes wrong with a request a [`FaultRule`] selects.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Close the connection without answering.
    CloseConnection,
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Answer with this status (e.g. 500, 503, 429), a service-like JSON error body and,
    /// if given, a `Retry-After` header in seconds.
    Status {
        /// The HTTP status code.
        code: u16,
        /// The `Retry-After` value in seconds.
        retry_after: Option<u64>,
    },
    /// Send the headers with the full `Content-Length`, then half the body, then close.
    Truncate,
    /// Never answer; the request ends when the client gives up or the server shuts down.
    Stall,
}

/// Which of the matching requests a [`FaultRule`] hits.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// The next N matching requests, then the rule is spent.
    Next(u32),
    /// Each matching request with probability `fraction`, drawn from a generator seeded by `seed`.
    Random {
        /// Probability in `0.0..=1.0`.
        fraction: f64,
        /// Seed of the deterministic generator.
        seed: u64,
    },
}

/// A class of requests, by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// Every request (as a filter: matches all; as a counter: the total).
    Any,
    /// `/v2/subscribe/…`.
    Subscribe,
    /// `/publish/…` (publish and fire).
    Publish,
    /// `/signal/…`.
    Signal,
    /// `/v2/presence/…` (heartbeat, leave, here-now, where-now, state).
    Presence,
    /// `/v1/channel-registration/…`.
    ChannelGroups,
    /// `/time/0`.
    Time,
    /// Any other path (answered 404).
    Other,
}

impl Endpoint {
    /// The endpoint class of a request path.
    pub fn of_path(path: &str) -> Endpoint {
        let rest = path.strip_prefix('/').unwrap_or(path);
        let first = rest.split('/').next().unwrap_or("");
        match first {
            "publish" => Endpoint::Publish,
            "signal" => Endpoint::Signal,
            "time" => Endpoint::Time,
            "v2" if rest.starts_with("v2/subscribe/") => Endpoint::Subscribe,
            "v2" if rest.starts_with("v2/presence/") => Endpoint::Presence,
            "v1" if rest.starts_with("v1/channel-registration/") => Endpoint::ChannelGroups,
            _ => Endpoint::Other,
        }
    }

    /// Whether a request of class `actual` falls under this filter.
    fn covers(self, actual: Endpoint) -> bool {
        self == Endpoint::Any || self == actual
    }

    /// Index into the counters.
    fn index(self) -> usize {
        self as usize
    }
}

/// Number of [`Endpoint`] variants.
const ENDPOINTS: usize = 8;

/// A fault, the requests it hits, and the endpoint class it is limited to.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// What happens.
    pub fault: Fault,
    /// Which matching requests it happens to.
    pub target: Target,
    /// Only requests of this class match (`Endpoint::Any` for all).
    pub endpoint: Endpoint,
}

impl FaultRule {
    /// A rule hitting `target` requests of any endpoint.
    pub fn new(fault: Fault, target: Target) -> FaultRule {
        FaultRule {
            fault,
            target,
            endpoint: Endpoint::Any,
        }
    }

    /// The same rule limited to `endpoint`.
    pub fn on(self, endpoint: Endpoint) -> FaultRule {
        FaultRule { endpoint, ..self }
    }
}

/// One request as the server saw it arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// Path and query as sent (still percent-encoded).
    pub path_and_query: String,
    /// The endpoint class.
    pub endpoint: Endpoint,
}

/// A rule plus its remaining budget or generator state.
#[derive(Debug)]
struct ActiveRule {
    rule: FaultRule,
    remaining: u32,
    rng: u64,
}

impl ActiveRule {
    /// Whether this request is hit; advances the rule's state.
    fn fires(&mut self) -> bool {
        match self.rule.target {
            Target::Next(_) => {
                if self.remaining == 0 {
                    return false;
                }
                self.remaining -= 1;
                true
            }
            Target::Random { fraction, .. } => {
                self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = self.rng;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^= z >> 31;
                let draw = (z >> 11) as f64 / (1u64 << 53) as f64;
                draw < fraction
            }
        }
    }

    /// Whether the rule can never fire again.
    fn spent(&self) -> bool {
        matches!(self.rule.target, Target::Next(_)) && self.remaining == 0
    }
}

#[derive(Debug, Default)]
struct State {
    rules: Vec<ActiveRule>,
    counts: [u64; ENDPOINTS],
    log: VecDeque<RecordedRequest>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    arrived: Condvar,
}

/// Handle to a server's fault rules and request counters; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    shared: Arc<Shared>,
}

impl Faults {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a rule; rules are consulted in the order they were added, the first that fires wins.
    pub fn inject(&self, rule: FaultRule) {
        let remaining = match rule.target {
            Target::Next(n) => n,
            Target::Random { .. } => 0,
        };
        let rng = match rule.target {
            Target::Random { seed, .. } => seed,
            Target::Next(_) => 0,
        };
        self.lock().rules.push(ActiveRule {
            rule,
            remaining,
            rng,
        });
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// How many requests of `endpoint` arrived so far (`Endpoint::Any`: all of them),
    /// counting those a fault hit.
    pub fn request_count(&self, endpoint: Endpoint) -> u64 {
        self.lock().counts[endpoint.index()]
    }

    /// The most recent requests (at most 1000), oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().log.iter().cloned().collect()
    }

    /// Blocks until at least `n` requests of `endpoint` have arrived or `timeout` passes;
    /// returns whether the count was reached.
    pub fn wait_for_requests(&self, endpoint: Endpoint, n: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        while state.counts[endpoint.index()] < n {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = match self.shared.arrived.wait_timeout(state, deadline - now) {
                Ok((guard, _)) => guard,
                Err(e) => e.into_inner().0,
            };
        }
        true
    }

    /// Records an arriving request and returns the fault to apply to it, if any.
    pub(crate) fn arrive(
        &self,
        method: &str,
        path_and_query: &str,
        endpoint: Endpoint,
    ) -> Option<Fault> {
        let mut state = self.lock();
        state.counts[Endpoint::Any.index()] += 1;
        if endpoint != Endpoint::Any {
            state.counts[endpoint.index()] += 1;
        }
        if state.log.len() == REQUEST_LOG_CAP {
            state.log.pop_front();
        }
        state.log.push_back(RecordedRequest {
            method: method.to_owned(),
            path_and_query: path_and_query.chars().take(2048).collect(),
            endpoint,
        });
        let fault = state
            .rules
            .iter_mut()
            .filter(|r| r.rule.endpoint.covers(endpoint))
            .find_map(|r| r.fires().then(|| r.rule.fault.clone()));
        state.rules.retain(|r| !r.spent());
        drop(state);
        self.shared.arrived.notify_all();
        fault
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_n_fires_n_times_on_matching_endpoint_only() {
        let faults = Faults::default();
        faults.inject(FaultRule::new(Fault::Truncate, Target::Next(2)).on(Endpoint::Publish));
        assert_eq!(faults.arrive("GET", "/time/0", Endpoint::Time), None);
        assert_eq!(
            faults.arrive("GET", "/publish/a", Endpoint::Publish),
            Some(Fault::Truncate)
        );
        assert_eq!(
            faults.arrive("GET", "/publish/a", Endpoint::Publish),
            Some(Fault::Truncate)
        );
        assert_eq!(faults.arrive("GET", "/publish/a", Endpoint::Publish), None);
        assert_eq!(faults.request_count(Endpoint::Publish), 3);
        assert_eq!(faults.request_count(Endpoint::Any), 4);
    }

    #[test]
    fn random_is_deterministic_and_near_fraction() {
        let run = || {
            let faults = Faults::default();
            faults.inject(FaultRule::new(
                Fault::Stall,
                Target::Random {
                    fraction: 0.3,
                    seed: 7,
                },
            ));
            (0..1000)
                .map(|_| faults.arrive("GET", "/", Endpoint::Other).is_some())
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let hits = a.iter().filter(|h| **h).count();
        assert!((200..400).contains(&hits), "{hits}");
    }

    #[test]
    fn classification() {
        assert_eq!(
            Endpoint::of_path("/v2/subscribe/s/c/0"),
            Endpoint::Subscribe
        );
        assert_eq!(
            Endpoint::of_path("/v2/presence/sub-key/s/uuid/u"),
            Endpoint::Presence
        );
        assert_eq!(
            Endpoint::of_path("/v1/channel-registration/sub-key/s/channel-group"),
            Endpoint::ChannelGroups
        );
        assert_eq!(Endpoint::of_path("/nope"), Endpoint::Other);
    }
}
