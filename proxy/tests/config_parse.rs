//! What the parser puts in the model, checked on the good configs and small inline texts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use fulcrum::config::model::{
    Balance, BindAddr, CliLevel, HashFunction, HashMethod, HttpConnMode, HttpReuse, LogFormatKind,
    Mode, ServerAddr,
};
use fulcrum::config::{
    eval_condition_str, load, parse_str, render, Config, MapEnv, HAPROXY_COMPAT_VERSION,
};

fn good(name: &str) -> Config {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).expect("cd to the package");
    let env = MapEnv::from_pairs(&[
        ("SRV_BACKUP", "10.0.0.3"),
        ("LAN_DC1", "10.1.1"),
        ("LAN_DC2", "10.2.1"),
        ("ALT_PORT", "8090"),
        ("PATH", "/bin"),
    ]);
    let path = PathBuf::from(format!("tests/good-configs/{name}.cfg"));
    let (c, d) = load(&[path], &env, &[]);
    c.unwrap_or_else(|| panic!("{name}: {:#?}", render(&d)))
}

fn text(t: &str) -> (Option<Config>, Vec<String>) {
    let (c, d) = parse_str("t.cfg", t, &MapEnv::default(), &[]);
    (c, render(&d))
}

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("socket address")
}

#[test]
fn frontend_backend_example() {
    let c = good("doc-2.6-frontend-backend");
    assert!(c.global.daemon);
    assert_eq!(c.global.maxconn, Some(256));
    let fe = &c.proxies[0];
    assert_eq!(
        (fe.name.as_str(), fe.cap.frontend, fe.cap.backend),
        ("http-in", true, false)
    );
    assert_eq!(fe.mode, Mode::Http);
    assert_eq!(fe.timeouts.client, Some(Duration::from_millis(50000)));
    assert_eq!(fe.binds[0].addrs, [BindAddr::Inet(sa("0.0.0.0:80"))]);
    assert_eq!(fe.default_backend.as_deref(), Some("servers"));
    let be = c.backend("servers").expect("backend");
    assert_eq!(be.servers[0].addr, ServerAddr::Inet(sa("127.0.0.1:8000")));
    assert_eq!(be.servers[0].maxconn, 32);
    assert_eq!((fe.id, be.id, be.servers[0].id), (1, 2, 1));
}

#[test]
fn bind_forms() {
    let c = good("bind-examples");
    let p = &c.proxies[0];
    assert_eq!(
        p.binds[0].addrs,
        [
            BindAddr::Inet(sa("0.0.0.0:80")),
            BindAddr::Inet(sa("0.0.0.0:443"))
        ]
    );
    assert_eq!(
        p.binds[2].addrs,
        [BindAddr::Unix("/var/run/ssl-frontend.sock".into())]
    );
    assert_eq!(
        (p.binds[2].unix_uid, p.binds[2].unix_mode),
        (Some(0), Some(0o600))
    );
    let r = &c.proxies[2];
    assert_eq!(r.binds[0].addrs.len(), 11);
    assert_eq!(r.binds[0].addrs[10], BindAddr::Inet(sa("127.0.0.1:8010")));
    assert_eq!(
        (
            r.binds[0].name.as_deref(),
            r.binds[0].maxconn,
            r.binds[0].backlog
        ),
        (Some("web"), Some(100), Some(64))
    );
    assert!(r.binds[1].v6only);
    assert_eq!(r.binds[2].addrs, [BindAddr::Inet(sa("[::]:9001"))]);
    assert_eq!(r.binds[3].addrs, [BindAddr::Abns("fulcrum-test".into())]);
}

#[test]
fn server_forms_and_default_server() {
    let c = good("server-examples");
    let app = c.backend("app").expect("app");
    assert_eq!(app.servers[2].addr, ServerAddr::Inet(sa("10.0.0.3:1080")));
    assert!(app.servers[2].backup);
    assert_eq!(app.servers[3].addr, ServerAddr::Inet(sa("10.1.1.101:80")));
    assert_eq!(app.servers[0].inter, Some(Duration::from_millis(1000)));
    let f = c.backend("forms").expect("forms");
    let s = |n: &str| f.servers.iter().find(|s| s.name == n).expect("server");
    assert_eq!(
        (s("v4").weight, s("v4").rise, s("v4").fall, s("v4").maxqueue),
        (50, Some(2), Some(3), 10)
    );
    assert_eq!(s("v4").check_port, Some(8080));
    assert_eq!(s("v6").id, 10);
    assert_eq!(
        s("v6bare").addr,
        ServerAddr::InetPortOffset("2001:db8::2".parse().expect("ip"), 0)
    );
    assert_eq!(
        s("plus").addr,
        ServerAddr::InetPortOffset("10.0.0.3".parse().expect("ip"), 1000)
    );
    assert_eq!(
        s("minus").addr,
        ServerAddr::InetPortOffset("10.0.0.4".parse().expect("ip"), -10)
    );
    assert!(s("name").disabled);
    assert_eq!(s("sock").addr, ServerAddr::Unix("/var/run/app.sock".into()));
    assert_eq!(s("path").maxconn, 100);
    assert_eq!(s("abstract").addr, ServerAddr::Abns("app".into()));
    assert_eq!((s("v4p").weight, s("v4p").check), (0, false));
    // Automatic ids skip the custom one (10) and follow declaration order.
    let ids: Vec<u32> = f.servers.iter().map(|s| s.id).collect();
    assert_eq!(ids, [1, 10, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12]);
}

#[test]
fn balance_and_hash() {
    let c = good("balance-examples");
    let b = |n: &str| c.backend(n).expect("backend").balance.clone();
    assert_eq!(
        b("b2"),
        Balance::UrlParam {
            name: "userid".into()
        }
    );
    assert_eq!(
        b("b5"),
        Balance::Hdr {
            name: "Host".into(),
            use_domain_only: true
        }
    );
    assert_eq!(
        b("b10"),
        Balance::Uri {
            len: 20,
            depth: 3,
            whole: true,
            path_only: false
        }
    );
    assert_eq!(b("b13"), Balance::Random { draws: 3 });
    assert_eq!(b("b8"), Balance::First);
    let c = good("hash-type");
    let h = c.backend("h4").expect("h4").hash_type;
    assert_eq!(
        (h.method, h.function, h.avalanche),
        (HashMethod::Consistent, HashFunction::Wt6, true)
    );
}

#[test]
fn options_and_errorfiles() {
    let c = good("forwardfor");
    let ff = c.proxies[0].forwardfor.clone().expect("forwardfor");
    assert_eq!(ff.except.map(|n| n.prefix), Some(32));
    assert_eq!(
        c.proxies[1].forwardfor.as_ref().map(|f| f.header.as_str()),
        Some("X-Client")
    );
    let all = &c.proxies[2];
    let ff = all.forwardfor.clone().expect("ff");
    assert!(
        ff.if_none
            && ff
                .except
                .is_some_and(|n| n.contains("10.1.2.3".parse().expect("ip")))
    );
    assert_eq!(all.http_conn_mode, HttpConnMode::ServerClose);
    assert_eq!(all.log_format, LogFormatKind::HttpClf);
    assert!(all.dontlognull && all.allbackups && !all.persist);
    assert_eq!(
        (all.redispatch, all.http_reuse, all.retries),
        (Some(2), HttpReuse::Aggressive, 5)
    );
    let c = good("errorfile");
    let fe = &c.proxies[0];
    assert!(fe.errorfiles[&503].starts_with(b"HTTP/1.0 503"));
    assert!(fe.errorfiles[&408].is_empty());
}

#[test]
fn defaults_inheritance() {
    let c = good("named-defaults");
    let p = |n: &str| c.proxies.iter().find(|p| p.name == n).expect("proxy");
    assert_eq!(
        (p("web").mode, p("web").log_format),
        (Mode::Http, LogFormatKind::Http)
    );
    assert_eq!((p("raw").mode, p("raw").retries), (Mode::Tcp, 2));
    assert_eq!(p("raw").timeouts.connect, Some(Duration::from_secs(5)));
    // The later anonymous defaults section applies to what follows it.
    assert_eq!(p("anon").timeouts.connect, Some(Duration::from_secs(3)));
    assert_eq!(p("anon").log_format, LogFormatKind::Default);

    // Without `from`, the last defaults section (named or not) applies.
    let (c, d) = text(
        "defaults a\n mode http\n timeout client 1s\n timeout connect 1s\n timeout server 1s\n\
         defaults b\n mode tcp\n timeout client 2s\n timeout connect 1s\n timeout server 1s\n\
         listen l\n bind :80\n server s 127.0.0.1:1\n",
    );
    let c = c.unwrap_or_else(|| panic!("{d:?}"));
    assert_eq!(c.proxies[0].mode, Mode::Tcp);
    assert_eq!(c.proxies[0].timeouts.client, Some(Duration::from_secs(2)));
}

#[test]
fn global_section() {
    let c = good("global");
    let g = &c.global;
    assert_eq!(
        (g.nbthread, g.maxconn, g.daemon, g.master_worker),
        (Some(2), Some(4096), true, true)
    );
    assert_eq!(g.stats_sockets.len(), 2);
    assert_eq!(g.stats_sockets[0].level, CliLevel::Admin);
    assert_eq!(
        (
            g.stats_sockets[0].mode,
            g.stats_sockets[0].uid,
            g.stats_sockets[0].gid
        ),
        (Some(0o600), Some(0), Some(0))
    );
    assert_eq!(
        g.stats_sockets[1].addr,
        BindAddr::Inet(sa("127.0.0.1:9999"))
    );
    assert_eq!(g.stats_timeout, Some(Duration::from_secs(30)));
    assert_eq!(g.hard_stop_after, Some(Duration::from_secs(30)));
    assert_eq!(
        (g.node.as_deref(), g.description.as_deref()),
        (Some("lb1"), Some("main load balancer"))
    );
    assert_eq!(g.chroot, Some(PathBuf::from("/")));
    // Custom proxy ids are kept; others take the next free id in declaration order.
    let ids: Vec<(String, u32)> = c.proxies.iter().map(|p| (p.name.clone(), p.id)).collect();
    assert_eq!(
        ids,
        [
            ("fe".to_string(), 7),
            ("be".to_string(), 3),
            ("off".to_string(), 1)
        ]
    );
    let be = c.backend("be").expect("be");
    assert_eq!(
        be.servers.iter().map(|s| s.id).collect::<Vec<_>>(),
        [2, 1, 3]
    );
    assert_eq!(be.http_reuse, HttpReuse::Never);
    assert!(c.backend("off").expect("off").disabled);
    assert_eq!(c.proxies[0].use_backends[0].backend, "be");
}

#[test]
fn env_quoting_and_logs() {
    let c = good("env-and-quoting");
    assert_eq!(
        c.global.description.as_deref(),
        Some("this is a \"quoted\" description with a # sign")
    );
    assert_eq!(
        c.global.log_tag.as_deref(),
        Some("single-quoted-${NOT_EXPANDED}")
    );
    assert_eq!(
        c.global.pidfile,
        Some(PathBuf::from("/run/fulcrum test.pid"))
    );
    let p = &c.proxies[0];
    assert_eq!(p.binds[0].addrs, [BindAddr::Inet(sa("0.0.0.0:8080"))]);
    assert_eq!(p.binds[1].addrs, [BindAddr::Inet(sa("0.0.0.0:8090"))]);
    assert_eq!(p.servers[0].addr, ServerAddr::Inet(sa("127.0.0.1:8000")));
    assert_eq!(p.servers[1].addr, ServerAddr::Inet(sa("127.0.0.2:8000")));

    let c = good("log-examples");
    assert_eq!(c.global.logs.len(), 6);
    assert_eq!(c.global.logs[5].args, ["127.0.0.1:514", "local0", "notice"]);
    assert_eq!(c.global.log_send_hostname.as_deref(), Some(""));
    assert_eq!(
        c.proxies[0].logs.len(),
        0,
        "no log clears the inherited ones"
    );
    assert_eq!(c.proxies[1].logs.len(), 7, "log global then its own");
    assert_eq!(c.proxies[1].logs[6].args, ["127.0.0.1:515", "local1"]);
}

#[test]
fn timeouts_all_units() {
    let c = good("timeouts");
    let t = c.proxies[0].timeouts;
    assert_eq!(t.client, Some(Duration::from_secs(30)));
    assert_eq!(t.client_fin, Some(Duration::from_secs(1)));
    assert_eq!(t.server, Some(Duration::from_secs(60)));
    assert_eq!(t.server_fin, Some(Duration::from_millis(500)));
    assert_eq!(t.connect, Some(Duration::from_micros(5000)));
    assert_eq!(t.tunnel, Some(Duration::from_secs(3600)));
    assert_eq!(t.http_request, Some(Duration::from_secs(10)));
    assert_eq!(t.http_keep_alive, Some(Duration::from_secs(2)));
    assert_eq!(t.queue, Some(Duration::from_secs(86400)));
    assert_eq!(t.check, Some(Duration::from_secs(3)));
}

#[test]
fn conditional_blocks_with_features() {
    let src = "listen l\n.if feature(OPENSSL)\n bind :443\n.else\n bind :80\n.endif\n timeout client 1s\n";
    let (c, _) = parse_str("t.cfg", src, &MapEnv::default(), &["OPENSSL"]);
    assert_eq!(
        c.expect("config").proxies[0].binds[0].addrs,
        [BindAddr::Inet(sa("0.0.0.0:443"))]
    );
    let (c, _) = parse_str("t.cfg", src, &MapEnv::default(), &[]);
    assert_eq!(
        c.expect("config").proxies[0].binds[0].addrs,
        [BindAddr::Inet(sa("0.0.0.0:80"))]
    );
    let (_, d) = text(".if \"${.LINE}\"\n.notice \"line ${.LINE} of ${.FILE}\"\n.endif\n");
    assert_eq!(d, ["t.cfg:2: notice: line 2 of t.cfg"]);
    let (_, d) = text("global\n.notice \"${.SECTION}\"\nlisten web\n.notice \"in ${.SECTION}\"\n");
    assert!(d.contains(&"t.cfg:2: notice: global".to_string()), "{d:?}");
    assert!(d.contains(&"t.cfg:4: notice: in web".to_string()), "{d:?}");
}

#[test]
fn cc_style_conditions() {
    assert_eq!(HAPROXY_COMPAT_VERSION, "2.6");
    assert_eq!(
        eval_condition_str("version_atleast(2.6) && !version_before(2.6)", &[]),
        Ok(true)
    );
    assert_eq!(
        eval_condition_str("feature(LUA) || streq(\"a b\",\"a b\")", &[]),
        Ok(true)
    );
    assert_eq!(eval_condition_str("feature(LUA) && 1", &["LUA"]), Ok(true));
    assert_eq!(eval_condition_str("", &[]), Ok(false));
    assert_eq!(eval_condition_str("strneq(x,x)", &[]), Ok(false));
    assert!(eval_condition_str("bogus", &[]).is_err());
    assert!(eval_condition_str("(1", &[]).is_err());
}

#[test]
fn all_errors_are_collected() {
    let (c, d) = text(
        "global\n maxcon 1\n nbproc 2\nfrontend f\n bind :80\n balanse x\n timeout client 1s\n",
    );
    assert!(c.is_none());
    assert_eq!(d.len(), 3, "{d:?}");
}

#[test]
fn directory_and_multiple_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("20-backend.cfg"),
        "backend be\n server s 127.0.0.1:1\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("10-front.cfg"),
        "frontend fe\n bind :80\n default_backend be\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("notes.txt"), "garbage\n").expect("write");
    let (c, d) = load(&[dir.path().to_path_buf()], &MapEnv::default(), &[]);
    let c = c.unwrap_or_else(|| panic!("{:?}", render(&d)));
    assert_eq!(
        c.proxies
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["fe", "be"]
    );
    let (c, d) = load(
        &[PathBuf::from("/nonexistent/fulcrum.cfg")],
        &MapEnv::default(),
        &[],
    );
    assert!(c.is_none());
    assert!(render(&d)[0].starts_with("could not open configuration file /nonexistent/fulcrum.cfg"));
}

#[test]
fn never_panics_on_garbage() {
    let samples = [
        "\"",
        "'",
        "\\",
        "\\x",
        "\\x4",
        "\"$",
        "\"${",
        "\"${A",
        "\"${A-",
        "\"${A[*]",
        ".if",
        ".if (",
        ".if !",
        ".if defined(",
        "frontend",
        "frontend f\n bind",
        "frontend f\n bind :",
        "frontend f\n bind []:1",
        "frontend f\n bind [::1",
        "backend b\n server",
        "backend b\n server s [",
        "backend b\n server s 1.2.3.4:+",
        "backend b\n server s 1.2.3.4:-99999999999",
        "backend b\n balance hdr(",
        "backend b\n balance random(",
        "defaults\n timeout",
        "defaults\n option",
        "defaults\n no",
        "global\n stats",
        "global\n stats socket x",
        "global\n stats socket /a level",
        "backend b\n hash-type",
        "\u{1F600} \u{0}",
        "listen l\n bind :1-",
        "listen l\n bind ipv6@",
        "listen l\n bind fd@-1",
        "listen l\n errorfile",
        "defaults\n option forwardfor except",
    ];
    for s in samples {
        let _ = text(s);
        let _ = eval_condition_str(s, &[]);
    }
}

/// Random configurations built from keyword-ish tokens: the parser must never panic.
#[test]
fn never_panics_on_random_token_soup() {
    const TOKENS: &[&str] = &[
        "global",
        "defaults",
        "frontend",
        "backend",
        "listen",
        "f",
        "b",
        "from",
        "bind",
        "server",
        "default-server",
        "s",
        ":80",
        "*:1-3",
        "[::1]:80",
        "127.0.0.1",
        "1.2.3.4:+1",
        "unix@/x",
        "abns@",
        "fd@",
        "ipv6@",
        "timeout",
        "client",
        "connect",
        "server",
        "5s",
        "0",
        "-1",
        "99999999999d",
        "option",
        "no",
        "httplog",
        "forwardfor",
        "except",
        "header",
        "if-none",
        "redispatch",
        "balance",
        "random(",
        "hdr(",
        "uri",
        "len",
        "hash-type",
        "consistent",
        "mode",
        "http",
        "tcp",
        "default_backend",
        "use_backend",
        "if",
        "id",
        "weight",
        "check",
        "port",
        "inter",
        "rise",
        "log",
        "global",
        "errorfile",
        "503",
        "/dev/null",
        "stats",
        "socket",
        "level",
        "setenv",
        "X",
        "\"${X}\"",
        "\"${X[*]}\"",
        "'",
        "\"",
        "\\",
        "#",
        ".if",
        ".elif",
        ".else",
        ".endif",
        ".notice",
        "(",
        ")",
        "!",
        "&&",
        "||",
        "defined(X)",
        "\u{e9}",
        "\\x4",
        "tune.x",
        "nbproc",
        "acl",
        "maxconn",
        "retries",
        "disabled",
        "enabled",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // xorshift64: deterministic, so a failure reproduces.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..300 {
        let mut cfg = String::new();
        for _ in 0..(next() % 30) {
            for _ in 0..(next() % 6) {
                cfg.push_str(TOKENS[(next() % TOKENS.len() as u64) as usize]);
                cfg.push(if next() % 5 == 0 { '\t' } else { ' ' });
            }
            cfg.push('\n');
        }
        let _ = parse_str(
            "fuzz.cfg",
            &cfg,
            &MapEnv::from_pairs(&[("X", "a b")]),
            &["F"],
        );
    }
}
