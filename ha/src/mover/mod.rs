//! Movers: what actually moves the floating address when the election decides.
//!
//! One trait, one implementation per file. A mover is told the node's new role; it makes
//! the address follow (or, for `exec`, tells a user script).

pub mod digitalocean;
pub mod exec;
pub mod linux;

use futures::future::BoxFuture;
use std::fmt;

/// The role a mover is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// This node must hold the address.
    Master,
    /// Another node holds it.
    Backup,
    /// The local proxy is unhealthy.
    Fault,
    /// fulcrum-ha is stopping.
    Stop,
}

impl Role {
    /// Upper-case name passed to notify scripts (keepalived's convention).
    pub fn name(self) -> &'static str {
        match self {
            Role::Master => "MASTER",
            Role::Backup => "BACKUP",
            Role::Fault => "FAULT",
            Role::Stop => "STOP",
        }
    }
}

/// A mover failure; the message never contains secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoverError {
    /// Which mover failed.
    pub mover: &'static str,
    /// What happened.
    pub message: String,
    /// Whether trying again later may help (network, 5xx) or not (401, 404, bad config).
    pub retryable: bool,
}

impl MoverError {
    /// A failure that may go away on retry.
    pub fn transient(mover: &'static str, message: impl Into<String>) -> MoverError {
        MoverError {
            mover,
            message: message.into(),
            retryable: true,
        }
    }

    /// A failure that will not go away by retrying.
    pub fn permanent(mover: &'static str, message: impl Into<String>) -> MoverError {
        MoverError {
            mover,
            message: message.into(),
            retryable: false,
        }
    }
}

impl fmt::Display for MoverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} mover: {}", self.mover, self.message)
    }
}

impl std::error::Error for MoverError {}

/// Moves the floating address.
pub trait Mover: Send + Sync {
    /// Short name for logs and metrics labels.
    fn name(&self) -> &'static str;

    /// Makes the address follow `role`: acquire on Master, release (where that makes
    /// sense) otherwise. Returns once done.
    fn apply(&self, role: Role) -> BoxFuture<'_, Result<(), MoverError>>;

    /// Announces the address again (gratuitous ARP / NA) while master; by default nothing.
    fn reannounce(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    /// How often to re-announce while master (keepalived's `garp_master_refresh`); `None`
    /// = only on acquiring and when another master is heard.
    fn refresh_every(&self) -> Option<std::time::Duration> {
        None
    }

    /// Whether this node holds the address now; `None` when the mover cannot tell
    /// (e.g. `exec`).
    fn holds(&self) -> BoxFuture<'_, Result<Option<bool>, MoverError>>;
}

/// Builds the configured movers, in order.
pub fn build(cfg: &crate::config::Config) -> Result<Vec<Box<dyn Mover>>, MoverError> {
    use crate::config::MoverConfig;
    let ips: Vec<std::net::IpAddr> = cfg.vrrp.virtual_ips.iter().map(|c| c.addr).collect();
    let mut out: Vec<Box<dyn Mover>> = Vec::new();
    for m in &cfg.movers {
        match m {
            MoverConfig::Linux {
                interface,
                garp_count,
                garp_refresh_ms,
            } => out.push(Box::new(
                linux::Linux::new(
                    interface.as_deref().unwrap_or(&cfg.vrrp.interface),
                    cfg.vrrp.virtual_ips.clone(),
                    *garp_count,
                )
                .with_refresh(
                    (*garp_refresh_ms > 0)
                        .then(|| std::time::Duration::from_millis(*garp_refresh_ms)),
                ),
            )),
            MoverConfig::Exec {
                command,
                timeout_ms,
            } => out.push(Box::new(exec::Exec::new(
                command.clone(),
                ips.clone(),
                std::time::Duration::from_millis(*timeout_ms),
            ))),
            MoverConfig::Digitalocean {
                api_url,
                metadata_url,
                token_file,
                token_env,
                api_path,
                droplet_id,
                timeout_s,
            } => {
                let Some(std::net::IpAddr::V4(ip)) = ips.first().copied() else {
                    return Err(MoverError::permanent(
                        "digitalocean",
                        "needs one IPv4 virtual IP",
                    ));
                };
                let token = digitalocean::Token::load(token_file.as_deref(), token_env)?;
                let droplet = match droplet_id {
                    Some(id) => digitalocean::DropletId::Fixed(*id),
                    None => digitalocean::DropletId::Metadata(metadata_url.clone()),
                };
                let timing = digitalocean::Timing {
                    deadline: std::time::Duration::from_secs(*timeout_s),
                    ..Default::default()
                };
                out.push(Box::new(digitalocean::DigitalOcean::new(
                    api_url, api_path, ip, token, droplet, timing,
                )?));
            }
        }
    }
    Ok(out)
}
