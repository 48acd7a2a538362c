//! A tiny HTTP/1.1 client over std `TcpStream` and helpers shared by the integration tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use pn_devserver::{DevServer, Options};
use serde_json::Value;

/// How long a test waits for any answer before failing.
pub const WAIT: Duration = Duration::from_secs(10);

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The body as JSON (panics with the body if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// A header value by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Starts a server on 127.0.0.1 with `options`.
pub fn start(options: Options) -> DevServer {
    DevServer::start("127.0.0.1:0".parse().unwrap(), options).expect("dev server starts")
}

/// Writes one request on `stream`.
fn write_request(
    stream: &mut TcpStream,
    method: &str,
    target: &str,
    body: Option<&str>,
    close: bool,
) {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if close {
        head.push_str("Connection: close\r\n");
    }
    if let Some(body) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    if let Some(body) = body {
        stream.write_all(body.as_bytes()).unwrap();
    }
}

/// Reads one response (headers + Content-Length body) from `reader`.
pub fn read_reply(reader: &mut BufReader<TcpStream>) -> std::io::Result<Reply> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    if line.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((k, v)) = trimmed.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    Ok(Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Connects to `addr` with the test read timeout.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream
}

/// Sends one request on a fresh connection and reads the answer.
pub fn request(addr: SocketAddr, method: &str, target: &str, body: Option<&str>) -> Reply {
    let mut stream = connect(addr);
    write_request(&mut stream, method, target, body, true);
    read_reply(&mut BufReader::new(stream)).unwrap_or_else(|e| panic!("{method} {target}: {e}"))
}

/// Sends one request and returns every byte until the server closes (or the error).
pub fn raw(addr: SocketAddr, target: &str) -> std::io::Result<Vec<u8>> {
    let mut stream = connect(addr);
    write_request(&mut stream, "GET", target, None, true);
    let mut out = Vec::new();
    stream.read_to_end(&mut out).map(|_| out)
}

/// Sends several requests over one keep-alive connection.
pub fn keep_alive(addr: SocketAddr, targets: &[&str]) -> Vec<Reply> {
    let stream = connect(addr);
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    targets
        .iter()
        .map(|t| {
            write_request(&mut writer, "GET", t, None, false);
            read_reply(&mut reader).unwrap()
        })
        .collect()
}

/// GET `target`.
pub fn get(server: &DevServer, target: &str) -> Reply {
    request(server.addr(), "GET", target, None)
}

/// Percent-encodes everything but unreserved characters.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Publishes `message` (JSON text) to `channel` on key set `demo`; returns the timetoken.
pub fn publish(server: &DevServer, channel: &str, message: &str, query: &str) -> String {
    let reply = get(
        server,
        &format!(
            "/publish/demo/demo/0/{}/0/{}?{query}",
            enc(channel),
            enc(message)
        ),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body[0], 1);
    assert_eq!(body[1], "Sent");
    body[2].as_str().unwrap().to_owned()
}

/// A subscribe request on key set `demo` for `channels` (raw path segment) with `query`.
pub fn subscribe(server: &DevServer, channels: &str, query: &str) -> Value {
    let reply = get(server, &format!("/v2/subscribe/demo/{channels}/0?{query}"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

/// The cursor timetoken of a subscribe answer.
pub fn cursor(body: &Value) -> String {
    body["t"]["t"].as_str().unwrap().to_owned()
}

/// Handshakes on `channels` and returns the cursor.
pub fn handshake(server: &DevServer, channels: &str, query: &str) -> String {
    cursor(&subscribe(server, channels, &format!("tt=0&{query}")))
}

/// Runs a receive long-poll on another thread; call `.join()` for its answer.
pub fn receive_async(
    server: &DevServer,
    channels: &str,
    query: String,
) -> std::thread::JoinHandle<Value> {
    let addr = server.addr();
    let target = format!("/v2/subscribe/demo/{channels}/0?{query}");
    std::thread::spawn(move || {
        let reply = request(addr, "GET", &target, None);
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()
    })
}

/// The `d` payloads of a subscribe answer.
pub fn payloads(body: &Value) -> Vec<Value> {
    body["m"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["d"].clone())
        .collect()
}

/// Splits a raw query string into (key, raw value) pairs.
pub fn parse_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}
