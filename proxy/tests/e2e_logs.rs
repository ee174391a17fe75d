//! Logs: `log stdout format raw` with `option httplog` / `option tcplog` print one line per
//! request/connection in haproxy's format (compared with haproxy's line after masking the
//! times, ports, dates and pids); a UDP syslog target receives `<134>` framed lines.

mod support;

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;
use support::client::get;
use support::proc::{Kind, Proxy};
use support::upstream::{tcp_echo, HttpUpstream};

const KINDS: [Kind; 2] = [Kind::Fulcrum, Kind::Haproxy];

/// Masks what legitimately differs between two runs: client ports, the accept date, pids,
/// timers and counters (digit runs in `a/b/c` tokens), syslog dates and hostnames.
fn mask(line: &str) -> String {
    let mut out = Vec::new();
    let mut in_quote = false;
    for tok in line.split(' ') {
        if in_quote || tok.starts_with('"') {
            in_quote = !tok.ends_with('"') || (tok.len() == 1 && !in_quote);
            out.push(tok.to_string());
            continue;
        }
        let t = if tok.starts_with('[') && tok.contains('/') && tok.contains(':') {
            "[DATE]".to_string()
        } else if let Some((ip, port)) = tok.rsplit_once(':') {
            if ip.parse::<std::net::IpAddr>().is_ok() && port.parse::<u16>().is_ok() {
                format!("{ip}:PORT")
            } else if let Some(i) = tok.find('[') {
                // `prog[pid]:`
                format!("{}[PID]:", &tok[..i])
            } else {
                tok.to_string()
            }
        } else if tok.contains('/') && tok.chars().all(|c| c.is_ascii_digit() || "/+-".contains(c))
        {
            let mut s = String::new();
            let mut prev_digit = false;
            for c in tok.chars() {
                if c.is_ascii_digit() {
                    if !prev_digit {
                        s.push('N');
                    }
                    prev_digit = true;
                } else {
                    s.push(c);
                    prev_digit = false;
                }
            }
            s
        } else {
            tok.to_string()
        };
        out.push(t);
    }
    out.join(" ")
}

fn http_cfg(up: &HttpUpstream, logtarget: &str) -> String {
    format!(
        "global\n  log {logtarget} local0\ndefaults\n  log global\n  mode http\n  option httplog\n  option dontlognull\n\
  timeout client 2s\n  timeout server 2s\n  timeout connect 500ms\n\
frontend f\n  bind 127.0.0.1:{{{{P0}}}}\n  default_backend b\nbackend b\n  server s1 {}\n",
        up.addr
    )
}

fn log_lines(p: &Proxy, n: usize) -> Vec<String> {
    p.wait_stdout_lines(n, Duration::from_secs(2))
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn httplog_line_matches_haproxy_shape() {
    let mut lines = Vec::new();
    for k in KINDS {
        let up = HttpUpstream::start("s1");
        let p = Proxy::start(k, &http_cfg(&up, "stdout format raw"));
        assert_eq!(get(p.addr(0), "/logged?q=1").status, 200);
        let l = log_lines(&p, 1);
        assert_eq!(l.len(), 1, "{k:?}: one line per request, got {l:?}");
        lines.push(l[0].clone());
    }
    eprintln!("fulcrum: {}\nhaproxy: {}", lines[0], lines[1]);
    assert!(
        lines[0].contains("\"GET /logged?q=1 HTTP/1.1\""),
        "{}",
        lines[0]
    );
    assert_eq!(
        mask(&lines[0]),
        mask(&lines[1]),
        "masked fulcrum (left) vs haproxy (right)"
    );
}

#[test]
fn httplog_one_line_per_request_on_keep_alive() {
    for k in KINDS {
        let up = HttpUpstream::start("s1");
        let p = Proxy::start(k, &http_cfg(&up, "stdout format raw"));
        let mut c = support::client::Conn::new(p.addr(0));
        for i in 0..3 {
            c.req(&format!("GET /ka{i} HTTP/1.1\r\nHost: x\r\n\r\n"))
                .unwrap();
        }
        drop(c);
        let l = log_lines(&p, 3);
        assert_eq!(l.len(), 3, "{k:?}: {l:?}");
        assert!(l[2].contains("GET /ka2 "), "{k:?}: {l:?}");
    }
}

#[test]
fn httplog_error_page_line_matches_haproxy_shape() {
    let mut lines = Vec::new();
    for k in KINDS {
        let cfg = "global\n  log stdout format raw local0\ndefaults\n  log global\n  mode http\n  option httplog\n  option dontlognull\n  timeout client 2s\n  timeout server 2s\n  timeout connect 500ms\nfrontend f\n  bind 127.0.0.1:{{P0}}\n  default_backend b\nbackend b\n";
        let p = Proxy::start(k, cfg);
        assert_eq!(get(p.addr(0), "/none").status, 503);
        let l = log_lines(&p, 1);
        lines.push(l.first().cloned().unwrap_or_default());
    }
    eprintln!("fulcrum: {}\nhaproxy: {}", lines[0], lines[1]);
    assert_eq!(
        mask(&lines[0]),
        mask(&lines[1]),
        "masked fulcrum (left) vs haproxy (right)"
    );
}

#[test]
fn tcplog_line_matches_haproxy_shape() {
    let mut lines = Vec::new();
    for k in KINDS {
        let echo = tcp_echo();
        let cfg = format!(
            "global\n  log stdout format raw local0\ndefaults\n  log global\n  mode tcp\n  option tcplog\n  option dontlognull\n\
  timeout client 2s\n  timeout server 2s\n  timeout connect 500ms\n\
listen t\n  bind 127.0.0.1:{{{{P0}}}}\n  server s1 {echo}\n"
        );
        let mut p = Proxy::start(k, &cfg);
        // The readiness probe is a null connection: not logged (dontlognull), but skip
        // whatever is there already.
        std::thread::sleep(Duration::from_millis(100));
        let skip = p.stdout().lines().count();
        let mut s = TcpStream::connect(p.addr(0)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        s.write_all(b"hello").unwrap();
        let mut b = [0u8; 5];
        s.read_exact(&mut b).unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let _ = s.read(&mut b);
        drop(s);
        let l = log_lines(&p, skip + 1);
        lines.push(l.get(skip).cloned().unwrap_or_default());
        let _ = p.wait_exit(Duration::ZERO);
    }
    eprintln!("fulcrum: {}\nhaproxy: {}", lines[0], lines[1]);
    assert_eq!(
        mask(&lines[0]),
        mask(&lines[1]),
        "masked fulcrum (left) vs haproxy (right)"
    );
}

#[test]
fn udp_syslog_target_receives_134_framed_lines() {
    let mut lines = Vec::new();
    for k in KINDS {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        udp.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let up = HttpUpstream::start("s1");
        let p = Proxy::start(k, &http_cfg(&up, &udp.local_addr().unwrap().to_string()));
        assert_eq!(get(p.addr(0), "/udp").status, 200);
        let mut b = [0u8; 2048];
        let mut got = String::new();
        // Skip startup notices: keep the first datagram about the request.
        while let Ok(n) = udp.recv(&mut b) {
            let s = String::from_utf8_lossy(&b[..n]).into_owned();
            if s.contains("/udp") {
                got = s;
                break;
            }
        }
        lines.push(got.trim_end().to_string());
    }
    eprintln!("fulcrum: {}\nhaproxy: {}", lines[0], lines[1]);
    assert!(lines[0].starts_with("<134>"), "{:?}", lines[0]);
    // `<134>Nov 25 04:45:28 haproxy[123]: ...`: mask the date and the program name.
    let norm = |l: &str| {
        let rest = l.get(20..).unwrap_or("");
        let (_, msg) = rest.split_once(": ").unwrap_or(("", rest));
        format!("{} {}", &l[..5.min(l.len())], mask(msg))
    };
    assert_eq!(
        norm(&lines[0]),
        norm(&lines[1]),
        "fulcrum (left) vs haproxy (right)"
    );
}
