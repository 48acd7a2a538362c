//! What goes between the core and a transport: request descriptors out, responses back.

use std::fmt;
use std::time::Duration;

use crate::status::Category;

/// Identifies one HTTP request the core asked a transport to send.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct RequestId(pub u64);

/// The HTTP method of a request.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST` with a JSON body.
    Post,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// Whether a request is a subscribe long-poll (held by the server for minutes) or a short call.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum RequestKind {
    /// A subscribe long-poll: give it a connection of its own.
    LongPoll,
    /// Any other request: a pooled, kept-alive connection is fine.
    Regular,
}

/// An HTTP request for a transport to send, complete and ready for the wire.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Request {
    /// The id to hand back with the answer.
    pub id: RequestId,
    /// The HTTP method.
    pub method: Method,
    /// Path and query, percent-encoded exactly once (see [`crate::encoding`]).
    pub path_and_query: String,
    /// Headers to send besides `Host` and `Content-Length`.
    pub headers: Vec<(&'static str, String)>,
    /// The body, for `POST`.
    pub body: Option<Vec<u8>>,
    /// Give up and report [`TransportErrorKind::Timeout`] after this long.
    pub timeout: Duration,
    /// Long-poll or regular.
    pub kind: RequestKind,
}

impl Request {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or(&self.path_and_query, |(p, _)| p)
    }

    /// The query string without the leading `?` (empty if none).
    pub fn query(&self) -> &str {
        self.path_and_query.split_once('?').map_or("", |(_, q)| q)
    }
}

/// One thing for a transport to do, in order.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum TransportAction {
    /// Send this request and hand its answer to [`crate::Core::handle_response`].
    Send(Request),
    /// Abort this in-flight request; its answer, if any arrives, is ignored.
    Cancel(RequestId),
}

/// An HTTP answer as received.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The value of the `Retry-After` header, if present.
    pub retry_after: Option<String>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with this status and body and no headers of interest.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            retry_after: None,
            body: body.into(),
        }
    }
}

/// What kind of failure kept a request from getting a complete answer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TransportErrorKind {
    /// No connection could be made (refused, unreachable, DNS): nothing was sent.
    Connect,
    /// The request's timeout passed without a complete answer.
    Timeout,
    /// The connection broke while sending or receiving.
    ConnectionLost,
    /// TLS could not be established: nothing was sent.
    Tls,
    /// The answer was larger than the transport accepts.
    BodyTooLarge,
    /// Anything else.
    Other,
}

impl TransportErrorKind {
    /// Whether the request certainly never reached the service.
    pub fn request_not_sent(self) -> bool {
        matches!(self, TransportErrorKind::Connect | TransportErrorKind::Tls)
    }
}

/// A request that got no complete answer.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TransportError {
    /// What went wrong.
    pub kind: TransportErrorKind,
    /// The transport's description.
    pub message: String,
}

impl TransportError {
    /// A transport error of `kind` described by `message`.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> TransportError {
        TransportError {
            kind,
            message: message.into(),
        }
    }

    /// The status category of this failure.
    pub fn category(&self) -> Category {
        match self.kind {
            TransportErrorKind::Timeout => Category::Timeout,
            TransportErrorKind::BodyTooLarge => Category::MalformedResponse,
            _ => Category::NetworkIssues,
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}
