//! Logging, compatible with haproxy 2.6 on the wire.
//!
//! - [`target`]: parsing of `log`, `no log`, `log-tag`, `log-send-hostname`.
//! - [`format`](mod@format): syslog framing of one message per target format.
//! - [`fields`], [`tcplog`], [`httplog`], [`connect`]: the traffic log lines.
//! - [`sink`]: the non-blocking sender ([`Logger`]).
//!
//! Typical wiring (config parser, then a data path at end of stream):
//!
//! ```no_run
//! use std::time::SystemTime;
//! use fulcrum::log::{
//!     parse_global_log_args, parse_log_args, Level, LogAddr, LogDirective, LogFields,
//!     Logger, LoggerSettings,
//! };
//!
//! // `log 127.0.0.1:514 local0` in `global`, `log global` in a frontend.
//! let global = vec![parse_global_log_args(&["127.0.0.1:514", "local0"]).unwrap()];
//! let targets = match parse_log_args(&["global"]).unwrap() {
//!     LogDirective::Global => global.clone(),
//!     LogDirective::Target(t) => vec![t],
//!     LogDirective::None => vec![],
//! };
//! let settings = LoggerSettings {
//!     line_len: fulcrum::log::sink::max_syslog_len(&global),
//!     ..LoggerSettings::default()
//! };
//! let logger = Logger::new(&targets, &settings).unwrap().with_tag("haproxy");
//!
//! let mut f = LogFields::new(SystemTime::now());
//! f.client = LogAddr::Inet("192.0.2.1:40000".parse().unwrap());
//! f.frontend_name = "fe";
//! f.backend_name = "be";
//! f.server_name = Some("s1");
//! f.t_queue = 0;
//! f.t_connect = 1;
//! f.t_total = 25;
//! logger.send_tcplog(Level::Info, &f);
//! ```

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
