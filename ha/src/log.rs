//! Minimal logging to stderr (journald and `ip netns exec` captures take it from there).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, with milliseconds.
pub fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Writes one log line with a timestamp.
pub fn line(msg: &str) {
    eprintln!(
        "{:.3} fulcrum-ha[{}]: {msg}",
        now_unix(),
        std::process::id()
    );
}

/// `format!`-style logging.
#[macro_export]
macro_rules! log {
    ($($t:tt)*) => { $crate::log::line(&format!($($t)*)) };
}
