//! The channels and groups a client is subscribed to.

use std::collections::BTreeSet;

use crate::channel::{Channel, ChannelGroup, PRESENCE_SUFFIX};

/// The subscribed names, presence names (`-pnpres`) included, kept sorted and unique.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubscriptionSet {
    channels: BTreeSet<Channel>,
    groups: BTreeSet<ChannelGroup>,
}

/// What an unsubscribe removed, without presence names (those never get a leave).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Removed {
    /// Channels removed.
    pub channels: Vec<Channel>,
    /// Groups removed.
    pub groups: Vec<ChannelGroup>,
}

impl Removed {
    /// Whether nothing was removed.
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty() && self.groups.is_empty()
    }
}

fn is_presence(name: &str) -> bool {
    name.ends_with(PRESENCE_SUFFIX)
}

impl SubscriptionSet {
    /// Adds names (and their presence names when `with_presence`); whether anything changed.
    pub fn add(
        &mut self,
        channels: &[Channel],
        groups: &[ChannelGroup],
        with_presence: bool,
    ) -> bool {
        let mut changed = false;
        for c in channels {
            changed |= self.channels.insert(c.clone());
            if with_presence {
                changed |= self.channels.insert(c.presence());
            }
        }
        for g in groups {
            changed |= self.groups.insert(g.clone());
            if with_presence {
                changed |= self.groups.insert(g.presence());
            }
        }
        changed
    }

    /// How many names `add` would leave subscribed.
    pub fn len_after_add(
        &self,
        channels: &[Channel],
        groups: &[ChannelGroup],
        with_presence: bool,
    ) -> usize {
        let with_names = |c: &Channel| [Some(c.clone()), with_presence.then(|| c.presence())];
        let new_channels: BTreeSet<Channel> = channels
            .iter()
            .flat_map(with_names)
            .flatten()
            .filter(|c| !self.channels.contains(c))
            .collect();
        let with_names = |g: &ChannelGroup| [Some(g.clone()), with_presence.then(|| g.presence())];
        let new_groups: BTreeSet<ChannelGroup> = groups
            .iter()
            .flat_map(with_names)
            .flatten()
            .filter(|g| !self.groups.contains(g))
            .collect();
        self.len() + new_channels.len() + new_groups.len()
    }

    /// Removes names and their presence names; what was removed.
    pub fn remove(&mut self, channels: &[Channel], groups: &[ChannelGroup]) -> Removed {
        let mut removed = Removed::default();
        for c in channels {
            if self.channels.remove(c) && !is_presence(c.as_str()) {
                removed.channels.push(c.clone());
            }
            self.channels.remove(&c.presence());
        }
        for g in groups {
            if self.groups.remove(g) && !is_presence(g.as_str()) {
                removed.groups.push(g.clone());
            }
            self.groups.remove(&g.presence());
        }
        removed
    }

    /// Removes everything; what was removed (without presence names).
    pub fn clear(&mut self) -> Removed {
        let removed = self.presence_free();
        self.channels.clear();
        self.groups.clear();
        removed
    }

    /// The subscribed names that are not presence names (those that get heartbeats and leaves).
    pub fn presence_free(&self) -> Removed {
        Removed {
            channels: self
                .channels
                .iter()
                .filter(|c| !is_presence(c.as_str()))
                .cloned()
                .collect(),
            groups: self
                .groups
                .iter()
                .filter(|g| !is_presence(g.as_str()))
                .cloned()
                .collect(),
        }
    }

    /// All channels, sorted, presence names included.
    pub fn channels(&self) -> impl Iterator<Item = &Channel> {
        self.channels.iter()
    }

    /// All groups, sorted, presence names included.
    pub fn groups(&self) -> impl Iterator<Item = &ChannelGroup> {
        self.groups.iter()
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.channels.len() + self.groups.len()
    }

    /// Whether nothing is subscribed.
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty() && self.groups.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(s: &str) -> Channel {
        Channel::new(s).unwrap()
    }

    #[test]
    fn add_is_idempotent_and_remove_drops_presence() {
        let mut s = SubscriptionSet::default();
        assert!(s.add(&[ch("b"), ch("a")], &[], true));
        assert!(!s.add(&[ch("a")], &[], false));
        let names: Vec<_> = s.channels().map(|c| c.as_str()).collect();
        assert_eq!(names, ["a", "a-pnpres", "b", "b-pnpres"]);
        let r = s.remove(&[ch("a"), ch("zz")], &[]);
        assert_eq!(r.channels, [ch("a")]);
        assert_eq!(s.len(), 2);
        let g = ChannelGroup::new("g").unwrap();
        s.add(&[], std::slice::from_ref(&g), true);
        assert_eq!(
            s.len_after_add(&[ch("b"), ch("c")], std::slice::from_ref(&g), true),
            6
        );
        assert_eq!(s.presence_free().groups, [g]);
        let all = s.clear();
        assert_eq!(all.channels, [ch("b")]);
        assert!(s.is_empty());
    }
}
