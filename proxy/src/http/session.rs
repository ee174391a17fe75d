//! One client connection in HTTP mode: hyper parses requests (keep-alive, pipelining order,
//! `Expect: 100-continue`, HTTP/1.0), each request goes through [`super::txn::handle`].

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

use super::body::ClientBody;
use super::client_io::{ClientIo, ClientTimeouts, SessionState, TxnGuard};
use super::txn::{handle, SessionCtx};
use crate::config::model::HttpConnMode;
use crate::net::stream::Stream;
use crate::runtime::Frontend;

/// Serves HTTP/1.x on `client` until it closes or a timeout strikes.
pub async fn serve(fe: Arc<Frontend>, client: Stream, peer: Option<SocketAddr>) {
    let local = client.local_addr();
    let timeouts = ClientTimeouts::of(&fe);
    let keep_alive = fe.http_conn_mode != HttpConnMode::Close;
    let state = SessionState::new();
    let ctx = Rc::new(SessionCtx {
        fe,
        peer,
        local,
        first_request: Cell::new(true),
    });
    let io = TokioIo::new(ClientIo::new(client, state.clone(), timeouts));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .preserve_header_case(true)
        .auto_date_header(false)
        .keep_alive(keep_alive);
    let svc = service_fn(move |req| {
        let ctx = ctx.clone();
        state.begin();
        let txn = TxnGuard(state.clone());
        async move {
            let resp = handle(&ctx, req).await?;
            Ok::<_, std::convert::Infallible>(resp.map(|body| ClientBody { body, _txn: txn }))
        }
    });
    // Errors are the client's doing (reset, garbage, timeout): nothing to answer any more.
    let _ = builder.serve_connection(io, svc).with_upgrades().await;
}
