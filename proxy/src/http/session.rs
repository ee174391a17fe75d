//! One client connection in HTTP mode: hyper parses requests (keep-alive, pipelining order,
//! `Expect: 100-continue`, HTTP/1.0), each request goes through [`super::txn::handle`].

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};

use super::txn::{handle, SessionCtx};
use crate::net::idle::Idle;
use crate::net::stream::Stream;
use crate::runtime::Frontend;

/// Serves HTTP/1.x on `client` until it closes or a timeout strikes.
pub async fn serve(fe: Arc<Frontend>, client: Stream, peer: Option<SocketAddr>) {
    let local = client.local_addr();
    // haproxy: `timeout http-request` bounds the wait for a complete request head; unset, the
    // client timeout does. Between requests `timeout http-keep-alive` applies, falling back
    // to http-request.
    let head_timeout = fe.timeouts.http_request.or(fe.timeouts.client);
    let client_timeout = fe.timeouts.client;
    let close_after = fe.http_conn_mode == crate::config::model::HttpConnMode::Close;
    let ctx = Rc::new(SessionCtx {
        fe,
        peer,
        local,
        first_request: Cell::new(true),
    });
    let io = TokioIo::new(Idle::new(client, client_timeout));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .preserve_header_case(true)
        .auto_date_header(false)
        .keep_alive(!close_after)
        .timer(TokioTimer::new())
        .header_read_timeout(head_timeout);
    let svc = service_fn(move |req| {
        let ctx = ctx.clone();
        async move { handle(&ctx, req).await }
    });
    // Errors are the client's doing (reset, garbage, timeout): nothing to answer any more.
    let _ = builder.serve_connection(io, svc).with_upgrades().await;
}
