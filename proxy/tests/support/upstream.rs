//! Tiny upstream servers on 127.0.0.1:0 that identify themselves, for checking where the
//! proxy sent a request and what it sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// What an upstream saw of one request.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The request line.
    pub line: String,
    /// Header lines as received (name case kept).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// A keep-alive HTTP/1.1 server answering `200` with body `NAME PATH`.
pub struct HttpUpstream {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Every request it got.
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// How many TCP connections it accepted.
    pub conns: Arc<Mutex<usize>>,
    /// Requests being handled right now.
    pub active: Arc<AtomicUsize>,
    /// The highest value `active` reached.
    pub peak: Arc<AtomicUsize>,
}

impl HttpUpstream {
    /// Starts one named upstream.
    pub fn start(name: &str) -> HttpUpstream {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let conns = Arc::new(Mutex::new(0));
        let active = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (name, seen2, conns2) = (name.to_string(), seen.clone(), conns.clone());
        let gauges = (active.clone(), peak.clone());
        thread::spawn(move || {
            for s in l.incoming() {
                let Ok(s) = s else { continue };
                *conns2.lock().unwrap() += 1;
                let (name, seen, g) = (name.clone(), seen2.clone(), gauges.clone());
                thread::spawn(move || serve_http(s, &name, &seen, &g));
            }
        });
        HttpUpstream {
            addr,
            seen,
            conns,
            active,
            peak,
        }
    }

    /// The requests seen so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve_http(
    s: TcpStream,
    name: &str,
    seen: &Mutex<Vec<Seen>>,
    (active, peak): &(Arc<AtomicUsize>, Arc<AtomicUsize>),
) {
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut w = s;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end().to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.to_string(), v.trim().to_string()));
            }
        }
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        if get("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
            && w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err()
        {
            return;
        }
        let mut body = Vec::new();
        if let Some(len) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
            body.resize(len, 0);
            if r.read_exact(&mut body).is_err() {
                return;
            }
        } else if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                let mut sz = String::new();
                r.read_line(&mut sz).unwrap();
                let n = usize::from_str_radix(sz.trim(), 16).unwrap();
                let mut chunk = vec![0; n + 2];
                r.read_exact(&mut chunk).unwrap();
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        }
        let now = active.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(now, Ordering::SeqCst);
        let close = get("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let path = line.split(' ').nth(1).unwrap_or("").to_string();
        seen.lock().unwrap().push(Seen {
            line,
            headers,
            body,
        });
        if let Some(ms) = path
            .strip_prefix("/sleep/")
            .and_then(|v| v.split(['/', '?']).next())
            .and_then(|v| v.parse::<u64>().ok())
        {
            thread::sleep(std::time::Duration::from_millis(ms));
        }
        let payload = format!("{name} {path}");
        let resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Upstream: {name}\r\n{}\r\n{payload}",
            payload.len(),
            if close { "Connection: close\r\n" } else { "" }
        );
        // The request is done once its answer is ready: count it out before writing, or the
        // proxy's next request (sent as soon as this answer arrives) could be counted while
        // this thread has not run again yet.
        active.fetch_sub(1, Ordering::SeqCst);
        let failed = w.write_all(resp.as_bytes()).is_err();
        if failed || close {
            return;
        }
    }
}

/// A TCP server that echoes everything back, then closes its side when the client does.
pub fn tcp_echo() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            thread::spawn(move || {
                let mut buf = [0u8; 16384];
                loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => {
                            let _ = s.shutdown(std::net::Shutdown::Write);
                            return;
                        }
                        Ok(n) => {
                            if s.write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

/// Sends raw bytes and reads until the server closes or `timeout` passes.
pub fn raw_exchange(addr: SocketAddr, req: &[u8], timeout: std::time::Duration) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(timeout)).unwrap();
    s.write_all(req).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// A server that accepts connections and never answers (keeps them open). Returns its address
/// and the number of connections accepted.
pub fn silent() -> (SocketAddr, Arc<Mutex<usize>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let n = Arc::new(Mutex::new(0));
    let n2 = n.clone();
    thread::spawn(move || {
        let mut keep = Vec::new();
        for s in l.incoming() {
            *n2.lock().unwrap() += 1;
            keep.push(s);
        }
    });
    (addr, n)
}

/// A server that reads a little of each connection, then closes without answering.
pub fn closer() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut b = [0u8; 4096];
            let _ = s.read(&mut b);
            drop(s);
        }
    });
    addr
}

/// An address where nothing listens (connection refused).
pub fn refused() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// The accept value of the RFC 6455 sample key `dGhlIHNhbXBsZSBub25jZQ==` (the tests send it).
pub const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRrK+xOo=";

/// An upgrade-capable server: answers any request with `101 Switching Protocols` (echoing the
/// Upgrade header), then echoes bytes with the prefix-free identity.
pub fn websocket() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { continue };
            thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut w = s;
                let mut upgrade = String::from("websocket");
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) == 0 {
                        return;
                    }
                    let h = h.trim_end();
                    if h.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        if k.eq_ignore_ascii_case("upgrade") {
                            upgrade = v.trim().to_string();
                        }
                    }
                }
                let resp = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: {upgrade}\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n\r\n"
                );
                if w.write_all(resp.as_bytes()).is_err() {
                    return;
                }
                let mut buf = [0u8; 16384];
                loop {
                    match r.read(&mut buf) {
                        Ok(0) | Err(_) => {
                            let _ = w.shutdown(std::net::Shutdown::Write);
                            return;
                        }
                        Ok(n) => {
                            if w.write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

/// A TCP server that reads until the client half-closes, then answers `got N bytes` and closes.
pub fn reply_after_eof() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            thread::spawn(move || {
                let mut all = Vec::new();
                if s.read_to_end(&mut all).is_ok() {
                    let _ = s.write_all(format!("got {} bytes", all.len()).as_bytes());
                }
            });
        }
    });
    addr
}

/// A server that reads a request head, writes `resp` verbatim, then closes.
pub fn raw_responder(resp: &'static [u8]) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { continue };
            thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut w = s;
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) == 0 {
                        return;
                    }
                    if h.trim_end().is_empty() {
                        break;
                    }
                }
                let _ = w.write_all(resp);
                let _ = w.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    addr
}
