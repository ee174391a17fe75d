//! TCP mode: echo through, half-close, client/server/tunnel timeouts, large transfers;
//! compared with haproxy.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use support::proc::{Kind, Proxy};
use support::upstream::{reply_after_eof, tcp_echo};

const KINDS: [Kind; 2] = [Kind::Fulcrum, Kind::Haproxy];

fn cfg(timeouts: &str, server: SocketAddr) -> String {
    format!(
        "defaults\n  mode tcp\n  timeout connect 500ms\n{timeouts}\
listen t\n  bind 127.0.0.1:{{{{P0}}}}\n  server s1 {server}\n"
    )
}

const T2S: &str = "  timeout client 2s\n  timeout server 2s\n";

fn each<T: std::fmt::Debug + PartialEq>(
    timeouts: &str,
    mk: fn() -> SocketAddr,
    f: impl Fn(&Proxy) -> T,
) -> T {
    let mut res = Vec::new();
    for k in KINDS {
        let p = Proxy::start(k, &cfg(timeouts, mk()));
        res.push(f(&p));
    }
    assert_eq!(res[0], res[1], "fulcrum (left) vs haproxy (right)");
    res.swap_remove(0)
}

fn connect(p: &Proxy) -> TcpStream {
    let s = TcpStream::connect(p.addr(0)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s
}

#[test]
fn echo_through() {
    let r = each(T2S, tcp_echo, |p| {
        let mut s = connect(p);
        s.write_all(b"hello tcp").unwrap();
        let mut b = [0u8; 9];
        s.read_exact(&mut b).map(|_| b.to_vec()).ok()
    });
    assert_eq!(r, Some(b"hello tcp".to_vec()));
}

#[test]
fn half_close_reply_still_arrives() {
    let r = each(T2S, reply_after_eof, |p| {
        let mut s = connect(p);
        s.write_all(b"12345").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    });
    assert_eq!(r, "got 5 bytes");
}

/// Whether an idle tunnel is closed 450..1000 ms after the last byte (500 ms timeouts).
fn idle_close_after(p: &Proxy) -> Result<(), String> {
    let mut s = connect(p);
    s.write_all(b"x").unwrap();
    let mut b = [0u8; 1];
    s.read_exact(&mut b).unwrap();
    let t = Instant::now();
    let mut buf = [0u8; 16];
    match s.read(&mut buf) {
        Ok(0) | Err(_) if t.elapsed() < Duration::from_millis(2900) => {
            let ms = t.elapsed().as_millis();
            if (450..1000).contains(&ms) {
                Ok(())
            } else {
                Err(format!("{:?}: closed after {ms} ms", p.kind))
            }
        }
        _ => Err(format!("{:?}: still open after 2.9 s", p.kind)),
    }
}

#[test]
fn timeout_client_closes_idle_tunnel() {
    let r = each(
        "  timeout client 500ms\n  timeout server 5s\n",
        tcp_echo,
        idle_close_after,
    );
    assert_eq!(r, Ok(()));
}

#[test]
fn timeout_server_closes_idle_tunnel() {
    let r = each(
        "  timeout client 5s\n  timeout server 500ms\n",
        tcp_echo,
        idle_close_after,
    );
    assert_eq!(r, Ok(()));
}

#[test]
fn timeout_tunnel_overrides_client_and_server() {
    let r = each(
        "  timeout client 200ms\n  timeout server 200ms\n  timeout tunnel 1s\n",
        tcp_echo,
        |p| {
            let mut s = connect(p);
            s.write_all(b"a").unwrap();
            let mut b = [0u8; 1];
            s.read_exact(&mut b).unwrap();
            std::thread::sleep(Duration::from_millis(500));
            let alive = s.write_all(b"b").is_ok() && s.read_exact(&mut b).is_ok() && b == *b"b";
            let t = Instant::now();
            let mut buf = [0u8; 4];
            let closed = matches!(s.read(&mut buf), Ok(0) | Err(_));
            // haproxy's timers tick coarsely (it was seen closing after 750-1000 ms as well
            // as after 1000-1250 ms): both must close about 1 s after the last byte, not at
            // 200 ms and not at the 3 s read timeout.
            let ms = t.elapsed().as_millis();
            (alive, closed, (700..1400).contains(&ms))
        },
    );
    assert_eq!(
        r,
        (true, true, true),
        "alive after 500 ms idle, closed 1 s after last byte"
    );
}

#[test]
fn large_transfer_8mib_intact() {
    let r = each(T2S, tcp_echo, |p| {
        let s = connect(p);
        let mut w = s.try_clone().unwrap();
        let data: Vec<u8> = (0..8 * 1024 * 1024u32)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let expect = data.clone();
        let writer = std::thread::spawn(move || {
            w.write_all(&data).unwrap();
            w.shutdown(Shutdown::Write).unwrap();
        });
        let mut got = Vec::with_capacity(expect.len());
        let mut r = s;
        let _ = r.read_to_end(&mut got);
        writer.join().unwrap();
        (got.len(), got == expect)
    });
    assert_eq!(r, (8 * 1024 * 1024, true));
}

#[test]
fn refused_server_closes_client() {
    let r = each(T2S, support::upstream::refused, |p| {
        let mut s = connect(p);
        let _ = s.write_all(b"hi");
        let mut b = [0u8; 16];
        let t = Instant::now();
        let closed = matches!(s.read(&mut b), Ok(0) | Err(_));
        (closed, t.elapsed() < Duration::from_secs(2))
    });
    assert_eq!(r, (true, true));
}
