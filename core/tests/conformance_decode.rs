//! Replays every recorded exchange of `shared/conformance/*.jsonl` through the matching decoder:
//! no panic, every well-formed 2xx decodes, every error has the expected category, and decoded
//! subscribe events agree with the envelope as read here, independently, with `serde_json::Value`.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use base64::Engine as _;
use percent_encoding::percent_decode_str;
use pn_core::decode;
use pn_core::{Category, Channel, Error, Message, MessageKind, Response};
use serde_json::Value;

const PRESENCE_SUFFIX: &str = "-pnpres";

/// One recorded exchange.
struct Record {
    source: String,
    endpoint: String,
    path: String,
    response: Response,
    /// The body as JSON, when it is UTF-8 JSON.
    json: Option<Value>,
}

fn conformance_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/conformance"
    ))
}

fn load_records() -> Vec<Record> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(conformance_dir())
        .expect("conformance directory beside the repository")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no conformance files found");
    let mut records = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable conformance file");
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let raw: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: not JSON: {e}", file.display(), n + 1));
            records.push(record(&raw));
        }
    }
    records
}

fn record(raw: &Value) -> Record {
    let text = |key: &str| raw[key].as_str().unwrap_or_default().to_owned();
    let notes: Vec<&str> = raw["notes"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let body_text = raw["response_body"].as_str().unwrap_or_default();
    let body = if notes.contains(&"response_body_base64") {
        base64::engine::general_purpose::STANDARD
            .decode(body_text)
            .expect("valid base64 body")
    } else {
        body_text.as_bytes().to_vec()
    };
    let retry_after = raw["response_headers"].as_object().and_then(|h| {
        h.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
            .and_then(|(_, v)| v.as_str().map(str::to_owned))
    });
    let json = std::str::from_utf8(&body)
        .ok()
        .and_then(|t| serde_json::from_str(t).ok());
    Record {
        source: text("source"),
        endpoint: text("endpoint"),
        path: text("path"),
        response: Response {
            status: raw["status"].as_u64().expect("numeric status") as u16,
            retry_after,
            body,
        },
        json,
    }
}

/// The channels named in a presence path (`…/channel/{a,b}[/uuid/…]`), percent-decoded.
fn requested_channels(path: &str) -> Vec<Channel> {
    let mut segments = path.split('/');
    segments
        .by_ref()
        .find(|s| *s == "channel")
        .and(segments.next())
        .map(|list| {
            list.split(',')
                .filter(|n| !n.is_empty())
                .filter_map(|n| Channel::new(&percent_decode_str(n).decode_utf8_lossy()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// What a decoder made of one record: `Ok` with the subscribe events (empty for other endpoints)
/// or the error.
type Decoded = Result<Vec<Message>, Error>;

fn decode_record(r: &Record) -> Option<Decoded> {
    let resp = &r.response;
    let requested = requested_channels(&r.path);
    let done = |x: Result<(), Error>| x.map(|()| Vec::new());
    Some(match r.endpoint.as_str() {
        "subscribe" => decode::subscribe(resp).map(|b| b.messages),
        "publish" | "signal" | "fire" => done(decode::publish(resp).map(drop)),
        "time" => done(decode::time(resp).map(drop)),
        "here_now" => done(decode::here_now(resp, &requested).map(drop)),
        "where_now" => done(decode::where_now(resp).map(drop)),
        "get_state" => done(decode::get_state(resp, &requested).map(drop)),
        "set_state" => done(decode::set_state(resp).map(drop)),
        "leave" | "heartbeat" | "cg_add_channels" | "cg_remove_channels" | "cg_delete_group" => {
            done(decode::ack(resp))
        }
        "cg_list_channels" => done(decode::group_channels(resp).map(drop)),
        "cg_list_groups" => done(decode::group_names(resp).map(drop)),
        _ => return None,
    })
}

/// Whether a 2xx JSON body itself says failure (`[0, …]` or an error object).
fn body_reports_failure(json: &Value) -> bool {
    match json {
        Value::Array(a) => a.first().and_then(Value::as_u64) == Some(0),
        Value::Object(o) => {
            o.get("error").is_some_and(|e| e != &Value::Bool(false))
                || o.get("status")
                    .and_then(Value::as_u64)
                    .is_some_and(|s| s != 200)
        }
        _ => false,
    }
}

fn expected_category(status: u16) -> Category {
    match status {
        400 => Category::BadRequest,
        403 => Category::AccessDenied,
        _ => Category::Unknown,
    }
}

/// Compares decoded events with the envelope read independently; returns the disagreements.
fn check_subscribe(r: &Record, json: &Value, messages: &[Message]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expect = |what: &str, ok: bool, detail: String| {
        if !ok {
            problems.push(format!("{}: {what}: {detail}", r.source));
        }
    };
    let body_text = std::str::from_utf8(&r.response.body).unwrap_or_default();
    let envelopes = json["m"].as_array().cloned().unwrap_or_default();
    expect(
        "count",
        envelopes.len() == messages.len(),
        format!("{} vs {}", envelopes.len(), messages.len()),
    );
    for (env, msg) in envelopes.iter().zip(messages) {
        let c = env["c"].as_str().unwrap_or_default();
        let presence = c.ends_with(PRESENCE_SUFFIX);
        let bare = |n: &str| {
            if presence {
                n.strip_suffix(PRESENCE_SUFFIX).unwrap_or(n).to_owned()
            } else {
                n.to_owned()
            }
        };
        let kind = if presence {
            "presence"
        } else {
            match env["e"].as_u64() {
                Some(1) => "signal",
                Some(2) => "object",
                Some(3) => "message_action",
                Some(4) => "file",
                _ => "message",
            }
        };
        expect(
            "kind",
            msg.kind.as_str() == kind,
            format!("{} vs {kind}", msg.kind.as_str()),
        );
        expect(
            "channel",
            msg.channel.as_str() == bare(c),
            format!("{} vs {c}", msg.channel),
        );
        let subscription = env["b"].as_str().filter(|b| *b != c).map(bare);
        expect(
            "subscription",
            msg.subscription.as_ref().map(|s| s.as_str().to_owned()) == subscription,
            format!("{:?} vs {subscription:?}", msg.subscription),
        );
        let tt = env["p"]["t"].as_str().unwrap_or_default();
        expect(
            "timetoken",
            msg.timetoken.to_string() == tt,
            format!("{} vs {tt}", msg.timetoken),
        );
        expect(
            "region",
            u64::from(msg.region.0) == env["p"]["r"].as_u64().unwrap_or(0),
            format!("{:?}", msg.region),
        );
        expect(
            "publisher",
            msg.publisher.as_deref() == env["i"].as_str(),
            format!("{:?} vs {:?}", msg.publisher, env["i"]),
        );
        let payload: Value = serde_json::from_str(msg.payload.get()).unwrap_or(Value::Null);
        expect(
            "payload",
            payload == env["d"],
            format!("{} vs {}", msg.payload.get(), env["d"]),
        );
        expect(
            "payload bytes",
            body_text.contains(msg.payload.get()),
            msg.payload.get().to_owned(),
        );
        let meta: Option<Value> = msg
            .user_metadata
            .as_ref()
            .and_then(|u| serde_json::from_str(u.get()).ok());
        expect(
            "meta",
            meta.as_ref() == env.get("u").filter(|u| !u.is_null()),
            format!("{meta:?}"),
        );
        let cmt = env["cmt"].as_str().or(env["mt"].as_str());
        expect(
            "custom message type",
            msg.custom_message_type.as_deref() == cmt,
            format!("{:?} vs {cmt:?}", msg.custom_message_type),
        );
        expect(
            "sequence",
            msg.sequence == env["s"].as_u64(),
            format!("{:?}", msg.sequence),
        );
        if let MessageKind::Presence(p) = &msg.kind {
            let d = &env["d"];
            expect(
                "presence action",
                p.action.as_str() == d["action"].as_str().unwrap_or_default(),
                format!("{:?}", p.action),
            );
            expect(
                "presence uuid",
                p.uuid.as_deref() == d["uuid"].as_str(),
                format!("{:?}", p.uuid),
            );
            expect(
                "presence occupancy",
                p.occupancy == d["occupancy"].as_u64(),
                format!("{:?}", p.occupancy),
            );
            expect(
                "presence timestamp",
                p.timestamp == d["timestamp"].as_u64(),
                format!("{:?}", p.timestamp),
            );
            let state: Option<Value> = p
                .state
                .as_ref()
                .and_then(|s| serde_json::from_str(s.get()).ok());
            expect(
                "presence state",
                state.as_ref() == d.get("data"),
                format!("{state:?}"),
            );
        }
    }
    problems
}

#[test]
fn every_recorded_exchange_decodes_as_expected() {
    let records = load_records();
    let mut checked: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut events = 0;
    let mut malformed = Vec::new();
    for r in &records {
        let Ok(outcome) = catch_unwind(AssertUnwindSafe(|| decode_record(r))) else {
            failures.push(format!("{}: decoder panicked", r.source));
            continue;
        };
        let Some(outcome) = outcome else {
            failures.push(format!("{}: unknown endpoint {}", r.source, r.endpoint));
            continue;
        };
        *checked.entry(r.endpoint.as_str()).or_default() += 1;
        let status = r.response.status;
        match (&r.json, outcome) {
            (_, Err(e)) if !(200..300).contains(&status) => {
                let ok = matches!(&e, Error::Api { status: s, .. } if *s == status)
                    && e.category() == expected_category(status);
                if !ok {
                    failures.push(format!("{}: HTTP {status} gave {e:?}", r.source));
                }
            }
            (None, Err(e)) => {
                if e.category() == Category::MalformedResponse {
                    malformed.push(r.source.clone());
                } else {
                    failures.push(format!("{}: unreadable body gave {e:?}", r.source));
                }
            }
            (Some(json), Err(e)) if body_reports_failure(json) => {
                if !matches!(e, Error::Api { .. }) {
                    failures.push(format!("{}: failure body gave {e:?}", r.source));
                }
            }
            (_, Err(e)) => failures.push(format!("{}: well-formed 2xx gave {e}", r.source)),
            (_, Ok(_)) if !(200..300).contains(&status) => {
                failures.push(format!("{}: HTTP {status} decoded Ok", r.source));
            }
            (None, Ok(_)) => failures.push(format!("{}: unreadable body decoded Ok", r.source)),
            (Some(json), Ok(messages)) => {
                events += messages.len();
                if r.endpoint == "subscribe" {
                    failures.extend(check_subscribe(r, json, &messages));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        checked.values().sum::<usize>(),
        records.len(),
        "every record checked"
    );
    let at_least = [
        ("subscribe", 390),
        ("publish", 900),
        ("leave", 220),
        ("cg_add_channels", 80),
        ("cg_delete_group", 65),
        ("cg_list_channels", 35),
        ("here_now", 30),
        ("set_state", 30),
        ("cg_remove_channels", 20),
        ("signal", 19),
        ("get_state", 18),
        ("heartbeat", 12),
        ("where_now", 9),
        ("time", 5),
        ("fire", 4),
        ("cg_list_groups", 1),
    ];
    for (endpoint, min) in at_least {
        let n = checked.get(endpoint).copied().unwrap_or(0);
        assert!(
            n >= min,
            "{endpoint}: {n} records checked, expected >= {min}"
        );
    }
    assert!(events >= 144, "only {events} subscribe events compared");
    assert_eq!(
        malformed.len(),
        1,
        "exactly the 0xff record is unreadable: {malformed:?}"
    );
    assert!(malformed[0].ends_with("WhenDataWithNulBytePublished.json#2"));
}

#[test]
fn error_records_carry_what_the_service_said() {
    let records = load_records();
    let mut denied_channels = 0;
    let mut denied_groups = 0;
    for r in records.iter().filter(|r| r.response.status == 403) {
        match decode_record(r) {
            Some(Err(Error::Api {
                message,
                channels,
                groups,
                ..
            })) => {
                assert!(!message.is_empty(), "{}", r.source);
                denied_channels += channels.len();
                denied_groups += groups.len();
            }
            other => panic!("{}: {other:?}", r.source),
        }
    }
    assert!(denied_channels >= 5 && denied_groups >= 2);
    let revoked = records
        .iter()
        .filter(|r| r.response.status == 403)
        .filter_map(|r| match decode_record(r) {
            Some(Err(Error::Api { message, .. })) => Some(message),
            _ => None,
        })
        .any(|m| m == "Token is revoked");
    assert!(revoked);
    let retried = records
        .iter()
        .filter(|r| r.response.status == 503)
        .map(|r| decode_record(r).expect("known endpoint").unwrap_err())
        .inspect(|e| assert!(e.is_retriable() && e.http_status() == Some(503)))
        .count();
    assert!(retried >= 6);
}
