//! Per-channel bounded logs of recent events, so that a subscriber resuming from its last
//! cursor receives what was published meanwhile.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::message::Stored;

/// One channel's recent events, oldest first.
#[derive(Debug, Default)]
struct ChannelLog {
    events: VecDeque<Arc<Stored>>,
    last_order: u64,
}

/// The recent events of every channel of a key set.
#[derive(Debug, Default)]
pub(crate) struct History {
    channels: HashMap<String, ChannelLog>,
    bytes: usize,
}

/// Approximate memory an event holds.
fn size_of(event: &Stored) -> usize {
    const OVERHEAD: usize = 96;
    OVERHEAD
        + event.content.data.get().len()
        + event.content.meta.as_ref().map_or(0, |m| m.get().len())
        + event.content.channel.len()
        + event.content.publisher.as_ref().map_or(0, String::len)
        + event.content.cmt.as_ref().map_or(0, String::len)
}

impl History {
    /// Appends `event`, keeping at most `per_channel` events per channel and `max_channels`
    /// channels (the channel with the oldest last event is forgotten first).
    pub(crate) fn push(&mut self, event: Stored, per_channel: usize, max_channels: usize) {
        if !self.channels.contains_key(&event.content.channel)
            && self.channels.len() >= max_channels.max(1)
        {
            let oldest = self
                .channels
                .iter()
                .min_by_key(|(_, log)| log.last_order)
                .map(|(name, _)| name.clone());
            if let Some(log) = oldest.and_then(|name| self.channels.remove(&name)) {
                self.bytes -= log.events.iter().map(|e| size_of(e)).sum::<usize>();
            }
        }
        self.bytes += size_of(&event);
        let log = self
            .channels
            .entry(event.content.channel.clone())
            .or_default();
        log.last_order = event.order;
        log.events.push_back(Arc::new(event));
        while log.events.len() > per_channel.max(1) {
            if let Some(dropped) = log.events.pop_front() {
                self.bytes -= size_of(&dropped);
            }
        }
    }

    /// Approximate memory held by the kept events.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The order of the oldest kept event.
    pub(crate) fn oldest(&self) -> Option<u64> {
        self.channels
            .values()
            .filter_map(|log| log.events.front())
            .map(|e| e.order)
            .min()
    }

    /// Forgets the oldest kept event.
    pub(crate) fn pop_oldest(&mut self) {
        let oldest = self
            .channels
            .iter()
            .filter_map(|(name, log)| log.events.front().map(|e| (e.order, name)))
            .min()
            .map(|(_, name)| name.clone());
        let Some(name) = oldest else { return };
        if let Some(log) = self.channels.get_mut(&name) {
            if let Some(dropped) = log.events.pop_front() {
                self.bytes -= size_of(&dropped);
            }
            if log.events.is_empty() {
                self.channels.remove(&name);
            }
        }
    }

    /// The events of `channel` whose order is after `cursor`, oldest first.
    pub(crate) fn after(&self, channel: &str, cursor: u64) -> impl Iterator<Item = &Arc<Stored>> {
        let events = self.channels.get(channel).map(|log| {
            let start = log.events.partition_point(|e| e.order <= cursor);
            log.events.range(start..)
        });
        events.into_iter().flatten()
    }

    /// Every channel name that has events.
    pub(crate) fn channel_names(&self) -> impl Iterator<Item = &String> {
        self.channels.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Content, Kind};
    use serde_json::value::RawValue;

    fn event(channel: &str, order: u64) -> Stored {
        Stored {
            order,
            timetoken: order,
            content: Content {
                channel: channel.into(),
                kind: Kind::Message,
                publisher: None,
                seqn: None,
                meta: None,
                data: RawValue::from_string("1".into()).unwrap(),
                cmt: None,
            },
        }
    }

    #[test]
    fn bounded_and_ordered() {
        let mut h = History::default();
        for order in 1..=5 {
            h.push(event("a", order), 3, 10);
        }
        let orders: Vec<u64> = h.after("a", 0).map(|e| e.order).collect();
        assert_eq!(orders, vec![3, 4, 5]);
        assert_eq!(h.after("a", 4).count(), 1);
        assert_eq!(h.after("zzz", 0).count(), 0);
        h.push(event("b", 6), 3, 2);
        h.push(event("c", 7), 3, 2);
        assert_eq!(h.after("a", 0).count(), 0, "a was least recently used");
        assert_eq!(h.channel_names().count(), 2);
        let before = h.bytes();
        assert_eq!(h.oldest(), Some(6));
        h.pop_oldest();
        assert_eq!(h.oldest(), Some(7));
        assert!(h.bytes() < before);
        h.pop_oldest();
        assert_eq!((h.oldest(), h.bytes()), (None, 0));
    }
}
