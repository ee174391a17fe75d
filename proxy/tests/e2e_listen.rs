//! Listeners: address forms, port ranges, comma lists, unix/abns sockets, fd@N, bind options,
//! nbthread, and maxconn (global, frontend, bind) queueing connections instead of refusing.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};
use support::client::{get, Conn};
use support::proc::{render, Kind, Opts, Proxy};
use support::upstream::HttpUpstream;

const KINDS: [Kind; 2] = [Kind::Fulcrum, Kind::Haproxy];

const DEFAULTS: &str =
    "defaults\n  mode http\n  timeout client 2s\n  timeout server 2s\n  timeout connect 500ms\n";

fn cfg(global: &str, front: &str, up: &HttpUpstream) -> String {
    format!(
        "global\n{global}{DEFAULTS}frontend f\n{front}  default_backend b\nbackend b\n  server s1 {}\n",
        up.addr
    )
}

fn ok_on(addr: SocketAddr) -> bool {
    get(addr, "/x").status == 200
}

fn lo(port: u16) -> SocketAddr {
    ([127, 0, 0, 1], port).into()
}

#[test]
fn bind_ipv4_address_port() {
    for k in KINDS {
        let up = HttpUpstream::start("s1");
        let p = Proxy::start(k, &cfg("", "  bind 127.0.0.1:{{P0}}\n", &up));
        assert!(ok_on(p.addr(0)), "{k:?}");
    }
}

#[test]
fn bind_port_only_listens_on_all_addresses() {
    for k in KINDS {
        let up = HttpUpstream::start("s1");
        let p = Proxy::start(k, &cfg("", "  bind :{{P0}}\n", &up));
        assert!(ok_on(p.addr(0)), "{k:?}");
        assert!(
            ok_on(([127, 0, 0, 2], p.port(0)).into()),
            "{k:?} on 127.0.0.2"
        );
    }
}

#[test]
fn bind_ipv6_loopback() {
    for k in KINDS {
        let up = HttpUpstream::start("s1");
        let mut p = Proxy::start_opts(
            k,
            &cfg("", "  bind [::1]:{{P0}}\n", &up),
            Opts {
                no_wait: true,
                ..Opts::default()
            },
        );
        let a: SocketAddr = format!("[::1]:{}", p.port(0)).parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(a).is_err() {
            assert!(
                Instant::now() < deadline,
                "{k:?} not listening on {a}: {}",
                p.stderr()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(ok_on(a), "{k:?}");
        let _ = p.wait_exit(Duration::ZERO);
    }
}

/// Two consecutive free ports.
fn port_pair() -> u16 {
    for _ in 0..100 {
        let a = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = a.local_addr().unwrap().port();
        if p < 65535 && TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
    panic!("no two consecutive free ports");
}

#[test]
fn bind_port_range() {
    for k in KINDS {
        let up = HttpUpstream::start("s1");
        let base = port_pair();
        let mut p = Proxy::start_opts(
            k,
            &cfg("", &format!("  bind 127.0.0.1:{base}-{}\n", base + 1), &up),
            Opts {
                no_wait: true,
                ..Opts::default()
            },
        );
        p.wait_port(base);
        p.wait_port(base + 1);
        assert!(ok_on(lo(base)) && ok_on(lo(base + 1)), "{k:?}");
    }
}

#[test]
fn bind_comma_list() {
    for k in KINDS {
        let up = HttpUpstream::start("s1");
        let mut p = Proxy::start(
            k,
            &cfg("", "  bind 127.0.0.1:{{P0}},127.0.0.1:{{P1}}\n", &up),
        );
        let p1 = p.port(1);
        p.wait_port(p1);
        assert!(ok_on(p.addr(0)) && ok_on(p.addr(1)), "{k:?}");
    }
}

fn unix_get(mut s: UnixStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.write_all(b"GET /unix HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn bind_unix_socket_with_mode() {
    for k in KINDS {
        let up = HttpUpstream::start("s1");
        let mut p = Proxy::start_opts(
            k,
            &cfg(
                "",
                "  bind 127.0.0.1:{{P0}}\n  bind unix@{{DIR}}/s.sock mode 600\n",
                &up,
            ),
            Opts {
                no_wait: true,
                ..Opts::default()
            },
        );
        let path = p.dir().join("s.sock");
        // The mode must hold from the moment the socket appears (haproxy binds a temporary
        // name, chmods, then renames), not be fixed up later.
        let deadline = Instant::now() + Duration::from_secs(5);
        let first = loop {
            if let Ok(m) = std::fs::metadata(&path) {
                break m.permissions().mode() & 0o777;
            }
            assert!(Instant::now() < deadline, "{k:?}: no socket {path:?}");
            std::thread::yield_now();
        };
        let p0 = p.port(0);
        p.wait_port(p0);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(first, 0o600, "{k:?}: mode of the socket when it appeared");
        assert_eq!(mode, 0o600, "{k:?}");
        let out = unix_get(UnixStream::connect(&path).unwrap());
        assert!(out.starts_with("HTTP/1.1 200"), "{k:?}: {out}");
    }
}

#[test]
fn bind_abns_socket() {
    use std::os::linux::net::SocketAddrExt;
    for k in KINDS {
        let up = HttpUpstream::start("s1");
        let name = format!("fulcrum-e2e-{}-{:?}", std::process::id(), k);
        let p = Proxy::start(
            k,
            &cfg(
                "",
                &format!("  bind 127.0.0.1:{{{{P0}}}}\n  bind abns@{name}\n"),
                &up,
            ),
        );
        // haproxy binds the name zero-padded to the whole sun_path (107 bytes after the
        // leading NUL); clients such as haproxy's own `abns@` servers connect that way.
        let mut padded = name.as_bytes().to_vec();
        padded.resize(107, 0);
        let exact = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let padded = std::os::unix::net::SocketAddr::from_abstract_name(&padded).unwrap();
        let works = |a: &std::os::unix::net::SocketAddr| {
            UnixStream::connect_addr(a)
                .map(|s| unix_get(s).starts_with("HTTP/1.1 200"))
                .unwrap_or(false)
        };
        assert_eq!(
            (works(&padded), works(&exact)),
            (true, false),
            "{k:?}: (reachable at the padded name, at the exact name)"
        );
        drop(p);
    }
}

#[test]
fn bind_fd_inherited_socket() {
    for k in KINDS {
        let up = HttpUpstream::start("s1");
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let fd = l.as_raw_fd();
        let mut p = Proxy::start_opts(
            k,
            &cfg("", &format!("  bind fd@{fd}\n"), &up),
            Opts {
                no_wait: true,
                pass_fds: vec![fd],
                ..Opts::default()
            },
        );
        drop(l);
        // Connections queue in the inherited backlog even before the proxy accepts, so
        // readiness is a real exchange.
        std::thread::sleep(Duration::from_millis(200));
        p.wait_port(port);
        assert!(ok_on(lo(port)), "{k:?}: {}", p.stderr());
    }
}

#[test]
fn bind_name_and_backlog_options() {
    for k in KINDS {
        let up = HttpUpstream::start("s1");
        let p = Proxy::start(
            k,
            &cfg("", "  bind 127.0.0.1:{{P0}} name web backlog 16\n", &up),
        );
        assert!(ok_on(p.addr(0)), "{k:?}");
    }
}

#[test]
fn nbthread_2_serves_many_connections() {
    let up = HttpUpstream::start("s1");
    let p = Proxy::start(
        Kind::Fulcrum,
        &cfg("  nbthread 2\n", "  bind 127.0.0.1:{{P0}}\n", &up),
    );
    let a = p.addr(0);
    let hs: Vec<_> = (0..20)
        .map(|_| {
            std::thread::spawn(move || {
                let mut ok = 0;
                let mut c = Conn::new(a);
                for i in 0..5 {
                    if let Some(r) = c.req(&format!("GET /k{i} HTTP/1.1\r\nHost: x\r\n\r\n")) {
                        ok += usize::from(r.status == 200);
                    }
                }
                for _ in 0..5 {
                    ok += usize::from(ok_on(a));
                }
                ok
            })
        })
        .collect();
    let total: usize = hs.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, 200);
}

/// 5 concurrent clients on a 400 ms upstream behind maxconn 2: all served (none refused or
/// reset), at most 2 at once. Returns (statuses, peak concurrency at the upstream, took at
/// least 3 waves).
fn maxconn_run(k: Kind, global: &str, front: &str) -> (Vec<u16>, usize, bool) {
    let up = HttpUpstream::start("s1");
    let p = Proxy::start(k, &cfg(global, front, &up));
    let a = p.addr(0);
    let t0 = Instant::now();
    let hs: Vec<_> = (0..5)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = Conn::new(a);
                c.timeout(Duration::from_secs(5));
                let r = c.req("GET /sleep/400 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                (r.map(|r| r.status).unwrap_or(0), t0.elapsed())
            })
        })
        .collect();
    let res: Vec<(u16, Duration)> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    let early = up.peak.load(std::sync::atomic::Ordering::SeqCst);
    let total = t0.elapsed();
    (
        res.iter().map(|r| r.0).collect(),
        early,
        total >= Duration::from_millis(1150),
    )
}

fn assert_maxconn(global: &str, front: &str) {
    for k in KINDS {
        let r = maxconn_run(k, global, front);
        assert_eq!(
            r,
            (vec![200; 5], 2, true),
            "{k:?} (statuses, peak concurrent requests, took 3 waves)"
        );
    }
}

#[test]
fn maxconn_global_queues_connections() {
    assert_maxconn("  maxconn 2\n", "  bind 127.0.0.1:{{P0}}\n");
}

#[test]
fn maxconn_frontend_queues_connections() {
    assert_maxconn("", "  maxconn 2\n  bind 127.0.0.1:{{P0}}\n");
}

#[test]
fn maxconn_bind_queues_connections() {
    assert_maxconn("", "  bind 127.0.0.1:{{P0}} maxconn 2\n");
}

#[allow(dead_code)]
fn unused() {
    let _ = render;
}

/// Connections closed by the client without sending anything must give their maxconn slot
/// back at once: after 2 such connections, 2 concurrent requests run in parallel.
#[test]
fn maxconn_slot_released_by_closed_idle_connection() {
    for k in KINDS {
        let up = HttpUpstream::start("s1");
        let p = Proxy::start(k, &cfg("  maxconn 2\n", "  bind 127.0.0.1:{{P0}}\n", &up));
        let a = p.addr(0);
        for _ in 0..2 {
            drop(std::net::TcpStream::connect(a).unwrap());
        }
        std::thread::sleep(Duration::from_millis(100));
        let hs: Vec<_> = (0..2)
            .map(|_| std::thread::spawn(move || get(a, "/sleep/400").status))
            .collect();
        let st: Vec<u16> = hs.into_iter().map(|h| h.join().unwrap()).collect();
        let peak = up.peak.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            (st, peak),
            (vec![200, 200], 2),
            "{k:?} (statuses, peak concurrency)"
        );
    }
}
