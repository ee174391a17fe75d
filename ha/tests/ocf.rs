//! The OCF resource agents of `etc/ocf/` under `ocf-tester` (Debian package
//! `resource-agents`, which also brings `ocf-shellfuncs`; `xmllint` from `libxml2-utils`
//! validates the meta-data) plus direct checks of what ocf-tester does not cover.
//!
//! The proxy agent runs against a stand-in `fulcrum` (a shell script implementing `-c`,
//! `-f`, `-D`, `-p` and SIGUSR2) since the real proxy is built elsewhere; the IP agent
//! runs the real `fulcrum-ha assign|release|status` with the linux mover inside a network
//! namespace the test creates (root needed).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

static N: AtomicUsize = AtomicUsize::new(0);

fn agents() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../etc/ocf")
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "fulcrum-ha-ocf-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn ocf_tester(args: &[&str], netns: Option<&str>) -> Output {
    let mut c = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, "ocf-tester"]);
            c
        }
        None => Command::new("ocf-tester"),
    };
    let out = c
        .args(args)
        .output()
        .expect("ocf-tester (apt-get install resource-agents libxml2-utils)");
    out
}

/// Runs one agent action directly, returning its exit code.
fn action(agent: &str, act: &str, params: &[(&str, &str)], netns: Option<&str>) -> i32 {
    let mut c = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns]).arg(agents().join(agent));
            c
        }
        None => Command::new(agents().join(agent)),
    };
    c.arg(act)
        .env("OCF_ROOT", "/usr/lib/ocf")
        .env("OCF_RESOURCE_INSTANCE", "t");
    for (k, v) in params {
        c.env(format!("OCF_RESKEY_{k}"), v);
    }
    c.status().unwrap().code().unwrap_or(-1)
}

const FAKE_FULCRUM: &str = r#"#!/bin/sh
# Stand-in for `fulcrum`: -c checks (a config containing INVALID fails), otherwise
# daemonizes a loop that records SIGUSR2 reloads, exits on SIGUSR1 (soft stop) and
# SIGTERM, and records the -W flag.
check=0; cfg=; pid=
while [ $# -gt 0 ]; do case $1 in -c) check=1;; -W) echo W > "$0.mw";; -f) cfg=$2; shift;; -p) pid=$2; shift;; esac; shift; done
if grep -q INVALID "$cfg"; then echo "$cfg:1: invalid" >&2; exit 1; fi
[ $check = 1 ] && exit 0
( trap 'echo reloaded >> "$cfg.reloads"' USR2; trap 'echo soft >> "$cfg.stops"; exit 0' USR1; trap 'exit 0' TERM; while :; do sleep 0.1; done ) >/dev/null 2>&1 </dev/null &
echo $! > "$pid"
"#;

#[test]
fn proxy_agent_passes_ocf_tester_and_checks_config_before_reload() {
    use std::os::unix::fs::PermissionsExt;
    let d = tmpdir("proxy");
    let bin = d.join("fulcrum");
    std::fs::write(&bin, FAKE_FULCRUM).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = d.join("fulcrum.cfg");
    std::fs::write(&cfg, "global\n").unwrap();
    let pid = d.join("fulcrum.pid");
    let (b, c, p) = (
        bin.to_str().unwrap(),
        cfg.to_str().unwrap(),
        pid.to_str().unwrap(),
    );
    let agent = agents().join("fulcrum");
    let out = ocf_tester(
        &[
            "-n",
            "proxy",
            "-o",
            &format!("binary={b}"),
            "-o",
            &format!("config={c}"),
            "-o",
            &format!("pidfile={p}"),
            agent.to_str().unwrap(),
        ],
        None,
    );
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("passed all tests"), "{text}");

    let params = [("binary", b), ("config", c), ("pidfile", p)];
    assert_eq!(action("fulcrum", "monitor", &params, None), 7);
    assert_eq!(action("fulcrum", "start", &params, None), 0);
    assert_eq!(action("fulcrum", "monitor", &params, None), 0);
    // A broken new configuration is refused and the running proxy is not signalled.
    std::fs::write(&cfg, "INVALID\n").unwrap();
    assert_eq!(action("fulcrum", "reload", &params, None), 6);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!d.join("fulcrum.cfg.reloads").exists());
    assert_eq!(action("fulcrum", "monitor", &params, None), 0);
    // A valid one is checked, then the proxy gets SIGUSR2.
    std::fs::write(&cfg, "global\n").unwrap();
    assert_eq!(action("fulcrum", "reload", &params, None), 0);
    let reloads = d.join("fulcrum.cfg.reloads");
    let t = std::time::Instant::now();
    while !reloads.exists() && t.elapsed() < std::time::Duration::from_secs(3) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(reloads.exists(), "proxy never saw SIGUSR2");
    // monitor_url: running but the health URL does not answer -> generic error.
    let mut with_url = params.to_vec();
    with_url.push(("monitor_url", "http://127.0.0.1:9/"));
    assert_eq!(action("fulcrum", "monitor", &with_url, None), 1);
    // Started in master-worker mode (what makes SIGUSR2 a reload).
    assert!(d.join("fulcrum.mw").exists());
    assert_eq!(action("fulcrum", "stop", &params, None), 0);
    assert_eq!(action("fulcrum", "monitor", &params, None), 7);
    // Stopped softly (SIGUSR1), not killed.
    assert!(std::fs::read_to_string(d.join("fulcrum.cfg.stops"))
        .unwrap_or_default()
        .contains("soft"));
    assert_eq!(action("fulcrum", "stop", &params, None), 0);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn ip_agent_passes_ocf_tester_and_monitor_is_truthful() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "needs root for ip netns");
    let d = tmpdir("ip");
    let ns = format!(
        "fhocf{}{}",
        std::process::id() % 100_000,
        N.fetch_add(1, Ordering::SeqCst)
    );
    let ip = |args: &[&str]| {
        let st = Command::new("ip").args(args).status().unwrap();
        assert!(st.success(), "ip {args:?}");
    };
    ip(&["netns", "add", &ns]);
    struct Cleanup(String, PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
            let _ = std::fs::remove_dir_all(&self.1);
        }
    }
    let _c = Cleanup(ns.clone(), d.clone());
    ip(&[
        "-n", &ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
    ]);
    ip(&["-n", &ns, "addr", "add", "10.78.0.1/24", "dev", "eth0"]);
    ip(&["-n", &ns, "link", "set", "eth0", "up"]);
    ip(&["-n", &ns, "link", "set", "eth1", "up"]);
    let cfg = d.join("ha.toml");
    std::fs::write(
        &cfg,
        format!(
            "[vrrp]\ninterface = \"eth0\"\nvirtual_router_id = 9\nvirtual_ips = [\"10.78.0.100/24\"]\n\n\
             [[mover]]\ntype = \"linux\"\ngarp_count = 1\n\n[status]\nfile = \"{}/status.json\"\n",
            d.display()
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_fulcrum-ha");
    let c = cfg.to_str().unwrap();
    let agent = agents().join("fulcrum-ha-ip");
    let out = ocf_tester(
        &[
            "-n",
            "vip",
            "-o",
            &format!("binary={bin}"),
            "-o",
            &format!("config={c}"),
            agent.to_str().unwrap(),
        ],
        Some(&ns),
    );
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("passed all tests"), "{text}");

    let has_vip = || {
        let o = Command::new("ip")
            .args(["-n", &ns, "addr", "show", "dev", "eth0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).contains("10.78.0.100/24")
    };
    let params = [("binary", bin), ("config", c)];
    assert_eq!(action("fulcrum-ha-ip", "monitor", &params, Some(&ns)), 7);
    assert_eq!(action("fulcrum-ha-ip", "start", &params, Some(&ns)), 0);
    assert!(has_vip(), "start returned before the address was there");
    assert_eq!(action("fulcrum-ha-ip", "monitor", &params, Some(&ns)), 0);
    // Someone removes the address behind Pacemaker's back: monitor must say so.
    ip(&["-n", &ns, "addr", "del", "10.78.0.100/24", "dev", "eth0"]);
    assert_eq!(action("fulcrum-ha-ip", "monitor", &params, Some(&ns)), 7);
    assert_eq!(action("fulcrum-ha-ip", "start", &params, Some(&ns)), 0);
    assert_eq!(action("fulcrum-ha-ip", "stop", &params, Some(&ns)), 0);
    assert!(!has_vip());
    assert_eq!(action("fulcrum-ha-ip", "monitor", &params, Some(&ns)), 7);
    // A broken configuration is reported as such.
    std::fs::write(&cfg, "[vrrp]\npriority = 0\n").unwrap();
    assert_eq!(
        action("fulcrum-ha-ip", "validate-all", &params, Some(&ns)),
        6
    );
}
