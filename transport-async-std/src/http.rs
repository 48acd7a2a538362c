//! A minimal HTTP/1.1 client exchange: write one request, read one response (bodies framed by
//! `Content-Length`, chunked, or the end of the connection), with bounded memory.

use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use pn_async_driver::io_error_kind;
use pn_core::{Request, Response, TransportError, TransportErrorKind};

/// Largest response head (status line and headers) accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Most headers in a response head.
const MAX_HEADERS: usize = 64;
/// Longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;
/// How much is read from the connection at a time.
const READ_CHUNK: usize = 16 * 1024;

/// The answer and whether the connection may carry another request.
pub(crate) struct Exchange {
    /// The response.
    pub response: Response,
    /// Whether the connection is left clean and open for another request.
    pub reusable: bool,
}

fn lost(what: &str) -> TransportError {
    TransportError::new(TransportErrorKind::ConnectionLost, what)
}

fn malformed(what: impl Into<String>) -> TransportError {
    TransportError::new(TransportErrorKind::Other, what)
}

fn too_large(max: usize) -> TransportError {
    TransportError::new(
        TransportErrorKind::BodyTooLarge,
        format!("the answer is larger than {max} bytes"),
    )
}

fn io_failure(err: &std::io::Error, when: &str) -> TransportError {
    let kind = io_error_kind(err, false).unwrap_or(TransportErrorKind::ConnectionLost);
    TransportError::new(kind, format!("{when}: {err}"))
}

/// The request head and body as bytes.
pub(crate) fn encode(authority: &str, request: &Request) -> Vec<u8> {
    let body = request.body.as_deref().unwrap_or(b"");
    let mut out = Vec::with_capacity(256 + body.len());
    out.extend_from_slice(request.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(request.path_and_query.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    out.extend_from_slice(authority.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in &request.headers {
        // Header values come from the core; drop line breaks rather than split the head.
        let value: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if request.body.is_some() {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// Reads more bytes into `buf`; `false` at the end of the stream.
async fn read_more<S: AsyncRead + Unpin>(
    io: &mut S,
    buf: &mut Vec<u8>,
) -> Result<bool, TransportError> {
    let start = buf.len();
    buf.resize(start + READ_CHUNK, 0);
    let read = io.read(&mut buf[start..]).await;
    let n = match read {
        Ok(n) => n,
        Err(e) => {
            buf.truncate(start);
            return Err(io_failure(&e, "reading the answer"));
        }
    };
    buf.truncate(start + n);
    Ok(n > 0)
}

/// Reads until `buf` holds at least `len` bytes.
async fn fill<S: AsyncRead + Unpin>(
    io: &mut S,
    buf: &mut Vec<u8>,
    len: usize,
) -> Result<(), TransportError> {
    while buf.len() < len {
        if !read_more(io, buf).await? {
            return Err(lost("the connection closed in the middle of the answer"));
        }
    }
    Ok(())
}

/// Reads one CRLF-terminated line (without the CRLF) from the front of `buf`.
async fn read_line<S: AsyncRead + Unpin>(
    io: &mut S,
    buf: &mut Vec<u8>,
) -> Result<Vec<u8>, TransportError> {
    let mut searched = 0;
    loop {
        if let Some(i) = buf[searched..].windows(2).position(|w| w == b"\r\n") {
            let end = searched + i;
            let line = buf[..end].to_vec();
            buf.drain(..end + 2);
            return Ok(line);
        }
        if buf.len() > MAX_LINE {
            return Err(malformed("a chunk line is too long"));
        }
        searched = buf.len().saturating_sub(1);
        if !read_more(io, buf).await? {
            return Err(lost("the connection closed in the middle of the answer"));
        }
    }
}

/// What the head says about the body.
struct Head {
    status: u16,
    retry_after: Option<String>,
    content_length: Option<u64>,
    chunked: bool,
    keep_alive: bool,
}

/// Parses a complete head at the front of `buf`; `None` if more bytes are needed.
fn parse_head(buf: &[u8]) -> Result<Option<(Head, usize)>, TransportError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut headers);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(malformed(format!("invalid response head: {e}"))),
    };
    let status = parsed.code.unwrap_or(0);
    let mut head = Head {
        status,
        retry_after: None,
        content_length: None,
        chunked: false,
        keep_alive: parsed.version == Some(1),
    };
    for h in parsed.headers.iter() {
        let value = String::from_utf8_lossy(h.value);
        let value = value.trim();
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = value
                .parse::<u64>()
                .map_err(|_| malformed(format!("invalid Content-Length {value:?}")))?;
            if head.content_length.is_some_and(|m| m != n) {
                return Err(malformed("conflicting Content-Length headers"));
            }
            head.content_length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            head.chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        } else if h.name.eq_ignore_ascii_case("connection") {
            if value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("close"))
            {
                head.keep_alive = false;
            }
        } else if h.name.eq_ignore_ascii_case("retry-after") {
            head.retry_after = Some(value.to_owned());
        }
    }
    Ok(Some((head, len)))
}

/// Reads a response head, skipping interim (1xx) responses.
async fn read_head<S: AsyncRead + Unpin>(
    io: &mut S,
    buf: &mut Vec<u8>,
) -> Result<Head, TransportError> {
    // Parse only once the blank line ending the head has arrived, so that a head trickling in
    // byte by byte costs linear time.
    let mut scanned: usize = 0;
    loop {
        let complete = buf[scanned.saturating_sub(3)..]
            .windows(4)
            .any(|w| w == b"\r\n\r\n" || &w[2..] == b"\n\n");
        scanned = buf.len();
        if complete {
            let Some((head, len)) = parse_head(buf)? else {
                return Err(malformed("invalid response head"));
            };
            buf.drain(..len);
            scanned = 0;
            if (100..200).contains(&head.status) && head.status != 101 {
                continue;
            }
            return Ok(head);
        }
        if buf.len() > MAX_HEAD {
            return Err(malformed("the response head is too large"));
        }
        if !read_more(io, buf).await? {
            return Err(lost("the connection closed before an answer"));
        }
    }
}

/// Reads a chunked body, at most `max` bytes of it.
async fn read_chunked<S: AsyncRead + Unpin>(
    io: &mut S,
    buf: &mut Vec<u8>,
    max: usize,
) -> Result<Vec<u8>, TransportError> {
    let mut body = Vec::new();
    loop {
        let line = read_line(io, buf).await?;
        let line = String::from_utf8_lossy(&line);
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| malformed(format!("invalid chunk size {size_text:?}")))?;
        if size == 0 {
            let mut trailer_bytes = 0;
            loop {
                let trailer = read_line(io, buf).await?;
                if trailer.is_empty() {
                    return Ok(body);
                }
                trailer_bytes += trailer.len();
                if trailer_bytes > MAX_HEAD {
                    return Err(malformed("the trailers are too large"));
                }
            }
        }
        if body.len().saturating_add(size) > max {
            return Err(too_large(max));
        }
        fill(io, buf, size + 2).await?;
        body.extend_from_slice(&buf[..size]);
        if &buf[size..size + 2] != b"\r\n" {
            return Err(malformed("a chunk is not followed by CRLF"));
        }
        buf.drain(..size + 2);
    }
}

/// Sends `request` on `io` and reads the whole answer (body at most `max_body` bytes).
/// `buf` must be empty; bytes read past the answer are left in it.
pub(crate) async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    buf: &mut Vec<u8>,
    authority: &str,
    request: &Request,
    max_body: usize,
) -> Result<Exchange, TransportError> {
    let bytes = encode(authority, request);
    io.write_all(&bytes)
        .await
        .map_err(|e| io_failure(&e, "sending the request"))?;
    io.flush()
        .await
        .map_err(|e| io_failure(&e, "sending the request"))?;
    let head = read_head(io, buf).await?;
    let mut framed = true;
    let body = if (100..200).contains(&head.status) || head.status == 204 || head.status == 304 {
        Vec::new()
    } else if head.chunked {
        read_chunked(io, buf, max_body).await?
    } else if let Some(len) = head.content_length {
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > max_body {
            return Err(too_large(max_body));
        }
        fill(io, buf, len).await?;
        buf.drain(..len).collect()
    } else {
        framed = false;
        while read_more(io, buf).await? {
            if buf.len() > max_body {
                return Err(too_large(max_body));
            }
        }
        std::mem::take(buf)
    };
    Ok(Exchange {
        reusable: framed && head.keep_alive && buf.is_empty(),
        response: Response {
            status: head.status,
            retry_after: head.retry_after,
            body,
        },
    })
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Duration;

    use pn_core::{Method, RequestId, RequestKind};

    use super::*;

    /// Answers reads from `input` `chunk` bytes at a time; keeps what is written.
    struct Mock {
        input: Vec<u8>,
        pos: usize,
        chunk: usize,
        written: Vec<u8>,
    }

    impl Mock {
        fn new(input: &[u8], chunk: usize) -> Mock {
            Mock {
                input: input.to_vec(),
                pos: 0,
                chunk,
                written: Vec::new(),
            }
        }
    }

    impl AsyncRead for Mock {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            let n = buf.len().min(self.chunk).min(self.input.len() - self.pos);
            let pos = self.pos;
            buf[..n].copy_from_slice(&self.input[pos..pos + n]);
            self.pos += n;
            Poll::Ready(Ok(n))
        }
    }

    impl AsyncWrite for Mock {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.written.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn request(body: Option<&str>) -> Request {
        Request {
            id: RequestId(1),
            method: if body.is_some() {
                Method::Post
            } else {
                Method::Get
            },
            path_and_query: "/time/0?uuid=u".into(),
            headers: vec![("Content-Type", "application/json".into())],
            body: body.map(|b| b.as_bytes().to_vec()),
            timeout: Duration::from_secs(1),
            kind: RequestKind::Regular,
        }
    }

    fn run(input: &[u8], max: usize) -> (Result<Exchange, TransportError>, Mock) {
        run_in_chunks(input, max, 3)
    }

    fn run_in_chunks(
        input: &[u8],
        max: usize,
        chunk: usize,
    ) -> (Result<Exchange, TransportError>, Mock) {
        let mut mock = Mock::new(input, chunk);
        let mut buf = Vec::new();
        let r = futures_lite::future::block_on(exchange(
            &mut mock,
            &mut buf,
            "h:1",
            &request(None),
            max,
        ));
        (r, mock)
    }

    #[test]
    fn writes_the_request() {
        let bytes = encode("h:1", &request(Some("[1]")));
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            "POST /time/0?uuid=u HTTP/1.1\r\nHost: h:1\r\nContent-Type: application/json\r\n\
             Content-Length: 3\r\n\r\n[1]"
        );
        let (_, mock) = run(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 10);
        assert!(mock.written.starts_with(b"GET /time/0?uuid=u HTTP/1.1\r\n"));
    }

    #[test]
    fn content_length_body() {
        let (r, _) = run(
            b"HTTP/1.1 429 Too Many\r\nRetry-After: 3\r\nContent-Length: 5\r\n\r\nhello",
            10,
        );
        let ex = r.ok().unwrap_or_else(|| panic!("failed"));
        assert_eq!(ex.response.status, 429);
        assert_eq!(ex.response.retry_after.as_deref(), Some("3"));
        assert_eq!(ex.response.body, b"hello");
        assert!(ex.reusable);
    }

    #[test]
    fn chunked_body_with_interim_response() {
        let (r, _) = run(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
              5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n",
            100,
        );
        let ex = r.ok().unwrap_or_else(|| panic!("failed"));
        assert_eq!(ex.response.body, b"hello world");
        assert!(ex.reusable);
    }

    #[test]
    fn body_until_close_is_not_reusable() {
        let (r, _) = run(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc", 10);
        let ex = r.ok().unwrap_or_else(|| panic!("failed"));
        assert_eq!(ex.response.body, b"abc");
        assert!(!ex.reusable);
        let (r, _) = run(b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\na", 10);
        assert!(r.is_ok_and(|ex| !ex.reusable));
    }

    #[test]
    fn limits() {
        let kind = |input: &[u8]| run(input, 4).0.err().map(|e| e.kind);
        let large = Some(TransportErrorKind::BodyTooLarge);
        assert_eq!(
            kind(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
            large
        );
        assert_eq!(
            kind(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\nabc\r\n0\r\n\r\n"),
            large
        );
        assert_eq!(kind(b"HTTP/1.1 200 OK\r\n\r\nhello"), large);
        assert_eq!(
            kind(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"),
            Some(TransportErrorKind::Other)
        );
    }

    #[test]
    fn broken_answers() {
        let kind = |input: &[u8]| run(input, 100).0.err().map(|e| e.kind);
        let lost = Some(TransportErrorKind::ConnectionLost);
        let other = Some(TransportErrorKind::Other);
        assert_eq!(kind(b""), lost);
        assert_eq!(kind(b"HTTP/1.1 200 OK\r\nContent-Le"), lost);
        assert_eq!(
            kind(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhalf"),
            lost
        );
        assert_eq!(
            kind(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"),
            lost
        );
        assert_eq!(kind(b"garbage\r\n\r\n"), other);
        assert_eq!(
            kind(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            other
        );
        assert_eq!(
            kind(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n"),
            other
        );
        assert_eq!(
            kind(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
            other
        );
        let mut long = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_HEAD + 10));
        let r = run_in_chunks(&long, 100, 1000).0;
        assert_eq!(r.err().map(|e| e.kind), other);
    }
}
