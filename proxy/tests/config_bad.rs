//! Every `tests/bad-configs/NAME.cfg` must produce exactly the diagnostics listed in
//! `NAME.expected` (one `file:line: message` per line, in order).
//!
//! To regenerate after an intended wording change: `FULCRUM_BLESS=1 cargo test --test
//! config_bad`, then review the diff of the `.expected` files.

use std::path::{Path, PathBuf};

use fulcrum::config::{load, render, MapEnv};

#[test]
fn bad_configs_match_expected_diagnostics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-configs");
    // Tests run from the package directory; relative names keep the expected files stable.
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).expect("cd to the package");
    let mut cfgs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("bad-configs directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "cfg"))
        .collect();
    cfgs.sort();
    assert!(cfgs.len() >= 30, "only {} bad configs", cfgs.len());
    let env = MapEnv::from_pairs(&[("HOME", "/root")]);
    let bless = std::env::var_os("FULCRUM_BLESS").is_some();
    let mut failures = Vec::new();
    for cfg in &cfgs {
        let stem = cfg
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let rel = PathBuf::from("tests/bad-configs").join(format!("{stem}.cfg"));
        let (_, diags) = load(std::slice::from_ref(&rel), &env, &["LUA"]);
        let got = render(&diags).join("\n") + "\n";
        let expected_path = dir.join(format!("{stem}.expected"));
        if bless {
            std::fs::write(&expected_path, &got).expect("write expected");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected.trim().is_empty() {
            failures.push(format!(
                "{stem}: missing or empty {}",
                expected_path.display()
            ));
        } else if got != expected {
            failures.push(format!("{stem}:\n--- expected\n{expected}--- got\n{got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
