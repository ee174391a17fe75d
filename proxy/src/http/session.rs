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
    let state = SessionState::new();
    let ctx = Rc::new(SessionCtx {
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
                _txn: txn,
            }))
        }
    });
    // Errors are the client's doing (reset, garbage, timeout): nothing to answer any more.
    let _ = builder.serve_connection(io, svc).with_upgrades().await;
}
