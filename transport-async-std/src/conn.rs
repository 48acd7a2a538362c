//! One connection to the origin: TCP through async-io, optionally wrapped in TLS.

use std::io;
use std::net::TcpStream;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_io::Async;
use futures_lite::{AsyncRead, AsyncWrite};
use futures_rustls::TlsConnector;
use futures_rustls::client::TlsStream;
use pn_async_driver::io_error_kind;
use pn_core::{Origin, TransportError, TransportErrorKind};
use rustls::pki_types::ServerName;

/// A plain or TLS stream to the origin.
pub(crate) enum Stream {
    /// `http://`.
    Plain(Async<TcpStream>),
    /// `https://`.
    Tls(Box<TlsStream<Async<TcpStream>>>),
}

impl Stream {
    fn tcp(&self) -> &Async<TcpStream> {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref().0,
        }
    }

    /// Whether an idle connection may carry another request: the peer has neither closed it
    /// nor sent anything unasked (checked without waiting).
    pub(crate) fn is_reusable(&self) -> bool {
        let mut byte = [0u8; 1];
        matches!(
            self.tcp().get_ref().peek(&mut byte),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock
        )
    }
}

/// `host` and `port` of an authority (`host[:port]`, IPv6 in brackets).
fn split_authority(authority: &str, tls: bool) -> (String, u16) {
    let default = if tls { 443 } else { 80 };
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']').unwrap_or((rest, ""));
        let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
        return (host.to_owned(), port.unwrap_or(default));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => match port.parse() {
            Ok(port) => (host.to_owned(), port),
            Err(_) => (authority.to_owned(), default),
        },
        None => (authority.to_owned(), default),
    }
}

fn connect_error(err: &io::Error) -> TransportError {
    let kind = io_error_kind(err, true).unwrap_or(TransportErrorKind::Connect);
    TransportError::new(kind, format!("connecting: {err}"))
}

/// Opens a connection to `origin`: resolve, connect (first address that answers), TLS.
pub(crate) async fn connect(origin: &Origin, tls: &TlsConnector) -> Result<Stream, TransportError> {
    let (host, port) = split_authority(&origin.authority, origin.tls);
    let addrs = async_net::resolve((host.as_str(), port))
        .await
        .map_err(|e| connect_error(&e))?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"));
    let mut tcp = None;
    for addr in addrs {
        match Async::<TcpStream>::connect(addr).await {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = e,
        }
    }
    let tcp = tcp.ok_or_else(|| connect_error(&last))?;
    let _ = tcp.get_ref().set_nodelay(true);
    if !origin.tls {
        return Ok(Stream::Plain(tcp));
    }
    let name = ServerName::try_from(host.clone())
        .map_err(|e| TransportError::new(TransportErrorKind::Tls, format!("{host}: {e}")))?;
    tls.connect(name, tcp)
        .await
        .map(|s| Stream::Tls(Box::new(s)))
        .map_err(|e| {
            let kind = match e.get_ref() {
                Some(inner) if inner.is::<rustls::Error>() => TransportErrorKind::Tls,
                _ => io_error_kind(&e, true).unwrap_or(TransportErrorKind::Tls),
            };
            TransportError::new(kind, format!("TLS handshake: {e}"))
        })
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_close(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_close(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities() {
        assert_eq!(split_authority("a.com", true), ("a.com".into(), 443));
        assert_eq!(split_authority("a.com", false), ("a.com".into(), 80));
        assert_eq!(
            split_authority("127.0.0.1:8090", false),
            ("127.0.0.1".into(), 8090)
        );
        assert_eq!(split_authority("[::1]:81", false), ("::1".into(), 81));
        assert_eq!(split_authority("[::1]", true), ("::1".into(), 443));
    }
}
