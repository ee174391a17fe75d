//! Signals and reloads: SIGTERM, SIGUSR1 soft stop, `-sf` handover under load, `-W`
//! master-worker reload (SIGUSR2) and stop; compared with haproxy.

mod support;

use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use support::client::Conn;
use support::proc::{alive, Kind, Opts, Proxy};
use support::upstream::HttpUpstream;

const KINDS: [Kind; 2] = [Kind::Fulcrum, Kind::Haproxy];

fn cfg(up: &HttpUpstream, port: &str) -> String {
    format!(
        "defaults\n  mode http\n  timeout client 2s\n  timeout server 3s\n  timeout connect 500ms\n\
frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\nbackend b\n  server s1 {}\n",
        up.addr
    )
}

fn get_status(a: SocketAddr, path: &str) -> Option<u16> {
    let mut c = Conn::new(a);
    c.req(&format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    ))
    .map(|r| r.status)
}

#[test]
fn sigterm_stops_at_once() {
    for k in KINDS {
        let up = HttpUpstream::start("s1");
        let mut p = Proxy::start(k, &cfg(&up, "{{P0}}"));
        p.signal(libc::SIGTERM);
        let st = p.wait_exit(Duration::from_millis(500));
        assert!(st.is_some(), "{k:?} still running 500 ms after SIGTERM");
    }
}

#[test]
fn sigusr1_soft_stop_finishes_in_flight_then_exits() {
    let mut res = Vec::new();
    for k in KINDS {
        let up = HttpUpstream::start("s1");
        let mut p = Proxy::start(k, &cfg(&up, "{{P0}}"));
        let a = p.addr(0);
        let slow = thread::spawn(move || get_status(a, "/sleep/800"));
        thread::sleep(Duration::from_millis(200));
        p.signal(libc::SIGUSR1);
        thread::sleep(Duration::from_millis(200));
        let refused = TcpStream::connect(a).is_err();
        let exited_early = p.wait_exit(Duration::ZERO).is_some();
        let inflight = slow.join().unwrap();
        if !refused {
            // Documents what a client gets when the listener stays open.
            let mut c = Conn::new(a);
            c.timeout(Duration::from_millis(500));
            let r = c.req("GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            eprintln!("{k:?}: GET after SIGUSR1 -> {:?}", r.map(|r| r.status));
        }
        let exited = p.wait_exit(Duration::from_secs(2)).map(|s| s.code());
        res.push((refused, exited_early, inflight, exited.is_some()));
    }
    assert_eq!(res[0], (true, false, Some(200), true), "(new conns refused, exited before the in-flight request ended, in-flight status, exited after)");
    assert_eq!(res[0], res[1]);
}

/// Hammers `a` from 2 threads until `stop`; counts (ok, failed).
fn hammer(a: SocketAddr, stop: Arc<AtomicBool>) -> thread::JoinHandle<(usize, usize)> {
    let ok = Arc::new(AtomicUsize::new(0));
    let bad = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..2)
        .map(|_| {
            let (ok, bad, stop) = (ok.clone(), bad.clone(), stop.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let r = TcpStream::connect(a).ok().and_then(|s| {
                        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
                        let mut c = Conn::new_from(s);
                        c.req("GET /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    });
                    if r.is_some_and(|r| r.status == 200) {
                        ok.fetch_add(1, Ordering::SeqCst);
                    } else {
                        bad.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    thread::spawn(move || {
        for h in hs {
            h.join().unwrap();
        }
        (ok.load(Ordering::SeqCst), bad.load(Ordering::SeqCst))
    })
}

fn sf_reload(k: Kind) -> (usize, usize, bool) {
    let up = HttpUpstream::start("s1");
    let mut a = Proxy::start(k, &cfg(&up, "{{P0}}"));
    let port = a.port(0);
    let addr = a.addr(0);
    let stop = Arc::new(AtomicBool::new(false));
    let h = hammer(addr, stop.clone());
    thread::sleep(Duration::from_millis(300));
    let b = Proxy::start_opts(
        k,
        &cfg(&up, &port.to_string()),
        Opts {
            args: vec!["-sf".into(), a.pid().to_string()],
            no_wait: true,
            ..Opts::default()
        },
    );
    let a_exited = a.wait_exit(Duration::from_secs(3)).is_some();
    thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    let (ok, bad) = h.join().unwrap();
    let b_alive = alive(b.pid());
    drop(b);
    (ok.min(1), bad, a_exited && b_alive)
}

#[test]
fn sf_reload_under_load_loses_nothing() {
    let f = sf_reload(Kind::Fulcrum);
    let h = sf_reload(Kind::Haproxy);
    eprintln!("haproxy (served, failed, old exited & new alive) = {h:?}");
    assert_eq!(f, (1, 0, true), "(served, failed, old exited & new alive)");
}

fn worker_pids(master: i32) -> Vec<i32> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(st) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            if let Some((_, rest)) = st.rsplit_once(") ") {
                let f: Vec<&str> = rest.split(' ').collect();
                if f.get(1).and_then(|p| p.parse::<i32>().ok()) == Some(master)
                    && !f[0].starts_with('Z')
                {
                    v.push(pid);
                }
            }
        }
    }
    v
}

fn master_worker(k: Kind) -> (usize, usize, bool, bool, bool) {
    let up = HttpUpstream::start("s1");
    let mut m = Proxy::start_opts(
        k,
        &cfg(&up, "{{P0}}"),
        Opts {
            args: vec!["-W".into()],
            ..Opts::default()
        },
    );
    let addr = m.addr(0);
    let before = worker_pids(m.pid());
    let stop = Arc::new(AtomicBool::new(false));
    let h = hammer(addr, stop.clone());
    thread::sleep(Duration::from_millis(200));
    m.signal(libc::SIGUSR2);
    // The new worker takes over and the old one leaves.
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut replaced = false;
    while Instant::now() < deadline {
        let now = worker_pids(m.pid());
        if !now.is_empty() && before.iter().all(|p| !now.contains(p)) {
            replaced = true;
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::SeqCst);
    let (ok, bad) = h.join().unwrap();
    let workers = worker_pids(m.pid());
    m.signal(libc::SIGTERM);
    let master_exited = m.wait_exit(Duration::from_secs(2)).is_some();
    thread::sleep(Duration::from_millis(100));
    let workers_gone = workers.iter().all(|&p| !alive(p));
    (ok.min(1), bad, replaced, master_exited, workers_gone)
}

#[test]
fn master_worker_sigusr2_reload_keeps_serving_and_sigterm_stops_all() {
    let f = master_worker(Kind::Fulcrum);
    let h = master_worker(Kind::Haproxy);
    eprintln!("haproxy = {h:?}");
    assert_eq!(
        f,
        (1, 0, true, true, true),
        "(served, failed during reload, worker replaced, master exited on SIGTERM, workers gone)"
    );
    assert_eq!(f, h);
}

#[test]
fn soft_stop_closes_idle_keep_alive_connections() {
    let mut res = Vec::new();
    for k in KINDS {
        let up = HttpUpstream::start("s1");
        let mut p = Proxy::start(
            k,
            &cfg(&up, "{{P0}}").replace("timeout client 2s", "timeout client 5s"),
        );
        let mut c = Conn::new(p.addr(0));
        c.req("GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        p.signal(libc::SIGUSR1);
        let closed = c.closed_within(Duration::from_millis(1500));
        let exited = p.wait_exit(Duration::from_millis(1500)).is_some();
        res.push((closed, exited));
    }
    assert_eq!(
        res[0],
        (true, true),
        "(idle client closed, process exited) within 1.5 s of SIGUSR1"
    );
    assert_eq!(res[0], res[1]);
}
