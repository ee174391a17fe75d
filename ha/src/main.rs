//! `fulcrum-ha`: keeps a floating IP on the active node of an active/passive pair.
//!
//! ```text
//! fulcrum-ha [-c FILE] [run]          election daemon (default)
//! fulcrum-ha [-c FILE] status         daemon state; exit 0 if this node holds the IP, 7 if not
//! fulcrum-ha [-c FILE] assign         one-shot: move the IP here (Pacemaker), no election
//! fulcrum-ha [-c FILE] release        one-shot: give the IP up here
//! fulcrum-ha [-c FILE] check-config   validate the file
//! ```

use fulcrum_ha::config::Config;
use fulcrum_ha::mover::{self, Role};
use fulcrum_ha::status::Status;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: fulcrum-ha [-c FILE] [run|status|assign|release|check-config]";
/// OCF_NOT_RUNNING: what `status` returns when the IP is not here.
const NOT_HERE: u8 = 7;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut file = std::env::var_os("FULCRUM_HA_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/etc/fulcrum-ha.toml"));
    let mut cmd = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "-c" | "--config" => match args.next() {
                Some(f) => file = PathBuf::from(f),
                None => {
                    eprintln!("{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "run" | "status" | "assign" | "release" | "check-config" if cmd.is_none() => {
                cmd = Some(a)
            }
            _ => {
                eprintln!("unexpected argument `{a}`\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let cfg = match Config::load(&file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(if cmd.as_deref() == Some("status") {
                1
            } else {
                2
            });
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fulcrum-ha: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cmd.as_deref().unwrap_or("run") {
        "check-config" => {
            println!("{}: configuration is valid", file.display());
            ExitCode::SUCCESS
        }
        "run" => match rt.block_on(fulcrum_ha::runtime::run(cfg)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("fulcrum-ha: {e}");
                ExitCode::FAILURE
            }
        },
        "assign" | "release" => {
            let role = if cmd.as_deref() == Some("assign") {
                Role::Master
            } else {
                Role::Backup
            };
            rt.block_on(async {
                let movers = match mover::build(&cfg) {
                    Ok(m) => m,
                    Err(e) => {
                        eprintln!("fulcrum-ha: {e}");
                        return ExitCode::FAILURE;
                    }
                };
                if movers.is_empty() {
                    eprintln!("fulcrum-ha: no [[mover]] configured");
                    return ExitCode::FAILURE;
                }
                for m in &movers {
                    if let Err(e) = m.apply(role).await {
                        eprintln!("fulcrum-ha: {e}");
                        return ExitCode::FAILURE;
                    }
                }
                ExitCode::SUCCESS
            })
        }
        _ => rt.block_on(async {
            let daemon = Status::read(&cfg.status.file).ok().filter(|s| {
                // A SIGKILLed daemon leaves its last status behind: do not present it
                // as current.
                // SAFETY: kill(pid, 0) only checks that the process exists.
                let alive = s.pid > 0 && unsafe { libc::kill(s.pid as i32, 0) } == 0;
                if !alive {
                    println!("daemon: not running (stale status of pid {})", s.pid);
                }
                alive
            });
            match &daemon {
                Some(s) => print!("{}", s.render()),
                None => println!(
                    "daemon: not running (no live {})",
                    cfg.status.file.display()
                ),
            }
            let movers = match mover::build(&cfg) {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("fulcrum-ha: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let mut verdict = None;
            for m in &movers {
                match m.holds().await {
                    Ok(Some(h)) => {
                        println!(
                            "{} mover: address {}",
                            m.name(),
                            if h { "held here" } else { "not held here" }
                        );
                        verdict = Some(verdict.unwrap_or(true) && h);
                    }
                    Ok(None) => {}
                    Err(e) => {
                        eprintln!("fulcrum-ha: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            match verdict {
                Some(true) => ExitCode::SUCCESS,
                Some(false) => ExitCode::from(NOT_HERE),
                // No mover can tell: fall back on the daemon's own state.
                None => match daemon {
                    Some(s) if s.state == "master" => ExitCode::SUCCESS,
                    _ => ExitCode::from(NOT_HERE),
                },
            }
        }),
    }
}
