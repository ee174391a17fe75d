//! Command line of the real binary: -v, -vv, -c, -f DIR, several -f, -cc, -p, -D, -q, unknown
//! flags; compared with haproxy where the behaviour is observable.

mod support;

use std::fs;
use std::time::Duration;
use support::client::get;
use support::proc::{alive, render, run_cmd, Kind, Opts, Proxy};

const BAD: &str = "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nfrontend f\n  bind 127.0.0.1:1\n  bogus_kw 1\n  default_backend b\nbackend b\n  balance nonexistent\n  server s1 127.0.0.1:2\n";

const OK: &str = "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nfrontend f\n  bind 127.0.0.1:{{P0}}\n  monitor-uri /healthz\n";

fn both(f: impl Fn(Kind)) {
    f(Kind::Fulcrum);
    f(Kind::Haproxy);
}

#[test]
fn v_prints_version_exit_0() {
    let d = tempfile::tempdir().unwrap();
    let o = run_cmd(Kind::Fulcrum, &["-v"], d.path());
    assert_eq!(o.status.code(), Some(0));
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.to_lowercase().contains("version"), "{s}");
}

#[test]
fn vv_has_feature_list_line() {
    let d = tempfile::tempdir().unwrap();
    let o = run_cmd(Kind::Fulcrum, &["-vv"], d.path());
    assert_eq!(o.status.code(), Some(0));
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.lines().any(|l| l.starts_with("Feature list : ")), "{s}");
}

#[test]
fn c_valid_exit_0_both() {
    both(|k| {
        let r = render(OK);
        let o = run_cmd(k, &["-c", "-f", r.cfg.to_str().unwrap()], r.dir.path());
        assert_eq!(o.status.code(), Some(0), "{k:?}: {o:?}");
    });
}

#[test]
fn c_invalid_exit_1_lists_every_error_with_file_line() {
    let r = render(BAD);
    let cfg = r.cfg.to_str().unwrap();
    let o = run_cmd(Kind::Fulcrum, &["-c", "-f", cfg], r.dir.path());
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("{cfg}:8: ")), "{err}");
    assert!(err.contains("bogus_kw"), "{err}");
    assert!(err.contains(&format!("{cfg}:11: ")), "{err}");
    assert!(err.contains("balance"), "{err}");
    let h = run_cmd(Kind::Haproxy, &["-c", "-f", cfg], r.dir.path());
    assert_eq!(h.status.code(), Some(1));
}

#[test]
fn f_dir_loads_cfg_files_in_order_and_ignores_others() {
    both(|k| {
        let r = render(OK);
        let conf = r.dir.path().join("conf.d");
        fs::create_dir(&conf).unwrap();
        let text = fs::read_to_string(&r.cfg).unwrap();
        let (defaults, front) = text.split_at(text.find("frontend").unwrap());
        // 10-front.cfg needs 01-defaults.cfg (mode http) to be loaded first.
        fs::write(conf.join("10-front.cfg"), front).unwrap();
        fs::write(conf.join("01-defaults.cfg"), defaults).unwrap();
        fs::write(conf.join("README.txt"), "this is not a config\n").unwrap();
        let port = r.ports[0];
        let mut p = Proxy::spawn(
            k,
            render("# unused\n"),
            Opts {
                args: vec!["-f".into(), conf.to_str().unwrap().into()],
                no_wait: true,
                ..Opts::default()
            },
        );
        p.wait_port(port);
        let resp = get(([127, 0, 0, 1], port).into(), "/healthz");
        assert_eq!(resp.status, 200, "{k:?}: {resp:?}");
        drop(r);
    });
}

#[test]
fn several_f_are_concatenated() {
    both(|k| {
        let r = render(OK);
        let text = fs::read_to_string(&r.cfg).unwrap();
        let (defaults, front) = text.split_at(text.find("frontend").unwrap());
        let a = r.dir.path().join("a.conf");
        let b = r.dir.path().join("b.conf");
        fs::write(&a, defaults).unwrap();
        fs::write(&b, front).unwrap();
        let mut p = Proxy::spawn(
            k,
            render("# empty\n"),
            Opts {
                args: vec![
                    "-f".into(),
                    a.to_str().unwrap().into(),
                    "-f".into(),
                    b.to_str().unwrap().into(),
                ],
                no_wait: true,
                ..Opts::default()
            },
        );
        p.wait_port(r.ports[0]);
        let resp = get(([127, 0, 0, 1], r.ports[0]).into(), "/healthz");
        assert_eq!(resp.status, 200, "{k:?}");
    });
}

#[test]
fn cc_condition_exit_codes() {
    let d = tempfile::tempdir().unwrap();
    both(|k| {
        for (cond, code) in [
            ("version_atleast(2.4)", 0),
            ("version_atleast(9.0)", 1),
            ("version_before(9.0)", 0),
            ("defined(FULCRUM_E2E_SURELY_UNSET)", 1),
        ] {
            let o = run_cmd(k, &["-cc", cond], d.path());
            assert_eq!(o.status.code(), Some(code), "{k:?} -cc {cond}: {o:?}");
        }
    });
}

#[test]
fn p_pidfile_written() {
    // haproxy writes it only with -D/-W; fulcrum also in the foreground (harmless).
    {
        let k = Kind::Fulcrum;
        let p = Proxy::start_opts(
            k,
            OK,
            Opts {
                args: vec!["-p".into(), "pid".into()],
                ..Opts::default()
            },
        );
        let txt = fs::read_to_string(p.dir().join("pid")).unwrap_or_default();
        assert_eq!(txt.trim(), p.pid().to_string(), "{k:?}");
    }
}

#[test]
fn d_daemon_returns_and_serves() {
    let r = render(OK);
    let pidf = r.dir.path().join("pid");
    let o = run_cmd(
        Kind::Fulcrum,
        &[
            "-D",
            "-p",
            pidf.to_str().unwrap(),
            "-f",
            r.cfg.to_str().unwrap(),
        ],
        r.dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let mut pid = 0;
    for _ in 0..200 {
        if let Ok(t) = fs::read_to_string(&pidf) {
            if let Ok(n) = t.trim().parse::<i32>() {
                pid = n;
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(pid > 0, "no pid file written by the daemon");
    let served = (0..200).any(|_| {
        std::thread::sleep(Duration::from_millis(10));
        std::net::TcpStream::connect(("127.0.0.1", r.ports[0])).is_ok()
    });
    let resp = served.then(|| get(([127, 0, 0, 1], r.ports[0]).into(), "/healthz"));
    // SAFETY: stopping the daemon this test started.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    for _ in 0..100 {
        if !alive(pid) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(served, "daemon does not listen");
    assert_eq!(resp.unwrap().status, 200);
    assert!(!alive(pid), "daemon survives SIGTERM");
}

#[test]
fn q_quiet_check_prints_nothing() {
    both(|k| {
        let r = render(OK);
        let o = run_cmd(
            k,
            &["-q", "-c", "-f", r.cfg.to_str().unwrap()],
            r.dir.path(),
        );
        assert_eq!(o.status.code(), Some(0));
        assert!(o.stdout.is_empty(), "{k:?}: {o:?}");
    });
}

#[test]
fn unknown_flag_exit_1() {
    let d = tempfile::tempdir().unwrap();
    both(|k| {
        let o = run_cmd(k, &["-Z"], d.path());
        assert_eq!(o.status.code(), Some(1), "{k:?}: {o:?}");
    });
}

#[test]
fn missing_config_file_exit_1() {
    let d = tempfile::tempdir().unwrap();
    both(|k| {
        let o = run_cmd(k, &["-c", "-f", "does-not-exist.cfg"], d.path());
        assert_eq!(o.status.code(), Some(1), "{k:?}: {o:?}");
        let o = run_cmd(k, &["-db", "-f", "does-not-exist.cfg"], d.path());
        assert_eq!(o.status.code(), Some(1), "{k:?}: {o:?}");
    });
}

#[test]
fn capital_c_changes_directory_before_loading() {
    both(|k| {
        let r = render(OK);
        let sub = r.dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        fs::copy(&r.cfg, sub.join("rel.cfg")).unwrap();
        let o = run_cmd(
            k,
            &["-c", "-C", sub.to_str().unwrap(), "-f", "rel.cfg"],
            r.dir.path(),
        );
        assert_eq!(o.status.code(), Some(0), "{k:?}: {o:?}");
    });
}

#[test]
fn c_invalid_exit_code_matches_haproxy_for_each_error() {
    // Each config has exactly one error; both programs must reject it.
    let cases = [
        "frontend f\n  bind 127.0.0.1:1\n  default_backend missing\n",
        "frontend f\n  bind 127.0.0.1:notaport\n",
        "defaults\n  timeout client 10zz\n",
        "listen l\n  bind 127.0.0.1:1\n  mode nosuchmode\n",
    ];
    for c in cases {
        both(|k| {
            let r = render(c);
            let o = run_cmd(k, &["-c", "-f", r.cfg.to_str().unwrap()], r.dir.path());
            assert_eq!(o.status.code(), Some(1), "{k:?} accepted:\n{c}");
        });
    }
}

#[test]
fn c_no_listener_exit_2_like_haproxy() {
    // "Configuration file has no error but will not start (no listener) => exit(2)."
    let r = render("backend b\n  server s1 127.0.0.1:1\n");
    let cfg = r.cfg.to_str().unwrap();
    let h = run_cmd(Kind::Haproxy, &["-q", "-c", "-f", cfg], r.dir.path());
    assert_eq!(h.status.code(), Some(2), "haproxy reference");
    let f = run_cmd(Kind::Fulcrum, &["-q", "-c", "-f", cfg], r.dir.path());
    assert_eq!(f.status.code(), Some(2), "fulcrum: {f:?}");
}

#[test]
fn c_weight_non_numeric_is_an_error_unlike_haproxy() {
    // haproxy 2.6 reads `weight abc` as 0 and says nothing; Fulcrum refuses it on purpose
    // (README: garbage numbers are errors), naming the file and line.
    let r = render("listen l\n  bind 127.0.0.1:{{P0}}\n  server s1 127.0.0.1:1 weight abc\n");
    let cfg = r.cfg.to_str().unwrap();
    let h = run_cmd(Kind::Haproxy, &["-q", "-c", "-f", cfg], r.dir.path());
    let f = run_cmd(Kind::Fulcrum, &["-q", "-c", "-f", cfg], r.dir.path());
    assert_eq!(h.status.code(), Some(0), "haproxy reference");
    let err = String::from_utf8_lossy(&f.stderr);
    assert_eq!(f.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("{cfg}:3: ")) && err.contains("'abc'"),
        "{err}"
    );
}
