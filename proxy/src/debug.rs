//! `-d`: haproxy's debug trace of connections and requests on stderr
//! (`00000000:web.accept(0004)=000c from [127.0.0.1:46774] ALPN=<none>`, `clireq`, `clihdr`,
//! `srvrep`, `srvhdr`, `closed`). Off unless `-d` was given; then each line costs a format
//! and a write, as in haproxy.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};

use http::HeaderMap;

static ENABLED: AtomicBool = AtomicBool::new(false);
static NEXT_ID: AtomicU32 = AtomicU32::new(0);

/// Turns the trace on (`-d`).
pub fn enable() {
    ENABLED.store(true, Relaxed);
}

/// Whether the trace is on.
#[inline]
pub fn enabled() -> bool {
    ENABLED.load(Relaxed)
}

/// A new stream id (haproxy's `uniq_id`).
pub fn next_id() -> u32 {
    NEXT_ID.fetch_add(1, Relaxed)
}

/// A file descriptor as haproxy prints it: four hex digits, or `ffffffff` for none.
fn fd(fd: Option<i32>) -> String {
    match fd {
        Some(f) => format!("{f:04x}"),
        None => "ffffffff".into(),
    }
}

fn emit(s: String) {
    let _ = std::io::stderr().lock().write_all(s.as_bytes());
}

/// `ID:FE.accept(LFD)=CFD from [ADDR] ALPN=<none>`.
pub fn accept(
    id: u32,
    fe: &str,
    listener: Option<i32>,
    client: Option<i32>,
    peer: Option<SocketAddr>,
) {
    let from = peer.map_or_else(|| "unix".to_string(), |p| p.to_string());
    emit(format!(
        "{id:08x}:{fe}.accept({})={} from [{from}] ALPN=<none>\n",
        fd(listener),
        fd(client)
    ));
}

/// The request line and headers as received (`clireq`, `clihdr`).
pub fn request(id: u32, px: &str, cfd: Option<i32>, line: &str, headers: &HeaderMap) {
    let mut s = format!("{id:08x}:{px}.clireq[{}:ffffffff]: {line}\n", fd(cfd));
    for (k, v) in headers {
        s.push_str(&format!(
            "{id:08x}:{px}.clihdr[{}:ffffffff]: {k}: {}\n",
            fd(cfd),
            String::from_utf8_lossy(v.as_bytes())
        ));
    }
    emit(s);
}

/// The response status line and headers (`srvrep`, `srvhdr`).
pub fn response(
    id: u32,
    px: &str,
    cfd: Option<i32>,
    sfd: Option<i32>,
    line: &str,
    headers: &HeaderMap,
) {
    let (c, sv) = (fd(cfd), fd(sfd));
    let mut s = format!("{id:08x}:{px}.srvrep[{c}:{sv}]: {line}\n");
    for (k, v) in headers {
        s.push_str(&format!(
            "{id:08x}:{px}.srvhdr[{c}:{sv}]: {k}: {}\n",
            String::from_utf8_lossy(v.as_bytes())
        ));
    }
    emit(s);
}

/// The end of a stream (`closed`).
pub fn closed(id: u32, px: &str, cfd: Option<i32>, sfd: Option<i32>) {
    emit(format!("{id:08x}:{px}.closed[{}:{}]\n", fd(cfd), fd(sfd)));
}
