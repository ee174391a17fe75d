//! The body type the proxy sends to clients and servers: either a body being streamed from
//! the other side, or a small one the proxy made itself. An enum rather than a boxed trait
//! object, so that forwarding allocates nothing per request.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;

use crate::backend::ServerGuard;

/// A streamed or ready-made body.
#[derive(Debug)]
pub enum ProxyBody {
    /// Streamed from the peer as it arrives.
    Stream(Incoming),
    /// Streamed from a server, holding that server's connection slot until the body ends
    /// (so `leastconn` and `maxconn` count the whole exchange, as haproxy does).
    Server(Incoming, ServerGuard),
    /// Made by the proxy; `None` once sent.
    Full(Option<Bytes>),
}

impl ProxyBody {
    /// An empty body.
    pub fn empty() -> ProxyBody {
        ProxyBody::Full(None)
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.get_mut() {
            ProxyBody::Stream(b) | ProxyBody::Server(b, _) => Pin::new(b).poll_frame(cx),
            ProxyBody::Full(b) => Poll::Ready(
                b.take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ProxyBody::Stream(b) | ProxyBody::Server(b, _) => b.is_end_stream(),
            ProxyBody::Full(b) => b.as_ref().is_none_or(|b| b.is_empty()),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ProxyBody::Stream(b) | ProxyBody::Server(b, _) => b.size_hint(),
            ProxyBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
        }
    }
}

/// A response body on its way to the client: counts what it sends, and when it has sent
/// everything logs the transaction and marks the session idle. hyper may keep a finished
/// body around until the next response, so the end is detected from the frames, not from
/// the drop (the drop covers bodies abandoned because the client went away).
#[derive(Debug)]
pub struct ClientBody {
    /// The body.
    pub body: ProxyBody,
    /// Body bytes sent so far.
    pub sent: u64,
    /// The transaction's log line, when the frontend logs requests.
    pub log: Option<Box<crate::http::log::PendingLog>>,
    /// Marks the transaction finished when dropped.
    pub txn: Option<crate::http::client_io::TxnGuard>,
}

impl ClientBody {
    fn finish(&mut self) {
        if let Some(log) = self.log.take() {
            log.send(self.sent);
        }
        self.txn = None;
    }
}

impl Drop for ClientBody {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Body for ClientBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.body).poll_frame(cx);
        match &r {
            Poll::Ready(Some(Ok(f))) => {
                if let Some(d) = f.data_ref() {
                    this.sent += d.len() as u64;
                }
                if this.body.is_end_stream() {
                    this.finish();
                }
            }
            Poll::Ready(_) => this.finish(),
            Poll::Pending => {}
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
