//! The `global` section.

use std::path::PathBuf;

use super::bind::{lookup_id, parse_bind_addrs};
use super::diag::{Diag, Loc};
use super::keywords::{did_you_mean, GLOBAL, GLOBAL_UNSUPPORTED, PROXY};
use super::lexer::EnvOverlay;
use super::model::{CliLevel, Global, LogLine, StatsSocket};
use super::timeouts::parse_time;

/// `'kw' cannot handle unexpected argument 'x'.` when `args` has more than `max` words.
pub(crate) fn too_many(
    loc: &Loc,
    kw: &str,
    args: &[String],
    max: usize,
    diags: &mut Vec<Diag>,
) -> bool {
    if let Some(extra) = args.get(max) {
        diags.push(Diag::error(
            loc,
            format!("'{kw}' cannot handle unexpected argument '{extra}'."),
        ));
        true
    } else {
        false
    }
}

fn one_arg<'a>(
    loc: &Loc,
    kw: &str,
    what: &str,
    args: &'a [String],
    diags: &mut Vec<Diag>,
) -> Option<&'a str> {
    match args.first() {
        None => {
            diags.push(Diag::error(
                loc,
                format!("'{kw}' expects {what} as an argument."),
            ));
            None
        }
        Some(_) if too_many(loc, kw, args, 1, diags) => None,
        Some(a) => Some(a),
    }
}

fn int_arg(loc: &Loc, kw: &str, args: &[String], diags: &mut Vec<Diag>) -> Option<u32> {
    let a = one_arg(loc, kw, "an integer", args, diags)?;
    match a.parse::<u32>() {
        Ok(n) => Some(n),
        Err(_) => {
            diags.push(Diag::error(
                loc,
                format!("'{kw}' expects an integer argument, got '{a}'."),
            ));
            None
        }
    }
}

fn time_arg(
    loc: &Loc,
    kw: &str,
    args: &[String],
    diags: &mut Vec<Diag>,
) -> Option<std::time::Duration> {
    let a = one_arg(loc, kw, "a time value", args, diags)?;
    match parse_time(a) {
        Ok(d) => Some(d),
        Err(e) => {
            diags.push(Diag::error(loc, e.message(&format!("'{kw}'"), a)));
            None
        }
    }
}

/// Applies one `global` line (`words[0]` is the keyword).
pub fn global_keyword(
    g: &mut Global,
    env: &mut EnvOverlay<'_>,
    loc: &Loc,
    words: &[String],
    diags: &mut Vec<Diag>,
) {
    // The reader never yields empty lines; stay safe for other callers.
    let Some((kw, args)) = words.split_first() else {
        return;
    };
    let kw = kw.as_str();
    match kw {
        "setenv" | "presetenv" => {
            if args.len() != 2 {
                diags.push(Diag::error(loc, format!("'{kw}' expects exactly two arguments.")));
                return;
            }
            if kw == "setenv" {
                env.set(&args[0], &args[1]);
            } else {
                env.preset(&args[0], &args[1]);
            }
        }
        "unsetenv" => {
            if args.is_empty() {
                diags.push(Diag::error(loc, "'unsetenv' expects at least one argument."));
            }
            for a in args {
                env.unset(a);
            }
        }
        "resetenv" => env.reset(args),
        "nbthread" => {
            if let Some(n) = int_arg(loc, kw, args, diags) {
                // haproxy 2.6's MAX_THREADS on 64-bit platforms.
                if n == 0 || n > 64 {
                    diags.push(Diag::error(loc, format!("'nbthread' value must be between 1 and 64 (was {n}).")));
                } else {
                    g.nbthread = Some(n as usize);
                }
            }
        }
        "maxconn" => {
            if let Some(n) = int_arg(loc, kw, args, diags) {
                g.maxconn = Some(n);
            }
        }
        "daemon" => {
            if !too_many(loc, kw, args, 0, diags) {
                g.daemon = true;
            }
        }
        "master-worker" => match args.first().map(String::as_str) {
            None => g.master_worker = true,
            Some("no-exit-on-failure") => {
                diags.push(Diag::error(loc, "'master-worker no-exit-on-failure' is not supported yet"))
            }
            Some(o) => diags.push(Diag::error(
                loc,
                format!("'master-worker' only supports 'no-exit-on-failure' option (got '{o}')."),
            )),
        },
        "pidfile" => {
            if let Some(p) = one_arg(loc, kw, "a file name", args, diags) {
                g.pidfile = Some(PathBuf::from(p));
            }
        }
        "log" => {
            if args.is_empty() {
                diags.push(Diag::error(
                    loc,
                    "'log' expects either <address[:port]> and <facility> or 'global' as arguments.",
                ));
            } else if args[0] == "global" {
                diags.push(Diag::error(loc, "'log global' is only permitted in proxies (defaults, frontend, backend, listen)."));
            } else {
                g.logs.push(LogLine { loc: loc.clone(), args: args.to_vec() });
            }
        }
        "log-tag" => {
            if let Some(t) = one_arg(loc, kw, "a tag", args, diags) {
                g.log_tag = Some(t.to_string());
            }
        }
        "log-send-hostname" => {
            // haproxy ignores words after the name.
            g.log_send_hostname = Some(args.first().cloned().unwrap_or_default());
        }
        "stats" => stats(g, loc, args, diags),
        "hard-stop-after" => {
            if let Some(d) = time_arg(loc, kw, args, diags) {
                g.hard_stop_after = Some(d);
            }
        }
        "node" => {
            if let Some(n) = one_arg(loc, kw, "a node name", args, diags) {
                if n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')) {
                    diags.push(Diag::error(loc, "'node' requires valid node name - non-empty string with digits(0-9), letters(A-Z, a-z), dot(.), hyphen(-) or underscode(_)."));
                } else {
                    g.node = Some(n.to_string());
                }
            }
        }
        "description" => {
            if args.is_empty() {
                diags.push(Diag::error(loc, "'description' expects a string argument."));
            } else {
                g.description = Some(args.join(" "));
            }
        }
        "uid" => {
            if let Some(n) = int_arg(loc, kw, args, diags) {
                g.uid = Some(n);
            }
        }
        "gid" => {
            if let Some(n) = int_arg(loc, kw, args, diags) {
                g.gid = Some(n);
            }
        }
        "user" | "group" => {
            let Some(name) = one_arg(loc, kw, "a name", args, diags) else { return };
            let file = if kw == "user" { "/etc/passwd" } else { "/etc/group" };
            match lookup_id(file, name) {
                Some(id) if kw == "user" => g.uid = Some(id),
                Some(id) => g.gid = Some(id),
                None => diags.push(Diag::error(loc, format!("{kw} '{name}' not found."))),
            }
        }
        "chroot" => {
            if let Some(p) = one_arg(loc, kw, "a directory", args, diags) {
                g.chroot = Some(PathBuf::from(p));
            }
        }
        "nbproc" => diags.push(Diag::error(
            loc,
            "nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available.",
        )),
        _ if kw.starts_with("tune.") => {
            diags.push(Diag::warning(loc, format!("'{kw}' ignored: means nothing to Fulcrum")))
        }
        _ if GLOBAL_UNSUPPORTED.contains(&kw) => {
            diags.push(Diag::error(loc, format!("'{kw}' is not supported yet")))
        }
        _ if PROXY.contains(&kw) => diags.push(Diag::error(
            loc,
            format!("'{kw}' is not allowed in 'global' section (allowed in: defaults, frontend, backend, listen)"),
        )),
        _ => diags.push(Diag::error(
            loc,
            format!(
                "unknown keyword '{kw}' in 'global' section{}",
                did_you_mean(kw, &[GLOBAL, GLOBAL_UNSUPPORTED])
            ),
        )),
    }
}

fn stats(g: &mut Global, loc: &Loc, args: &[String], diags: &mut Vec<Diag>) {
    match args.first().map(String::as_str) {
        Some("socket") => {
            let Some(addr) = args.get(1) else {
                diags.push(Diag::error(loc, "'stats socket' requires a path or an address."));
                return;
            };
            let addr = match parse_bind_addrs(addr) {
                Ok(a) if a.len() == 1 => a.into_iter().next(),
                Ok(_) => {
                    diags.push(Diag::error(loc, format!("'stats socket {addr}' : several addresses on one stats socket are not supported yet")));
                    return;
                }
                Err(e) => {
                    diags.push(Diag::error(loc, format!("'stats socket {addr}' : {e}")));
                    return;
                }
            };
            let Some(addr) = addr else { return };
            let mut s = StatsSocket { loc: loc.clone(), addr, level: CliLevel::default(), mode: None, uid: None, gid: None };
            let mut i = 2;
            while i < args.len() {
                let kw = args[i].as_str();
                let Some(v) = args.get(i + 1) else {
                    if ["level", "mode", "user", "uid", "group", "gid", "expose-fd"].contains(&kw) {
                        diags.push(Diag::error(loc, format!("'stats socket' : missing value for '{kw}'")));
                    } else {
                        diags.push(unknown_socket_param(loc, kw));
                    }
                    return;
                };
                let r: Result<(), String> = match kw {
                    "level" => match v.as_str() {
                        "user" => Ok(CliLevel::User),
                        "operator" => Ok(CliLevel::Operator),
                        "admin" => Ok(CliLevel::Admin),
                        _ => Err("'level' only supports 'user', 'operator', and 'admin'".to_string()),
                    }
                    .map(|l| s.level = l),
                    // Fulcrum hands its listeners over on reload by itself (no `-x`), so
                    // this is accepted and has nothing left to do.
                    "expose-fd" if v == "listeners" => {
                        diags.push(Diag {
                            loc: Some(loc.clone()),
                            severity: super::diag::Severity::Notice,
                            message: "'expose-fd listeners' is not needed: Fulcrum passes its listening sockets on reload by itself".into(),
                        });
                        Ok(())
                    }
                    "expose-fd" => Err(format!("'expose-fd' only supports 'listeners' (got '{v}')")),
                    "mode" => u32::from_str_radix(v, 8)
                        .map(|m| s.mode = Some(m))
                        .map_err(|_| format!("'mode' expects an octal value, got '{v}'")),
                    "uid" | "gid" => v
                        .parse::<u32>()
                        .map(|n| if kw == "uid" { s.uid = Some(n) } else { s.gid = Some(n) })
                        .map_err(|_| format!("'{kw}' expects an integer argument, got '{v}'")),
                    "user" => lookup_id("/etc/passwd", v).map(|n| s.uid = Some(n)).ok_or(format!("unknown user '{v}'")),
                    "group" => lookup_id("/etc/group", v).map(|n| s.gid = Some(n)).ok_or(format!("unknown group '{v}'")),
                    _ => {
                        diags.push(unknown_socket_param(loc, kw));
                        return;
                    }
                };
                if let Err(e) = r {
                    diags.push(Diag::error(loc, format!("'stats socket' : {e}")));
                    return;
                }
                i += 2;
            }
            g.stats_sockets.push(s);
        }
        Some("timeout") => {
            if let Some(d) = time_arg(loc, "stats timeout", &args[1..], diags) {
                g.stats_timeout = Some(d);
            }
        }
        // haproxy 2.6 accepts it and does nothing with it (no more processes).
        Some("bind-process") => diags.push(Diag::warning(
            loc,
            "'stats bind-process' has no effect since HAProxy 2.5 (no more processes).",
        )),
        Some("maxconn") => diags.push(Diag::error(loc, "'stats maxconn' is not supported yet")),
        _ => diags.push(Diag::error(loc, "'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' in 'global' section.")),
    }
}

fn unknown_socket_param(loc: &Loc, kw: &str) -> Diag {
    const KNOWN: &[&str] = &["level", "mode", "user", "uid", "group", "gid", "expose-fd"];
    const LATER: &[&str] = &[
        "process",
        "thread",
        "severity-output",
        "accept-proxy",
        "name",
        "maxconn",
        "backlog",
    ];
    if LATER.contains(&kw) {
        Diag::error(loc, format!("'stats socket' : '{kw}' is not supported yet"))
    } else {
        Diag::error(
            loc,
            format!(
                "'stats socket' : unknown keyword '{kw}'{}",
                did_you_mean(kw, &[KNOWN, LATER])
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::lexer::MapEnv;
    use std::sync::Arc;

    fn run(lines: &[&str]) -> (Global, Vec<String>) {
        let base = MapEnv::default();
        let mut env = EnvOverlay::new(&base);
        let mut g = Global::default();
        let mut diags = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let loc = Loc {
                file: Arc::new("g.cfg".into()),
                line: i + 1,
            };
            let words: Vec<String> = l.split_whitespace().map(String::from).collect();
            global_keyword(&mut g, &mut env, &loc, &words, &mut diags);
        }
        (g, diags.iter().map(|d| d.to_string()).collect())
    }

    #[test]
    fn values() {
        let (g, d) = run(&[
            "nbthread 4",
            "maxconn 100",
            "daemon",
            "pidfile /run/x.pid",
            "log 127.0.0.1 local0",
            "log-tag t",
            "log-send-hostname",
            "stats socket /run/s.sock level user mode 660",
            "stats timeout 1m",
            "hard-stop-after 10s",
            "node n1",
            "description a b",
            "user root",
            "group root",
            "chroot /var/empty",
        ]);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            (g.nbthread, g.maxconn, g.daemon),
            (Some(4), Some(100), true)
        );
        assert_eq!(g.logs[0].args, ["127.0.0.1", "local0"]);
        assert_eq!(g.log_send_hostname.as_deref(), Some(""));
        assert_eq!(g.stats_sockets[0].level, CliLevel::User);
        assert_eq!(g.stats_sockets[0].mode, Some(0o660));
        assert_eq!(g.stats_timeout, Some(std::time::Duration::from_secs(60)));
        assert_eq!((g.uid, g.gid), (Some(0), Some(0)));
        assert_eq!(g.description.as_deref(), Some("a b"));
    }

    #[test]
    fn errors_and_warnings() {
        let (_, d) = run(&[
            "nbproc 2",
            "tune.bufsize 1",
            "lua-load x",
            "bind :80",
            "maxcon 1",
            "node a/b",
        ]);
        assert_eq!(d.len(), 6, "{d:?}");
        assert!(d[0].contains("nbproc is not supported any more since HAProxy 2.5"));
        assert_eq!(
            d[1],
            "g.cfg:2: warning: 'tune.bufsize' ignored: means nothing to Fulcrum"
        );
        assert_eq!(d[2], "g.cfg:3: 'lua-load' is not supported yet");
        assert!(d[3].contains("not allowed in 'global' section"));
        assert!(d[4].ends_with("did you mean 'maxconn'?"));
        assert!(d[5].contains("'node' requires valid node name"));
    }

    #[test]
    fn setenv_family() {
        let base = MapEnv::from_pairs(&[("KEEP", "1"), ("DROP", "2")]);
        let mut env = EnvOverlay::new(&base);
        let mut g = Global::default();
        let mut diags = Vec::new();
        let loc = Loc {
            file: Arc::new("g.cfg".into()),
            line: 1,
        };
        let w = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        for l in [
            "setenv A 1",
            "presetenv A 2",
            "presetenv B 3",
            "resetenv KEEP A B",
            "unsetenv B",
        ] {
            global_keyword(&mut g, &mut env, &loc, &w(l), &mut diags);
        }
        assert!(diags.is_empty());
        use crate::config::lexer::Env;
        assert_eq!(env.get("A").as_deref(), Some("1"));
        assert_eq!(env.get("B"), None);
        assert_eq!(env.get("KEEP").as_deref(), Some("1"));
        assert_eq!(env.get("DROP"), None);
    }
}
