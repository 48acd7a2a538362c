//! Maps hyper, I/O and TLS failures to the core's [`TransportErrorKind`]s.

use std::error::Error as StdError;
use std::io;

use pn_async_driver::io_error_kind;
use pn_core::{TransportError, TransportErrorKind};

/// Every error in `err`'s chain, looking inside `io::Error`s' wrapped errors too.
fn chain<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        out.push(e);
        next = match e.downcast_ref::<io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    out
}

/// The kind of a failure, from the most specific cause found in its chain.
fn kind_of(err: &(dyn StdError + 'static), connecting: bool) -> TransportErrorKind {
    let causes = chain(err);
    if causes.iter().any(|e| e.is::<rustls::Error>()) {
        return TransportErrorKind::Tls;
    }
    for e in &causes {
        if let Some(kind) = e
            .downcast_ref::<io::Error>()
            .and_then(|io| io_error_kind(io, connecting))
        {
            return kind;
        }
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if h.is_timeout() {
                return TransportErrorKind::Timeout;
            }
            if h.is_incomplete_message() || h.is_canceled() || h.is_closed() {
                return TransportErrorKind::ConnectionLost;
            }
        }
    }
    if connecting {
        TransportErrorKind::Connect
    } else {
        TransportErrorKind::Other
    }
}

/// The message of `err` and its causes, joined.
fn describe(err: &(dyn StdError + 'static)) -> String {
    let mut s = err.to_string();
    for cause in chain(err).into_iter().skip(1) {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
    }
    s
}

/// A failure of the request as a whole (connecting, sending, reading the head).
pub(crate) fn request_error(err: hyper_util::client::legacy::Error) -> TransportError {
    let kind = kind_of(&err, err.is_connect());
    TransportError::new(kind, describe(&err))
}

/// A failure while reading the body (`Limited` reports an oversized body as its own error).
pub(crate) fn body_error(err: Box<dyn StdError + Send + Sync>) -> TransportError {
    if err.is::<http_body_util::LengthLimitError>() {
        return TransportError::new(TransportErrorKind::BodyTooLarge, err.to_string());
    }
    let err: &(dyn StdError + 'static) = &*err;
    let kind = match kind_of(err, false) {
        TransportErrorKind::Other => TransportErrorKind::ConnectionLost,
        k => k,
    };
    TransportError::new(kind, describe(err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_kinds() {
        let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(kind_of(&refused, true), TransportErrorKind::Connect);
        let reset = io::Error::new(io::ErrorKind::ConnectionReset, "reset");
        assert_eq!(kind_of(&reset, false), TransportErrorKind::ConnectionLost);
        let timed_out = io::Error::new(io::ErrorKind::TimedOut, "slow");
        assert_eq!(kind_of(&timed_out, true), TransportErrorKind::Timeout);
        let other = io::Error::other("x");
        assert_eq!(kind_of(&other, false), TransportErrorKind::Other);
        assert_eq!(kind_of(&other, true), TransportErrorKind::Connect);
    }

    #[test]
    fn tls_inside_io() {
        let tls = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::General("bad cert".into()),
        );
        assert_eq!(kind_of(&tls, true), TransportErrorKind::Tls);
        assert!(describe(&tls).contains("bad cert"));
    }

    #[tokio::test]
    async fn oversized_body() {
        use http_body_util::{BodyExt, Full, Limited};
        let body = Full::new(bytes::Bytes::from(vec![0u8; 10]));
        let err = Limited::new(body, 5).collect().await.err();
        let kind = err.map(|e| body_error(e).kind);
        assert_eq!(kind, Some(TransportErrorKind::BodyTooLarge));
    }
}
