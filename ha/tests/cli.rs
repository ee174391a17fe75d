//! The `fulcrum-ha` binary's subcommands that need no privileges.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fulcrum-ha"))
}

/// Writes `body` to a file in a directory of its own, removed by `cleanup`.
fn tmp(name: &str, body: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("fulcrum-ha-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn cleanup(p: &std::path::Path) {
    if let Some(d) = p.parent() {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn check_config_accepts_the_sample() {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../etc/fulcrum-ha.toml");
    let out = bin().args(["-c", sample, "check-config"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn check_config_names_key_and_line_of_every_problem() {
    let p = tmp(
        "bad.toml",
        "[vrrp]\ninterface = \"eth0\"\nvirtual_router_id = 0\npriority = 100\nvirtual_ips = [\"10.0.0.1/24\"]\n\n[probe]\nurl = \"https://x/\"\n",
    );
    let out = bin()
        .arg("-c")
        .arg(&p)
        .arg("check-config")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let f = p.display().to_string();
    assert!(
        err.contains(&format!("{f}:3: `vrrp.virtual_router_id`: must be 1..=255")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{f}:8: `probe.url`: must be an http:// URL")),
        "{err}"
    );
    cleanup(&p);
}

#[test]
fn usage_errors_exit_2() {
    let out = bin().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
}

#[test]
fn one_shot_exec_mover_and_status_without_daemon() {
    let d = std::env::temp_dir().join(format!("fulcrum-ha-cli-exec-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let log = d.join("calls");
    let cfg = tmp(
        "exec.toml",
        &format!(
            "[vrrp]\ninterface = \"lo\"\nvirtual_router_id = 5\nvirtual_ips = [\"192.0.2.5/32\"]\n\n\
             [[mover]]\ntype = \"exec\"\ncommand = [\"/bin/sh\", \"-c\", \"echo \\\"$@\\\" >> {}\", \"notify\"]\n\n\
             [status]\nfile = \"{}/status.json\"\n",
            log.display(),
            d.display()
        ),
    );
    let run = |cmd: &str| bin().arg("-c").arg(&cfg).arg(cmd).output().unwrap();
    assert!(run("assign").status.success());
    assert!(run("release").status.success());
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "MASTER 192.0.2.5\nBACKUP 192.0.2.5\n"
    );
    // No daemon, and exec cannot tell who holds the address: "not here" (OCF 7).
    let out = run("status");
    assert_eq!(out.status.code(), Some(7));
    assert!(String::from_utf8_lossy(&out.stdout).contains("not running"));
    let _ = std::fs::remove_dir_all(&d);
    cleanup(&cfg);
}
