//! `tests/good-configs/*.cfg` (haproxy's documented examples for the keywords Fulcrum
//! implements) must load without errors, and haproxy 2.6 itself must agree they are valid.
//! The bad corpus is checked the other way: haproxy must refuse every file that holds an
//! error other than "not supported yet".

use std::path::{Path, PathBuf};
use std::process::Command;

use fulcrum::config::{load, render, MapEnv};

/// Variables the examples use, given to both Fulcrum and haproxy.
const VARS: &[(&str, &str)] = &[
    ("SRV_BACKUP", "10.0.0.3"),
    ("LAN_DC1", "10.1.1"),
    ("LAN_DC2", "10.2.1"),
    ("ALT_PORT", "8090"),
];

fn files(dir: &str) -> Vec<PathBuf> {
    // Relative names: errorfile paths are relative to the current directory, as in haproxy.
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).expect("cd to the package");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("config directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "cfg"))
        .collect();
    v.sort();
    v
}

#[test]
fn good_configs_parse() {
    let env = MapEnv::from_pairs(VARS);
    let cfgs = files("tests/good-configs");
    assert!(cfgs.len() >= 10);
    for cfg in cfgs {
        let (config, diags) = load(std::slice::from_ref(&cfg), &env, &[]);
        let errors: Vec<_> = diags
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {:#?}", cfg.display(), errors);
        let config =
            config.unwrap_or_else(|| panic!("{}: no config; {:#?}", cfg.display(), render(&diags)));
        assert!(!config.proxies.is_empty(), "{}", cfg.display());
    }
}

/// `haproxy`'s path, or why the comparison is skipped.
fn haproxy() -> Option<&'static str> {
    match Command::new("haproxy").arg("-v").output() {
        Ok(o) if o.status.success() => Some("haproxy"),
        Ok(o) => {
            eprintln!("skipping: `haproxy -v` failed with {}", o.status);
            None
        }
        Err(e) => {
            eprintln!("skipping: haproxy is not installed ({e})");
            None
        }
    }
}

/// Whether `haproxy -c` accepts `cfg` (exit 0, or 2: valid with warnings).
fn haproxy_accepts(bin: &str, cfg: &Path) -> (bool, String) {
    let out = Command::new(bin)
        .arg("-c")
        .arg("-f")
        .arg(cfg)
        .envs(VARS.iter().copied())
        .env("HOME", "/root")
        .output()
        .expect("run haproxy");
    let ok = matches!(out.status.code(), Some(0) | Some(2));
    (ok, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn haproxy_agrees_good_configs_are_valid() {
    let Some(bin) = haproxy() else { return };
    for cfg in files("tests/good-configs") {
        let (ok, stderr) = haproxy_accepts(bin, &cfg);
        assert!(ok, "haproxy refuses {}:\n{stderr}", cfg.display());
    }
}

#[test]
fn haproxy_refuses_bad_configs_with_real_errors() {
    let Some(bin) = haproxy() else { return };
    let env = MapEnv::from_pairs(&[("HOME", "/root")]);
    for cfg in files("tests/bad-configs") {
        let (_, diags) = load(std::slice::from_ref(&cfg), &env, &["LUA"]);
        // Lines Fulcrum refuses only because it lacks the feature are valid haproxy.
        let real = diags.iter().any(|d| {
            d.is_error()
                && !d.message.contains("not supported yet")
                && !d.message.contains("need the ACL engine")
                && !d.message.contains("could not resolve")
        });
        if real {
            let (ok, _) = haproxy_accepts(bin, &cfg);
            assert!(
                !ok,
                "haproxy accepts {} which Fulcrum refuses: {:#?}",
                cfg.display(),
                render(&diags)
            );
        }
    }
}
