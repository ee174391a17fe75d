//! One HTTP transaction: a request from the client, forwarded to a server chosen by the
//! backend, and the response forwarded back — or an error page made here.

use std::cell::Cell;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use http::header::{HeaderValue, CONNECTION, HOST, UPGRADE};
use http::{Request, Response, StatusCode, Version};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use super::body::ProxyBody;
use super::errors::ErrorPages;
use super::headers::{add_forwardfor, connection_has, strip_hop_by_hop};
use super::pool;
use crate::backend::{LbRequest, ServerGuard, ServerState, SrcOnly};
use crate::config::model::{HttpConnMode, HttpReuse};
use crate::net::idle::Idle;
use crate::runtime::{conn_mode, forwardfor, BackendRt, Frontend};

/// What a client connection knows that its requests need.
#[derive(Debug)]
pub struct SessionCtx {
    /// The runtime (rules may look at any proxy's state).
    pub rt: Arc<crate::runtime::Runtime>,
    /// The frontend.
    pub fe: Arc<Frontend>,
    /// The client's address.
    pub peer: Option<SocketAddr>,
    /// The address the client connected to.
    pub local: Option<SocketAddr>,
    /// Whether no request was forwarded on this connection yet (`http-reuse safe`).
    pub first_request: Cell<bool>,
    /// The client socket's descriptor (for `-d` traces).
    pub cfd: i32,
    /// The `-d` stream id of the accept, used by the first request.
    pub debug_first: Cell<Option<u32>>,
}

/// The request as balancing algorithms see it.
struct ReqView<'a> {
    src: Option<IpAddr>,
    req: &'a Request<Incoming>,
}

impl LbRequest for ReqView<'_> {
    fn src(&self) -> Option<IpAddr> {
        self.src
    }
    fn uri(&self) -> Option<&[u8]> {
        Some(
            self.req
                .uri()
                .path_and_query()
                .map_or(b"/" as &[u8], |p| p.as_str().as_bytes()),
        )
    }
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.req.headers().get(name).map(|v| v.as_bytes())
    }
}

/// Builds a response from an error page.
pub fn error_response(pages: &ErrorPages, status: u16, close: bool) -> Response<ProxyBody> {
    let page = pages.page(status);
    let mut resp = Response::new(ProxyBody::Full(Some(page.body)));
    *resp.status_mut() = page.status;
    *resp.headers_mut() = page.headers;
    if close {
        resp.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    resp.extensions_mut().insert(page.reason);
    resp
}

/// Why forwarding failed, mapped to the status haproxy sends.
enum Failure {
    /// No server slot was obtained (no server, queue full, queue timeout): 503, with
    /// haproxy's termination state for the log.
    NoSlot([u8; 2]),
    /// No server, queue full or queue timeout, or connect failed after retries: 503.
    Unavailable,
    /// The server did not answer within `timeout server`: 504.
    Timeout,
    /// The server closed or sent garbage: 502.
    BadGateway,
}

/// A timer that reads the clock only when log lines need it.
struct Stopwatch(Option<tokio::time::Instant>);

impl Stopwatch {
    fn start(on: bool) -> Stopwatch {
        Stopwatch(on.then(tokio::time::Instant::now))
    }

    /// Milliseconds since start, 0 when not timing.
    fn ms(&self) -> i64 {
        self.0.map_or(0, |t| t.elapsed().as_millis() as i64)
    }
}

/// What a transaction did, for its log line.
#[derive(Debug)]
pub struct TxnInfo {
    /// The backend used.
    pub be: Option<Arc<BackendRt>>,
    /// The server used.
    pub server: Option<Arc<ServerState>>,
    /// Time waiting for a server slot (ms), -1 if none was obtained (`Tw`).
    pub t_queue: i64,
    /// Time to get a connection to the server (ms), -1 if none (`Tc`).
    pub t_connect: i64,
    /// Time from sending the request to the response head (ms), -1 if none (`Tr`).
    pub t_response: i64,
    /// haproxy's termination state (first two letters).
    pub termination: [u8; 2],
    /// The server connection's descriptor (for `-d` traces).
    pub sfd: Option<i32>,
}

impl Default for TxnInfo {
    fn default() -> Self {
        TxnInfo {
            be: None,
            server: None,
            t_queue: -1,
            t_connect: -1,
            t_response: -1,
            termination: *b"--",
            sfd: None,
        }
    }
}

/// Handles one request.
pub async fn handle(
    ctx: &SessionCtx,
    req: Request<Incoming>,
    info: &mut TxnInfo,
) -> Result<Response<ProxyBody>, std::convert::Infallible> {
    let fe = &ctx.fe;
    let debug_id = crate::debug::enabled().then(|| {
        let id = ctx.debug_first.take().unwrap_or_else(crate::debug::next_id);
        let line = String::from_utf8_lossy(&super::log::request_line(&req)).into_owned();
        crate::debug::request(id, &fe.name, Some(ctx.cfd), &line, req.headers());
        id
    });
    let resp = respond(ctx, req, info).await;
    if let (Some(id), Ok(r)) = (debug_id, &resp) {
        let px = info
            .be
            .as_ref()
            .map_or(fe.name.as_str(), |b| b.name.as_str());
        let line = format!(
            "HTTP/1.1 {} {}",
            r.status().as_u16(),
            r.status().canonical_reason().unwrap_or("")
        );
        crate::debug::response(id, px, Some(ctx.cfd), info.sfd, &line, r.headers());
    }
    resp
}

async fn respond(
    ctx: &SessionCtx,
    req: Request<Incoming>,
    info: &mut TxnInfo,
) -> Result<Response<ProxyBody>, std::convert::Infallible> {
    let fe = &ctx.fe;
    let stream = crate::stream_ctx::StreamCtx {
        rt: &ctx.rt,
        fe,
        be: None,
        src: ctx.peer,
        dst: ctx.local,
        http: Some(crate::stream_ctx::HttpView {
            method: req.method(),
            uri: req.uri(),
            version: req.version(),
            headers: req.headers(),
            first: ctx.first_request.get(),
        }),
    };
    if let Some(uri) = &fe.monitor_uri {
        let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
        if target == uri {
            // `monitor fail`: the health endpoint reports the service down.
            let status = if fe.monitor_failing(&stream) {
                503
            } else {
                200
            };
            return Ok(error_response(&fe.errors, status, false));
        }
    }
    let Some(be) = fe.choose_backend(&stream).cloned() else {
        return Ok(error_response(&fe.errors, 503, false));
    };
    info.be = Some(be.clone());
    match forward(ctx, &be, req, info).await {
        Ok(resp) => Ok(resp),
        Err(f) => {
            let (status, term) = match f {
                Failure::NoSlot(t) => (503, t),
                Failure::Unavailable => (503, *b"SC"),
                Failure::Timeout => (504, *b"sH"),
                Failure::BadGateway => (502, *b"SH"),
            };
            info.termination = term;
            Ok(error_response(&be.errors, status, false))
        }
    }
}

async fn forward(
    ctx: &SessionCtx,
    be: &Arc<BackendRt>,
    mut req: Request<Incoming>,
    info: &mut TxnInfo,
) -> Result<Response<ProxyBody>, Failure> {
    // Timers only matter to log lines: without a logger, no clock reads per request.
    let timed = ctx.fe.logger.is_some();
    let started = Stopwatch::start(timed);
    let fe = &ctx.fe;
    let mode = conn_mode(fe, be);
    let upgrade = req.headers().contains_key(UPGRADE) && connection_has(req.headers(), "upgrade");
    let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut req));
    let src = ctx.peer.map(|p| p.ip());
    let guard = be
        .lb
        .acquire(&ReqView { src, req: &req }, None)
        .await
        .map_err(|e| {
            let t = e.termination_state().as_bytes();
            Failure::NoSlot([t[0], t[1]])
        })?;
    info.t_queue = started.ms();
    info.server = Some(guard.server().clone());

    // The request for the server: same method, URI, headers (their case travels in the
    // extensions), body streamed; hop-by-hop headers belong to the client's hop.
    let client_version = req.version();
    let (mut parts, body) = req.into_parts();
    parts.version = Version::HTTP_11;
    strip_hop_by_hop(&mut parts.headers, upgrade);
    if upgrade {
        parts
            .headers
            .insert(CONNECTION, HeaderValue::from_static("upgrade"));
    } else if mode != HttpConnMode::KeepAlive {
        parts
            .headers
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    if client_version == Version::HTTP_10 && !parts.headers.contains_key(HOST) {
        // HTTP/1.0 clients may omit Host; the server side speaks 1.1, which requires one.
        if let Some(v) = parts
            .uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        {
            parts.headers.insert(HOST, v);
        }
    }
    if let Some(ff) = forwardfor(fe, be) {
        add_forwardfor(&mut parts.headers, ff, src);
    }
    let mut out = Request::from_parts(parts, ProxyBody::Stream(body));

    let reuse = mode == HttpConnMode::KeepAlive
        && !upgrade
        && match be.http_reuse {
            HttpReuse::Never => false,
            HttpReuse::Safe => !ctx.first_request.get(),
            HttpReuse::Aggressive | HttpReuse::Always => true,
        };
    ctx.first_request.set(false);
    let key = Arc::as_ptr(guard.server()) as pool::Key;
    let connecting = Stopwatch::start(timed);
    if reuse {
        while let Some((mut s, sfd)) = pool::take(key) {
            info.sfd = Some(sfd);
            info.t_connect = 0;
            let sent = Stopwatch::start(timed);
            match s.try_send_request(out).await {
                Ok(resp) => {
                    info.t_response = sent.ms();
                    return finish(ctx, be, guard, (key, sfd), s, resp, mode, client_upgrade);
                }
                Err(mut e) => match e.take_message() {
                    // Not sent: the idle connection was closed meanwhile; try another.
                    Some(r) => out = r,
                    None => return Err(classify(e.error())),
                },
            }
        }
    }
    let dst_port = ctx.local.map(|a| a.port());
    let (guard, mut s, sfd) = open(be, guard, &SrcOnly(src), dst_port).await?;
    info.sfd = Some(sfd);
    info.t_connect = connecting.ms();
    info.server = Some(guard.server().clone());
    let key = Arc::as_ptr(guard.server()) as pool::Key;
    let sent = Stopwatch::start(timed);
    match s.send_request(out).await {
        Ok(resp) => {
            info.t_response = sent.ms();
            finish(ctx, be, guard, (key, sfd), s, resp, mode, client_upgrade)
        }
        Err(e) => Err(classify(&e)),
    }
}

fn classify(e: &hyper::Error) -> Failure {
    if e.is_timeout() {
        return Failure::Timeout;
    }
    // Our inactivity wrapper reports `timeout server` as an I/O TimedOut error.
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::TimedOut {
                return Failure::Timeout;
            }
        }
        src = s.source();
    }
    Failure::BadGateway
}

/// Connects to the guard's server (retrying as configured) and performs the HTTP handshake.
async fn open(
    be: &BackendRt,
    guard: ServerGuard,
    req: &dyn LbRequest,
    dst_port: Option<u16>,
) -> Result<(ServerGuard, SendRequest<ProxyBody>, i32), Failure> {
    let (stream, guard, _retries) = crate::tcp::connect_with_retries(be, guard, req, dst_port)
        .await
        .map_err(|_| Failure::Unavailable)?;
    let sfd = stream.raw_fd();
    let io = TokioIo::new(Idle::new(stream, be.timeouts.server));
    let (sender, conn) = hyper::client::conn::http1::Builder::new()
        .preserve_header_case(true)
        .handshake(io)
        .await
        .map_err(|_| Failure::BadGateway)?;
    tokio::task::spawn_local(async move {
        // Errors here surface on the request that was using the connection.
        let _ = conn.with_upgrades().await;
    });
    Ok((guard, sender, sfd))
}

#[allow(clippy::too_many_arguments)]
fn finish(
    ctx: &SessionCtx,
    be: &BackendRt,
    guard: ServerGuard,
    (key, sfd): (pool::Key, i32),
    sender: SendRequest<ProxyBody>,
    mut resp: Response<Incoming>,
    mode: HttpConnMode,
    client_upgrade: Option<hyper::upgrade::OnUpgrade>,
) -> Result<Response<ProxyBody>, Failure> {
    let switching = resp.status() == StatusCode::SWITCHING_PROTOCOLS;
    if switching {
        let Some(client_up) = client_upgrade else {
            return Err(Failure::BadGateway);
        };
        let server_up = hyper::upgrade::on(&mut resp);
        let timeouts = crate::tcp::Timeouts::of(&ctx.fe, be);
        tokio::task::spawn_local(async move {
            if let (Ok(c), Ok(s)) = (client_up.await, server_up.await) {
                let _ = crate::tcp::tunnel(TokioIo::new(c), TokioIo::new(s), timeouts).await;
            }
            drop(guard);
        });
        let (mut parts, _) = resp.into_parts();
        strip_hop_by_hop(&mut parts.headers, true);
        parts
            .headers
            .insert(CONNECTION, HeaderValue::from_static("upgrade"));
        return Ok(Response::from_parts(parts, ProxyBody::empty()));
    }
    if mode == HttpConnMode::KeepAlive && be.http_reuse != HttpReuse::Never {
        pool::put(key, sender, sfd);
    }
    let (mut parts, body) = resp.into_parts();
    strip_hop_by_hop(&mut parts.headers, false);
    if mode == HttpConnMode::Close {
        parts
            .headers
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    Ok(Response::from_parts(parts, ProxyBody::Server(body, guard)))
}
