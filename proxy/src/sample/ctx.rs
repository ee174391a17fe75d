//! What the data paths provide to evaluate samples: one trait with default methods
//! answering "nothing", so a layer-4 path can implement only what it has.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;

use super::value::Sample;
use super::varstore::{VarScope, VarStore};

/// The request/connection context a sample expression reads from.
///
/// Every method defaults to "not available" (`None`), which makes the fetch fail and the
/// ACL using it false, as haproxy does for data it does not have.
pub trait SampleCtx {
    /// Client address (`src`).
    fn src(&self) -> Option<SocketAddr> {
        None
    }
    /// Local address the client connected to (`dst`).
    fn dst(&self) -> Option<SocketAddr> {
        None
    }
    /// Frontend name.
    fn frontend_name(&self) -> Option<&str> {
        None
    }
    /// Frontend numeric id.
    fn frontend_id(&self) -> Option<i64> {
        None
    }
    /// Backend name (once chosen).
    fn backend_name(&self) -> Option<&str> {
        None
    }
    /// Backend numeric id.
    fn backend_id(&self) -> Option<i64> {
        None
    }
    /// Server name (once chosen).
    fn server_name(&self) -> Option<&str> {
        None
    }
    /// Server numeric id.
    fn server_id(&self) -> Option<i64> {
        None
    }
    /// Whether the stream is HTTP (`req.proto_http`).
    fn is_http(&self) -> bool {
        false
    }
    /// Request method as sent.
    fn method(&self) -> Option<&[u8]> {
        None
    }
    /// Request URI as sent on the request line (`url`).
    fn uri(&self) -> Option<&[u8]> {
        None
    }
    /// HTTP version as "1.1", "1.0", "2.0" (`req.ver`).
    fn version(&self) -> Option<&[u8]> {
        None
    }
    /// Request headers in order (names lower case as `http` stores them).
    fn req_headers(&self) -> Option<&http::HeaderMap> {
        None
    }
    /// Request body received so far.
    fn req_body(&self) -> Option<&[u8]> {
        None
    }
    /// Whether this is the first request of the connection (`http_first_req`).
    fn http_first_req(&self) -> Option<bool> {
        None
    }
    /// Layer-4 request payload buffered so far (`payload`, `req.len`, `req.rdp_cookie`).
    fn payload(&self) -> Option<&[u8]> {
        None
    }
    /// Response status.
    fn res_status(&self) -> Option<u16> {
        None
    }
    /// Whether the client connection is TLS-terminated here (`ssl_fc`).
    fn ssl_fc(&self) -> Option<bool> {
        None
    }
    /// SNI the client sent on a TLS connection terminated here (`ssl_fc_sni`).
    fn ssl_fc_sni(&self) -> Option<&str> {
        None
    }
    /// Response headers in order.
    fn res_headers(&self) -> Option<&http::HeaderMap> {
        None
    }
    /// Reads a variable.
    fn var(&self, _scope: VarScope, _name: &str) -> Option<Sample> {
        None
    }
    /// Sets a variable (implementors use interior mutability: evaluation borrows the context
    /// shared because ACLs and fetches never need to mutate anything else).
    fn set_var(&self, _scope: VarScope, _name: &str, _value: Sample) {}
    /// Removes a variable.
    fn unset_var(&self, _scope: VarScope, _name: &str) {}
    /// Usable servers of a backend (None: the current one).
    fn nbsrv(&self, _backend: Option<&str>) -> Option<i64> {
        None
    }
    /// Current connections on a backend (None: the current one).
    fn be_conn(&self, _backend: Option<&str>) -> Option<i64> {
        None
    }
    /// Current connections on a frontend (None: the current one).
    fn fe_conn(&self, _frontend: Option<&str>) -> Option<i64> {
        None
    }
    /// Current connections on the current server.
    fn srv_conn(&self) -> Option<i64> {
        None
    }
    /// Whether server `srv` of backend `be` is up.
    fn srv_is_up(&self, _backend: &str, _server: &str) -> Option<bool> {
        None
    }
    /// Free connection slots (connections + queue) of a backend.
    fn connslots(&self, _backend: Option<&str>) -> Option<i64> {
        None
    }
    /// Queued connections of a backend.
    fn queue(&self, _backend: Option<&str>) -> Option<i64> {
        None
    }
    /// Queued connections divided by usable servers of a backend.
    fn avg_queue(&self, _backend: Option<&str>) -> Option<i64> {
        None
    }
    /// Whether more data may still arrive for what fetches read (e.g. during
    /// `tcp-request inspect-delay`): then a missing sample makes an ACL "missing" rather
    /// than false, so the caller can wait instead of deciding.
    fn more_data_expected(&self) -> bool {
        false
    }
    /// Current time in microseconds since the epoch (`date`); default: the system clock.
    /// A data path may return its cached per-loop date instead, as haproxy does.
    fn now_us(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0)
    }
}

/// A context made of plain fields, for tests and tools.
#[derive(Debug, Default)]
pub struct FakeCtx {
    /// `src`
    pub src: Option<SocketAddr>,
    /// `dst`
    pub dst: Option<SocketAddr>,
    /// frontend name and id
    pub fe: Option<(String, i64)>,
    /// backend name and id
    pub be: Option<(String, i64)>,
    /// server name and id
    pub srv: Option<(String, i64)>,
    /// whether the stream is HTTP
    pub http: bool,
    /// request method
    pub method: Option<Vec<u8>>,
    /// request URI
    pub uri: Option<Vec<u8>>,
    /// HTTP version ("1.1")
    pub version: Option<Vec<u8>>,
    /// request headers
    pub req_headers: Option<http::HeaderMap>,
    /// request body
    pub req_body: Option<Vec<u8>>,
    /// first request of the connection
    pub first_req: Option<bool>,
    /// layer-4 payload
    pub payload: Option<Vec<u8>>,
    /// response status
    pub status: Option<u16>,
    /// response headers
    pub res_headers: Option<http::HeaderMap>,
    /// variables
    pub vars: RefCell<VarStore>,
    /// per backend: (usable servers, conns, queue, connslots)
    pub backends: HashMap<String, (i64, i64, i64, i64)>,
    /// frontend connections
    pub fe_conns: i64,
    /// current server connections
    pub srv_conns: Option<i64>,
    /// servers up, as "be/srv"
    pub up: Vec<String>,
    /// fixed clock for `date`, in microseconds
    pub now: Option<i64>,
    /// TLS terminated here, with this SNI
    pub ssl: Option<(bool, Option<String>)>,
}

impl FakeCtx {
    /// Adds a request header (builder style).
    pub fn hdr(mut self, name: &str, value: &str) -> Self {
        let map = self.req_headers.get_or_insert_with(http::HeaderMap::new);
        if let (Ok(n), Ok(v)) = (
            http::header::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            map.append(n, v);
        }
        self
    }

    /// Adds a response header (builder style).
    pub fn res_hdr(mut self, name: &str, value: &str) -> Self {
        let map = self.res_headers.get_or_insert_with(http::HeaderMap::new);
        if let (Ok(n), Ok(v)) = (
            http::header::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            map.append(n, v);
        }
        self
    }

    /// An HTTP request context (builder style).
    pub fn request(method: &str, uri: &str) -> Self {
        FakeCtx {
            http: true,
            method: Some(method.as_bytes().to_vec()),
            uri: Some(uri.as_bytes().to_vec()),
            version: Some(b"1.1".to_vec()),
            req_headers: Some(http::HeaderMap::new()),
            first_req: Some(true),
            ..Default::default()
        }
    }

    fn backend(&self, be: Option<&str>) -> Option<&(i64, i64, i64, i64)> {
        let name = match be {
            Some(n) => n,
            None => &self.be.as_ref()?.0,
        };
        self.backends.get(name)
    }
}

impl SampleCtx for FakeCtx {
    fn src(&self) -> Option<SocketAddr> {
        self.src
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.dst
    }
    fn frontend_name(&self) -> Option<&str> {
        self.fe.as_ref().map(|f| f.0.as_str())
    }
    fn frontend_id(&self) -> Option<i64> {
        self.fe.as_ref().map(|f| f.1)
    }
    fn backend_name(&self) -> Option<&str> {
        self.be.as_ref().map(|f| f.0.as_str())
    }
    fn backend_id(&self) -> Option<i64> {
        self.be.as_ref().map(|f| f.1)
    }
    fn server_name(&self) -> Option<&str> {
        self.srv.as_ref().map(|f| f.0.as_str())
    }
    fn server_id(&self) -> Option<i64> {
        self.srv.as_ref().map(|f| f.1)
    }
    fn is_http(&self) -> bool {
        self.http
    }
    fn method(&self) -> Option<&[u8]> {
        self.method.as_deref()
    }
    fn uri(&self) -> Option<&[u8]> {
        self.uri.as_deref()
    }
    fn version(&self) -> Option<&[u8]> {
        self.version.as_deref()
    }
    fn req_headers(&self) -> Option<&http::HeaderMap> {
        self.req_headers.as_ref()
    }
    fn req_body(&self) -> Option<&[u8]> {
        self.req_body.as_deref()
    }
    fn http_first_req(&self) -> Option<bool> {
        self.first_req
    }
    fn payload(&self) -> Option<&[u8]> {
        self.payload.as_deref()
    }
    fn res_status(&self) -> Option<u16> {
        self.status
    }
    fn res_headers(&self) -> Option<&http::HeaderMap> {
        self.res_headers.as_ref()
    }
    fn ssl_fc(&self) -> Option<bool> {
        self.ssl.as_ref().map(|s| s.0)
    }
    fn ssl_fc_sni(&self) -> Option<&str> {
        self.ssl.as_ref()?.1.as_deref()
    }
    fn var(&self, scope: VarScope, name: &str) -> Option<Sample> {
        self.vars.borrow().get(scope, name).cloned()
    }
    fn set_var(&self, scope: VarScope, name: &str, value: Sample) {
        self.vars.borrow_mut().set(scope, name, value)
    }
    fn unset_var(&self, scope: VarScope, name: &str) {
        self.vars.borrow_mut().unset(scope, name)
    }
    fn nbsrv(&self, be: Option<&str>) -> Option<i64> {
        self.backend(be).map(|b| b.0)
    }
    fn be_conn(&self, be: Option<&str>) -> Option<i64> {
        self.backend(be).map(|b| b.1)
    }
    fn fe_conn(&self, _fe: Option<&str>) -> Option<i64> {
        Some(self.fe_conns)
    }
    fn srv_conn(&self) -> Option<i64> {
        self.srv_conns
    }
    fn srv_is_up(&self, be: &str, srv: &str) -> Option<bool> {
        Some(self.up.iter().any(|u| u.split_once('/') == Some((be, srv))))
    }
    fn connslots(&self, be: Option<&str>) -> Option<i64> {
        self.backend(be).map(|b| b.3)
    }
    fn queue(&self, be: Option<&str>) -> Option<i64> {
        self.backend(be).map(|b| b.2)
    }
    fn avg_queue(&self, be: Option<&str>) -> Option<i64> {
        // haproxy: queue / usable servers, or the queue itself when none is usable.
        self.backend(be)
            .map(|b| if b.0 > 0 { b.2 / b.0 } else { b.2 })
    }
    fn now_us(&self) -> i64 {
        self.now.unwrap_or(1_700_000_000_000_000)
    }
}
