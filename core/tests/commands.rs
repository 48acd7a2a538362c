//! Every `CommandError` a command can return: the typed error, and proof that nothing was queued
//! (no transport action, no event, nothing more in flight, no change of subscription).

mod support;

use pn_core::encoding::encoded_len;
use pn_core::{
    Channel, ChannelGroup, CommandError, Config, Core, NameUse, Publish, ReliablePublish,
    Subscribe, channel::MAX_NAME_CHARS,
};
use support::*;

/// A harness with one request already in flight (a `time` call), so "in_flight unchanged" means
/// something.
fn busy(config: Config) -> Harness {
    let mut h = Harness::new(config);
    let _ = h.core.time(h.now);
    h.drain();
    assert_eq!(h.core.in_flight(), 1);
    h
}

/// Asserts the failed command left no trace.
fn assert_nothing_queued(h: &mut Harness, in_flight_before: usize) {
    assert_eq!(
        h.core.poll_transmit(),
        None,
        "a failed command queued a request"
    );
    assert!(
        h.core.poll_event().is_none(),
        "a failed command emitted an event"
    );
    assert_eq!(h.core.in_flight(), in_flight_before);
}

fn check<T: std::fmt::Debug>(
    h: &mut Harness,
    result: Result<T, CommandError>,
    expected: impl Fn(&CommandError) -> bool,
) {
    let before = h.core.in_flight();
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => assert!(expected(&e), "unexpected error {e:?}"),
    }
    assert_nothing_queued(h, before);
}

fn ch(name: &str) -> Channel {
    Channel::new(name).unwrap()
}

fn group(name: &str) -> ChannelGroup {
    ChannelGroup::new(name).unwrap()
}

#[test]
fn empty_names_are_rejected() {
    let mut h = busy(config(linear(3)));
    assert_eq!(Channel::new(""), Err(CommandError::EmptyName));
    assert_eq!(ChannelGroup::new(""), Err(CommandError::EmptyName));
    assert_eq!(Channel::new(".*"), Err(CommandError::EmptyName));
    let r = Subscribe::channels([""]);
    check(&mut h, r, |e| *e == CommandError::EmptyName);
    let r = Publish::new("", &1).and_then(|p| h.core.publish(p, h.now));
    check(&mut h, r, |e| *e == CommandError::EmptyName);
}

#[test]
fn too_long_names_are_rejected() {
    let mut h = busy(config(linear(3)));
    let ok = "é".repeat(MAX_NAME_CHARS);
    assert!(Channel::new(&ok).is_ok(), "the limit counts characters");
    let long = "x".repeat(MAX_NAME_CHARS + 1);
    let too_long = |e: &CommandError| {
        *e == CommandError::NameTooLong {
            chars: MAX_NAME_CHARS + 1,
            max: MAX_NAME_CHARS,
        }
    };
    let r = Subscribe::channels([long.as_str()]);
    check(&mut h, r, too_long);
    let r = Subscribe::channels(["a"]).and_then(|s| s.groups([long.as_str()]));
    check(&mut h, r, too_long);
    let r = Publish::new(&long, &1).and_then(|p| h.core.publish(p, h.now));
    check(&mut h, r, too_long);
}

#[test]
fn reserved_characters_are_rejected() {
    let mut h = busy(config(linear(3)));
    for (name, bad) in [
        ("a,b", ','),
        ("a:b", ':'),
        ("a*b", '*'),
        ("a\u{0}b", '\u{0}'),
    ] {
        let r = Subscribe::channels([name]);
        check(
            &mut h,
            r,
            |e| matches!(e, CommandError::InvalidCharacter { character, .. } if *character == bad),
        );
        let r = Publish::new(name, &1).and_then(|p| h.core.publish(p, h.now));
        check(
            &mut h,
            r,
            |e| matches!(e, CommandError::InvalidCharacter { character, .. } if *character == bad),
        );
    }
    // A wildcard is fine for subscribing, not for publishing or in a group name.
    assert!(Channel::new("a.*").is_ok());
    let r = Publish::new("a.*", &1).and_then(|p| h.core.publish(p, h.now));
    check(&mut h, r, |e| {
        matches!(e, CommandError::InvalidCharacter { character: '*', .. })
    });
    assert!(matches!(
        Channel::parse("a.*", NameUse::Publish),
        Err(CommandError::InvalidCharacter { character: '*', .. })
    ));
    assert!(matches!(
        ChannelGroup::new("g.*"),
        Err(CommandError::InvalidCharacter { character: '*', .. })
    ));
}

#[test]
fn publishing_to_a_presence_channel_is_rejected() {
    let mut h = busy(config(linear(3)));
    let r = Publish::new("room-pnpres", &1).and_then(|p| h.core.publish(p, h.now));
    check(&mut h, r, |e| {
        *e == CommandError::ReservedName {
            name: "room-pnpres".into(),
        }
    });
    let r = Publish::signal("room-pnpres", &1).and_then(|p| h.core.publish(p, h.now));
    check(&mut h, r, |e| {
        matches!(e, CommandError::ReservedName { .. })
    });
}

#[test]
fn commands_without_names_are_rejected() {
    let mut h = busy(config(linear(3)));
    let r = h.core.subscribe(Subscribe::default(), h.now);
    check(&mut h, r, |e| *e == CommandError::NoChannels);
    let r = h.core.unsubscribe(&[], &[], h.now);
    check(&mut h, r, |e| *e == CommandError::NoChannels);
    let r = h.core.set_state(&[], &[], r#"{"a":1}"#, h.now);
    check(&mut h, r, |e| *e == CommandError::NoChannels);
    let r = h.core.get_state(&[], &[], None, h.now);
    check(&mut h, r, |e| *e == CommandError::NoChannels);
    let g = group("g");
    let r = h.core.add_channels_to_group(&g, &[], h.now);
    check(&mut h, r, |e| *e == CommandError::NoChannels);
    let r = h.core.remove_channels_from_group(&g, &[], h.now);
    check(&mut h, r, |e| *e == CommandError::NoChannels);
}

#[test]
fn too_many_channels_is_rejected_and_the_subscription_is_unchanged() {
    let mut cfg = config(linear(3));
    cfg.max_subscribed_names = 4;
    let mut h = busy(cfg);
    h.core
        .subscribe(Subscribe::channels(["a", "b"]).unwrap(), h.now)
        .unwrap();
    let hs = h.expect_one("/v2/subscribe");
    h.answer(hs.id, subscribe_body(100, 1, &[]));
    h.drain();
    let state = h.core.subscription_state().clone();
    let cursor = h.core.cursor();
    let before = h.core.subscribed_channels();

    // a, b, c, d, e: five names where four are allowed.
    let r = h
        .core
        .subscribe(Subscribe::channels(["c", "d", "e"]).unwrap(), h.now);
    check(&mut h, r, |e| {
        *e == CommandError::TooManyChannels { count: 5, max: 4 }
    });
    // With presence each added name counts twice: a, b, c, c-pnpres, d, d-pnpres.
    let r = h.core.subscribe(
        Subscribe::channels(["c", "d"]).unwrap().with_presence(true),
        h.now,
    );
    check(&mut h, r, |e| {
        *e == CommandError::TooManyChannels { count: 6, max: 4 }
    });
    let r = h.core.subscribe(
        Subscribe::channels(["c"])
            .unwrap()
            .groups(["g1", "g2"])
            .unwrap(),
        h.now,
    );
    check(&mut h, r, |e| {
        *e == CommandError::TooManyChannels { count: 5, max: 4 }
    });
    assert_eq!(h.core.subscribed_channels(), before);
    assert_eq!(h.core.subscription_state(), &state);
    assert_eq!(h.core.cursor(), cursor);
    // Exactly at the limit passes.
    h.core
        .subscribe(Subscribe::channels(["c", "d"]).unwrap(), h.now)
        .unwrap();
    assert!(h.core.poll_transmit().is_some());
}

/// A message whose escaped size with channel `ch` is exactly `size` (ASCII letters only, so
/// each character counts one).
fn message_of_size(channel: &str, size: usize) -> String {
    // `"` is escaped to `%22`: two of them cost 6.
    let letters = size - encoded_len(channel) - 6;
    "x".repeat(letters)
}

#[test]
fn message_size_limit_counts_the_escaped_channel_and_message() {
    let mut cfg = config(linear(3));
    cfg.max_message_size = 1000;
    let mut h = busy(cfg);
    let channel = "ch ü"; // escaped: ch%20%C3%BC (11 bytes)
    assert_eq!(encoded_len(channel), 11);

    let at_limit = Publish::new(channel, &message_of_size(channel, 1000)).unwrap();
    assert_eq!(at_limit.escaped_size(), 1000);
    h.core.publish(at_limit, h.now).unwrap();
    assert_eq!(h.drain().len(), 1, "exactly at the limit is sent");

    let over = Publish::new(channel, &message_of_size(channel, 1001)).unwrap();
    assert_eq!(over.escaped_size(), 1001);
    let r = h.core.publish(over.clone(), h.now);
    check(&mut h, r, |e| {
        *e == CommandError::MessageTooLarge {
            size: 1001,
            limit: 1000,
        }
    });
    let r = h.core.publish_request(over, h.now);
    check(&mut h, r, |e| {
        matches!(e, CommandError::MessageTooLarge { .. })
    });

    // Characters that escape count three times each.
    let spaces = Publish::new("c", &" ".repeat(332)).unwrap();
    assert_eq!(spaces.escaped_size(), 1 + 6 + 332 * 3);
    let r = h.core.publish(spaces, h.now);
    check(&mut h, r, |e| {
        *e == CommandError::MessageTooLarge {
            size: 1003,
            limit: 1000,
        }
    });
}

#[test]
fn default_limit_is_32_kib() {
    let mut h = busy(config(linear(3)));
    let ok = Publish::new("c", &message_of_size("c", 32 * 1024)).unwrap();
    h.core.publish(ok, h.now).unwrap();
    assert_eq!(h.drain().len(), 1);
    let over = Publish::new("c", &message_of_size("c", 32 * 1024 + 1)).unwrap();
    let r = h.core.publish(over, h.now);
    check(&mut h, r, |e| {
        *e == CommandError::MessageTooLarge {
            size: 32 * 1024 + 1,
            limit: 32 * 1024,
        }
    });
}

#[test]
fn publishing_without_a_publish_key_is_rejected() {
    let mut h = busy(Config::new("sub", "u"));
    let r = h.core.publish(Publish::new("c", &1).unwrap(), h.now);
    check(&mut h, r, |e| *e == CommandError::MissingPublishKey);
    let r = h.core.publish(Publish::signal("c", &1).unwrap(), h.now);
    check(&mut h, r, |e| *e == CommandError::MissingPublishKey);
    let r = h
        .core
        .publish_request(Publish::new("c", &1).unwrap(), h.now);
    check(&mut h, r, |e| *e == CommandError::MissingPublishKey);
}

#[test]
fn invalid_json_is_rejected() {
    let mut h = busy(config(linear(3)));
    for bad in ["{nope", "", "[1,", "1 2", "'single'", "{\"a\":}"] {
        let r = Publish::raw("c", bad).and_then(|p| h.core.publish(p, h.now));
        check(&mut h, r, |e| matches!(e, CommandError::InvalidJson { .. }));
        let r = Publish::new("c", &1)
            .and_then(|p| p.meta_raw(bad))
            .and_then(|p| h.core.publish(p, h.now));
        check(&mut h, r, |e| matches!(e, CommandError::InvalidJson { .. }));
        let r = h.core.set_state(&[ch("c")], &[], bad, h.now);
        check(&mut h, r, |e| matches!(e, CommandError::InvalidJson { .. }));
    }
    // A map with non-string keys cannot become JSON.
    let m: std::collections::HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
    let r = Publish::new("c", &m);
    check(&mut h, r, |e| matches!(e, CommandError::InvalidJson { .. }));
}

#[test]
fn meta_and_state_must_be_objects() {
    let mut h = busy(config(linear(3)));
    for not_object in ["[1]", "1", "\"s\"", "null", "true"] {
        let r = Publish::new("c", &1)
            .and_then(|p| p.meta_raw(not_object))
            .and_then(|p| h.core.publish(p, h.now));
        check(&mut h, r, |e| {
            *e == CommandError::NotAnObject { what: "meta" }
        });
        let r = h.core.set_state(&[ch("c")], &[], not_object, h.now);
        check(&mut h, r, |e| {
            *e == CommandError::NotAnObject { what: "state" }
        });
    }
    let r = Publish::new("c", &1).and_then(|p| p.meta(&vec![1, 2]));
    check(&mut h, r, |e| {
        *e == CommandError::NotAnObject { what: "meta" }
    });
    // A rejected set_state leaves no state behind: the next handshake carries none.
    h.core
        .subscribe(Subscribe::channels(["c"]).unwrap(), h.now)
        .unwrap();
    let hs = h.expect_one("/v2/subscribe");
    assert_eq!(query_param(&hs, "state"), None);
}

#[test]
fn invalid_custom_message_types_are_rejected() {
    let mut h = busy(config(linear(3)));
    for bad in ["ab", "-abc", "_abc", &"x".repeat(51)] {
        let r = Publish::new("c", &1)
            .and_then(|p| p.custom_message_type(bad))
            .and_then(|p| h.core.publish(p, h.now));
        check(&mut h, r, |e| {
            *e == CommandError::InvalidMessageType { value: bad.into() }
        });
    }
    for (bad, c) in [("a b c", ' '), ("abc!", '!'), ("émoji", 'é')] {
        let r = Publish::new("c", &1)
            .and_then(|p| p.custom_message_type(bad))
            .and_then(|p| h.core.publish(p, h.now));
        check(
            &mut h,
            r,
            |e| matches!(e, CommandError::InvalidCharacter { character, .. } if *character == c),
        );
    }
    let ok = Publish::new("c", &1)
        .unwrap()
        .custom_message_type(&"x".repeat(50))
        .unwrap();
    h.core.publish(ok, h.now).unwrap();
    assert_eq!(h.drain().len(), 1);
}

#[test]
fn full_reliable_queue_is_rejected() {
    let mut cfg = config(linear(3));
    cfg.reliable_publish = Some(ReliablePublish {
        queue_capacity: 2,
        ..ReliablePublish::default()
    });
    let mut h = busy(cfg);
    h.core
        .publish(Publish::new("c", &1).unwrap(), h.now)
        .unwrap();
    h.core
        .publish(Publish::new("c", &2).unwrap(), h.now)
        .unwrap();
    assert_eq!(h.drain().len(), 1, "one publish per channel in flight");
    let in_flight = h.core.in_flight();
    let r = h.core.publish(Publish::new("c", &3).unwrap(), h.now);
    check(&mut h, r, |e| {
        *e == CommandError::QueueFull {
            channel: ch("c"),
            capacity: 2,
        }
    });
    assert_eq!(h.core.in_flight(), in_flight);
    // Another channel has its own queue.
    h.core
        .publish(Publish::new("d", &1).unwrap(), h.now)
        .unwrap();
    assert_eq!(h.drain().len(), 1);
}

#[test]
fn invalid_uuids_are_rejected() {
    let mut h = busy(config(linear(3)));
    let long = "u".repeat(MAX_NAME_CHARS + 1);
    type Check = fn(&CommandError) -> bool;
    let cases: [(&str, Check); 3] = [
        ("", |e| *e == CommandError::EmptyName),
        (&long, |e| {
            *e == CommandError::NameTooLong {
                chars: MAX_NAME_CHARS + 1,
                max: MAX_NAME_CHARS,
            }
        }),
        ("a\nb", |e| {
            matches!(
                e,
                CommandError::InvalidCharacter {
                    character: '\n',
                    ..
                }
            )
        }),
    ];
    for (uuid, expected) in cases {
        let r = h.core.where_now(Some(uuid), h.now);
        check(&mut h, r, expected);
        let r = h.core.get_state(&[ch("c")], &[], Some(uuid), h.now);
        check(&mut h, r, expected);
    }
}

#[test]
fn invalid_timetokens_are_rejected() {
    for bad in ["", "-1", "1.5", "abc", "99999999999999999999"] {
        assert_eq!(
            bad.parse::<pn_core::Timetoken>(),
            Err(CommandError::InvalidTimetoken { value: bad.into() })
        );
    }
}

#[test]
fn a_valid_core_is_untouched_by_a_string_of_errors() {
    // After every kind of rejected command the core still works and its ids stay dense.
    let mut h = Harness::new(config(linear(3)));
    let _ = h.core.subscribe(Subscribe::default(), h.now);
    let _ = h.core.set_state(&[ch("c")], &[], "[]", h.now);
    let _ = h.core.where_now(Some(""), h.now);
    assert_eq!(h.core.poll_transmit(), None);
    let _ = Core::new(Config::new("", "u"), 1, h.now, std::time::Duration::ZERO)
        .expect_err("no subscribe key");
    h.core
        .subscribe(Subscribe::channels(["c"]).unwrap(), h.now)
        .unwrap();
    let hs = h.expect_one("/v2/subscribe");
    assert_eq!(query_param(&hs, "tt"), Some("0"));
}

#[test]
fn a_clock_at_the_end_of_time_signs_without_panicking() {
    let now = std::time::Instant::now();
    let mut config = pn_core::Config::new("sub", "u").with_publish_key("pub");
    config.secret_key = Some("sec".into());
    let mut core = pn_core::Core::new(config, 1, now, std::time::Duration::MAX).unwrap();
    core.time(now + std::time::Duration::from_secs(10));
    let Some(pn_core::TransportAction::Send(r)) = core.poll_transmit() else {
        panic!("a time request")
    };
    assert!(
        r.path_and_query
            .contains(&format!("timestamp={}", u64::MAX))
    );
}
