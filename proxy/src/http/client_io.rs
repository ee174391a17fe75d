//! The client side of an HTTP session as haproxy times it and answers it: between requests
//! `timeout http-keep-alive` (silent close), during a request head `timeout http-request`
//! (408), during a transaction `timeout client`; a request hyper cannot parse gets
//! haproxy's 400 page instead of hyper's bare one.
//!
//! hyper owns the connection, so these rules live in the I/O object it reads from, which
//! shares a little state with the request handler ([`SessionState`]).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use atomic_waker::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::runtime::Frontend;

/// What the request handler tells the client I/O about the session. Only one thread ever
/// touches it (hyper merely requires the I/O to be `Send` for upgrades), so relaxed atomics
/// cost what plain cells would.
#[derive(Debug)]
pub struct SessionState {
    /// Transactions whose response has not ended yet.
    pending: AtomicU32,
    /// Bytes read while no transaction was pending: a request head in progress.
    head_bytes: AtomicUsize,
    /// When the session started.
    start: Instant,
    /// When the connection last became idle (accept, or end of the last response), in
    /// nanoseconds since `start`.
    idle_since: AtomicU64,
    /// Whether any request was received (the first one waits `http-request`).
    served_one: AtomicBool,
    /// The task waiting to read from the client: woken when a transaction ends, so that the
    /// wait switches from `timeout client` to `timeout http-keep-alive` at once.
    reader: AtomicWaker,
}

impl SessionState {
    /// A new session, idle since now.
    pub fn new() -> Arc<SessionState> {
        Arc::new(SessionState {
            pending: AtomicU32::new(0),
            head_bytes: AtomicUsize::new(0),
            start: Instant::now(),
            idle_since: AtomicU64::new(0),
            served_one: AtomicBool::new(false),
            reader: AtomicWaker::new(),
        })
    }

    /// A request head was parsed: its transaction starts.
    pub fn begin(&self) {
        self.pending.fetch_add(1, Relaxed);
        self.head_bytes.store(0, Relaxed);
        self.served_one.store(true, Relaxed);
    }

    /// Whether a request was received on this connection.
    pub fn served_one(&self) -> bool {
        self.served_one.load(Relaxed)
    }

    /// A transaction's response ended (or was dropped).
    pub fn end(&self) {
        let n = self.pending.load(Relaxed).saturating_sub(1);
        self.pending.store(n, Relaxed);
        if n == 0 {
            let ns = self.start.elapsed().as_nanos().min(u128::from(u64::MAX)) as u64;
            self.idle_since.store(ns, Relaxed);
            self.reader.wake();
        }
    }

    /// When the connection last became idle.
    pub fn idle_since(&self) -> Instant {
        self.start + Duration::from_nanos(self.idle_since.load(Relaxed))
    }
}

/// Ends a transaction when dropped (held by the response body).
#[derive(Debug)]
pub struct TxnGuard(pub Arc<SessionState>);

impl Drop for TxnGuard {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// The timeouts that apply to the client side.
#[derive(Debug, Clone, Copy)]
pub struct ClientTimeouts {
    /// `timeout client`.
    pub client: Option<Duration>,
    /// `timeout http-request` (falls back to client).
    pub request: Option<Duration>,
    /// `timeout http-keep-alive` (falls back to http-request).
    pub keep_alive: Option<Duration>,
}

impl ClientTimeouts {
    /// haproxy's fallbacks for a frontend.
    pub fn of(fe: &Frontend) -> ClientTimeouts {
        let t = &fe.timeouts;
        let request = t.http_request.or(t.client);
        ClientTimeouts {
            client: t.client,
            request,
            keep_alive: t.http_keep_alive.or(request),
        }
    }
}

/// The client connection as hyper sees it.
#[derive(Debug)]
pub struct ClientIo<S> {
    inner: S,
    state: Arc<SessionState>,
    t: ClientTimeouts,
    sleep: Pin<Box<Sleep>>,
    armed: Option<Instant>,
    /// haproxy's 400 page and how much of it is written, in place of hyper's.
    replacing: Option<(bytes::Bytes, usize)>,
    /// Set once the session ended on a timeout (for logs).
    pub timed_out: bool,
}

impl<S> ClientIo<S> {
    /// Wraps an accepted client stream.
    pub fn new(inner: S, state: Arc<SessionState>, t: ClientTimeouts) -> Self {
        ClientIo {
            inner,
            state,
            t,
            sleep: Box::pin(tokio::time::sleep_until(Instant::now())),
            armed: None,
            replacing: None,
            timed_out: false,
        }
    }
}

impl<S: AsyncWrite + Unpin> ClientIo<S> {
    /// The deadline of the current wait, and what to do when it strikes.
    fn deadline(&self) -> Option<(Instant, bool)> {
        let st = &self.state;
        if st.pending.load(Relaxed) > 0 {
            return None; // transaction in progress: `timeout client` via `poll_wait`
        }
        let since = st.idle_since();
        if st.head_bytes.load(Relaxed) > 0 || !st.served_one.load(Relaxed) {
            // A request head is (or may be) coming: http-request, answered with a 408
            // when part of it arrived.
            let partial = st.head_bytes.load(Relaxed) > 0;
            self.t.request.map(|d| (since + d, partial))
        } else {
            self.t.keep_alive.map(|d| (since + d, false))
        }
    }

    /// Called when a read is pending: arms the right timer and reports a timeout.
    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        self.state.reader.register(cx.waker());
        let (deadline, answer_408) = match self.deadline() {
            Some(d) => d,
            None => match self.t.client {
                // During a transaction: inactivity on the client side.
                Some(c) => {
                    let d = *self.armed.get_or_insert_with(|| Instant::now() + c);
                    (d, false)
                }
                None => return Poll::Pending,
            },
        };
        if self.sleep.deadline() != deadline {
            self.sleep.as_mut().reset(deadline);
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                self.timed_out = true;
                if answer_408 {
                    // Best effort: the socket buffer is empty at this point, so one write
                    // of a small page completes.
                    let page = crate::http::errors::builtin_raw(408);
                    let _ = Pin::new(&mut self.inner).poll_write(cx, &page);
                }
                Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, "client timeout"))
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for ClientIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.armed = None;
                let n = buf.filled().len() - before;
                if this.state.pending.load(Relaxed) == 0 {
                    this.state.head_bytes.fetch_add(n, Relaxed);
                }
                Poll::Ready(r)
            }
            Poll::Pending => this.poll_wait(cx).map(Err),
        }
    }
}

/// Whether `buf` is one of hyper's own answers to an unparsable request (400, 413, 414, 431,
/// 505), which hyper writes in one piece, always in this form.
fn is_hyper_error(buf: &[u8]) -> bool {
    buf.len() < 96
        && (buf.starts_with(b"HTTP/1.1 4") || buf.starts_with(b"HTTP/1.1 505"))
        && buf.ends_with(b"\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for ClientIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.replacing.is_none() && this.state.pending.load(Relaxed) == 0 && is_hyper_error(buf)
        {
            // haproxy answers every unparsable request with its 400 page.
            this.replacing = Some((crate::http::errors::builtin_raw(400), 0));
        }
        if let Some((page, done)) = &mut this.replacing {
            while *done < page.len() {
                match Pin::new(&mut this.inner).poll_write(cx, &page[*done..]) {
                    Poll::Ready(Ok(n)) => *done += n,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            }
            // hyper's bytes count as written: the connection closes after them.
            return Poll::Ready(Ok(buf.len()));
        }
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(r) => {
                this.armed = None;
                Poll::Ready(r)
            }
            Poll::Pending => this.poll_wait(cx).map(Err),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
