//! A connection accepted by a frontend: counted, logged as the frontend asks, then handed to
//! the data path of its mode.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::time::Instant;

use crate::config::model::{LogFormatKind, Mode};
use crate::log::target::Level;
use crate::log::{LogAddr, LogFields};
use crate::net::stream::Stream;
use crate::runtime::{ConnCount, Frontend, Runtime};

/// Serves one accepted connection to its end.
pub async fn serve(
    rt: Arc<Runtime>,
    fe: Arc<Frontend>,
    client: Stream,
    peer: Option<std::net::SocketAddr>,
    listener_fd: i32,
) {
    let count = ConnCount::new(rt.clone(), fe.clone());
    let accept_date = SystemTime::now();
    let accepted = Instant::now();
    // The local address costs a system call: only asked when a log line or a server
    // addressed by port offset needs it.
    let needs_local = fe.logger.is_some() || fe.needs_local;
    let local = if needs_local {
        client.local_addr()
    } else {
        None
    };
    let addr = |a: Option<std::net::SocketAddr>| a.map_or(LogAddr::None, LogAddr::Inet);
    let cfd = client.raw_fd();
    let debug_id = crate::debug::enabled().then(|| {
        let id = crate::debug::next_id();
        crate::debug::accept(id, &fe.name, Some(listener_fd), Some(cfd), peer);
        id
    });
    if let (Some(logger), LogFormatKind::Default) = (&fe.logger, fe.log_format) {
        // Without a log format, haproxy logs each connection when it is accepted.
        logger.send_connect(
            &addr(peer),
            &addr(local),
            &fe.name,
            fe.mode == Mode::Http,
            1,
        );
    }
    match fe.mode {
        Mode::Tcp => {
            let sess = crate::tcp::serve(&rt, &fe, client, peer, local).await;
            if let Some(id) = debug_id {
                let px = sess
                    .be
                    .as_ref()
                    .map_or(fe.name.as_str(), |b| b.name.as_str());
                crate::debug::closed(id, px, Some(cfd), None);
            }
            if let (Some(logger), LogFormatKind::Tcp) = (&fe.logger, fe.log_format) {
                if fe.dontlognull && sess.outcome.bytes_in == 0 {
                    return;
                }
                let be_name = sess
                    .be
                    .as_ref()
                    .map_or(fe.name.as_str(), |b| b.name.as_str());
                let mut f = LogFields::new(accept_date);
                f.client = addr(peer);
                f.frontend_addr = addr(local);
                f.t_idle = 0;
                f.frontend_name = &fe.name;
                f.backend_name = be_name;
                f.server_name = sess.server.as_ref().map(|s| s.name.as_str());
                f.t_queue = sess.t_queue;
                f.t_connect = sess.t_connect;
                f.t_total = accepted.elapsed().as_millis() as i64;
                f.bytes_read = sess.outcome.bytes_out;
                f.termination_state = [sess.outcome.cause, sess.outcome.stage];
                f.actconn = rt.actconn.load(Relaxed) as u32;
                f.feconn = fe.feconn.load(Relaxed) as u32;
                f.beconn = sess
                    .be
                    .as_ref()
                    .map_or(0, |b| b.beconn.load(Relaxed) as u32);
                f.srv_conn = sess.server.as_ref().map_or(0, |s| s.current());
                f.retries = sess.retries;
                logger.send_tcplog(Level::Info, &f);
            }
        }
        Mode::Http => {
            crate::http::session::serve(
                rt.clone(),
                fe,
                client,
                (peer, local),
                accept_date,
                debug_id,
            )
            .await
        }
    }
    drop(count);
}
