//! One HTTP exchange with ureq: a core [`Request`] in, a core [`Response`] (or failure) out.

use std::time::Duration;

use pn_core::{Method, Request, Response, TransportError, TransportErrorKind};
use ureq::Agent;
use ureq::unversioned::transport::DefaultConnector;

use crate::error_map::transport_error;
use crate::resolve::CachingResolver;

/// The default cap on a response body: larger answers fail with `BodyTooLarge`.
pub const DEFAULT_MAX_BODY: u64 = 16 * 1024 * 1024;

/// What every agent of a client is built with.
#[derive(Clone, Debug)]
pub(crate) struct HttpSettings {
    /// `scheme://authority` of the origin.
    pub base_url: String,
    /// Largest accepted body.
    pub max_body: u64,
    /// Bound on DNS and TCP connect, which an agent shutdown cannot interrupt.
    pub connect_timeout: Duration,
}

impl HttpSettings {
    /// A new agent: statuses are answers, not errors (the core reads error bodies), no
    /// redirects followed (the core sees the 3xx), TLS by rustls with the ring provider.
    pub fn agent(&self) -> Agent {
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_connect(Some(self.connect_timeout))
            .timeout_resolve(Some(self.connect_timeout))
            .user_agent(concat!("pn-blocking/", env!("CARGO_PKG_VERSION")))
            .build();
        Agent::with_parts(config, DefaultConnector::new(), CachingResolver::default())
    }

    /// Sends `request` with `agent` and reads the whole answer, bounded by the request's own
    /// timeout. Never panics, whatever the peer sends.
    pub fn execute(&self, agent: &Agent, request: &Request) -> Result<Response, TransportError> {
        let url = format!("{}{}", self.base_url, request.path_and_query);
        let timeout = Some(request.timeout);
        let result = match request.method {
            Method::Get => {
                let mut b = agent.get(&url);
                for (name, value) in &request.headers {
                    b = b.header(*name, value);
                }
                b.config().timeout_global(timeout).build().call()
            }
            Method::Post => {
                let mut b = agent.post(&url);
                for (name, value) in &request.headers {
                    b = b.header(*name, value);
                }
                let body: &[u8] = request.body.as_deref().unwrap_or(&[]);
                b.config().timeout_global(timeout).build().send(body)
            }
        };
        let mut response = result.map_err(transport_error)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let declared = response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(len) = declared.filter(|len| *len > self.max_body) {
            return Err(TransportError::new(
                TransportErrorKind::BodyTooLarge,
                format!(
                    "the answer declares {len} bytes, more than the {} allowed",
                    self.max_body
                ),
            ));
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_body)
            .read_to_vec()
            .map_err(transport_error)?;
        Ok(Response {
            status,
            retry_after,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpListener};
    use std::thread;

    use pn_core::{RequestId, RequestKind, TransportErrorKind};

    use super::*;

    /// Serves one connection with `answer` after reading the request head; returns the
    /// address and a handle yielding the request text.
    fn serve_once(answer: &'static [u8]) -> (SocketAddr, thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let h = thread::spawn(move || {
            let (mut s, _) = listener.accept().expect("accept");
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let _ = s.write_all(answer);
            String::from_utf8_lossy(&buf).into_owned()
        });
        (addr, h)
    }

    fn settings(addr: SocketAddr, max_body: u64) -> HttpSettings {
        HttpSettings {
            base_url: format!("http://{addr}"),
            max_body,
            connect_timeout: Duration::from_secs(2),
        }
    }

    fn get(path: &str, timeout: Duration) -> Request {
        Request {
            id: RequestId(1),
            method: Method::Get,
            path_and_query: path.into(),
            headers: vec![("X-Test", "1".into())],
            body: None,
            timeout,
            kind: RequestKind::Regular,
        }
    }

    #[test]
    fn error_status_and_retry_after_reach_the_core() {
        let (addr, h) = serve_once(
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 5\r\n\r\n{\"a\"}",
        );
        let s = settings(addr, 1024);
        let r = s
            .execute(&s.agent(), &get("/time/0?uuid=u", Duration::from_secs(5)))
            .expect("answer");
        assert_eq!(r.status, 429);
        assert_eq!(r.retry_after.as_deref(), Some("3"));
        assert_eq!(r.body, b"{\"a\"}");
        let head = h.join().expect("server");
        assert!(head.starts_with("GET /time/0?uuid=u HTTP/1.1"), "{head}");
        assert!(head.to_ascii_lowercase().contains("x-test: 1"), "{head}");
    }

    #[test]
    fn post_sends_the_body() {
        let (addr, h) = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]");
        let s = settings(addr, 1024);
        let mut req = get("/publish/p/s/0/ch/0", Duration::from_secs(5));
        req.method = Method::Post;
        req.body = Some(b"\"hi\"".to_vec());
        let r = s.execute(&s.agent(), &req).expect("answer");
        assert_eq!(r.status, 200);
        let head = h.join().expect("server");
        assert!(head.starts_with("POST /publish/p/s/0/ch/0 "), "{head}");
    }

    #[test]
    fn declared_oversized_body_is_refused_before_reading() {
        let (addr, _h) = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n0123");
        let s = settings(addr, 4);
        let e = s
            .execute(&s.agent(), &get("/time/0", Duration::from_secs(5)))
            .expect_err("too large");
        assert_eq!(e.kind, TransportErrorKind::BodyTooLarge);
        assert!(e.message.contains("declares 99999999999"), "{}", e.message);
    }

    #[test]
    fn oversized_body_is_refused() {
        let (addr, _h) = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789");
        let s = settings(addr, 4);
        let e = s
            .execute(&s.agent(), &get("/time/0", Duration::from_secs(5)))
            .expect_err("too large");
        assert_eq!(e.kind, TransportErrorKind::BodyTooLarge, "{}", e.message);
    }

    #[test]
    fn truncated_body_is_a_lost_connection() {
        let (addr, _h) = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n012");
        let s = settings(addr, 1024);
        let e = s
            .execute(&s.agent(), &get("/time/0", Duration::from_secs(5)))
            .expect_err("truncated");
        assert_eq!(e.kind, TransportErrorKind::ConnectionLost, "{}", e.message);
    }

    #[test]
    fn https_to_a_plain_http_server_is_a_tls_failure() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let _h = thread::spawn(move || {
            // Answers in plain HTTP at once, whatever the client sends.
            if let Ok((mut s, _)) = listener.accept() {
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                let _ = s.read(&mut [0u8; 1024]);
            }
        });
        let mut s = settings(addr, 1024);
        s.base_url = format!("https://{addr}");
        let e = s
            .execute(&s.agent(), &get("/time/0", Duration::from_secs(5)))
            .expect_err("not TLS");
        assert_eq!(e.kind, TransportErrorKind::Tls, "{}", e.message);
    }

    #[test]
    fn refused_connection_is_connect() {
        let addr = {
            let l = TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr")
        };
        let s = settings(addr, 1024);
        let e = s
            .execute(&s.agent(), &get("/time/0", Duration::from_secs(5)))
            .expect_err("refused");
        assert_eq!(e.kind, TransportErrorKind::Connect, "{}", e.message);
    }

    #[test]
    fn silent_server_times_out_and_shutdown_aborts() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (accepted_tx, accepted) = std::sync::mpsc::channel();
        let _keep = thread::spawn(move || {
            let mut conns = Vec::new();
            for c in listener.incoming().take(2) {
                conns.push(c);
                let _ = accepted_tx.send(());
            }
            // Hold the connections open, silent, until the test is over.
            let _ = accepted_tx.send(());
            thread::sleep(Duration::from_secs(5));
        });
        let s = settings(addr, 1024);
        let started = std::time::Instant::now();
        let e = s
            .execute(&s.agent(), &get("/time/0", Duration::from_millis(200)))
            .expect_err("timeout");
        assert_eq!(e.kind, TransportErrorKind::Timeout, "{}", e.message);
        assert!(started.elapsed() < Duration::from_secs(2));

        let agent = s.agent();
        let (s2, a2) = (s.clone(), agent.clone());
        let h = thread::spawn(move || s2.execute(&a2, &get("/time/0", Duration::from_secs(30))));
        // The second connection is accepted: the request is sent and waits for an answer.
        accepted
            .recv_timeout(Duration::from_secs(5))
            .expect("first");
        accepted
            .recv_timeout(Duration::from_secs(5))
            .expect("second");
        let started = std::time::Instant::now();
        agent.shutdown();
        let r = h.join().expect("thread");
        assert!(r.is_err());
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
