//! The `d` of a presence envelope → [`Presence`]. Lenient: a member of an unexpected type is
//! left out, and a `d` that is not an object still gives a presence event (action `Other("")`).

use serde_json::value::RawValue;

use super::body::{given, raw_as, raw_bool, raw_str, raw_u64, wire_object};
use crate::event::{Presence, PresenceAction};

wire_object! {
    /// The members of a presence `d`, kept raw so each can fail on its own.
    struct WirePresence<'a> {
        action: &'a RawValue,
        uuid: &'a RawValue,
        occupancy: &'a RawValue,
        timestamp: &'a RawValue,
        data: &'a RawValue,
        join: &'a RawValue,
        leave: &'a RawValue,
        timeout: &'a RawValue,
        here_now_refresh: &'a RawValue,
    }
}

/// Reads what can be read of a presence payload; never fails.
pub(super) fn parse(d: &RawValue) -> Presence {
    let wire: WirePresence<'_> = serde_json::from_str(d.get()).unwrap_or_default();
    let action = wire
        .action
        .and_then(raw_str)
        .map_or(PresenceAction::Other(String::new()), |a| {
            PresenceAction::from_wire(&a)
        });
    Presence {
        action,
        uuid: wire.uuid.and_then(raw_str).map(|u| u.into_owned()),
        occupancy: wire.occupancy.and_then(raw_u64),
        timestamp: wire.timestamp.and_then(raw_u64),
        state: given(wire.data).map(RawValue::to_owned),
        join: wire.join.and_then(raw_as),
        leave: wire.leave.and_then(raw_as),
        timeout: wire.timeout.and_then(raw_as),
        here_now_refresh: wire.here_now_refresh.and_then(raw_bool),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presence(d: &str) -> Presence {
        parse(&RawValue::from_string(d.to_owned()).unwrap())
    }

    #[test]
    fn join_with_precise_timestamp() {
        let p = presence(
            r#"{"action": "join", "timestamp": 1481896358, "uuid": "test-subscribe-asyncio-listener", "occupancy": 1, "precise_timestamp": 1481896358123}"#,
        );
        assert_eq!(p.action, PresenceAction::Join);
        assert_eq!(p.uuid.as_deref(), Some("test-subscribe-asyncio-listener"));
        assert_eq!(p.occupancy, Some(1));
        assert_eq!(p.timestamp, Some(1481896358));
        assert!(p.state.is_none() && p.join.is_none() && p.here_now_refresh.is_none());
    }

    #[test]
    fn state_change_keeps_state_bytes() {
        let p = presence(
            r#"{"action":"state-change","uuid":"u","timestamp":1,"occupancy":3,"data":{"state": "cool"}}"#,
        );
        assert_eq!(p.action, PresenceAction::StateChange);
        assert_eq!(
            p.state.as_ref().map(|s| s.get()),
            Some(r#"{"state": "cool"}"#)
        );
    }

    #[test]
    fn interval_with_deltas() {
        let p = presence(
            r#"{"action":"interval","timestamp":1,"occupancy":4,"join":["a","b"],"leave":[],"timeout":["c"],"here_now_refresh":true}"#,
        );
        assert_eq!(p.action, PresenceAction::Interval);
        assert_eq!(p.uuid, None);
        assert_eq!(p.join, Some(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(p.leave, Some(vec![]));
        assert_eq!(p.timeout, Some(vec!["c".to_owned()]));
        assert_eq!(p.here_now_refresh, Some(true));
    }

    #[test]
    fn unexpected_shapes_keep_what_they_can() {
        let p = presence(
            r#"{"action":"bounce","uuid":7,"occupancy":"x","join":[1],"here_now_refresh":"yes"}"#,
        );
        assert_eq!(p.action, PresenceAction::Other("bounce".into()));
        assert_eq!(
            (p.uuid, p.occupancy, p.join, p.here_now_refresh),
            (None, None, None, None)
        );
        for odd in [r#""hello""#, "[1,2]", "null", "3", r#"{"action":1}"#] {
            let p = presence(odd);
            assert_eq!(p.action, PresenceAction::Other(String::new()), "{odd}");
        }
    }
}
