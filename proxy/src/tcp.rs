//! The layer-4 data path: pick a server, connect (with retries), then move bytes both ways
//! until both sides are done, propagating half-closes as haproxy does.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use std::sync::Arc;

use crate::backend::{LbRequest, RetryDecision, ServerGuard, ServerState, SrcOnly};
use crate::net::connect::{connect, ConnectError};
use crate::net::stream::Stream;
use crate::runtime::{BackendRt, Frontend, Runtime};
use crate::stream_ctx::StreamCtx;

/// The size of each direction's buffer: haproxy's default `tune.bufsize`.
const BUF_SIZE: usize = 16 * 1024;

/// How a tunnel ended: haproxy's two-letter termination state, and the byte counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    /// First letter: who ended it (`-` normal, `c` client timeout, `C` client abort,
    /// `s` server timeout, `S` server abort or refused).
    pub cause: u8,
    /// Second letter: the stage (`C` connect, `D` data, `Q` queue, `-` normal).
    pub stage: u8,
    /// Bytes from the client to the server.
    pub bytes_in: u64,
    /// Bytes from the server to the client (haproxy's `bytes_read`).
    pub bytes_out: u64,
}

/// What a TCP session did, for its log line.
#[derive(Debug, Default)]
pub struct Session {
    /// The backend chosen.
    pub be: Option<Arc<BackendRt>>,
    /// How it ended.
    pub outcome: Outcome,
    /// The server it went to.
    pub server: Option<Arc<ServerState>>,
    /// Time waiting for a server slot in ms, -1 if it never got one (haproxy's `Tw`).
    pub t_queue: i64,
    /// Time to connect in ms, -1 if no connection was made (`Tc`).
    pub t_connect: i64,
    /// Connection retries.
    pub retries: u32,
}

/// Serves one TCP-mode connection to its end.
pub async fn serve(
    rt: &Runtime,
    fe: &Frontend,
    client: Stream,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
) -> Session {
    let mut sess = Session {
        t_queue: -1,
        t_connect: -1,
        ..Session::default()
    };
    let stream = StreamCtx {
        rt,
        fe,
        be: None,
        src: peer,
        dst: local,
        http: None,
    };
    sess.be = fe.choose_backend(&stream).cloned();
    let Some(be) = sess.be.clone() else {
        sess.outcome = Outcome {
            cause: b'P',
            stage: b'R',
            ..Outcome::default()
        };
        return sess;
    };
    let be = &*be;
    let _beconn = BeConn::new(be);
    let dst_port = local.map(|a| a.port());
    let req = SrcOnly(peer.map(|p| p.ip()));
    let start = Instant::now();
    let Ok(guard) = be.lb.acquire(&req, None).await else {
        sess.outcome = Outcome {
            cause: b's',
            stage: b'Q',
            ..Outcome::default()
        };
        return sess;
    };
    sess.t_queue = start.elapsed().as_millis() as i64;
    let start = Instant::now();
    let (server, guard, retries) = match connect_with_retries(be, guard, &req, dst_port).await {
        Ok(x) => x,
        Err((stage, server, retries)) => {
            sess.server = Some(server);
            sess.retries = retries;
            sess.outcome = Outcome {
                cause: b'S',
                stage,
                ..Outcome::default()
            };
            return sess;
        }
    };
    sess.t_connect = start.elapsed().as_millis() as i64;
    sess.retries = retries;
    sess.server = Some(guard.server().clone());
    sess.outcome = tunnel(client, server, Timeouts::of(fe, be)).await;
    drop(guard);
    sess
}

/// Counts a session on a backend (`beconn`) while it lives.
pub(crate) struct BeConn<'a>(&'a BackendRt);

impl<'a> BeConn<'a> {
    pub(crate) fn new(be: &'a BackendRt) -> Self {
        be.beconn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        BeConn(be)
    }
}

impl Drop for BeConn<'_> {
    fn drop(&mut self) {
        self.0
            .beconn
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Connects to the guard's server, retrying as `retries` and `option redispatch` say.
/// Returns the stream, the slot of the server finally used and the number of retries; on
/// failure the stage letter (`C`), the last server tried and the retries.
pub(crate) async fn connect_with_retries(
    be: &BackendRt,
    guard: ServerGuard,
    req: &dyn LbRequest,
    dst_port: Option<u16>,
) -> Result<(Stream, ServerGuard, u32), (u8, Arc<ServerState>, u32)> {
    let mut guard = guard;
    let mut failures = 0u32;
    loop {
        let err = match connect(&guard.server().addr, dst_port, be.timeouts.connect).await {
            Ok(s) => return Ok((s, guard, failures)),
            Err(e) => e,
        };
        guard.server().record_connect_failure();
        failures += 1;
        match be.lb.after_connect_failure(guard.server(), failures, false) {
            RetryDecision::GiveUp => {
                return Err((b'C', guard.server().clone(), failures - 1));
            }
            RetryDecision::Redispatch => {
                let failed = guard.server().clone();
                if let Ok(g) = be.lb.acquire(req, Some(&failed)).await {
                    guard = g;
                }
            }
            RetryDecision::SameServer => {
                if matches!(err, ConnectError::Io(_)) {
                    // A refused connection would be refused again at once: like haproxy,
                    // wait min(`timeout connect`, 1 s) so a restarting server can come back.
                    let pause = be.timeouts.connect.unwrap_or(Duration::from_secs(1));
                    tokio::time::sleep(pause.min(Duration::from_secs(1))).await;
                }
            }
        }
    }
}

/// The inactivity timeouts of a tunnel, resolved from frontend and backend.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Client side.
    pub client: Option<Duration>,
    /// Client side once the client has closed its half.
    pub client_fin: Option<Duration>,
    /// Server side.
    pub server: Option<Duration>,
    /// Server side once the server has closed its half.
    pub server_fin: Option<Duration>,
}

impl Timeouts {
    /// `timeout tunnel` (backend, then frontend) replaces both sides' timeouts, as in haproxy.
    pub fn of(fe: &Frontend, be: &BackendRt) -> Timeouts {
        let tunnel = be.timeouts.tunnel.or(fe.timeouts.tunnel);
        let client = tunnel.or(fe.timeouts.client);
        let server = tunnel.or(be.timeouts.server);
        Timeouts {
            client,
            client_fin: fe.timeouts.client_fin.or(client),
            server,
            server_fin: be.timeouts.server_fin.or(server),
        }
    }
}

/// One direction of the tunnel.
struct Half {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
    shut: bool,
    bytes: u64,
}

impl Half {
    fn new() -> Half {
        Half {
            buf: vec![0; BUF_SIZE].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            shut: false,
            bytes: 0,
        }
    }

    /// Moves what it can from `r` to `w`. Returns whether bytes moved, or the failing side.
    fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        r: &mut R,
        w: &mut W,
    ) -> Result<bool, (bool, io::Error)>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let mut moved = false;
        loop {
            if self.start == self.end && !self.eof {
                let mut rb = ReadBuf::new(&mut self.buf);
                match Pin::new(&mut *r).poll_read(cx, &mut rb) {
                    Poll::Ready(Ok(())) => {
                        let n = rb.filled().len();
                        if n == 0 {
                            self.eof = true;
                        } else {
                            self.start = 0;
                            self.end = n;
                            moved = true;
                        }
                    }
                    Poll::Ready(Err(e)) => return Err((true, e)),
                    Poll::Pending => {}
                }
            }
            if self.start < self.end {
                match Pin::new(&mut *w).poll_write(cx, &self.buf[self.start..self.end]) {
                    Poll::Ready(Ok(0)) => {
                        return Err((false, io::ErrorKind::WriteZero.into()));
                    }
                    Poll::Ready(Ok(n)) => {
                        self.start += n;
                        self.bytes += n as u64;
                        moved = true;
                        continue;
                    }
                    Poll::Ready(Err(e)) => return Err((false, e)),
                    Poll::Pending => return Ok(moved),
                }
            }
            if self.eof && !self.shut {
                match Pin::new(&mut *w).poll_shutdown(cx) {
                    Poll::Ready(_) => self.shut = true,
                    Poll::Pending => return Ok(moved),
                }
            }
            return Ok(moved);
        }
    }
}

/// Copies both ways until both directions reached end of stream, an error, or a timeout.
pub async fn tunnel<C, S>(mut client: C, mut server: S, t: Timeouts) -> Outcome
where
    C: AsyncRead + AsyncWrite + Unpin,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut up = Half::new();
    let mut down = Half::new();
    let now = Instant::now();
    let mut client_deadline = t.client.map(|d| now + d);
    let mut server_deadline = t.server.map(|d| now + d);
    let mut sleep: Pin<Box<Sleep>> = Box::pin(tokio::time::sleep_until(now));
    let outcome = |cause, stage, up: &Half, down: &Half| Outcome {
        cause,
        stage,
        bytes_in: up.bytes,
        bytes_out: down.bytes,
    };
    poll_fn(|cx| {
        let up_moved = match up.poll_copy(cx, &mut client, &mut server) {
            Ok(m) => m,
            Err((reading, _)) => {
                let cause = if reading { b'C' } else { b'S' };
                return Poll::Ready(outcome(cause, b'D', &up, &down));
            }
        };
        let down_moved = match down.poll_copy(cx, &mut server, &mut client) {
            Ok(m) => m,
            Err((reading, _)) => {
                let cause = if reading { b'S' } else { b'C' };
                return Poll::Ready(outcome(cause, b'D', &up, &down));
            }
        };
        if up.shut && down.shut {
            return Poll::Ready(outcome(b'-', b'-', &up, &down));
        }
        // Activity on a side (reading from it or writing to it) refreshes that side's
        // timeout; a closed side switches to its `-fin` timeout.
        let now = Instant::now();
        if up_moved || down_moved {
            let ct = if up.eof { t.client_fin } else { t.client };
            let st = if down.eof { t.server_fin } else { t.server };
            client_deadline = ct.map(|d| now + d);
            server_deadline = st.map(|d| now + d);
            // Bytes moved: some operation may be ready again, try before sleeping.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let next = match (client_deadline, server_deadline) {
            (Some(c), Some(s)) => Some(c.min(s)),
            (c, s) => c.or(s),
        };
        if let Some(deadline) = next {
            if sleep.deadline() != deadline {
                sleep.as_mut().reset(deadline);
            }
            if sleep.as_mut().poll(cx).is_ready() {
                let cause = if client_deadline == Some(deadline) {
                    b'c'
                } else {
                    b's'
                };
                return Poll::Ready(outcome(cause, b'D', &up, &down));
            }
        }
        Poll::Pending
    })
    .await
}

use std::future::Future;

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn t(client: u64, server: u64) -> Timeouts {
        Timeouts {
            client: Some(Duration::from_secs(client)),
            client_fin: Some(Duration::from_secs(client)),
            server: Some(Duration::from_secs(server)),
            server_fin: Some(Duration::from_secs(server)),
        }
    }

    #[tokio::test]
    async fn half_close_is_propagated_and_the_answer_still_arrives() {
        let (client, mut client_peer) = tokio::io::duplex(1024);
        let (server, mut server_peer) = tokio::io::duplex(1024);
        let tun = tokio::spawn(tunnel(client, server, t(10, 10)));
        client_peer.write_all(b"request").await.unwrap();
        client_peer.shutdown().await.unwrap();
        let mut got = Vec::new();
        server_peer.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"request");
        // The server answers after seeing the client's end, then closes.
        server_peer.write_all(b"answer").await.unwrap();
        server_peer.shutdown().await.unwrap();
        let mut back = Vec::new();
        client_peer.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"answer");
        let out = tun.await.unwrap();
        assert_eq!(
            (out.cause, out.stage, out.bytes_in, out.bytes_out),
            (b'-', b'-', 7, 6)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn idle_client_times_out_with_cd() {
        let (client, _client_peer) = tokio::io::duplex(1024);
        let (server, _server_peer) = tokio::io::duplex(1024);
        let start = Instant::now();
        let out = tunnel(client, server, t(3, 5)).await;
        assert_eq!((out.cause, out.stage), (b'c', b'D'));
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_download_keeps_the_tunnel_alive() {
        let (client, mut client_peer) = tokio::io::duplex(64 * 1024);
        let (server, mut server_peer) = tokio::io::duplex(64 * 1024);
        let tun = tokio::spawn(tunnel(client, server, t(3, 3)));
        // The client never sends, but keeps receiving for 10 s: no timeout may strike.
        for _ in 0..10 {
            server_peer.write_all(&[7u8; 1000]).await.unwrap();
            let mut b = [0u8; 1000];
            client_peer.read_exact(&mut b).await.unwrap();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        drop(server_peer);
        drop(client_peer);
        let out = tun.await.unwrap();
        assert_eq!(out.bytes_out, 10_000);
        assert_ne!(out.cause, b'c');
    }
}
