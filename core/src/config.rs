//! The client's configuration and its validation.

use std::time::Duration;

use crate::channel::MAX_NAME_CHARS;
use crate::error::ConfigError;
use crate::retry::RetryPolicy;

/// The default origin of the real service.
pub const DEFAULT_ORIGIN: &str = "https://ps.pndsn.com";

/// Longest request timeout accepted: a day.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Smallest presence timeout the service accepts, in seconds.
pub const MIN_PRESENCE_TIMEOUT: u64 = 20;
/// Largest presence timeout accepted, in seconds.
pub const MAX_PRESENCE_TIMEOUT: u64 = 320;

/// Everything the core needs to know before it starts. Build with [`Config::new`], adjust the
/// public fields, and hand it to [`crate::Core::new`], which validates it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The subscribe key (required).
    pub subscribe_key: String,
    /// The publish key (needed to publish and signal).
    pub publish_key: Option<String>,
    /// The secret key: when set, every request is signed.
    pub secret_key: Option<String>,
    /// This client's user id (required, at most 92 characters).
    pub user_id: String,
    /// Access token sent as `auth`.
    pub auth_token: Option<String>,
    /// `https://host[:port]`, `http://host[:port]`, or a bare `host[:port]` meaning HTTPS.
    pub origin: String,
    /// Server-side filter expression for subscriptions.
    pub filter_expression: Option<String>,
    /// Presence timeout sent as `heartbeat` (seconds, 20..=320); `None` leaves the service default.
    pub presence_timeout: Option<u64>,
    /// Send a presence heartbeat this often (seconds); `None` or 0 sends none.
    pub heartbeat_interval: Option<u64>,
    /// Don't send `leave` when unsubscribing.
    pub suppress_leave_events: bool,
    /// Client-side timeout of a subscribe long-poll (310 s).
    pub subscribe_timeout: Duration,
    /// Client-side timeout of every other request (10 s).
    pub request_timeout: Duration,
    /// How the subscribe loop and heartbeats retry after failures.
    pub retry_policy: RetryPolicy,
    /// How many recent events to remember to drop re-deliveries (0 = off).
    pub dedupe_cache_size: usize,
    /// Largest message, URL-escaped with its channel name, that publish accepts (32 KiB).
    pub max_message_size: usize,
    /// Most channels plus groups in one subscribe.
    pub max_subscribed_names: usize,
    /// Opt-in ordered, retried publishing.
    pub reliable_publish: Option<ReliablePublish>,
    /// Sent as `pnsdk`.
    pub sdk_name: String,
}

/// Settings of reliable publishing: per channel, one publish in flight at a time, in order,
/// each retried per `retry` before the next is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReliablePublish {
    /// Most publishes waiting per channel before [`crate::CommandError::QueueFull`].
    pub queue_capacity: usize,
    /// At most this many publishes per second per channel (`None` = as fast as answers come).
    pub max_per_second: Option<u32>,
    /// How failed publishes are retried.
    pub retry: RetryPolicy,
    /// Whether retries that might publish a message twice are allowed.
    pub duplicates: DuplicatePolicy,
}

/// Whether a publish may be retried when the service might already have accepted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DuplicatePolicy {
    /// Retry only when the request provably was not acted on (connect failure, 429).
    Never,
    /// Also retry timeouts, broken connections and 5xx: a message may arrive twice.
    Accept,
}

impl Default for ReliablePublish {
    fn default() -> Self {
        ReliablePublish {
            queue_capacity: 1000,
            max_per_second: None,
            retry: RetryPolicy::default_linear(),
            duplicates: DuplicatePolicy::Never,
        }
    }
}

/// Where requests go, parsed from [`Config::origin`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// Whether to use TLS.
    pub tls: bool,
    /// `host[:port]`.
    pub authority: String,
}

impl Origin {
    /// Parses `https://host[:port]`, `http://host[:port]` or `host[:port]` (HTTPS).
    pub fn parse(origin: &str) -> Result<Origin, ConfigError> {
        let bad = || ConfigError::InvalidOrigin {
            origin: origin.into(),
        };
        let (tls, rest) = if let Some(r) = origin.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = origin.strip_prefix("http://") {
            (false, r)
        } else if origin.contains("://") {
            return Err(bad());
        } else {
            (true, origin)
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        let valid_char = |c: char| c.is_ascii_alphanumeric() || "-._:[]".contains(c);
        if authority.is_empty() || !authority.chars().all(valid_char) {
            return Err(bad());
        }
        if let Some((host, port)) = authority.rsplit_once(':')
            && !host.ends_with(']')
            && !host.contains(':')
            && (host.is_empty() || port.parse::<u16>().is_err())
        {
            return Err(bad());
        }
        Ok(Origin {
            tls,
            authority: authority.into(),
        })
    }

    /// `scheme://authority`.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme(), self.authority)
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }
}

impl Config {
    /// A configuration with the defaults for everything but the keys and user id.
    pub fn new(subscribe_key: impl Into<String>, user_id: impl Into<String>) -> Config {
        Config {
            subscribe_key: subscribe_key.into(),
            publish_key: None,
            secret_key: None,
            user_id: user_id.into(),
            auth_token: None,
            origin: DEFAULT_ORIGIN.into(),
            filter_expression: None,
            presence_timeout: None,
            heartbeat_interval: None,
            suppress_leave_events: false,
            subscribe_timeout: Duration::from_secs(310),
            request_timeout: Duration::from_secs(10),
            retry_policy: RetryPolicy::default_exponential(),
            dedupe_cache_size: 1000,
            max_message_size: 32 * 1024,
            max_subscribed_names: 1000,
            reliable_publish: None,
            sdk_name: concat!("PubNub-Rust-pn/", env!("CARGO_PKG_VERSION")).into(),
        }
    }

    /// Sets the publish key.
    pub fn with_publish_key(mut self, key: impl Into<String>) -> Config {
        self.publish_key = Some(key.into());
        self
    }

    /// Sets the origin.
    pub fn with_origin(mut self, origin: impl Into<String>) -> Config {
        self.origin = origin.into();
        self
    }

    /// Checks every setting; the origin, parsed, on success.
    pub fn validate(&self) -> Result<Origin, ConfigError> {
        let key_ok = |k: &str| {
            !k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        };
        if self.subscribe_key.is_empty() {
            return Err(ConfigError::MissingSubscribeKey);
        }
        if !key_ok(&self.subscribe_key) {
            return Err(ConfigError::InvalidKey { which: "subscribe" });
        }
        if self.publish_key.as_deref().is_some_and(|k| !key_ok(k)) {
            return Err(ConfigError::InvalidKey { which: "publish" });
        }
        if self.secret_key.as_deref().is_some_and(str::is_empty) {
            return Err(ConfigError::InvalidKey { which: "secret" });
        }
        if self.user_id.is_empty() {
            return Err(ConfigError::EmptyUserId);
        }
        let chars = self.user_id.chars().count();
        if chars > MAX_NAME_CHARS {
            return Err(ConfigError::UserIdTooLong {
                chars,
                max: MAX_NAME_CHARS,
            });
        }
        if self.user_id.chars().any(char::is_control) {
            return Err(ConfigError::InvalidUserId);
        }
        if let Some(t) = self.presence_timeout
            && !(MIN_PRESENCE_TIMEOUT..=MAX_PRESENCE_TIMEOUT).contains(&t)
        {
            return Err(ConfigError::PresenceTimeoutOutOfRange {
                seconds: t,
                min: MIN_PRESENCE_TIMEOUT,
                max: MAX_PRESENCE_TIMEOUT,
            });
        }
        if let Some(interval) = self.heartbeat_interval.filter(|i| *i > 0) {
            let timeout = self.effective_presence_timeout();
            if interval >= timeout {
                return Err(ConfigError::HeartbeatIntervalTooLong { interval, timeout });
            }
        }
        for (which, timeout) in [
            ("subscribe", self.subscribe_timeout),
            ("request", self.request_timeout),
        ] {
            if timeout.is_zero() {
                return Err(ConfigError::ZeroTimeout { which });
            }
            if timeout > MAX_TIMEOUT {
                return Err(ConfigError::TimeoutTooLong {
                    which,
                    max: MAX_TIMEOUT,
                });
            }
        }
        self.retry_policy.validate()?;
        if self.max_message_size == 0 {
            return Err(ConfigError::ZeroLimit {
                which: "max_message_size",
            });
        }
        if self.max_subscribed_names == 0 {
            return Err(ConfigError::ZeroLimit {
                which: "max_subscribed_names",
            });
        }
        if let Some(r) = &self.reliable_publish {
            r.retry.validate()?;
            if r.queue_capacity == 0 {
                return Err(ConfigError::ZeroLimit {
                    which: "reliable_publish.queue_capacity",
                });
            }
            if r.max_per_second == Some(0) {
                return Err(ConfigError::ZeroLimit {
                    which: "reliable_publish.max_per_second",
                });
            }
        }
        Origin::parse(&self.origin)
    }

    /// The presence timeout the service applies: the configured one or its default of 300 s.
    pub fn effective_presence_timeout(&self) -> u64 {
        self.presence_timeout.unwrap_or(300)
    }

    /// The heartbeat interval, if periodic heartbeats are on.
    pub fn heartbeat_every(&self) -> Option<Duration> {
        self.heartbeat_interval
            .filter(|i| *i > 0)
            .map(Duration::from_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> Config {
        Config::new("demo", "user-1").with_publish_key("demo")
    }

    #[test]
    fn defaults_validate_with_tls() {
        let o = ok().validate().unwrap();
        assert!(o.tls);
        assert_eq!(o.base_url(), "https://ps.pndsn.com");
    }

    #[test]
    fn origins() {
        let o = Origin::parse("http://127.0.0.1:8090").unwrap();
        assert_eq!((o.tls, o.authority.as_str()), (false, "127.0.0.1:8090"));
        assert!(Origin::parse("example.com").unwrap().tls);
        assert!(Origin::parse("http://[::1]:80/").is_ok());
        for bad in [
            "",
            "ftp://x",
            "http://",
            "host:notaport",
            "a b",
            "http://x/y",
            ":80",
        ] {
            assert!(
                matches!(Origin::parse(bad), Err(ConfigError::InvalidOrigin { .. })),
                "{bad:?}"
            );
        }
    }

    type Mutation = Box<dyn Fn(&mut Config)>;

    #[test]
    fn every_error() {
        let cases: Vec<(Mutation, ConfigError)> = vec![
            (
                Box::new(|c| c.subscribe_key.clear()),
                ConfigError::MissingSubscribeKey,
            ),
            (
                Box::new(|c| c.subscribe_key = "a/b".into()),
                ConfigError::InvalidKey { which: "subscribe" },
            ),
            (
                Box::new(|c| c.publish_key = Some("a b".into())),
                ConfigError::InvalidKey { which: "publish" },
            ),
            (
                Box::new(|c| c.secret_key = Some(String::new())),
                ConfigError::InvalidKey { which: "secret" },
            ),
            (Box::new(|c| c.user_id.clear()), ConfigError::EmptyUserId),
            (
                Box::new(|c| c.user_id = "u".repeat(93)),
                ConfigError::UserIdTooLong { chars: 93, max: 92 },
            ),
            (
                Box::new(|c| c.user_id = "a\nb".into()),
                ConfigError::InvalidUserId,
            ),
            (
                Box::new(|c| c.presence_timeout = Some(5)),
                ConfigError::PresenceTimeoutOutOfRange {
                    seconds: 5,
                    min: 20,
                    max: 320,
                },
            ),
            (
                Box::new(|c| {
                    c.presence_timeout = Some(60);
                    c.heartbeat_interval = Some(60)
                }),
                ConfigError::HeartbeatIntervalTooLong {
                    interval: 60,
                    timeout: 60,
                },
            ),
            (
                Box::new(|c| c.subscribe_timeout = Duration::ZERO),
                ConfigError::ZeroTimeout { which: "subscribe" },
            ),
            (
                Box::new(|c| c.request_timeout = Duration::ZERO),
                ConfigError::ZeroTimeout { which: "request" },
            ),
            (
                Box::new(|c| c.subscribe_timeout = Duration::MAX),
                ConfigError::TimeoutTooLong {
                    which: "subscribe",
                    max: MAX_TIMEOUT,
                },
            ),
            (
                Box::new(|c| {
                    c.retry_policy = RetryPolicy::Linear {
                        delay: Duration::from_secs(1),
                        max_retries: u32::MAX,
                    }
                }),
                ConfigError::InvalidRetryPolicy {
                    reason: "max_retries above 10000",
                },
            ),
            (
                Box::new(|c| c.max_message_size = 0),
                ConfigError::ZeroLimit {
                    which: "max_message_size",
                },
            ),
            (
                Box::new(|c| c.max_subscribed_names = 0),
                ConfigError::ZeroLimit {
                    which: "max_subscribed_names",
                },
            ),
            (
                Box::new(|c| {
                    c.reliable_publish = Some(ReliablePublish {
                        queue_capacity: 0,
                        ..Default::default()
                    })
                }),
                ConfigError::ZeroLimit {
                    which: "reliable_publish.queue_capacity",
                },
            ),
            (
                Box::new(|c| {
                    c.reliable_publish = Some(ReliablePublish {
                        max_per_second: Some(0),
                        ..Default::default()
                    })
                }),
                ConfigError::ZeroLimit {
                    which: "reliable_publish.max_per_second",
                },
            ),
            (
                Box::new(|c| c.origin = "gopher://x".into()),
                ConfigError::InvalidOrigin {
                    origin: "gopher://x".into(),
                },
            ),
        ];
        for (mutate, expected) in cases {
            let mut c = ok();
            mutate(&mut c);
            assert_eq!(c.validate(), Err(expected.clone()));
            assert!(!expected.to_string().is_empty());
        }
    }
}
