//! The server's shared state: clock, key sets (history, groups, presence), wake-ups.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::watch;

use crate::faults::Faults;
use crate::groups::Groups;
use crate::history::History;
use crate::message::{Content, Kind, Stored};
use crate::options::Options;
use crate::parked::Parked;
use crate::presence::{Event, Limits, Presence};
use crate::timetoken::{Clock, now_secs_millis};

/// Everything the server knows about one subscribe key.
#[derive(Debug, Default)]
pub(crate) struct Keyset {
    /// Recent events per channel.
    pub history: History,
    /// Channel groups.
    pub groups: Groups,
    /// Presence.
    pub presence: Presence,
}

impl Keyset {
    /// The non-presence channels named directly or through groups, without duplicates.
    pub(crate) fn resolve(&self, channels: &[String], groups: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let direct = channels.iter().filter(|c| !c.ends_with("-pnpres"));
        let via_groups = groups
            .iter()
            .filter(|g| !g.ends_with("-pnpres"))
            .flat_map(|g| self.groups.members(g));
        for channel in direct.chain(via_groups) {
            if !out.contains(channel) {
                out.push(channel.clone());
            }
        }
        out
    }
}

/// A message about to be stored; the server assigns its timetoken.
#[derive(Debug)]
pub(crate) struct Draft {
    /// What it says.
    pub content: Content,
    /// A publish timetoken override (`ptto`).
    pub timetoken: Option<u64>,
}

/// State behind the lock.
#[derive(Debug, Default)]
pub(crate) struct Inner {
    /// The timetoken source.
    pub clock: Clock,
    keysets: HashMap<String, Keyset>,
}

impl Inner {
    /// The key set of `sub_key`, if it has any state.
    pub(crate) fn keyset(&self, sub_key: &str) -> Option<&Keyset> {
        self.keysets.get(sub_key)
    }

    /// The key set of `sub_key`, created if needed; `None` when `max_keysets` are in use.
    pub(crate) fn keyset_mut(&mut self, sub_key: &str, max_keysets: usize) -> Option<&mut Keyset> {
        if !self.keysets.contains_key(sub_key) && self.keysets.len() >= max_keysets {
            return None;
        }
        Some(self.keysets.entry(sub_key.to_owned()).or_default())
    }

    /// Every key set's name and presence, for the presence timer.
    pub(crate) fn keysets_mut(&mut self) -> impl Iterator<Item = (&String, &mut Keyset)> {
        self.keysets.iter_mut()
    }

    /// Stores `draft` on `sub_key` and returns its publish timetoken.
    pub(crate) fn store(&mut self, sub_key: &str, draft: Draft, options: &Options) -> Option<u64> {
        let order = self.clock.next();
        let keyset = self.keyset_mut(sub_key, options.max_keysets)?;
        let timetoken = draft.timetoken.unwrap_or(order);
        let stored = Stored {
            order,
            timetoken,
            content: draft.content,
        };
        keyset
            .history
            .push(stored, options.history_per_channel, options.max_channels);
        self.trim_history(options.max_history_bytes);
        Some(timetoken)
    }

    /// Forgets the oldest events of all key sets until they take at most `budget` bytes.
    fn trim_history(&mut self, budget: usize) {
        while self
            .keysets
            .values()
            .map(|k| k.history.bytes())
            .sum::<usize>()
            > budget
        {
            let oldest = self
                .keysets
                .values_mut()
                .filter_map(|k| k.history.oldest().map(|o| (o, k)))
                .min_by_key(|(o, _)| *o);
            match oldest {
                Some((_, keyset)) => keyset.history.pop_oldest(),
                None => return,
            }
        }
    }

    /// Publishes presence `events` on their `-pnpres` channels.
    pub(crate) fn emit(&mut self, sub_key: &str, events: Vec<Event>, options: &Options) {
        for event in events {
            let draft = presence_draft(event);
            self.store(sub_key, draft, options);
        }
    }
}

/// The `-pnpres` message of a presence event: `d` as the service shapes it, `u` with the
/// `pn_*` metadata it adds.
fn presence_draft(event: Event) -> Draft {
    #[derive(Serialize)]
    struct Single<'a> {
        action: &'static str,
        uuid: &'a str,
        timestamp: u64,
        precise_timestamp: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        data: Option<&'a Value>,
        occupancy: usize,
    }
    #[derive(Serialize)]
    struct Meta<'a> {
        pn_action: &'static str,
        pn_channel: &'a str,
        pn_ispresence: u8,
        pn_occupancy: usize,
        pn_precise_timestamp: u64,
        pn_timestamp: u64,
        pn_uuid: &'a str,
    }
    #[derive(Serialize)]
    struct Interval<'a> {
        action: &'static str,
        timestamp: u64,
        precise_timestamp: u64,
        occupancy: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        join: Option<&'a Vec<String>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        leave: Option<&'a Vec<String>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        timeout: Option<&'a Vec<String>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        here_now_refresh: Option<bool>,
    }
    let raw =
        |bytes: Vec<u8>| RawValue::from_string(String::from_utf8(bytes).unwrap_or_default()).ok();
    let (secs, millis) = now_secs_millis();
    let (channel, data, meta) = match &event {
        Event::Single {
            channel,
            action,
            uuid,
            occupancy,
            state,
        } => {
            let data = Single {
                action: action.name(),
                uuid,
                timestamp: secs,
                precise_timestamp: millis,
                data: state.as_ref(),
                occupancy: *occupancy,
            };
            let meta = Meta {
                pn_action: action.name(),
                pn_channel: channel,
                pn_ispresence: 1,
                pn_occupancy: *occupancy,
                pn_precise_timestamp: millis,
                pn_timestamp: secs,
                pn_uuid: uuid,
            };
            (
                channel,
                serde_json::to_vec(&data),
                raw(serde_json::to_vec(&meta).unwrap_or_default()),
            )
        }
        Event::Interval {
            channel,
            occupancy,
            lists,
        } => {
            let non_empty = |l: &'_ Vec<String>| !l.is_empty();
            let data = Interval {
                action: "interval",
                timestamp: secs,
                precise_timestamp: millis,
                occupancy: *occupancy,
                join: lists.as_ref().map(|l| &l.join).filter(|l| non_empty(l)),
                leave: lists.as_ref().map(|l| &l.leave).filter(|l| non_empty(l)),
                timeout: lists.as_ref().map(|l| &l.timeout).filter(|l| non_empty(l)),
                here_now_refresh: lists.is_none().then_some(true),
            };
            (channel, serde_json::to_vec(&data), None)
        }
    };
    Draft {
        content: Content {
            channel: format!("{channel}-pnpres"),
            kind: Kind::Presence,
            publisher: None,
            seqn: None,
            meta,
            data: data.ok().and_then(raw).unwrap_or_default(),
            cmt: None,
        },
        timetoken: None,
    }
}

/// What every request handler shares.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Configuration.
    pub options: Options,
    inner: Mutex<Inner>,
    /// Bumped after anything is stored, so parked long-polls look again.
    pub wake: watch::Sender<u64>,
    /// Set to true when the server shuts down; long-polls and stalls end.
    pub closing: watch::Sender<bool>,
    /// Fault rules and request counters.
    pub faults: Faults,
    /// Long-polls currently waiting, by channel/group name.
    pub parked: Parked,
    /// Whether to log each request to stderr (`PN_DEVSERVER_LOG=debug`).
    pub log_requests: bool,
}

impl Shared {
    /// New state for `options`.
    pub(crate) fn new(options: Options) -> Shared {
        Shared {
            options,
            inner: Mutex::new(Inner::default()),
            wake: watch::Sender::new(0),
            closing: watch::Sender::new(false),
            faults: Faults::default(),
            parked: Parked::default(),
            log_requests: std::env::var("PN_DEVSERVER_LOG").is_ok_and(|v| v == "debug"),
        }
    }

    /// Locks the state.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes parked long-polls after something was stored.
    pub(crate) fn notify(&self) {
        self.wake.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A fresh timetoken (for error bodies).
    pub(crate) fn timetoken(&self) -> u64 {
        self.lock().clock.next()
    }

    /// The presence limits from the options.
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            announce_max: self.options.announce_max,
            max_entries: self.options.max_presence_entries,
            max_list_bytes: self.options.interval_max_list_bytes,
        }
    }
}
