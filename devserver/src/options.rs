//! Server configuration.

use std::collections::HashMap;
use std::time::Duration;

/// Configuration of a dev server; start from `Options::default()` and override fields.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long a subscribe long-poll is held before it answers `"m":[]` (service: 280 s).
    pub hold_time: Duration,
    /// The region number sent as `t.r` and `p.r`.
    pub region: u32,
    /// Most messages one subscribe response carries; older ones beyond it are dropped (service: 100).
    pub queue_cap: usize,
    /// Largest publish, counted as escaped channel name + escaped message JSON (service: 32 768).
    pub max_message_size: usize,
    /// Largest signal payload in bytes of JSON (service: 64).
    pub max_signal_size: usize,
    /// Longest accepted request target (path and query) before 414 (service: 32 KiB).
    pub max_url_length: usize,
    /// Largest accepted request body before 413.
    pub max_body_size: usize,
    /// Most channels plus groups named in one request before 400.
    pub max_channels_per_request: usize,
    /// Messages kept per channel so that a resuming subscriber catches up.
    pub history_per_channel: usize,
    /// Channels with kept messages per key set; the least recently used is forgotten beyond it.
    pub max_channels: usize,
    /// Approximate memory all kept events may take; the oldest are forgotten beyond it.
    pub max_history_bytes: usize,
    /// Channel groups per key set.
    pub max_groups: usize,
    /// Channels per channel group.
    pub max_channels_per_group: usize,
    /// Presence memberships plus stored states per key set.
    pub max_presence_entries: usize,
    /// Distinct subscribe keys the server keeps state for.
    pub max_keysets: usize,
    /// Occupancy above which a channel switches from join/leave events to interval events (service: 20).
    pub announce_max: usize,
    /// Period of interval presence events (service: 10 s).
    pub interval: Duration,
    /// Largest JSON size of an interval event's join/leave/timeout lists before `here_now_refresh`.
    pub interval_max_list_bytes: usize,
    /// Presence timeout applied when a request carries no `heartbeat` parameter (service: 300 s).
    pub presence_timeout: Duration,
    /// When set, every request except `/time` must carry a valid v2 `signature`.
    pub secret_key: Option<String>,
    /// Publish key used in the string to sign; when `None`, the publish path's key (else empty).
    pub publish_key: Option<String>,
    /// Access control: auth token → channels and groups it grants (`*` and `a.*` allowed);
    /// `None` turns access control off.
    pub grants: Option<HashMap<String, Vec<String>>>,
    /// How long a graceful shutdown waits for open connections before closing them.
    pub shutdown_grace: Duration,
    /// A channel whose subscribers get, on every receive, a full page (`queue_cap`) of numbered
    /// messages at once, with no publisher involved: a source for measuring a subscriber alone.
    /// Its handshake cursor is [`FIREHOSE_START`]; message `n` (`{"seq":n,…}`) has timetoken
    /// `FIREHOSE_START + n + 1`. `None` (the default): no such channel.
    pub firehose: Option<String>,
}

/// The cursor a firehose handshake answers with (see [`Options::firehose`]).
pub const FIREHOSE_START: u64 = 17_000_000_000_000_000;

impl Default for Options {
    fn default() -> Self {
        Options {
            hold_time: Duration::from_secs(280),
            region: 1,
            queue_cap: 100,
            max_message_size: 32_768,
            max_signal_size: 64,
            max_url_length: 32_768,
            max_body_size: 1 << 20,
            max_channels_per_request: 1000,
            history_per_channel: 1000,
            max_channels: 100_000,
            max_history_bytes: 128 << 20,
            max_groups: 10_000,
            max_channels_per_group: 2000,
            max_presence_entries: 100_000,
            max_keysets: 1000,
            announce_max: 20,
            interval: Duration::from_secs(10),
            interval_max_list_bytes: 30_000,
            presence_timeout: Duration::from_secs(300),
            secret_key: None,
            publish_key: None,
            grants: None,
            shutdown_grace: Duration::from_secs(2),
            firehose: None,
        }
    }
}
