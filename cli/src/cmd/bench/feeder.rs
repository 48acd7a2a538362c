//! The publisher behind every subscribe benchmark: numbered messages over plain HTTP/1.1,
//! pipelined on one keep-alive connection from one thread, never more than `window` ahead of
//! what the subscriber has counted, so that a server capping a subscribe response at `window`
//! messages (the service: 100) drops none. Requests are built by pn-core (signed when the
//! configuration has a secret key). Shared with the comparison harness in `bench/`.

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pn_core::{Config, Core, Origin, Publish};

use super::stats::{self, Measured};

/// Most requests written before their answers are read.
const PIPELINE: u64 = 32;
/// How long the feeder naps while the window is full.
const NAP: Duration = Duration::from_micros(50);

/// The message with sequence number `seq`: a small JSON object.
pub fn payload(seq: u64) -> String {
    format!(r#"{{"seq":{seq},"text":"hello from pn bench"}}"#)
}

/// What the subscriber tells the feeder.
#[derive(Debug, Default)]
pub struct Progress {
    /// Messages the subscriber has counted.
    pub received: AtomicU64,
    /// Set when the subscriber gives up: the feeder stops.
    pub stop: AtomicBool,
}

impl Progress {
    /// Records that `n` messages have been counted.
    pub fn counted(&self, n: u64) {
        self.received.store(n, Ordering::Release);
    }
}

/// A running feeder; [`Feeder::finish`] returns the CPU time its thread used.
pub struct Feeder {
    progress: Arc<Progress>,
    thread: JoinHandle<io::Result<Duration>>,
}

impl Feeder {
    /// Starts publishing `count` messages (seq 0..count) on `channel`.
    pub fn start(
        config: Config,
        channel: &str,
        count: u64,
        window: u64,
        progress: Arc<Progress>,
    ) -> io::Result<Feeder> {
        let origin = Origin::parse(&config.origin).map_err(io::Error::other)?;
        if origin.tls {
            return Err(io::Error::other(
                "the subscribe benchmark's feeder speaks plain HTTP: use an http:// origin",
            ));
        }
        let stream = TcpStream::connect(&origin.authority)?;
        stream.set_nodelay(true)?;
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let core = Core::new(config, 0, Instant::now(), unix).map_err(io::Error::other)?;
        let mut run = Run {
            core,
            host: origin.authority,
            channel: channel.to_owned(),
            stream,
            progress: Arc::clone(&progress),
        };
        let window = window.max(1);
        let thread = std::thread::Builder::new()
            .name("bench-feeder".into())
            .spawn(move || {
                run.feed(count, window)?;
                Ok(stats::thread_cpu())
            })?;
        Ok(Feeder { progress, thread })
    }

    /// Stops the feeder (if still publishing) and returns its thread's CPU time.
    pub fn finish(self) -> io::Result<Duration> {
        self.progress.stop.store(true, Ordering::Release);
        self.thread
            .join()
            .map_err(|_| io::Error::other("the feeder panicked"))?
    }
}

struct Run {
    core: Core,
    host: String,
    channel: String,
    stream: TcpStream,
    progress: Arc<Progress>,
}

impl Run {
    fn feed(&mut self, count: u64, window: u64) -> io::Result<()> {
        let mut reader = BufReader::new(self.stream.try_clone()?);
        let mut batch = Vec::new();
        let mut sent = 0;
        while sent < count && !self.progress.stop.load(Ordering::Acquire) {
            let outstanding = sent - self.progress.received.load(Ordering::Acquire).min(sent);
            if outstanding >= window {
                std::thread::sleep(NAP);
                continue;
            }
            let k = (window - outstanding).min(count - sent).min(PIPELINE);
            batch.clear();
            for seq in sent..sent + k {
                self.request(seq, &mut batch)?;
            }
            self.stream.write_all(&batch)?;
            for _ in 0..k {
                read_answer(&mut reader)?;
            }
            sent += k;
        }
        Ok(())
    }

    /// Appends the HTTP/1.1 text of publish `seq` to `out`.
    fn request(&mut self, seq: u64, out: &mut Vec<u8>) -> io::Result<()> {
        let publish = Publish::raw(&self.channel, &payload(seq)).map_err(io::Error::other)?;
        let r = self
            .core
            .publish_request(publish, Instant::now())
            .map_err(io::Error::other)?;
        write!(
            out,
            "{} {} HTTP/1.1\r\nHost: {}\r\n",
            r.method.as_str(),
            r.path_and_query,
            self.host
        )?;
        for (name, value) in &r.headers {
            write!(out, "{name}: {value}\r\n")?;
        }
        let body = r.body.as_deref().unwrap_or_default();
        write!(out, "Content-Length: {}\r\n\r\n", body.len())?;
        out.extend_from_slice(body);
        Ok(())
    }
}

/// Reads one answer (status line, headers, `Content-Length` body); fails unless it is a 200.
fn read_answer(reader: &mut impl BufRead) -> io::Result<()> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    let mut length = 0;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().map_err(io::Error::other)?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    if status != "200" {
        return Err(io::Error::other(format!(
            "publish answered {status}: {}",
            String::from_utf8_lossy(&body)
        )));
    }
    Ok(())
}

/// Runs `receive` (which counts `count` messages, calling [`Progress::counted`]) while a
/// feeder publishes them; wall time and the CPU time of everything but the feeder.
pub fn measure_delivery(
    config: Config,
    channel: &str,
    count: u64,
    window: u64,
    receive: impl FnOnce(&Progress) -> io::Result<()>,
) -> io::Result<Measured> {
    let progress = Arc::new(Progress::default());
    let cpu = stats::process_cpu();
    let start = Instant::now();
    let feeder = Feeder::start(config, channel, count, window, Arc::clone(&progress))?;
    let received = receive(&progress);
    let wall = start.elapsed();
    let total = stats::process_cpu().saturating_sub(cpu);
    let fed = feeder.finish();
    received?;
    let feeder_cpu = fed.map_err(|e| io::Error::other(format!("feeder: {e}")))?;
    Ok(Measured {
        count,
        wall,
        cpu: total.saturating_sub(feeder_cpu),
    })
}

/// Checks that a received payload is message `expected` (nothing lost, nothing reordered).
pub fn check_seq(payload: &serde_json::Value, expected: u64) -> io::Result<()> {
    match payload.get("seq").and_then(serde_json::Value::as_u64) {
        Some(seq) if seq == expected => Ok(()),
        got => Err(io::Error::other(format!(
            "expected message {expected}, got {got:?}: messages were lost or reordered \
             (is the server's per-response cap below the window?)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_carry_their_number() {
        let v: serde_json::Value = serde_json::from_str(&payload(7)).unwrap();
        assert!(check_seq(&v, 7).is_ok());
        assert!(check_seq(&v, 8).is_err());
    }

    #[test]
    fn answers_are_read_by_length() {
        let text = "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabcHTTP/1.1 400 Bad\r\nContent-Length: 2\r\n\r\nno";
        let mut r = BufReader::new(text.as_bytes());
        assert!(read_answer(&mut r).is_ok());
        let e = read_answer(&mut r).unwrap_err();
        assert!(e.to_string().contains("400: no"), "{e}");
    }
}
