//! A minimal HTTP/1.x client over a raw TcpStream that keeps the bytes it got.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One parsed response.
#[derive(Debug, Clone, Default)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// The status line.
    pub status_line: String,
    /// Header lines as received (name case kept).
    pub headers: Vec<(String, String)>,
    /// The decoded body.
    pub body: Vec<u8>,
    /// The raw bytes of the head and body.
    pub raw: Vec<u8>,
}

impl Resp {
    /// First header value by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A client connection that can send several requests.
pub struct Conn {
    /// The socket.
    pub s: TcpStream,
    buf: Vec<u8>,
    /// The peer closed (read returned 0).
    pub eof: bool,
}

impl Conn {
    /// Connects with a 3 s read timeout.
    pub fn new(addr: SocketAddr) -> Conn {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        Conn {
            s,
            buf: Vec::new(),
            eof: false,
        }
    }

    /// Wraps a connected socket.
    pub fn new_from(s: TcpStream) -> Conn {
        Conn {
            s,
            buf: Vec::new(),
            eof: false,
        }
    }

    /// Sets the read timeout.
    pub fn timeout(&self, d: Duration) {
        self.s.set_read_timeout(Some(d)).unwrap();
    }

    /// Writes raw bytes.
    pub fn send(&mut self, b: &[u8]) {
        self.s.write_all(b).unwrap();
    }

    fn fill(&mut self) -> bool {
        let mut b = [0u8; 65536];
        match self.s.read(&mut b) {
            Ok(0) => {
                self.eof = true;
                false
            }
            Ok(n) => {
                self.buf.extend_from_slice(&b[..n]);
                true
            }
            Err(_) => false,
        }
    }

    /// Reads one response (of a request that was not HEAD). `None` when the connection
    /// closed or timed out before a full head.
    pub fn read_resp(&mut self) -> Option<Resp> {
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            if !self.fill() {
                return None;
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("").to_string();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.to_string(), v.trim().to_string()))
            .collect();
        let mut r = Resp {
            status,
            status_line,
            headers,
            ..Resp::default()
        };
        let mut pos = head_end;
        if (100..200).contains(&status) || status == 204 || status == 304 {
            r.raw = self.buf.drain(..pos).collect();
            return Some(r);
        }
        let te_chunked = r
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        if te_chunked {
            loop {
                let line_end = loop {
                    if let Some(i) = find(&self.buf[pos..], b"\r\n") {
                        break pos + i;
                    }
                    if !self.fill() {
                        r.raw = std::mem::take(&mut self.buf);
                        return Some(r);
                    }
                };
                let szs = String::from_utf8_lossy(&self.buf[pos..line_end]).into_owned();
                let sz =
                    usize::from_str_radix(szs.split(';').next().unwrap().trim(), 16).unwrap_or(0);
                let need = line_end + 2 + sz + 2;
                while self.buf.len() < need {
                    if !self.fill() {
                        r.raw = std::mem::take(&mut self.buf);
                        return Some(r);
                    }
                }
                r.body
                    .extend_from_slice(&self.buf[line_end + 2..line_end + 2 + sz]);
                pos = need;
                if sz == 0 {
                    break;
                }
            }
        } else if let Some(len) = r
            .header("content-length")
            .and_then(|v| v.parse::<usize>().ok())
        {
            while self.buf.len() < pos + len {
                if !self.fill() {
                    break;
                }
            }
            let end = (pos + len).min(self.buf.len());
            r.body = self.buf[pos..end].to_vec();
            pos = end;
        } else {
            while self.fill() {}
            pos = self.buf.len();
            r.body = self.buf[head_end..].to_vec();
        }
        r.raw = self.buf.drain(..pos).collect();
        Some(r)
    }

    /// Sends a request and reads its response.
    pub fn req(&mut self, raw: &str) -> Option<Resp> {
        self.send(raw.as_bytes());
        self.read_resp()
    }

    /// Whether the peer closes the connection within `max` (reads and drops any bytes).
    pub fn closed_within(&mut self, max: Duration) -> bool {
        if self.eof {
            return true;
        }
        self.s.set_read_timeout(Some(max)).unwrap();
        let mut b = [0u8; 4096];
        loop {
            match self.s.read(&mut b) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) => {
                    return !matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    )
                }
            }
        }
    }
}

/// Finds a needle.
pub fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// One `GET path` with `Connection: close`, returning the response.
pub fn get(addr: SocketAddr, path: &str) -> Resp {
    let mut c = Conn::new(addr);
    c.req(&format!(
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    ))
    .unwrap_or_else(|| panic!("no response to GET {path}"))
}

/// A GET with extra header lines (each ending in `\r\n`), `Connection: close`.
pub fn get_h(addr: SocketAddr, path: &str, extra: &str) -> Resp {
    let mut c = Conn::new(addr);
    c.req(&format!(
        "GET {path} HTTP/1.1\r\nHost: test\r\n{extra}Connection: close\r\n\r\n"
    ))
    .unwrap_or_else(|| panic!("no response to GET {path}"))
}
