//! The runtime API (`stats socket`): line-oriented commands over a unix or TCP socket, with
//! haproxy's framing (`;`-separated commands, `prompt` for interactive mode, `quit`). No
//! runtime command is implemented yet: each gets haproxy's answer to an unknown command.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::config::model::{Bind, CliLevel, StatsSocket};
use crate::net::listener::{bind_all, Listener};

/// The commands every session has, as haproxy lists them.
const BASE: &[(&str, &str)] = &[
    ("help [<command>]", "list matching or all commands"),
    ("prompt", "toggle interactive mode with prompt"),
    ("quit", "disconnect"),
];

fn usage_line(out: &mut String, usage: &str, desc: &str) {
    out.push_str(&format!("  {usage:<40}: {desc}\n"));
}

/// The level-lowering commands a session at `level` may use.
fn level_commands(level: CliLevel) -> Vec<(&'static str, &'static str)> {
    let mut v = Vec::new();
    if level >= CliLevel::Admin {
        v.push((
            "operator",
            "lower the level of the current CLI session to operator",
        ));
    }
    if level >= CliLevel::Operator {
        v.push(("user", "lower the level of the current CLI session to user"));
    }
    v
}

/// The answer to one command (without the prompt). `None` closes the session.
pub fn answer(cmd: &str, level: &mut CliLevel, interactive: &mut bool) -> Option<String> {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let mut out = String::new();
    match words.as_slice() {
        [] => {}
        ["quit", ..] => return None,
        ["prompt", ..] => *interactive = !*interactive,
        ["operator", ..] if *level >= CliLevel::Operator => *level = CliLevel::Operator,
        ["user", ..] => *level = CliLevel::User,
        ["help", ..] => {
            out.push_str("The following commands are valid at this level:\n");
            for (u, d) in level_commands(*level).iter().chain(BASE) {
                usage_line(&mut out, u, d);
            }
            out.push('\n');
        }
        _ => {
            out.push_str(
                "Unknown command, but maybe one of the following ones is a better match:\n",
            );
            for (u, d) in level_commands(*level).iter().chain(BASE) {
                usage_line(&mut out, u, d);
            }
            out.push('\n');
        }
    }
    Some(out)
}

/// The bound stats sockets, not served yet (binding happens before daemon mode forks; the
/// serving thread starts after).
#[derive(Debug)]
pub struct CliSockets {
    bound: Vec<(crate::net::listener::StdListener, CliLevel)>,
    timeout: Duration,
}

/// Binds every `stats socket`, reporting every failure.
pub fn bind(sockets: &[StatsSocket], timeout: Option<Duration>) -> Result<CliSockets, Vec<String>> {
    let mut bound = Vec::new();
    let mut errors = Vec::new();
    for s in sockets {
        let bind = Bind {
            loc: s.loc.clone(),
            addrs: vec![s.addr.clone()],
            name: None,
            maxconn: None,
            backlog: None,
            v4v6: false,
            v6only: false,
            unix_mode: s.mode,
            unix_uid: s.uid,
            unix_gid: s.gid,
        };
        match bind_all(&bind, &s.addr, 1, vec![]) {
            Ok(mut l) => {
                if let Some(l) = l.pop().and_then(|mut v| v.pop()) {
                    bound.push((l, s.level));
                }
            }
            Err(e) => errors.push(format!(
                "{}: cannot bind stats socket {}: {e}",
                s.loc,
                crate::net::listener::describe(&s.addr)
            )),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CliSockets {
        bound,
        timeout: timeout.unwrap_or(Duration::from_secs(10)),
    })
}

impl CliSockets {
    /// Serves the sockets on a thread of their own (the control path never runs on a worker).
    pub fn serve(self) -> io::Result<()> {
        let CliSockets { bound, timeout } = self;
        if bound.is_empty() {
            return Ok(());
        }
        std::thread::Builder::new()
            .name("fulcrum-cli".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                let local = tokio::task::LocalSet::new();
                local.block_on(&rt, async move {
                    let mut tasks = Vec::new();
                    for (l, level) in bound {
                        let Ok(l) = l.into_tokio() else { continue };
                        tasks.push(tokio::task::spawn_local(serve(l, level, timeout)));
                    }
                    for t in tasks {
                        let _ = t.await;
                    }
                });
            })?;
        Ok(())
    }
}

async fn serve(l: Listener, level: CliLevel, timeout: Duration) {
    loop {
        let Ok((stream, _)) = l.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        tokio::task::spawn_local(async move {
            let _ = session(stream, level, timeout).await;
        });
    }
}

async fn session(
    stream: crate::net::stream::Stream,
    mut level: CliLevel,
    timeout: Duration,
) -> io::Result<()> {
    let (r, mut w) = tokio::io::split(stream);
    let mut r = BufReader::new(r);
    let mut interactive = false;
    let mut line = String::new();
    loop {
        line.clear();
        let n = match tokio::time::timeout(timeout, r.read_line(&mut line)).await {
            Ok(n) => n?,
            Err(_) => return Ok(()),
        };
        if n == 0 {
            return Ok(());
        }
        let mut out = String::new();
        for cmd in line.trim_end_matches(['\r', '\n']).split(';') {
            match answer(cmd, &mut level, &mut interactive) {
                Some(a) => out.push_str(&a),
                None => {
                    w.write_all(out.as_bytes()).await?;
                    return Ok(());
                }
            }
        }
        if interactive {
            out.push_str("\n> ");
        }
        w.write_all(out.as_bytes()).await?;
        if !interactive {
            // Non-interactive sessions run one line of commands, as in haproxy.
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_command_gets_haproxys_answer() {
        let (mut level, mut inter) = (CliLevel::Admin, false);
        let a = answer("show stat", &mut level, &mut inter).unwrap();
        assert!(a.starts_with(
            "Unknown command, but maybe one of the following ones is a better match:\n"
        ));
        assert!(a.contains(
            "  help [<command>]                        : list matching or all commands\n"
        ));
        assert!(a.ends_with("  quit                                    : disconnect\n\n"));
    }

    #[test]
    fn levels_only_go_down() {
        let (mut level, mut inter) = (CliLevel::User, false);
        answer("operator", &mut level, &mut inter);
        assert_eq!(level, CliLevel::User);
        let mut level = CliLevel::Admin;
        answer("operator", &mut level, &mut inter);
        assert_eq!(level, CliLevel::Operator);
        assert!(answer("quit", &mut level, &mut inter).is_none());
        answer("prompt", &mut level, &mut inter);
        assert!(inter);
    }
}
