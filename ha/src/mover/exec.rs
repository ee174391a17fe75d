//! `exec` mover: runs a user command on every transition, like keepalived's notify
//! scripts: `command... STATE IP...`, killed after a timeout.

use super::{Mover, MoverError, Role};
use futures::future::BoxFuture;
use futures::FutureExt;
use std::net::IpAddr;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

/// Runs `command` with the state and the addresses as arguments.
#[derive(Debug, Clone)]
pub struct Exec {
    command: Vec<String>,
    ips: Vec<IpAddr>,
    timeout: Duration,
}

impl Exec {
    /// `command` must be non-empty (checked by the config).
    pub fn new(command: Vec<String>, ips: Vec<IpAddr>, timeout: Duration) -> Exec {
        Exec {
            command,
            ips,
            timeout,
        }
    }

    async fn run(&self, role: Role) -> Result<(), MoverError> {
        let Some((prog, args)) = self.command.split_first() else {
            return Err(MoverError::permanent("exec", "empty command"));
        };
        let mut cmd = Command::new(prog);
        cmd.args(args)
            .arg(role.name())
            .args(self.ips.iter().map(|i| i.to_string()))
            .stdin(Stdio::null())
            // Killed if the timeout drops the future: a hung script must not pile up.
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .map_err(|e| MoverError::permanent("exec", format!("cannot run {prog}: {e}")))?;
        match tokio::time::timeout(self.timeout, child.wait()).await {
            Ok(Ok(st)) if st.success() => Ok(()),
            Ok(Ok(st)) => Err(MoverError::transient(
                "exec",
                format!("{prog} {} exited with {st}", role.name()),
            )),
            Ok(Err(e)) => Err(MoverError::transient("exec", format!("{prog}: {e}"))),
            Err(_) => {
                let _ = child.kill().await;
                Err(MoverError::transient(
                    "exec",
                    format!("{prog} {} killed after {:?}", role.name(), self.timeout),
                ))
            }
        }
    }
}

impl Mover for Exec {
    fn name(&self) -> &'static str {
        "exec"
    }

    fn apply(&self, role: Role) -> BoxFuture<'_, Result<(), MoverError>> {
        self.run(role).boxed()
    }

    fn holds(&self) -> BoxFuture<'_, Result<Option<bool>, MoverError>> {
        async { Ok(None) }.boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn sh(script: &str, timeout_ms: u64) -> Exec {
        Exec::new(
            vec![
                "/bin/sh".into(),
                "-c".into(),
                script.into(),
                "notify".into(),
            ],
            vec!["10.0.0.100".parse().unwrap(), "10.0.0.101".parse().unwrap()],
            Duration::from_millis(timeout_ms),
        )
    }

    #[tokio::test]
    async fn passes_state_and_ips() {
        let dir = std::env::temp_dir().join(format!("fulcrum-ha-exec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("args");
        let e = sh(&format!("echo \"$@\" >> {}", out.display()), 5000);
        e.apply(Role::Master).await.unwrap();
        e.apply(Role::Fault).await.unwrap();
        let got = std::fs::read_to_string(&out).unwrap();
        assert_eq!(
            got,
            "MASTER 10.0.0.100 10.0.0.101\nFAULT 10.0.0.100 10.0.0.101\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn nonzero_exit_is_an_error() {
        let err = sh("exit 3", 5000).apply(Role::Backup).await.unwrap_err();
        assert!(err.message.contains("exit status: 3"), "{err}");
    }

    #[tokio::test]
    async fn hung_command_is_killed_at_timeout() {
        let t = Instant::now();
        let err = sh("sleep 30", 300).apply(Role::Master).await.unwrap_err();
        assert!(err.message.contains("killed"), "{err}");
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn missing_program_is_permanent() {
        let e = Exec::new(
            vec!["/nonexistent/x".into()],
            vec![],
            Duration::from_secs(1),
        );
        assert!(!e.apply(Role::Master).await.unwrap_err().retryable);
    }
}
