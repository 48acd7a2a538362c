//! Your own transport: drive `pn_core::Core` directly, here with a blocking
//! `std::net::TcpStream` and HTTP/1.1 written by hand (`Connection: close`, plain `http://`).
//!
//! The loop is the core's contract: after every input, drain `poll_transmit` and `poll_event`;
//! hand every answer to `handle_response`; call `handle_timeout` at `poll_timeout`. A real
//! transport runs requests concurrently (long-polls would block this loop) and adds TLS.
//! `PN_ORIGIN` (default `http://127.0.0.1:8090`) must be an `http://` origin.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use pn_core::*;

fn send(origin: &Origin, r: &Request) -> Result<Response, TransportError> {
    let lost =
        |e: std::io::Error| TransportError::new(TransportErrorKind::ConnectionLost, e.to_string());
    let mut s = TcpStream::connect(&origin.authority)
        .map_err(|e| TransportError::new(TransportErrorKind::Connect, e.to_string()))?;
    s.set_read_timeout(Some(r.timeout)).map_err(lost)?;
    let body = r.body.as_deref().unwrap_or(b"");
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        r.method.as_str(),
        r.path_and_query,
        origin.authority,
        body.len()
    );
    for (name, value) in &r.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    s.write_all(head.as_bytes())
        .and_then(|_| s.write_all(b"\r\n"))
        .and_then(|_| s.write_all(body))
        .map_err(lost)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(lost)?; // fine for an example: the server sends Content-Length
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| TransportError::new(TransportErrorKind::ConnectionLost, "no head"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok(Response::new(status, raw[split + 4..].to_vec()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let origin = std::env::var("PN_ORIGIN").unwrap_or_else(|_| "http://127.0.0.1:8090".into());
    let config = Config::new("demo", "custom-transport")
        .with_publish_key("demo")
        .with_origin(origin);
    let unix = SystemTime::now().duration_since(UNIX_EPOCH)?;
    let mut core = Core::new(config, 42, Instant::now(), unix)?;
    core.publish(
        Publish::new("demo-channel", "hello by hand")?,
        Instant::now(),
    )?;
    core.time(Instant::now());
    let mut pending = 2;
    while pending > 0 {
        while let Some(action) = core.poll_transmit() {
            if let TransportAction::Send(request) = action {
                let answer = send(core.origin(), &request);
                core.handle_response(request.id, answer, Instant::now());
            } // Cancel: nothing to abort, every request here completes before the next starts.
        }
        while let Some(event) = core.poll_event() {
            if let Event::Result(r) = event {
                println!("{:?}: {:?}", r.operation, r.outcome);
                pending -= 1;
            }
        }
        if let Some(at) = core.poll_timeout().filter(|_| pending > 0) {
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
            core.handle_timeout(Instant::now());
        }
    }
    Ok(())
}
