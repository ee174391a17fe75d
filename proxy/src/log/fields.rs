//! The plain data a traffic log line is built from.
//!
//! The data paths fill a [`LogFields`] when a stream ends (or at once with
//! `option logasap`) and hand it to [`crate::log::tcplog`] or
//! [`crate::log::httplog`]. Everything is borrowed so that building a line
//! allocates nothing besides the output buffer.

use std::net::SocketAddr;
use std::time::SystemTime;

/// A connection endpoint as haproxy prints it in `%ci:%cp` / `%fi:%fp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogAddr {
    /// IPv4/IPv6 address and port.
    Inet(SocketAddr),
    /// A unix socket listener: haproxy prints `unix` and the listener's
    /// numeric id in place of the port.
    Unix {
        /// The listener id (`luid`).
        listener_id: u32,
    },
    /// Unknown: both parts print empty.
    None,
}

/// Everything `option tcplog` / `option httplog` need. Timers are in
/// milliseconds, `-1` when the step was never reached, exactly the values
/// haproxy prints (callers compute them like haproxy's `%Tw` etc.).
#[derive(Clone, Copy, Debug)]
pub struct LogFields<'a> {
    /// Client address (`%ci:%cp`).
    pub client: LogAddr,
    /// Address the client connected to (`%fi:%fp`).
    pub frontend_addr: LogAddr,
    /// When the connection was accepted (`%t`), millisecond precision used.
    pub accept_date: SystemTime,
    /// Idle time before the first request byte (`%Ti`), -1 if unknown; used
    /// with `t_handshake` to derive the request date `%tr` for HTTP.
    pub t_idle: i64,
    /// Handshake time (`%Th`).
    pub t_handshake: i64,
    /// Frontend name (`%f`).
    pub frontend_name: &'a str,
    /// Whether the frontend connection is TLS: `%ft` then gets a `~` suffix.
    pub frontend_tls: bool,
    /// Backend name (`%b`); haproxy prints the frontend name when no
    /// backend was selected, so callers pass that in that case.
    pub backend_name: &'a str,
    /// Server name (`%s`); `None` prints `<NOSRV>`. Applets print their
    /// name, e.g. `<STATS>`, so callers pass that string.
    pub server_name: Option<&'a str>,
    /// `%TR`: time to receive the full request (HTTP).
    pub t_request: i64,
    /// `%Tw`: time spent in queues.
    pub t_queue: i64,
    /// `%Tc`: time to connect to the server.
    pub t_connect: i64,
    /// `%Tr`: server response time (HTTP).
    pub t_response: i64,
    /// `%Ta`: active time of the request (HTTP).
    pub t_active: i64,
    /// `%Tt`: total session time (TCP).
    pub t_total: i64,
    /// `%B`: bytes sent to the client (read from the server).
    pub bytes_read: u64,
    /// `%ts`: termination state, 2 characters such as `--`, `SC`, `cD`.
    pub termination_state: [u8; 2],
    /// Persistence cookie state, the last 2 characters of `%tsc`, `--` when
    /// no cookie is involved.
    pub cookie_state: [u8; 2],
    /// `%ac`: process-wide active connections.
    pub actconn: u32,
    /// `%fc`: frontend connections.
    pub feconn: u32,
    /// `%bc`: backend connections.
    pub beconn: u32,
    /// `%sc`: server connections (0 without a server).
    pub srv_conn: u32,
    /// `%rc`: retries.
    pub retries: u32,
    /// Whether the stream was redispatched: `%rc` then gets a `+` prefix.
    pub redispatched: bool,
    /// `%sq`: position in the server queue.
    pub srv_queue: u32,
    /// `%bq`: position in the backend queue.
    pub backend_queue: u32,
    /// `%ST`: HTTP status.
    pub status: i32,
    /// `%CC`: captured request cookie, `None` prints `-`.
    pub captured_request_cookie: Option<&'a str>,
    /// `%CS`: captured response cookie, `None` prints `-`.
    pub captured_response_cookie: Option<&'a str>,
    /// `%hr`: one entry per `capture request header` (already cut to the
    /// capture length); `None` is a missing header. Empty slice (no captures
    /// configured) prints nothing at all.
    pub request_captures: &'a [Option<&'a [u8]>],
    /// `%hs`: same for `capture response header`.
    pub response_captures: &'a [Option<&'a [u8]>],
    /// `%r`: the request line as received (`GET /x HTTP/1.1`); `None`
    /// prints `<BADREQ>`.
    pub request_line: Option<&'a [u8]>,
    /// `option logasap`: `%Tt`, `%Ta` and `%B` get a `+` prefix because
    /// they are not final.
    pub log_asap: bool,
}

impl<'a> LogFields<'a> {
    /// Fields for a stream accepted at `accept_date`: every timer -1, no
    /// server, counters 0, states `--`, status -1, no captures.
    pub fn new(accept_date: SystemTime) -> Self {
        LogFields {
            client: LogAddr::None,
            frontend_addr: LogAddr::None,
            accept_date,
            t_idle: -1,
            t_handshake: 0,
            frontend_name: "",
            frontend_tls: false,
            backend_name: "",
            server_name: None,
            t_request: -1,
            t_queue: -1,
            t_connect: -1,
            t_response: -1,
            t_active: -1,
            t_total: -1,
            bytes_read: 0,
            termination_state: *b"--",
            cookie_state: *b"--",
            actconn: 0,
            feconn: 0,
            beconn: 0,
            srv_conn: 0,
            retries: 0,
            redispatched: false,
            srv_queue: 0,
            backend_queue: 0,
            status: -1,
            captured_request_cookie: None,
            captured_response_cookie: None,
            request_captures: &[],
            response_captures: &[],
            request_line: None,
            log_asap: false,
        }
    }

    /// `%tr`: accept date plus idle and handshake times (haproxy adds them
    /// only when `t_idle >= 0`).
    pub fn request_date(&self) -> SystemTime {
        if self.t_idle >= 0 {
            let ms = self.t_idle.saturating_add(self.t_handshake).max(0);
            // checked_add: absurd timers must not panic on overflow.
            self.accept_date
                .checked_add(std::time::Duration::from_millis(ms.unsigned_abs()))
                .unwrap_or(self.accept_date)
        } else {
            self.accept_date
        }
    }
}
