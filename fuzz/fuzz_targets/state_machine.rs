//! The whole `Core` driven by a sequence of steps: commands over a small alphabet of names,
//! answers to chosen requests in flight (raw, well-formed, or subscribe bodies built from parts
//! with duplicate envelopes), transport failures of every kind, answers to requests already
//! cancelled or answered, and jumps of the virtual clock. `pn_fuzz_checks::Driver` checks the
//! invariants after every step.
#![no_main]

use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pn_core::{
    Channel, ChannelGroup, Config, DuplicatePolicy, HereNowQuery, Publish, ReliablePublish,
    Response, RetryPolicy, Subscribe, Timetoken, TransportError, TransportErrorKind,
};
use pn_fuzz_checks::{Driver, Target, fitting_answer};

/// Channels commands use: plain, with characters to encode, and a wildcard.
const CHANNELS: [&str; 5] = ["a", "b", "ch 1", "ü/x", "w.*"];
const GROUPS: [&str; 2] = ["g", "h"];
/// Channels envelopes arrive on: subscribed or not, presence, matched by the wildcard.
const ENVELOPE_CHANNELS: [&str; 8] = ["a", "b", "ch 1", "ü/x", "w.x", "a-pnpres", "b-pnpres", "zz"];
const PAYLOADS: [&str; 8] = [
    r#""hi""#,
    r#"{"text":"hi"}"#,
    r#"{ "text" : "hi" }"#,
    "1",
    "[1,2]",
    "null",
    r#"{"action":"join","uuid":"u","timestamp":1,"occupancy":1}"#,
    r#""\u00e9\n""#,
];
const BASE: u64 = 17_000_000_000_000_000;

#[derive(Arbitrary, Debug)]
struct Input {
    setup: Setup,
    steps: Vec<Step>,
}

#[derive(Arbitrary, Debug)]
struct Setup {
    seed: u64,
    heartbeat_interval: Option<u8>,
    presence_timeout: Option<u16>,
    retry: Retry,
    dedupe: u8,
    suppress_leave: bool,
    secret: bool,
    auth: bool,
    /// A filter expression, a user id with characters to encode, at most 3 names.
    filter: bool,
    odd_user_id: bool,
    few_names: bool,
    /// Subscribe and request timeouts from `TIMEOUTS` (some refused by `Config::validate`).
    timeouts: Option<(u8, u8)>,
    reliable: Option<(u8, u8, bool)>,
}

/// From 1 ms to the longest accepted (a day) and beyond.
const TIMEOUTS: [Duration; 6] = [
    Duration::from_millis(1),
    Duration::from_secs(10),
    Duration::from_secs(310),
    Duration::from_secs(24 * 3600),
    Duration::from_secs(24 * 3600 + 1),
    Duration::MAX,
];
/// Around the longest accepted retry delay (an hour).
const LONG_DELAYS: [Duration; 4] = [
    Duration::from_secs(3599),
    Duration::from_secs(3600),
    Duration::from_secs(3601),
    Duration::MAX,
];

#[derive(Arbitrary, Debug)]
enum Retry {
    None,
    Linear {
        delay_ms: u16,
        max_retries: u8,
    },
    Exponential {
        min_ms: u16,
        max_s: u8,
        max_retries: u8,
    },
    /// Linear or exponential with a delay from `LONG_DELAYS`.
    Long {
        exponential: bool,
        delay: u8,
        max_retries: u8,
    },
}

#[derive(Arbitrary, Debug)]
enum Step {
    Subscribe {
        channels: u8,
        groups: u8,
        presence: bool,
        timetoken: Option<u16>,
    },
    Unsubscribe {
        channels: u8,
        groups: u8,
    },
    UnsubscribeAll,
    Disconnect,
    Reconnect {
        timetoken: Option<u16>,
    },
    Close,
    Publish {
        channel: u8,
        payload: u8,
        signal: bool,
        post: bool,
        /// store, ttl, meta, no replication, custom message type.
        options: u8,
    },
    HereNow {
        channels: u8,
    },
    Time,
    WhereNow,
    SetState {
        channels: u8,
    },
    AnswerLongPoll(Answer),
    Answer {
        pick: u8,
        answer: Answer,
    },
    AnswerRetired {
        pick: u8,
        answer: Answer,
    },
    Advance(Jump),
    AdvanceToDeadline,
    /// Hold a request back (the long-poll, or the n-th in flight), as for a full listener.
    Hold {
        long_poll: bool,
        pick: u8,
    },
    /// Send a request held back.
    Release {
        long_poll: bool,
        pick: u8,
    },
}

#[derive(Arbitrary, Debug)]
enum Answer {
    /// A well-formed success for whatever the request is.
    Fitting {
        tt: u16,
    },
    /// A subscribe body built from parts.
    Subscribe {
        t: u16,
        r: u8,
        envelopes: Vec<Envelope>,
    },
    /// Any status, `Retry-After` and bytes.
    Raw {
        status: Status,
        retry_after: Option<u8>,
        body: Vec<u8>,
    },
    Transport(Kind),
}

#[derive(Arbitrary, Debug)]
struct Envelope {
    channel: u8,
    group: Option<u8>,
    tt: u8,
    payload: u8,
    e: Option<u8>,
    /// 0–2 extra copies of this envelope in the same answer.
    copies: u8,
}

#[derive(Arbitrary, Debug)]
enum Status {
    Ok,
    BadRequest,
    Forbidden,
    NotFound,
    TooMany,
    ServerError,
    Unavailable,
    Any(u16),
}

#[derive(Arbitrary, Debug)]
enum Kind {
    Connect,
    Timeout,
    ConnectionLost,
    Tls,
    BodyTooLarge,
    Other,
}

#[derive(Arbitrary, Debug)]
enum Jump {
    Millis(u16),
    Seconds(u16),
    Minutes(u8),
}

fn config(s: &Setup) -> Config {
    let user = if s.odd_user_id { "u ü/?&=+" } else { "u" };
    let mut c = Config::new("sub", user).with_publish_key("pub");
    if s.filter {
        c.filter_expression = Some(r#"(meta.kind == "a b") && data.n > 1"#.into());
    }
    if s.few_names {
        c.max_subscribed_names = 3;
    }
    if let Some((sub, req)) = s.timeouts {
        c.subscribe_timeout = TIMEOUTS[usize::from(sub) % TIMEOUTS.len()];
        c.request_timeout = TIMEOUTS[usize::from(req) % TIMEOUTS.len()];
    }
    c.heartbeat_interval = s.heartbeat_interval.map(|h| u64::from(h % 20));
    c.presence_timeout = s.presence_timeout.map(|t| 20 + u64::from(t % 301));
    c.retry_policy = retry(&s.retry);
    c.dedupe_cache_size = [0, 1, 2, 5, 1000][usize::from(s.dedupe % 5)];
    c.suppress_leave_events = s.suppress_leave;
    if s.secret {
        c.secret_key = Some("sec-ret".into());
    }
    if s.auth {
        c.auth_token = Some("tok en~".into());
    }
    c.reliable_publish = s.reliable.map(|(cap, rate, accept)| ReliablePublish {
        queue_capacity: 1 + usize::from(cap % 4),
        max_per_second: (rate % 3 != 0).then_some(u32::from(rate % 5) + 1),
        retry: RetryPolicy::Linear {
            delay: Duration::from_millis(u64::from(rate) * 10),
            max_retries: u32::from(cap % 3),
        },
        duplicates: if accept {
            DuplicatePolicy::Accept
        } else {
            DuplicatePolicy::Never
        },
    });
    c
}

fn retry(r: &Retry) -> RetryPolicy {
    match *r {
        Retry::None => RetryPolicy::None,
        Retry::Linear {
            delay_ms,
            max_retries,
        } => RetryPolicy::Linear {
            delay: Duration::from_millis(u64::from(delay_ms)),
            max_retries: u32::from(max_retries % 8),
        },
        Retry::Exponential {
            min_ms,
            max_s,
            max_retries,
        } => {
            let min = Duration::from_millis(u64::from(min_ms.max(1)));
            RetryPolicy::Exponential {
                min_delay: min,
                max_delay: min.max(Duration::from_secs(u64::from(max_s))),
                max_retries: u32::from(max_retries % 8),
            }
        }
        Retry::Long {
            exponential,
            delay,
            max_retries,
        } => {
            let delay = LONG_DELAYS[usize::from(delay) % LONG_DELAYS.len()];
            let max_retries = u32::from(max_retries % 8);
            if exponential {
                RetryPolicy::Exponential {
                    min_delay: Duration::from_secs(1),
                    max_delay: delay,
                    max_retries,
                }
            } else {
                RetryPolicy::Linear { delay, max_retries }
            }
        }
    }
}

/// The long-poll, or the `pick`-th request in flight.
fn target(long_poll: bool, pick: u8) -> Target {
    if long_poll {
        Target::LongPoll
    } else {
        Target::InFlight(usize::from(pick))
    }
}

fn pick<'a>(names: &[&'a str], mask: u8) -> Vec<&'a str> {
    (0..names.len())
        .filter(|i| mask & (1 << i) != 0)
        .map(|i| names[i])
        .collect()
}

fn channels(mask: u8) -> Vec<Channel> {
    pick(&CHANNELS, mask)
        .into_iter()
        .map(|n| Channel::new(n).expect("valid"))
        .collect()
}

fn groups(mask: u8) -> Vec<ChannelGroup> {
    pick(&GROUPS, mask)
        .into_iter()
        .map(|n| ChannelGroup::new(n).expect("valid"))
        .collect()
}

fn user_timetoken(t: u16) -> Timetoken {
    Timetoken(BASE + u64::from(t) * 10 + 1)
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

fn subscribe_body(t: u16, r: u8, envelopes: &[Envelope]) -> String {
    let t = if t == 0 { 0 } else { BASE + u64::from(t) * 10 };
    let mut m = Vec::new();
    for e in envelopes {
        let channel = ENVELOPE_CHANNELS[usize::from(e.channel) % ENVELOPE_CHANNELS.len()];
        let mut env = format!(
            r#"{{"a":"1","f":0,"i":"pub","p":{{"t":"{}","r":1}},"k":"sub","c":{}"#,
            BASE + u64::from(e.tt % 8),
            json_str(channel)
        );
        if let Some(g) = e.group {
            let name = match g % 3 {
                0 => channel.to_owned(),
                1 => "g".to_owned(),
                _ => "w.*".to_owned(),
            };
            env.push_str(&format!(r#","b":{}"#, json_str(&name)));
        }
        if let Some(kind) = e.e {
            env.push_str(&format!(r#","e":{}"#, kind % 6));
        }
        let payload = PAYLOADS[usize::from(e.payload) % PAYLOADS.len()];
        env.push_str(&format!(r#","d":{payload}}}"#));
        for _ in 0..=(e.copies % 3) {
            m.push(env.clone());
        }
    }
    format!(r#"{{"t":{{"t":"{t}","r":{r}}},"m":[{}]}}"#, m.join(","))
}

fn answer(driver: &Driver, target: Target, a: &Answer) -> Option<Result<Response, TransportError>> {
    Some(match a {
        Answer::Fitting { tt } => Ok(fitting_answer(
            driver.request(target)?,
            BASE + u64::from(*tt) * 10,
        )),
        Answer::Subscribe { t, r, envelopes } => {
            Ok(Response::new(200, subscribe_body(*t, *r, envelopes)))
        }
        Answer::Raw {
            status,
            retry_after,
            body,
        } => Ok(Response {
            status: match status {
                Status::Ok => 200,
                Status::BadRequest => 400,
                Status::Forbidden => 403,
                Status::NotFound => 404,
                Status::TooMany => 429,
                Status::ServerError => 500,
                Status::Unavailable => 503,
                Status::Any(s) => *s,
            },
            retry_after: retry_after.map(|s| s.to_string()),
            body: body.clone(),
        }),
        Answer::Transport(kind) => Err(TransportError::new(
            match kind {
                Kind::Connect => TransportErrorKind::Connect,
                Kind::Timeout => TransportErrorKind::Timeout,
                Kind::ConnectionLost => TransportErrorKind::ConnectionLost,
                Kind::Tls => TransportErrorKind::Tls,
                Kind::BodyTooLarge => TransportErrorKind::BodyTooLarge,
                Kind::Other => TransportErrorKind::Other,
            },
            "fuzz",
        )),
    })
}

fn respond(driver: &mut Driver, target: Target, a: &Answer) {
    if let Some(result) = answer(driver, target, a) {
        driver.answer(target, result);
    }
}

fuzz_target!(|input: Input| {
    let Some(mut driver) = Driver::new(config(&input.setup), input.setup.seed) else {
        return;
    };
    for step in input.steps.iter().take(300) {
        match step {
            Step::Subscribe {
                channels: c,
                groups: g,
                presence,
                timetoken,
            } => driver.subscribe(Subscribe {
                channels: channels(*c),
                groups: groups(*g),
                with_presence: *presence,
                timetoken: timetoken.map(user_timetoken),
            }),
            Step::Unsubscribe {
                channels: c,
                groups: g,
            } => driver.unsubscribe(&channels(*c), &groups(*g)),
            Step::UnsubscribeAll => driver.unsubscribe_all(),
            Step::Disconnect => driver.disconnect(),
            Step::Reconnect { timetoken } => driver.reconnect(timetoken.map(user_timetoken)),
            Step::Close => driver.close(),
            Step::Publish {
                channel,
                payload,
                signal,
                post,
                options,
            } => {
                let name = CHANNELS[usize::from(*channel) % CHANNELS.len()];
                let json = PAYLOADS[usize::from(*payload) % PAYLOADS.len()];
                let value: serde_json::Value = serde_json::from_str(json).expect("valid");
                let p = if *signal {
                    Publish::signal(name, &value)
                } else {
                    Publish::raw(name, json)
                };
                if let Ok(mut p) = p {
                    p = p.use_post(*post);
                    if options & 1 != 0 {
                        p = p.store(options & 2 != 0).ttl(u32::from(*options));
                    }
                    if options & 4 != 0 {
                        p = p.meta_raw(r#"{"kind":"a b"}"#).expect("an object");
                    }
                    if options & 8 != 0 {
                        p = p.replicate(false);
                    }
                    if options & 16 != 0 {
                        p = p.custom_message_type("kind-1").expect("valid type");
                    }
                    driver.publish(p);
                }
            }
            Step::HereNow { channels: c } => driver.here_now(HereNowQuery {
                channels: channels(*c),
                groups: Vec::new(),
                include_uuids: true,
                include_state: c & 0x80 != 0,
            }),
            Step::Time => driver.time(),
            Step::WhereNow => driver.where_now(),
            Step::SetState { channels: c } => driver.set_state(&channels(*c), r#"{"mood":"ok"}"#),
            Step::AnswerLongPoll(a) => respond(&mut driver, Target::LongPoll, a),
            Step::Answer { pick, answer: a } => {
                respond(&mut driver, Target::InFlight(usize::from(*pick)), a)
            }
            Step::AnswerRetired { pick, answer: a } => {
                let target = Target::Retired(usize::from(*pick));
                // A fitting answer needs the request, which is gone: answer with a subscribe body.
                let a = match a {
                    Answer::Fitting { tt } => &Answer::Subscribe {
                        t: *tt,
                        r: 1,
                        envelopes: Vec::new(),
                    },
                    other => other,
                };
                respond(&mut driver, target, a)
            }
            Step::Advance(jump) => driver.advance(match jump {
                Jump::Millis(ms) => Duration::from_millis(u64::from(*ms)),
                Jump::Seconds(s) => Duration::from_secs(u64::from(*s)),
                Jump::Minutes(m) => Duration::from_secs(u64::from(*m) * 60),
            }),
            Step::AdvanceToDeadline => driver.advance_to_deadline(),
            Step::Hold { long_poll, pick } => driver.hold(target(*long_poll, *pick)),
            Step::Release { long_poll, pick } => driver.release(target(*long_poll, *pick)),
        }
    }
    driver.finish();
});
