//! Turning ureq's errors into the core's [`TransportErrorKind`]s.

use std::io;

use pn_core::{TransportError, TransportErrorKind};

/// The transport error the core should see for a ureq failure.
pub(crate) fn transport_error(e: ureq::Error) -> TransportError {
    TransportError::new(kind_of(&e), e.to_string())
}

/// Classifies a ureq error. Only failures that certainly happened before anything was sent are
/// called `Connect` or `Tls`: the core lets a publish be retried without risk of duplicates on
/// those, so anything doubtful is `ConnectionLost` or `Other`.
pub(crate) fn kind_of(e: &ureq::Error) -> TransportErrorKind {
    use ureq::Error as E;
    match e {
        E::Timeout(_) => TransportErrorKind::Timeout,
        E::HostNotFound | E::ConnectionFailed => TransportErrorKind::Connect,
        E::Io(io) => io_kind(io),
        E::Tls(_) | E::Pem(_) | E::Rustls(_) => TransportErrorKind::Tls,
        E::BodyExceedsLimit(_) => TransportErrorKind::BodyTooLarge,
        _ => TransportErrorKind::Other,
    }
}

fn io_kind(e: &io::Error) -> TransportErrorKind {
    use io::ErrorKind as K;
    // rustls reports handshake failures (bad certificate, a peer not speaking TLS) as I/O
    // errors wrapping its own error.
    if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) {
        return TransportErrorKind::Tls;
    }
    match e.kind() {
        K::ConnectionRefused
        | K::AddrNotAvailable
        | K::AddrInUse
        | K::NetworkUnreachable
        | K::HostUnreachable
        | K::NetworkDown => TransportErrorKind::Connect,
        K::TimedOut | K::WouldBlock => TransportErrorKind::Timeout,
        _ => TransportErrorKind::ConnectionLost,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        let io = |k| ureq::Error::Io(io::Error::from(k));
        let cases = [
            (
                io(io::ErrorKind::ConnectionRefused),
                TransportErrorKind::Connect,
            ),
            (
                io(io::ErrorKind::ConnectionReset),
                TransportErrorKind::ConnectionLost,
            ),
            (
                io(io::ErrorKind::UnexpectedEof),
                TransportErrorKind::ConnectionLost,
            ),
            (io(io::ErrorKind::TimedOut), TransportErrorKind::Timeout),
            (ureq::Error::HostNotFound, TransportErrorKind::Connect),
            (
                ureq::Error::Timeout(ureq::Timeout::Global),
                TransportErrorKind::Timeout,
            ),
            (ureq::Error::Tls("bad"), TransportErrorKind::Tls),
            (
                ureq::Error::Io(io::Error::new(
                    io::ErrorKind::InvalidData,
                    rustls::Error::DecryptError,
                )),
                TransportErrorKind::Tls,
            ),
            (
                ureq::Error::BodyExceedsLimit(3),
                TransportErrorKind::BodyTooLarge,
            ),
            (ureq::Error::BadUri("x".into()), TransportErrorKind::Other),
        ];
        for (e, kind) in cases {
            let t = transport_error(e);
            assert_eq!(t.kind, kind, "{}", t.message);
            assert!(!t.message.is_empty());
        }
    }
}
