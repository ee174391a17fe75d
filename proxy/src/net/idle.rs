//! Inactivity timeouts on one side of a connection (`timeout client`, `timeout server`): an
//! operation that waits longer than the timeout without progress fails with `TimedOut`.
//!
//! The timer is allocated once per connection and only re-armed when an operation starts
//! waiting, so an active connection pays nothing per read or write.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// A stream whose reads and writes fail after `timeout` without progress.
#[derive(Debug)]
pub struct Idle<S> {
    inner: S,
    timeout: Option<Duration>,
    sleep: Pin<Box<Sleep>>,
    read_armed: bool,
    write_armed: bool,
    timed_out: bool,
}

impl<S> Idle<S> {
    /// Wraps `inner`; `None` means no timeout (haproxy's "unset" = infinite).
    pub fn new(inner: S, timeout: Option<Duration>) -> Self {
        Idle {
            inner,
            timeout,
            sleep: Box::pin(tokio::time::sleep_until(Instant::now())),
            read_armed: false,
            write_armed: false,
            timed_out: false,
        }
    }

    /// Changes the timeout for operations that start waiting from now on.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
        self.read_armed = false;
        self.write_armed = false;
    }

    /// Whether an operation failed because the timeout struck.
    pub fn timed_out(&self) -> bool {
        self.timed_out
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// Arms the timer if this direction was not waiting yet, then checks it.
    fn wait(&mut self, cx: &mut Context<'_>, write: bool) -> Poll<io::Error> {
        let Some(t) = self.timeout else {
            return Poll::Pending;
        };
        let (armed, other) = if write {
            (&mut self.write_armed, self.read_armed)
        } else {
            (&mut self.read_armed, self.write_armed)
        };
        if !*armed {
            *armed = true;
            // Both directions share one timer: keep the earlier deadline when the other
            // direction already waits.
            if !other {
                self.sleep.as_mut().reset(Instant::now() + t);
            }
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.timed_out = true;
                Poll::Ready(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "inactivity timeout",
                ))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Idle<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.read_armed = false;
                Poll::Ready(r)
            }
            Poll::Pending => this.wait(cx, false).map(Err),
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Idle<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(r) => {
                this.write_armed = false;
                Poll::Ready(r)
            }
            Poll::Pending => this.wait(cx, true).map(Err),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(r) => {
                this.write_armed = false;
                Poll::Ready(r)
            }
            Poll::Pending => this.wait(cx, true).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Ready(r) => {
                this.write_armed = false;
                Poll::Ready(r)
            }
            Poll::Pending => this.wait(cx, true).map(Err),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn read_times_out_without_progress() {
        let (a, mut b) = tokio::io::duplex(64);
        let mut idle = Idle::new(a, Some(Duration::from_secs(5)));
        b.write_all(b"hi").await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(idle.read(&mut buf).await.unwrap(), 2);
        let start = Instant::now();
        let err = idle.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(start.elapsed(), Duration::from_secs(5));
        assert!(idle.timed_out());
    }

    #[tokio::test(start_paused = true)]
    async fn no_timeout_means_wait_forever() {
        let (a, mut b) = tokio::io::duplex(64);
        let mut idle = Idle::new(a, None);
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 8];
            idle.read(&mut buf).await
        });
        tokio::time::sleep(Duration::from_secs(3600)).await;
        b.write_all(b"late").await.unwrap();
        assert_eq!(reader.await.unwrap().unwrap(), 4);
    }
}
