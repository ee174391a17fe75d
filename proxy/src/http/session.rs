//! One client connection in HTTP mode: hyper parses requests (keep-alive, pipelining order,
//! `Expect: 100-continue`, HTTP/1.0), each request goes through [`super::txn::handle`] and,
//! when the frontend asks for it, is logged once its response has been sent.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::SystemTime;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::time::Instant;

use super::body::ClientBody;
use super::client_io::{ClientIo, ClientTimeouts, SessionState, TxnGuard};
use super::txn::{handle, SessionCtx, TxnInfo};
use crate::config::model::{HttpConnMode, LogFormatKind};
use crate::net::stream::Stream;
use crate::runtime::{Frontend, Runtime};

/// Serves HTTP/1.x on `client` until it closes or a timeout strikes.
pub async fn serve(
    rt: Arc<Runtime>,
    fe: Arc<Frontend>,
    client: Stream,
    (peer, local): (Option<SocketAddr>, Option<SocketAddr>),
    accept_date: SystemTime,
    debug_id: Option<u32>,
) {
    let cfd = client.raw_fd();
    let timeouts = ClientTimeouts::of(&fe);
    let keep_alive = fe.http_conn_mode != HttpConnMode::Close;
    let log_on = fe.logger.is_some()
        && matches!(fe.log_format, LogFormatKind::Http | LogFormatKind::HttpClf);
    let stopping = rt.stopping.subscribe();
    let state = SessionState::new();
    let state_for_stop = state.clone();
    let ctx = Rc::new(SessionCtx {
        rt: rt.clone(),
        fe,
        peer,
        local,
        first_request: Cell::new(true),
        cfd,
        debug_first: Cell::new(debug_id),
    });
    let io = TokioIo::new(ClientIo::new(client, state.clone(), timeouts));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .preserve_header_case(true)
        .auto_date_header(false)
        // haproxy's buffer (tune.bufsize 16384 less maxrewrite 1024) bounds a request head;
        // a larger one is answered 400.
        .max_buf_size(16384 - 1024)
        // haproxy tolerates these in requests.
        .allow_multiple_spaces_in_request_line_delimiters(true)
        .keep_alive(keep_alive);
    let accepted = Instant::now();
    let svc = service_fn(move |req| {
        let ctx = ctx.clone();
        // Only log lines need the idle time, a clock and the request line.
        let log_start = log_on.then(|| {
            let now = Instant::now();
            let idle = now - state.idle_since().max(accepted);
            (
                idle.as_millis() as i64,
                now,
                rt.clone(),
                super::log::request_line(&req),
            )
        });
        state.begin();
        let txn = TxnGuard(state.clone());
        async move {
            let mut info = TxnInfo::default();
            let resp = handle(&ctx, req, &mut info).await?;
            let log = log_start.map(|(idle_ms, started, rt, request_line)| {
                Box::new(super::log::PendingLog {
                    rt,
                    fe: ctx.fe.clone(),
                    peer: ctx.peer,
                    local: ctx.local,
                    accept_date,
                    idle_ms,
                    started,
                    status: resp.status().as_u16(),
                    head_bytes: super::log::head_len(&resp),
                    request_line,
                    info,
                })
            });
            Ok::<_, std::convert::Infallible>(resp.map(|body| ClientBody {
                body,
                sent: 0,
                log,
                txn: Some(txn),
            }))
        }
    });
    let conn = builder.serve_connection(io, svc).with_upgrades();
    tokio::pin!(conn);
    // Soft stop: like haproxy, idle keep-alive connections close at once, busy ones after
    // their current response.
    let mut stopping = stopping;
    if !*stopping.borrow() {
        tokio::select! {
            // Errors are the client's doing (reset, garbage, timeout): nothing to answer.
            _ = conn.as_mut() => return,
            _ = stopping.changed() => {}
        }
    }
    // A connection accepted just before the stop still gets its first request served: only
    // once it has served one (and is idle or busy) is keep-alive turned off.
    while !state_for_stop.served_one() {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = tokio::time::sleep(std::time::Duration::from_millis(50)) => {}
        }
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}
