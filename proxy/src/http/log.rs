//! The HTTP log line of a transaction (`option httplog`), sent once the response has gone.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::SystemTime;

use http::{Request, Response};
use tokio::time::Instant;

use super::txn::TxnInfo;
use crate::log::target::Level;
use crate::log::{LogAddr, LogFields};
use crate::runtime::{Frontend, Runtime};

/// What is known of a transaction when its response starts; completed and sent when the
/// response body ends.
#[derive(Debug)]
pub struct PendingLog {
    /// For `actconn`.
    pub rt: Arc<Runtime>,
    /// The frontend.
    pub fe: Arc<Frontend>,
    /// Client address.
    pub peer: Option<SocketAddr>,
    /// Frontend address.
    pub local: Option<SocketAddr>,
    /// When the connection was accepted.
    pub accept_date: SystemTime,
    /// Idle time before this request (`Ti`).
    pub idle_ms: i64,
    /// When the request head was complete.
    pub started: Instant,
    /// Status sent to the client.
    pub status: u16,
    /// Size of the response head as sent.
    pub head_bytes: u64,
    /// `METHOD URI VERSION`.
    pub request_line: Vec<u8>,
    /// What the transaction did.
    pub info: TxnInfo,
}

/// `METHOD URI HTTP/x.y`, as haproxy's `%r` shows it.
pub fn request_line<B>(req: &Request<B>) -> Vec<u8> {
    let v = match req.version() {
        http::Version::HTTP_10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    };
    format!("{} {} {v}", req.method(), req.uri()).into_bytes()
}

/// The size haproxy counts for a response head: its internal (HTX) form, not the bytes on
/// the wire — a 20-byte start-line block plus version, status and reason, each header's name
/// and value, and one byte for the end of headers.
pub fn head_len<B>(resp: &Response<B>) -> u64 {
    let reason = resp
        .extensions()
        .get::<hyper::ext::ReasonPhrase>()
        .map(|r| r.as_bytes().len())
        .or_else(|| resp.status().canonical_reason().map(str::len))
        .unwrap_or(0);
    let start_line = 20 + "HTTP/1.1".len() + 3 + reason;
    let headers: usize = resp
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    (start_line + headers + 1) as u64
}

impl PendingLog {
    /// Sends the line; `body_bytes` is what the body added to the head.
    pub fn send(&self, body_bytes: u64) {
        let Some(logger) = &self.fe.logger else {
            return;
        };
        let addr = |a: Option<SocketAddr>| a.map_or(LogAddr::None, LogAddr::Inet);
        let be = self.info.be.as_ref();
        let mut f = LogFields::new(self.accept_date);
        f.client = addr(self.peer);
        f.frontend_addr = addr(self.local);
        f.t_idle = self.idle_ms;
        f.t_handshake = 0;
        f.frontend_name = &self.fe.name;
        f.backend_name = be.map_or(self.fe.name.as_str(), |b| b.name.as_str());
        f.server_name = self.info.server.as_ref().map(|s| s.name.as_str());
        f.t_request = 0;
        f.t_queue = self.info.t_queue;
        f.t_connect = self.info.t_connect;
        f.t_response = self.info.t_response;
        let active = self.started.elapsed().as_millis() as i64;
        f.t_active = active;
        f.t_total = self.idle_ms + active;
        f.bytes_read = self.head_bytes + body_bytes;
        f.termination_state = self.info.termination;
        f.actconn = self.rt.actconn.load(Relaxed) as u32;
        f.feconn = self.fe.feconn.load(Relaxed) as u32;
        f.beconn = be.map_or(0, |b| b.beconn.load(Relaxed) as u32);
        f.srv_conn = self.info.server.as_ref().map_or(0, |s| s.current());
        f.status = i32::from(self.status);
        f.request_line = Some(&self.request_line);
        logger.send_httplog(Level::Info, &f);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn head_len_counts_as_haproxy() {
        // haproxy logs 217 bytes for its own 503 page (107 bytes of body).
        let p = crate::http::errors::builtin(503);
        let mut r = http::Response::new(());
        *r.status_mut() = p.status;
        *r.headers_mut() = p.headers;
        r.extensions_mut().insert(p.reason);
        assert_eq!(super::head_len(&r) + 107, 217);
    }
}
