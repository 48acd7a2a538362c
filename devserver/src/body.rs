//! The response body type: a whole buffer, or one cut short on purpose (fault injection).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use tokio::time::Sleep;

/// A response body that announces `len` bytes and sends `data`; if `data` is shorter, the
/// connection is aborted after a short pause so that the partial bytes reach the client.
pub(crate) struct Body {
    data: Option<Bytes>,
    len: u64,
    cut: Option<Pin<Box<Sleep>>>,
}

impl Body {
    /// A complete body.
    pub(crate) fn full(data: impl Into<Bytes>) -> Body {
        let data: Bytes = data.into();
        Body {
            len: data.len() as u64,
            data: Some(data),
            cut: None,
        }
    }

    /// A body that announces `data.len()` bytes but only sends the first half, then fails.
    pub(crate) fn truncated(data: Bytes) -> Body {
        let len = data.len() as u64;
        let half = data.slice(..data.len() / 2);
        let pause = Box::pin(tokio::time::sleep(Duration::from_millis(50)));
        Body {
            data: Some(half),
            len,
            cut: Some(pause),
        }
    }

    /// The announced length.
    pub(crate) fn announced_len(&self) -> u64 {
        self.len
    }

    /// The bytes this body will send (for logging and truncation).
    pub(crate) fn bytes(&self) -> Bytes {
        self.data.clone().unwrap_or_default()
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if let Some(data) = this.data.take() {
            if !data.is_empty() {
                return Poll::Ready(Some(Ok(Frame::data(data))));
            }
        }
        match this.cut.as_mut() {
            None => Poll::Ready(None),
            Some(pause) => match pause.as_mut().poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(()) => Poll::Ready(Some(Err(io::Error::other("truncated by fault")))),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.cut.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len)
    }
}
