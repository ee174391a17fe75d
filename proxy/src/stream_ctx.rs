//! What sample fetches see of a stream (haproxy's `struct stream` as `sample.c` reads it): the
//! connection, the HTTP request when there is one, and the live state of frontends, backends
//! and servers. Built on the stack for each rule evaluation; borrows everything.

use std::net::SocketAddr;

use crate::backend::{AdminState, OperState};
use crate::runtime::{BackendRt, Frontend, Runtime};
use crate::sample::SampleCtx;

/// The request part of a stream.
#[derive(Debug, Clone, Copy)]
pub struct HttpView<'a> {
    /// Method.
    pub method: &'a http::Method,
    /// URI as received.
    pub uri: &'a http::Uri,
    /// Version.
    pub version: http::Version,
    /// Headers.
    pub headers: &'a http::HeaderMap,
    /// Whether this is the connection's first request.
    pub first: bool,
}

/// A stream as sample fetches see it.
#[derive(Debug)]
pub struct StreamCtx<'a> {
    /// The whole runtime (for fetches naming another proxy).
    pub rt: &'a Runtime,
    /// The frontend.
    pub fe: &'a Frontend,
    /// The backend, once chosen.
    pub be: Option<&'a BackendRt>,
    /// Client address.
    pub src: Option<SocketAddr>,
    /// Address the client connected to.
    pub dst: Option<SocketAddr>,
    /// The HTTP request, in HTTP mode.
    pub http: Option<HttpView<'a>>,
}

impl<'a> StreamCtx<'a> {
    fn backend(&self, name: Option<&str>) -> Option<&BackendRt> {
        match name {
            None => self.be,
            Some(n) => self.rt.backends.iter().find(|b| b.name == n).map(|b| &**b),
        }
    }
}

/// haproxy's `be_usable_srv()`: active servers when there are any, else the backups in use
/// (only the first one without `option allbackups`).
pub fn usable_servers(be: &BackendRt) -> i64 {
    let servers = be.lb.servers();
    let active = servers.iter().filter(|s| !s.backup && s.usable()).count();
    if active > 0 {
        return active as i64;
    }
    let backups = servers.iter().filter(|s| s.backup && s.usable()).count();
    if be.allbackups {
        backups as i64
    } else {
        backups.min(1) as i64
    }
}

impl SampleCtx for StreamCtx<'_> {
    fn src(&self) -> Option<SocketAddr> {
        self.src
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.dst
    }
    fn frontend_name(&self) -> Option<&str> {
        Some(&self.fe.name)
    }
    fn frontend_id(&self) -> Option<i64> {
        Some(i64::from(self.fe.id))
    }
    fn backend_name(&self) -> Option<&str> {
        self.be.map(|b| b.name.as_str())
    }
    fn backend_id(&self) -> Option<i64> {
        self.be.map(|b| i64::from(b.id))
    }
    fn is_http(&self) -> bool {
        self.http.is_some()
    }
    fn method(&self) -> Option<&[u8]> {
        self.http.map(|h| h.method.as_str().as_bytes())
    }
    fn uri(&self) -> Option<&[u8]> {
        // The path and query (an absolute-form target's scheme and authority are not kept
        // as one string by the parser; `base` and `url` fetches rebuild them from Host).
        self.http.map(|h| {
            h.uri
                .path_and_query()
                .map_or(b"/" as &[u8], |p| p.as_str().as_bytes())
        })
    }
    fn version(&self) -> Option<&[u8]> {
        self.http.map(|h| match h.version {
            http::Version::HTTP_10 => b"1.0" as &[u8],
            _ => b"1.1",
        })
    }
    fn req_headers(&self) -> Option<&http::HeaderMap> {
        self.http.map(|h| h.headers)
    }
    fn http_first_req(&self) -> Option<bool> {
        self.http.map(|h| h.first)
    }
    fn nbsrv(&self, backend: Option<&str>) -> Option<i64> {
        self.backend(backend).map(usable_servers)
    }
    fn be_conn(&self, backend: Option<&str>) -> Option<i64> {
        use std::sync::atomic::Ordering::Relaxed;
        self.backend(backend).map(|b| b.beconn.load(Relaxed) as i64)
    }
    fn fe_conn(&self, frontend: Option<&str>) -> Option<i64> {
        use std::sync::atomic::Ordering::Relaxed;
        let fe = match frontend {
            None => self.fe,
            Some(n) => self.rt.frontends.iter().find(|f| f.name == n)?,
        };
        Some(fe.feconn.load(Relaxed) as i64)
    }
    fn srv_is_up(&self, backend: &str, server: &str) -> Option<bool> {
        let s = self.backend(Some(backend))?.lb.server(server)?;
        Some(s.oper() == OperState::Up && s.admin() != AdminState::Maint)
    }
    fn queue(&self, backend: Option<&str>) -> Option<i64> {
        self.backend(backend).map(|b| i64::from(b.lb.queued()))
    }
}
