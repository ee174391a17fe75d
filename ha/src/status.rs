//! The status snapshot written on every transition and read by `fulcrum-ha status`.

use serde::{Deserialize, Serialize};
use std::io;
use std::path::Path;

/// What `fulcrum-ha status` shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// Daemon pid.
    pub pid: u32,
    /// Interface and VRID, to tell instances apart.
    pub interface: String,
    /// Virtual router id.
    pub vrid: u8,
    /// `init`, `backup`, `master` or `fault`.
    pub state: String,
    /// Advertised priority.
    pub priority: u8,
    /// Current master, if known.
    pub master: Option<String>,
    /// Local proxy probe verdict (`none` without a probe).
    pub probe: String,
    /// Last transition: `from -> to`.
    pub last_transition: Option<String>,
    /// Why it happened.
    pub last_reason: Option<String>,
    /// When (Unix seconds).
    pub last_at: Option<u64>,
    /// Transitions since start.
    pub transitions: u64,
    /// Last mover error, if the last run failed.
    pub mover_error: Option<String>,
}

impl Status {
    /// Writes atomically (temp file + rename) so a reader never sees half a file.
    pub fn write(&self, path: &Path) -> io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("tmp");
        let body = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        std::fs::write(&tmp, body)?;
        std::fs::rename(&tmp, path)
    }

    /// Reads a status file.
    pub fn read(path: &Path) -> io::Result<Status> {
        let b = std::fs::read(path)?;
        serde_json::from_slice(&b).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Human-readable form.
    pub fn render(&self) -> String {
        let mut s = format!(
            "state: {}\npriority: {}\nmaster: {}\ninterface: {} vrid {}\nprobe: {}\npid: {}\ntransitions: {}\n",
            self.state,
            self.priority,
            self.master.as_deref().unwrap_or("unknown"),
            self.interface,
            self.vrid,
            self.probe,
            self.pid,
            self.transitions
        );
        if let (Some(t), Some(r)) = (&self.last_transition, &self.last_reason) {
            s.push_str(&format!(
                "last transition: {t} at {} ({r})\n",
                self.last_at.map(|a| a.to_string()).unwrap_or_default()
            ));
        }
        if let Some(e) = &self.mover_error {
            s.push_str(&format!("mover error: {e}\n"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_through_file() {
        let dir = std::env::temp_dir().join(format!("fulcrum-ha-status-{}", std::process::id()));
        let p = dir.join("sub/status.json");
        let s = Status {
            pid: 1,
            state: "master".into(),
            last_reason: Some("startup".into()),
            last_transition: Some("backup -> master".into()),
            ..Default::default()
        };
        s.write(&p).unwrap();
        assert_eq!(Status::read(&p).unwrap(), s);
        assert!(s.render().contains("last transition: backup -> master"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
