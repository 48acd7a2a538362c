//! `pn replay`: the decoder as a function. Conformance records in (one JSON object a line, see
//! `shared/conformance/README.md`), one JSON object a line out, in the same order:
//!
//! ```text
//! {"source":"…","endpoint":"subscribe","outcome":"ok","cursor":{"timetoken":"…","region":12},"events":[…]}
//! {"source":"…","endpoint":"publish","outcome":"ok","timetoken":"…"}
//! {"source":"…","endpoint":"where_now","outcome":"ok","result":{"channels":["a"]}}
//! {"source":"…","endpoint":"leave","outcome":"error","error":{"status":403,"message":"Forbidden"},"category":"AccessDenied"}
//! ```
//!
//! `result` by endpoint: here_now `{"total_channels","total_occupancy","channels":{name:
//! {"occupancy","uuids",["states"]}}}`; where_now and cg_list_channels `{"channels":[…]}`;
//! cg_list_groups `{"groups":[…]}`; get_state `{"channels":{name: state}}`; set_state
//! `{"state": …}`; acknowledgements (leave, heartbeat, group changes) `null`. A line that is not
//! a record gives `"outcome":"error"` with category `InvalidRecord` and error status `null`.
//! Payloads, metadata and states are copied from the body byte for byte (any line breaks in
//! their whitespace become spaces, so every output stays one line).

use std::borrow::Cow;
use std::io::{self, BufRead, Write};

use base64::Engine as _;
use percent_encoding::percent_decode_str;
use serde::Serialize;
use serde_json::Value;

use crate::channel::Channel;
use crate::decode;
use crate::error::Error;
use crate::event::{HereNow, Message, MessageKind, Presence, PresenceAction};
use crate::request::Response;
use crate::status::{Recovery, Status};
use crate::timetoken::Cursor;

/// The category printed for a line that is not a valid record.
const INVALID_RECORD: &str = "InvalidRecord";

/// Counts of one replay run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplaySummary {
    /// Records read (blank lines are not records).
    pub records: usize,
    /// Records whose answer decoded successfully.
    pub ok: usize,
    /// Records whose answer decoded to an error (API error or malformed body).
    pub errors: usize,
    /// Lines that were not valid records.
    pub invalid: usize,
}

/// Replays every record of `input` onto `output`, one JSON line per record, in order.
/// Blank lines are skipped; a line that is not a record is reported on its line and the run
/// continues. Only I/O failures stop it.
pub fn replay<R: BufRead, W: Write>(mut input: R, mut output: W) -> io::Result<ReplaySummary> {
    let mut summary = ReplaySummary::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let (kind, text) = match std::str::from_utf8(&line) {
            Ok(record) => replay_record(record),
            Err(e) => (
                Kind::Invalid,
                invalid_line(None, None, &format!("line is not UTF-8: {e}")),
            ),
        };
        summary.records += 1;
        match kind {
            Kind::Ok => summary.ok += 1,
            Kind::Error => summary.errors += 1,
            Kind::Invalid => summary.invalid += 1,
        }
        output.write_all(text.as_bytes())?;
        output.write_all(b"\n")?;
    }
    output.flush()?;
    Ok(summary)
}

/// Replays one record (one line of a conformance file) into its output line, without newline.
pub fn replay_line(record_json: &str) -> String {
    replay_record(record_json).1
}

/// One subscription event as the JSON object `pn replay` prints in `events` (and
/// `pn subscribe --json` prints a line of).
pub fn event_json(message: &Message) -> String {
    one_line(event_object(message))
}

/// A status as one JSON line: `{"type":"status","category":"Connected","operation":"Subscribe",…}`.
pub fn status_json(status: &Status) -> String {
    let mut o = Obj::new();
    o.field("type", "status")
        .field("category", status.category.as_str())
        .field("operation", format!("{:?}", status.operation))
        .field("channels", names(&status.channels))
        .field("groups", names(&status.groups));
    match status.recovery {
        Recovery::None => o.field("recovery", "none"),
        Recovery::Retrying { attempt, delay } => o
            .field("recovery", "retrying")
            .field("attempt", attempt)
            .field(
                "delay_ms",
                u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            ),
        Recovery::GaveUp => o.field("recovery", "gave_up"),
    };
    if let Some(error) = &status.error {
        o.raw("error", &error_object(error));
    }
    one_line(o.finish())
}

/// How a record came out.
enum Kind {
    Ok,
    Error,
    Invalid,
}

/// The parts of a record the decoder needs.
struct Record<'a> {
    endpoint: &'a str,
    path: &'a str,
    response: Response,
}

fn replay_record(text: &str) -> (Kind, String) {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return (
                Kind::Invalid,
                invalid_line(None, None, &format!("not JSON: {e}")),
            );
        }
    };
    let source = value.get("source").and_then(Value::as_str);
    let endpoint = value.get("endpoint").and_then(Value::as_str);
    let record = match read_record(&value) {
        Ok(r) => r,
        Err(reason) => return (Kind::Invalid, invalid_line(source, endpoint, &reason)),
    };
    let mut line = Obj::new();
    line.field("source", source)
        .field("endpoint", record.endpoint);
    let kind = match decode_into(&record, &mut line) {
        Some(Ok(())) => Kind::Ok,
        Some(Err(error)) => {
            let mut failed = Obj::new();
            failed
                .field("source", source)
                .field("endpoint", record.endpoint)
                .field("outcome", "error")
                .raw("error", &error_object(&error))
                .field("category", error.category().as_str());
            return (Kind::Error, one_line(failed.finish()));
        }
        None => {
            let reason = format!("unknown endpoint {:?}", record.endpoint);
            return (Kind::Invalid, invalid_line(source, endpoint, &reason));
        }
    };
    (kind, one_line(line.finish()))
}

/// Reads the fields a replay needs; the reason on failure.
fn read_record(value: &Value) -> Result<Record<'_>, String> {
    let object = value.as_object().ok_or("a record is a JSON object")?;
    let text = |key: &str| object.get(key).and_then(Value::as_str);
    let endpoint = text("endpoint").ok_or("missing endpoint")?;
    let status = object
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .ok_or("missing or invalid status")?;
    let body = match object.get("response_body") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err("response_body is not a string".into()),
    };
    let base64 = object
        .get("notes")
        .and_then(Value::as_array)
        .is_some_and(|n| n.iter().any(|x| x == "response_body_base64"));
    let body = if base64 {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|e| format!("response_body is not base64: {e}"))?
    } else {
        body.as_bytes().to_vec()
    };
    Ok(Record {
        endpoint,
        path: text("path").unwrap_or_default(),
        response: Response {
            status,
            retry_after: object.get("response_headers").and_then(retry_after),
            body,
        },
    })
}

/// The `Retry-After` header of a recorded header map (any case; a string, number or list).
fn retry_after(headers: &Value) -> Option<String> {
    let (_, value) = headers
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))?;
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) => items.first().and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// The channels of a presence path (`…/channel/{a,b}[/uuid/…]`), percent-decoded.
fn requested_channels(path: &str) -> Vec<Channel> {
    let mut segments = path.split('/');
    segments
        .by_ref()
        .find(|s| *s == "channel")
        .and(segments.next())
        .map(|list| {
            list.split(',')
                .filter(|n| !n.is_empty())
                .map(|n| Channel::from_wire(&percent_decode_str(n).decode_utf8_lossy()))
                .collect()
        })
        .unwrap_or_default()
}

/// Decodes the record's answer and adds `outcome` and what it decoded to `line`; `None` for an
/// endpoint replay does not know.
fn decode_into(record: &Record<'_>, line: &mut Obj) -> Option<Result<(), Error>> {
    let r = &record.response;
    let ok = |line: &mut Obj| {
        line.field("outcome", "ok");
    };
    let result = |line: &mut Obj, raw: &str| {
        line.field("outcome", "ok").raw("result", raw);
    };
    let outcome = match record.endpoint {
        "subscribe" => decode::subscribe(r).map(|body| {
            ok(line);
            line.raw("cursor", &cursor_object(&body.cursor));
            let events: Vec<String> = body.messages.iter().map(event_object).collect();
            line.raw("events", &format!("[{}]", events.join(",")));
        }),
        "publish" | "signal" | "fire" => decode::publish(r).map(|tt| {
            ok(line);
            line.field("timetoken", tt.to_string());
        }),
        "time" => decode::time(r).map(|tt| {
            ok(line);
            line.field("timetoken", tt.to_string());
        }),
        "here_now" => decode::here_now(r, &requested_channels(record.path))
            .map(|h| result(line, &here_now_object(&h))),
        "where_now" => decode::where_now(r).map(|c| result(line, &list_object("channels", &c))),
        "cg_list_channels" => {
            decode::group_channels(r).map(|c| result(line, &list_object("channels", &c)))
        }
        "cg_list_groups" => {
            decode::group_names(r).map(|g| result(line, &list_object("groups", &g)))
        }
        "get_state" => decode::get_state(r, &requested_channels(record.path)).map(|states| {
            let mut channels = Obj::new();
            for (channel, state) in &states {
                channels.raw(channel.as_str(), state.get());
            }
            let mut o = Obj::new();
            o.raw("channels", &channels.finish());
            result(line, &o.finish());
        }),
        "set_state" => decode::set_state(r).map(|state| {
            let mut o = Obj::new();
            o.raw("state", state.get());
            result(line, &o.finish());
        }),
        "leave" | "heartbeat" | "cg_add_channels" | "cg_remove_channels" | "cg_delete_group" => {
            decode::ack(r).map(|()| result(line, "null"))
        }
        _ => return None,
    };
    Some(outcome)
}

fn cursor_object(cursor: &Cursor) -> String {
    let mut o = Obj::new();
    o.field("timetoken", cursor.timetoken.to_string())
        .field("region", cursor.region.map(|r| r.0));
    o.finish()
}

fn event_object(m: &Message) -> String {
    let mut o = Obj::new();
    o.field("type", m.kind.as_str())
        .field("channel", m.channel.as_str())
        .field("subscription", m.subscription.as_ref().map(Channel::as_str))
        .field("timetoken", m.timetoken.to_string())
        .field("publisher", m.publisher.as_deref())
        .raw("payload", m.payload.get());
    if let MessageKind::Presence(p) = &m.kind {
        o.raw("presence", &presence_object(p));
    }
    if let Some(meta) = &m.user_metadata {
        o.raw("user_metadata", meta.get());
    }
    if let Some(cmt) = &m.custom_message_type {
        o.field("custom_message_type", cmt);
    }
    o.finish()
}

fn presence_object(p: &Presence) -> String {
    let action = match &p.action {
        PresenceAction::Other(a) if a.is_empty() => None,
        action => Some(action.as_str()),
    };
    let mut o = Obj::new();
    o.field("action", action)
        .field("uuid", p.uuid.as_deref())
        .field("occupancy", p.occupancy)
        .field("timestamp", p.timestamp)
        .raw("state", p.state.as_ref().map_or("null", |s| s.get()))
        .field("join", &p.join)
        .field("leave", &p.leave)
        .field("timeout", &p.timeout)
        .field("here_now_refresh", p.here_now_refresh);
    o.finish()
}

fn here_now_object(h: &HereNow) -> String {
    let mut channels = Obj::new();
    for c in &h.channels {
        let uuids: Vec<&str> = c.occupants.iter().map(|o| o.uuid.as_str()).collect();
        let mut entry = Obj::new();
        entry.field("occupancy", c.occupancy).field("uuids", uuids);
        if c.occupants.iter().any(|o| o.state.is_some()) {
            let mut states = Obj::new();
            for occupant in &c.occupants {
                if let Some(state) = &occupant.state {
                    states.raw(&occupant.uuid, state.get());
                }
            }
            entry.raw("states", &states.finish());
        }
        channels.raw(c.channel.as_str(), &entry.finish());
    }
    let mut o = Obj::new();
    o.field("total_channels", h.total_channels)
        .field("total_occupancy", h.total_occupancy)
        .raw("channels", &channels.finish());
    o.finish()
}

fn list_object<T: AsRef<str>>(key: &str, items: &[T]) -> String {
    let mut o = Obj::new();
    o.field(key, names(items));
    o.finish()
}

fn names<T: AsRef<str>>(items: &[T]) -> Vec<&str> {
    items.iter().map(AsRef::as_ref).collect()
}

fn error_object(error: &Error) -> String {
    let message: Cow<'_, str> = match error {
        Error::Api { message, .. } => Cow::Borrowed(message),
        Error::Malformed { reason, .. } => Cow::Borrowed(reason),
        other => Cow::Owned(other.to_string()),
    };
    let mut o = Obj::new();
    o.field("status", error.http_status())
        .field("message", message);
    o.finish()
}

fn invalid_line(source: Option<&str>, endpoint: Option<&str>, reason: &str) -> String {
    let mut error = Obj::new();
    error
        .field("status", None::<u16>)
        .field("message", format!("invalid record: {reason}"));
    let mut o = Obj::new();
    o.field("source", source)
        .field("endpoint", endpoint)
        .field("outcome", "error")
        .raw("error", &error.finish())
        .field("category", INVALID_RECORD);
    one_line(o.finish())
}

/// Keeps a JSON text on one line: raw JSON copied from a body may hold line breaks in its
/// whitespace (never inside strings, where JSON requires them escaped).
fn one_line(json: String) -> String {
    if json.contains(['\n', '\r']) {
        json.replace(['\n', '\r'], " ")
    } else {
        json
    }
}

/// A JSON object written member by member, in order; raw members are copied verbatim.
struct Obj(String);

impl Obj {
    fn new() -> Obj {
        Obj(String::from("{"))
    }

    fn key(&mut self, key: &str) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        self.0.push_str(&to_json(key));
        self.0.push(':');
    }

    /// Adds a member serialised by serde.
    fn field(&mut self, key: &str, value: impl Serialize) -> &mut Obj {
        self.key(key);
        self.0.push_str(&to_json(value));
        self
    }

    /// Adds a member whose value is already JSON text.
    fn raw(&mut self, key: &str, json: &str) -> &mut Obj {
        self.key(key);
        self.0.push_str(json);
        self
    }

    fn finish(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

/// Serialises plain data (strings, numbers, lists, maps), which cannot fail; `null` if it did.
fn to_json(value: impl Serialize) -> String {
    serde_json::to_string(&value).unwrap_or_else(|_| "null".to_owned())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::status::{Category, Operation};

    #[test]
    fn objects_keep_member_order_and_raw_bytes() {
        let mut o = Obj::new();
        o.field("b", "x\"y")
            .raw("a", "{ \"k\" : 1.50 }")
            .field("n", None::<u8>);
        assert_eq!(o.finish(), r#"{"b":"x\"y","a":{ "k" : 1.50 },"n":null}"#);
        assert_eq!(one_line("{\"a\":[1,\r\n2]}".into()), "{\"a\":[1,  2]}");
    }

    #[test]
    fn paths_give_requested_channels() {
        let names = |p: &str| -> Vec<String> {
            requested_channels(p)
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect()
        };
        assert_eq!(
            names("/v2/presence/sub-key/demo/channel/a,b%20c/uuid/u"),
            ["a", "b c"]
        );
        assert_eq!(
            names("/v2/presence/sub-key/demo/channel/,"),
            Vec::<String>::new()
        );
        assert_eq!(names("/v2/presence/sub-key/demo"), Vec::<String>::new());
    }

    #[test]
    fn status_lines() {
        let status = Status {
            category: Category::UnexpectedDisconnect,
            operation: Operation::Subscribe,
            error: Some(Error::Malformed {
                status: 200,
                reason: "bad".into(),
            }),
            channels: vec![Channel::from_wire("a")],
            groups: vec![],
            recovery: Recovery::Retrying {
                attempt: 2,
                delay: Duration::from_millis(1500),
            },
        };
        assert_eq!(
            status_json(&status),
            r#"{"type":"status","category":"UnexpectedDisconnect","operation":"Subscribe","channels":["a"],"groups":[],"recovery":"retrying","attempt":2,"delay_ms":1500,"error":{"status":200,"message":"bad"}}"#
        );
        let connected = Status {
            category: Category::Connected,
            error: None,
            recovery: Recovery::None,
            ..status
        };
        assert_eq!(
            status_json(&connected),
            r#"{"type":"status","category":"Connected","operation":"Subscribe","channels":["a"],"groups":[],"recovery":"none"}"#
        );
    }

    #[test]
    fn retry_after_header_any_case() {
        let headers: Value = serde_json::json!({"RETRY-AFTER": "3"});
        assert_eq!(retry_after(&headers).as_deref(), Some("3"));
        let headers: Value = serde_json::json!({"retry-after": [5]});
        assert_eq!(retry_after(&headers), None);
        let headers: Value = serde_json::json!({"Retry-After": 7});
        assert_eq!(retry_after(&headers).as_deref(), Some("7"));
    }
}
