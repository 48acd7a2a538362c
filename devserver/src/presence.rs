//! Presence registry of one key set: who is on which channel until when, their state,
//! and the presence events that changes produce.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A presence action announced on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// A uuid arrived.
    Join,
    /// A uuid left explicitly.
    Leave,
    /// A uuid's presence timeout passed.
    Timeout,
    /// A uuid's state changed.
    StateChange,
}

impl Action {
    /// The `action` string.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Action::Join => "join",
            Action::Leave => "leave",
            Action::Timeout => "timeout",
            Action::StateChange => "state-change",
        }
    }
}

/// Uuids that joined, left and timed out since the last interval event.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Lists {
    /// Joined.
    pub join: Vec<String>,
    /// Left.
    pub leave: Vec<String>,
    /// Timed out.
    pub timeout: Vec<String>,
}

impl Lists {
    fn is_empty(&self) -> bool {
        self.join.is_empty() && self.leave.is_empty() && self.timeout.is_empty()
    }
}

/// A presence event to publish on `<channel>-pnpres`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// One uuid's join, leave, timeout or state change.
    Single {
        channel: String,
        action: Action,
        uuid: String,
        occupancy: usize,
        state: Option<Value>,
    },
    /// The periodic summary of a channel above `announce_max`; `lists` is `None` when they
    /// were too large (`here_now_refresh`).
    Interval {
        channel: String,
        occupancy: usize,
        lists: Option<Lists>,
    },
}

/// Limits the registry works within.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Occupancy above which single events turn into interval lists.
    pub announce_max: usize,
    /// Memberships plus states kept.
    pub max_entries: usize,
    /// Largest JSON size of an interval event's lists.
    pub max_list_bytes: usize,
}

#[derive(Debug, Default)]
struct Room {
    /// uuid → presence deadline.
    members: HashMap<String, Instant>,
    pending: Lists,
}

/// Presence of one key set.
#[derive(Debug, Default)]
pub(crate) struct Presence {
    rooms: HashMap<String, Room>,
    deadlines: BTreeSet<(Instant, String, String)>,
    states: HashMap<(String, String), Value>,
    memberships: usize,
}

impl Presence {
    fn entries(&self) -> usize {
        self.memberships + self.states.len()
    }

    /// Announces `action` of `uuid` on `channel`: a single event, or a pending list entry when
    /// the channel is above `announce_max`.
    fn announce(
        &mut self,
        channel: &str,
        action: Action,
        uuid: &str,
        limits: Limits,
        events: &mut Vec<Event>,
    ) {
        let occupancy = self.occupancy(channel);
        if occupancy > limits.announce_max {
            if let Some(room) = self.rooms.get_mut(channel) {
                let list = match action {
                    Action::Join => &mut room.pending.join,
                    Action::Leave => &mut room.pending.leave,
                    Action::Timeout => &mut room.pending.timeout,
                    Action::StateChange => return,
                };
                list.push(uuid.to_owned());
            }
            return;
        }
        let state = match action {
            Action::Join | Action::StateChange => self.state(channel, uuid).cloned(),
            Action::Leave | Action::Timeout => None,
        };
        events.push(Event::Single {
            channel: channel.to_owned(),
            action,
            uuid: uuid.to_owned(),
            occupancy,
            state,
        });
    }

    /// Marks `uuid` present on `channel` for `timeout` from `now`; a newcomer joins.
    pub(crate) fn touch(
        &mut self,
        channel: &str,
        uuid: &str,
        timeout: Duration,
        now: Instant,
        limits: Limits,
        events: &mut Vec<Event>,
    ) {
        let deadline = now + timeout;
        let existing = self
            .rooms
            .get(channel)
            .and_then(|room| room.members.get(uuid))
            .copied();
        match existing {
            Some(old) => {
                self.deadlines
                    .remove(&(old, channel.to_owned(), uuid.to_owned()));
            }
            None if self.entries() >= limits.max_entries => return,
            None => self.memberships += 1,
        }
        self.rooms
            .entry(channel.to_owned())
            .or_default()
            .members
            .insert(uuid.to_owned(), deadline);
        self.deadlines
            .insert((deadline, channel.to_owned(), uuid.to_owned()));
        if existing.is_none() {
            self.announce(channel, Action::Join, uuid, limits, events);
        }
    }

    /// Removes `uuid` from `channel` (`Leave` or `Timeout`); nothing happens if it was not there.
    pub(crate) fn remove(
        &mut self,
        channel: &str,
        uuid: &str,
        action: Action,
        limits: Limits,
        events: &mut Vec<Event>,
    ) {
        let Some(room) = self.rooms.get_mut(channel) else {
            return;
        };
        let Some(deadline) = room.members.remove(uuid) else {
            return;
        };
        self.memberships -= 1;
        self.deadlines
            .remove(&(deadline, channel.to_owned(), uuid.to_owned()));
        self.announce(channel, action, uuid, limits, events);
        self.drop_if_idle(channel);
    }

    fn drop_if_idle(&mut self, channel: &str) {
        if self
            .rooms
            .get(channel)
            .is_some_and(|room| room.members.is_empty() && room.pending.is_empty())
        {
            self.rooms.remove(channel);
        }
    }

    /// Times out every membership whose deadline is at or before `now`; returns the next deadline.
    pub(crate) fn expire(
        &mut self,
        now: Instant,
        limits: Limits,
        events: &mut Vec<Event>,
    ) -> Option<Instant> {
        while let Some((deadline, channel, uuid)) = self.deadlines.first().cloned() {
            if deadline > now {
                return Some(deadline);
            }
            self.remove(&channel, &uuid, Action::Timeout, limits, events);
        }
        None
    }

    /// Emits the interval event of every channel above `announce_max` or with pending lists.
    pub(crate) fn interval_tick(&mut self, limits: Limits, events: &mut Vec<Event>) {
        let mut idle = Vec::new();
        for (channel, room) in &mut self.rooms {
            let occupancy = room.members.len();
            if occupancy <= limits.announce_max && room.pending.is_empty() {
                continue;
            }
            let lists = std::mem::take(&mut room.pending);
            let size = serde_json::to_string(&(&lists.join, &lists.leave, &lists.timeout))
                .map_or(0, |s| s.len());
            let lists = (size <= limits.max_list_bytes).then_some(lists);
            events.push(Event::Interval {
                channel: channel.clone(),
                occupancy,
                lists,
            });
            if occupancy == 0 {
                idle.push(channel.clone());
            }
        }
        for channel in idle {
            self.drop_if_idle(&channel);
        }
    }

    /// Stores (or with `None` clears) the state of `uuid` on `channel`; a present uuid
    /// announces a state change. Returns false when the registry is full.
    pub(crate) fn set_state(
        &mut self,
        channel: &str,
        uuid: &str,
        state: Option<Value>,
        limits: Limits,
        events: &mut Vec<Event>,
    ) -> bool {
        let key = (channel.to_owned(), uuid.to_owned());
        match state {
            None => {
                self.states.remove(&key);
            }
            Some(state) => {
                if !self.states.contains_key(&key) && self.entries() >= limits.max_entries {
                    return false;
                }
                if self.states.get(&key) == Some(&state) {
                    return true;
                }
                self.states.insert(key, state);
            }
        }
        if self.is_present(channel, uuid) {
            self.announce(channel, Action::StateChange, uuid, limits, events);
        }
        true
    }

    /// The state of `uuid` on `channel`.
    pub(crate) fn state(&self, channel: &str, uuid: &str) -> Option<&Value> {
        self.states.get(&(channel.to_owned(), uuid.to_owned()))
    }

    /// Whether `uuid` is present on `channel`.
    pub(crate) fn is_present(&self, channel: &str, uuid: &str) -> bool {
        self.rooms
            .get(channel)
            .is_some_and(|room| room.members.contains_key(uuid))
    }

    /// How many uuids are present on `channel`.
    pub(crate) fn occupancy(&self, channel: &str) -> usize {
        self.rooms.get(channel).map_or(0, |room| room.members.len())
    }

    /// The uuids present on `channel`, sorted.
    pub(crate) fn occupants(&self, channel: &str) -> Vec<&str> {
        let mut uuids: Vec<&str> = self
            .rooms
            .get(channel)
            .map(|room| room.members.keys().map(String::as_str).collect())
            .unwrap_or_default();
        uuids.sort_unstable();
        uuids
    }

    /// Every channel with at least one occupant, sorted.
    pub(crate) fn occupied_channels(&self) -> Vec<&str> {
        let mut channels: Vec<&str> = self
            .rooms
            .iter()
            .filter(|(_, room)| !room.members.is_empty())
            .map(|(c, _)| c.as_str())
            .collect();
        channels.sort_unstable();
        channels
    }

    /// The channels `uuid` is present on, sorted.
    pub(crate) fn channels_of(&self, uuid: &str) -> Vec<&str> {
        let mut channels: Vec<&str> = self
            .rooms
            .iter()
            .filter(|(_, room)| room.members.contains_key(uuid))
            .map(|(c, _)| c.as_str())
            .collect();
        channels.sort_unstable();
        channels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        announce_max: 2,
        max_entries: 100,
        max_list_bytes: 1000,
    };

    #[test]
    fn join_refresh_timeout() {
        let mut p = Presence::default();
        let mut ev = Vec::new();
        let t0 = Instant::now();
        p.touch("c", "u1", Duration::from_secs(10), t0, LIMITS, &mut ev);
        p.touch(
            "c",
            "u1",
            Duration::from_secs(10),
            t0 + Duration::from_secs(5),
            LIMITS,
            &mut ev,
        );
        assert_eq!(ev.len(), 1, "a refresh is not a join");
        assert_eq!(
            p.expire(t0 + Duration::from_secs(12), LIMITS, &mut ev),
            Some(t0 + Duration::from_secs(15))
        );
        p.expire(t0 + Duration::from_secs(15), LIMITS, &mut ev);
        assert!(matches!(
            &ev[1],
            Event::Single {
                action: Action::Timeout,
                occupancy: 0,
                ..
            }
        ));
        assert_eq!(p.occupancy("c"), 0);
    }

    #[test]
    fn interval_mode_above_announce_max() {
        let mut p = Presence::default();
        let mut ev = Vec::new();
        let now = Instant::now();
        for u in ["a", "b", "c", "d"] {
            p.touch("ch", u, Duration::from_secs(60), now, LIMITS, &mut ev);
        }
        assert_eq!(ev.len(), 2, "only the first two joins are announced singly");
        ev.clear();
        p.remove("ch", "a", Action::Leave, LIMITS, &mut ev);
        assert!(ev.is_empty());
        p.interval_tick(LIMITS, &mut ev);
        let lists = Lists {
            join: vec!["c".into(), "d".into()],
            leave: vec!["a".into()],
            timeout: vec![],
        };
        assert_eq!(
            ev,
            vec![Event::Interval {
                channel: "ch".into(),
                occupancy: 3,
                lists: Some(lists)
            }]
        );
    }

    #[test]
    fn state_change_only_when_present() {
        let mut p = Presence::default();
        let mut ev = Vec::new();
        assert!(p.set_state("c", "u", Some(serde_json::json!({"a": 1})), LIMITS, &mut ev));
        assert!(ev.is_empty());
        p.touch(
            "c",
            "u",
            Duration::from_secs(60),
            Instant::now(),
            LIMITS,
            &mut ev,
        );
        assert!(matches!(
            &ev[0],
            Event::Single {
                action: Action::Join,
                state: Some(_),
                ..
            }
        ));
        p.set_state("c", "u", Some(serde_json::json!({"a": 2})), LIMITS, &mut ev);
        assert!(matches!(
            &ev[1],
            Event::Single {
                action: Action::StateChange,
                ..
            }
        ));
        assert_eq!(p.channels_of("u"), vec!["c"]);
    }
}
