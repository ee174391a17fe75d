//! Logging, compatible with haproxy 2.6 on the wire.
//!
//! - [`target`]: parsing of `log`, `no log`, `log-tag`, `log-send-hostname`.
//! - [`format`](mod@format): syslog framing of one message per target format.
//! - [`fields`], [`tcplog`], [`httplog`], [`connect`]: the traffic log lines.
//! - [`sink`]: the non-blocking sender ([`Logger`]).

#![warn(missing_docs)]

pub mod connect;
pub mod fields;
pub mod format;
pub mod httplog;
mod line;
pub mod sink;
pub mod target;
pub mod tcplog;
mod time;

pub use connect::write_connect_line;
pub use fields::{LogAddr, LogFields};
pub use format::{SyslogMeta, Transport};
pub use httplog::write_httplog;
pub use sink::{Logger, LoggerSettings};
pub use target::{
    parse_global_log_args, parse_log_args, parse_log_send_hostname, parse_log_tag,
    parse_no_log_args, Facility, Level, LogAddress, LogDirective, LogFormat, LogTarget,
};
pub use tcplog::write_tcplog;
