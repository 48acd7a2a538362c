//! The transport failure kind an I/O error stands for, shared by the adapters.

use std::io;

use pn_core::TransportErrorKind;

/// The kind of failure `err` reports, or `None` when its kind says nothing specific.
/// `connecting`: whether it happened before the request could be written.
pub fn io_error_kind(err: &io::Error, connecting: bool) -> Option<TransportErrorKind> {
    use io::ErrorKind::*;
    match err.kind() {
        TimedOut => Some(TransportErrorKind::Timeout),
        ConnectionRefused | HostUnreachable | NetworkUnreachable | AddrNotAvailable => {
            Some(TransportErrorKind::Connect)
        }
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | NotConnected => {
            Some(if connecting {
                TransportErrorKind::Connect
            } else {
                TransportErrorKind::ConnectionLost
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let e = |k| io::Error::new(k, "x");
        assert_eq!(
            io_error_kind(&e(io::ErrorKind::ConnectionRefused), true),
            Some(TransportErrorKind::Connect)
        );
        assert_eq!(
            io_error_kind(&e(io::ErrorKind::ConnectionReset), false),
            Some(TransportErrorKind::ConnectionLost)
        );
        assert_eq!(
            io_error_kind(&e(io::ErrorKind::UnexpectedEof), true),
            Some(TransportErrorKind::Connect)
        );
        assert_eq!(
            io_error_kind(&e(io::ErrorKind::TimedOut), false),
            Some(TransportErrorKind::Timeout)
        );
        assert_eq!(io_error_kind(&e(io::ErrorKind::Other), false), None);
    }
}
