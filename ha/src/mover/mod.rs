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

    /// Whether this node holds the address now; `None` when the mover cannot tell
    /// (e.g. `exec`).
    fn holds(&self) -> BoxFuture<'_, Result<Option<bool>, MoverError>>;
}
