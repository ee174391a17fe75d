//! Switching rules: `acl`, `use_backend NAME if|unless COND` and `monitor fail`, through the
//! real binary, each scenario run against haproxy too.

mod support;

use std::io::{Read, Write};
use std::time::Duration;
use support::client::get;
use support::proc::{Kind, Proxy};
use support::upstream::HttpUpstream;

const KINDS: [Kind; 2] = [Kind::Fulcrum, Kind::Haproxy];

fn body(r: &support::client::Resp) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

#[test]
fn use_backend_if_path_and_header_conditions() {
    let mut out = Vec::new();
    for k in KINDS {
        let (a, b, c) = (
            HttpUpstream::start("api"),
            HttpUpstream::start("static"),
            HttpUpstream::start("web"),
        );
        let cfg = format!(
            "defaults\n  mode http\n  timeout client 2s\n  timeout server 2s\n  timeout connect 500ms\n\
frontend f\n  bind 127.0.0.1:{{{{P0}}}}\n\
  acl is_api path_beg /api/\n  acl is_static path_end .css .js\n  acl beta hdr(x-beta) -m found\n\
  use_backend api if is_api !beta\n  use_backend static if is_static || beta\n  default_backend web\n\
backend api\n  server s {}\nbackend static\n  server s {}\nbackend web\n  server s {}\n",
            a.addr, b.addr, c.addr
        );
        let p = Proxy::start(k, &cfg);
        let mut seen = Vec::new();
        for (path, beta) in [
            ("/api/x", false),
            ("/api/x", true),
            ("/a.css", false),
            ("/", false),
        ] {
            let mut c = support::client::Conn::new(p.addr(0));
            let extra = if beta { "X-Beta: 1\r\n" } else { "" };
            let r = c
                .req(&format!("GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n"))
                .unwrap();
            seen.push(body(&r));
        }
        out.push(seen);
    }
    assert_eq!(
        out[0],
        ["api /api/x", "static /api/x", "static /a.css", "web /"]
    );
    assert_eq!(out[0], out[1], "fulcrum (left) vs haproxy (right)");
}

/// GitHub's MySQL pool pattern, in TCP mode: the backup pool takes over when the main pool
/// has fewer than 2 usable servers.
#[test]
fn tcp_use_backend_on_nbsrv_switches_pools() {
    let mut out = Vec::new();
    for k in KINDS {
        let main = HttpUpstream::start("main");
        let backup = HttpUpstream::start("backup");
        let cfg = |main_disabled: &str| {
            format!(
                "defaults\n  mode tcp\n  timeout client 2s\n  timeout server 2s\n  timeout connect 500ms\n\
frontend mysql\n  bind 127.0.0.1:{{{{P0}}}}\n\
  acl mysql_not_enough_capacity nbsrv(mysql_ro_main) lt 2\n\
  use_backend mysql_ro_backup if mysql_not_enough_capacity\n  default_backend mysql_ro_main\n\
backend mysql_ro_main\n  server a {} \n  server b {} {main_disabled}\n\
backend mysql_ro_backup\n  server a {}\n",
                main.addr, main.addr, backup.addr
            )
        };
        let mut seen = Vec::new();
        for disabled in ["", "disabled"] {
            let p = Proxy::start(k, &cfg(disabled));
            let mut s = std::net::TcpStream::connect(p.addr(0)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            s.write_all(b"GET /q HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut resp = String::new();
            let _ = s.read_to_string(&mut resp);
            seen.push(resp.rsplit("\r\n\r\n").next().unwrap_or("").to_string());
        }
        out.push(seen);
    }
    assert_eq!(out[0], ["main /q", "backup /q"]);
    assert_eq!(out[0], out[1], "fulcrum (left) vs haproxy (right)");
}

#[test]
fn monitor_fail_turns_the_health_endpoint_to_503() {
    let mut out = Vec::new();
    for k in KINDS {
        let up = HttpUpstream::start("s1");
        let cfg = format!(
            "defaults\n  mode http\n  timeout client 2s\n  timeout server 2s\n  timeout connect 500ms\n\
frontend f\n  bind 127.0.0.1:{{{{P0}}}}\n  monitor-uri /healthz\n\
  acl site_dead nbsrv(b) lt 1\n  monitor fail if site_dead\n  default_backend b\n\
frontend g\n  bind 127.0.0.1:{{{{P1}}}}\n  monitor-uri /healthz\n\
  monitor fail unless {{ nbsrv(b) ge 1 }}\n  default_backend b\n\
backend b\n  server s1 {} disabled\n",
            up.addr
        );
        let p = Proxy::start(k, &cfg);
        let f = get(p.addr(0), "/healthz");
        let g = get(p.addr(1), "/healthz");
        out.push((f.status, g.status, body(&f)));
    }
    assert_eq!(out[0].0, 503);
    assert_eq!(out[0].1, 503);
    assert!(out[0].2.contains("503 Service Unavailable"), "{}", out[0].2);
    assert_eq!(out[0], out[1], "fulcrum (left) vs haproxy (right)");
}

#[test]
fn unknown_acl_in_a_rule_is_a_located_error() {
    let r = support::proc::render(
        "frontend f\n  mode http\n  bind 127.0.0.1:{{P0}}\n  use_backend b if nope\nbackend b\n  mode http\n",
    );
    let cfg = r.cfg.to_str().unwrap();
    let f = support::proc::run_cmd(Kind::Fulcrum, &["-c", "-f", cfg], r.dir.path());
    let h = support::proc::run_cmd(Kind::Haproxy, &["-c", "-f", cfg], r.dir.path());
    let err = String::from_utf8_lossy(&f.stderr);
    assert_eq!(f.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("{cfg}:4: ")) && err.contains("no such ACL : 'nope'"),
        "{err}"
    );
    assert_eq!(h.status.code(), Some(1), "haproxy refuses it too");
}
