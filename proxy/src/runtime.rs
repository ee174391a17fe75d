//! The running configuration: frontends and backends compiled from the typed model, with the
//! references between them resolved to pointers, plus the process-wide counters. Built once
//! at startup and shared read-only by every worker.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};

use crate::backend::Backend;
use crate::config::model::{
    Config, ForwardFor, HttpConnMode, HttpReuse, LogFormatKind, LogLine, Mode, Timeouts,
};
use crate::http::errors::ErrorPages;
use crate::log::{LogDirective, LogTarget, Logger, LoggerSettings};

/// Everything the workers run.
#[derive(Debug)]
pub struct Runtime {
    /// Proxies that accept connections, in config order.
    pub frontends: Vec<Arc<Frontend>>,
    /// Proxies that hold servers, in config order.
    pub backends: Vec<Arc<BackendRt>>,
    /// Global `maxconn`.
    pub maxconn: Limit,
    /// Connections open right now, process-wide (haproxy's `actconn`).
    pub actconn: AtomicUsize,
    /// Woken when `actconn` drops to zero (soft stop waits for it).
    pub idle: Notify,
    /// Set to `true` when listeners must stop accepting (soft stop).
    pub stopping: watch::Sender<bool>,
}

/// A frontend (or the frontend half of a `listen`).
#[derive(Debug)]
pub struct Frontend {
    /// Section name.
    pub name: String,
    /// Proxy id.
    pub id: u32,
    /// `mode`.
    pub mode: Mode,
    /// Timeouts set in this section (or its defaults).
    pub timeouts: Timeouts,
    /// Frontend `maxconn`.
    pub maxconn: Limit,
    /// `use_backend` rules in order: the first whose condition holds (or that has none)
    /// picks the backend.
    pub switching: Vec<(Option<crate::acl::Condition>, Arc<BackendRt>)>,
    /// Where the rest goes: `default_backend`, or the section itself for a `listen`.
    pub backend: Option<Arc<BackendRt>>,
    /// `monitor fail` conditions: any that holds makes `monitor-uri` answer 503.
    pub monitor_fail: Vec<crate::acl::Condition>,
    /// Whether streams need the local address (rules may fetch `dst`, servers may be
    /// addressed by port offset); otherwise it is never asked for.
    pub needs_local: bool,
    /// `option forwardfor` of the frontend.
    pub forwardfor: Option<ForwardFor>,
    /// Client-side connection mode.
    pub http_conn_mode: HttpConnMode,
    /// `monitor-uri`.
    pub monitor_uri: Option<String>,
    /// Error pages (built-in ones replaced by `errorfile`).
    pub errors: ErrorPages,
    /// Where this frontend's traffic logs go (`None`: no `log` line).
    pub logger: Option<Logger>,
    /// Which line is logged per connection/request.
    pub log_format: LogFormatKind,
    /// `option dontlognull`.
    pub dontlognull: bool,
    /// Connections open on this frontend (`feconn`).
    pub feconn: AtomicUsize,
    /// Connections accepted since start.
    pub cum_conn: AtomicUsize,
}

/// A backend (or the backend half of a `listen`).
#[derive(Debug)]
pub struct BackendRt {
    /// Section name.
    pub name: String,
    /// Proxy id.
    pub id: u32,
    /// `mode`.
    pub mode: Mode,
    /// Timeouts set in this section (or its defaults).
    pub timeouts: Timeouts,
    /// `retries`.
    pub retries: u32,
    /// `option redispatch` interval.
    pub redispatch: Option<i32>,
    /// `http-reuse`.
    pub http_reuse: HttpReuse,
    /// `option forwardfor` of the backend.
    pub forwardfor: Option<ForwardFor>,
    /// `option allbackups`.
    pub allbackups: bool,
    /// Server-side connection mode (`option http-server-close`/`httpclose` here too).
    pub http_conn_mode: HttpConnMode,
    /// Error pages used for errors this backend causes.
    pub errors: ErrorPages,
    /// Servers and balancing.
    pub lb: Backend,
    /// Whether a server is addressed by port offset (needs the client's destination port).
    pub needs_dst_port: bool,
    /// Connections open on this backend (`beconn`).
    pub beconn: AtomicUsize,
}

/// A `maxconn` limit: `None` is unlimited. Clones share the same slots.
#[derive(Debug, Clone)]
pub struct Limit(Option<Arc<Semaphore>>);

impl Limit {
    /// A limit of `n` connections, or none.
    pub fn new(n: Option<u32>) -> Limit {
        Limit(
            n.filter(|&n| n > 0)
                .map(|n| Arc::new(Semaphore::new(n as usize))),
        )
    }

    /// Waits for a free slot; the slot is held as long as the permit lives.
    pub async fn acquire(&self) -> Option<OwnedSemaphorePermit> {
        match &self.0 {
            // The semaphore is never closed, so acquire cannot fail.
            Some(s) => s.clone().acquire_owned().await.ok(),
            None => None,
        }
    }
}

impl Runtime {
    /// Compiles a validated configuration. `global_maxconn` overrides the config (`-n`).
    pub fn build(cfg: &Config, global_maxconn: Option<u32>) -> Result<Arc<Runtime>, String> {
        let settings = LoggerSettings {
            tag: cfg
                .global
                .log_tag
                .clone()
                .unwrap_or_else(|| LoggerSettings::default().tag),
            hostname: cfg.global.log_send_hostname.clone().map(|h| {
                if h.is_empty() {
                    crate::log::target::system_hostname()
                } else {
                    h
                }
            }),
            ..LoggerSettings::default()
        };
        let mut backends: HashMap<&str, Arc<BackendRt>> = HashMap::new();
        let mut backend_list = Vec::new();
        for p in cfg.proxies.iter().filter(|p| p.cap.backend && !p.disabled) {
            let b = Arc::new(BackendRt {
                name: p.name.clone(),
                id: p.id,
                mode: p.mode,
                timeouts: p.timeouts,
                retries: p.retries,
                redispatch: p.redispatch,
                http_reuse: p.http_reuse,
                forwardfor: p.forwardfor.clone(),
                allbackups: p.allbackups,
                http_conn_mode: p.http_conn_mode,
                errors: ErrorPages::build(&p.errorfiles)?,
                lb: Backend::new(p),
                needs_dst_port: p.servers.iter().any(|s| {
                    matches!(s.addr, crate::config::model::ServerAddr::InetPortOffset(..))
                }),
                beconn: AtomicUsize::new(0),
            });
            backends.insert(p.name.as_str(), b.clone());
            backend_list.push(b);
        }
        let mut frontends = Vec::new();
        for p in cfg.proxies.iter().filter(|p| p.cap.frontend && !p.disabled) {
            let lookup = |name: &str| {
                backends
                    .get(name)
                    .cloned()
                    .ok_or_else(|| format!("proxy '{}': no backend '{name}'", p.name))
            };
            let mut switching = Vec::with_capacity(p.use_backends.len());
            for u in &p.use_backends {
                switching.push((u.cond.clone(), lookup(&u.backend)?));
            }
            let backend = match p.default_backend.as_deref() {
                Some(name) => Some(lookup(name)?),
                None if p.cap.backend => Some(lookup(&p.name)?),
                None => None,
            };
            frontends.push(Arc::new(Frontend {
                name: p.name.clone(),
                id: p.id,
                mode: p.mode,
                timeouts: p.timeouts,
                maxconn: Limit::new(p.maxconn),
                needs_local: !switching.is_empty()
                    || !p.monitor_fail.is_empty()
                    || backend.as_ref().is_some_and(|b| b.needs_dst_port),
                switching,
                backend,
                monitor_fail: p.monitor_fail.clone(),
                forwardfor: p.forwardfor.clone(),
                http_conn_mode: p.http_conn_mode,
                monitor_uri: p.monitor_uri.clone(),
                errors: ErrorPages::build(&p.errorfiles)?,
                logger: logger(&p.logs, &settings)?,
                log_format: p.log_format,
                dontlognull: p.dontlognull,
                feconn: AtomicUsize::new(0),
                cum_conn: AtomicUsize::new(0),
            }));
        }
        let (stopping, _) = watch::channel(false);
        Ok(Arc::new(Runtime {
            frontends,
            backends: backend_list,
            maxconn: Limit::new(global_maxconn.or(cfg.global.maxconn)),
            actconn: AtomicUsize::new(0),
            idle: Notify::new(),
            stopping,
        }))
    }

    /// The frontend built from proxy `p`.
    pub fn frontend(&self, name: &str) -> Option<&Arc<Frontend>> {
        self.frontends.iter().find(|f| f.name == name)
    }

    /// Asks every listener to stop accepting (soft stop).
    pub fn stop_accepting(&self) {
        self.stopping.send_replace(true);
        crate::net::handover::withdraw();
    }

    /// Waits until no connection is open.
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.actconn.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Parses a proxy's `log` lines (with `log global` already expanded) into one logger.
fn logger(lines: &[LogLine], settings: &LoggerSettings) -> Result<Option<Logger>, String> {
    let mut targets: Vec<LogTarget> = Vec::with_capacity(lines.len());
    for l in lines {
        let args: Vec<&str> = l.args.iter().map(String::as_str).collect();
        match crate::log::parse_log_args(&args) {
            Ok(LogDirective::Target(t)) => targets.push(t),
            Ok(_) => {}
            Err(e) => return Err(format!("{}: {e}", l.loc)),
        }
    }
    if targets.is_empty() {
        return Ok(None);
    }
    let settings = LoggerSettings {
        line_len: crate::log::sink::max_syslog_len(&targets),
        ..settings.clone()
    };
    Logger::new(&targets, &settings)
        .map(Some)
        .map_err(|e| format!("{}: cannot open log target: {e}", lines[0].loc))
}

/// Checks every global `log` line (the per-proxy copies are checked when proxies are built).
pub fn check_global_logs(cfg: &Config) -> Vec<String> {
    cfg.global
        .logs
        .iter()
        .filter_map(|l| {
            let args: Vec<&str> = l.args.iter().map(String::as_str).collect();
            crate::log::parse_global_log_args(&args)
                .err()
                .map(|e| format!("{}: {e}", l.loc))
        })
        .collect()
}

impl Frontend {
    /// The backend for a stream: the first `use_backend` rule that matches, else the
    /// default one.
    pub fn choose_backend(&self, ctx: &dyn crate::sample::SampleCtx) -> Option<&Arc<BackendRt>> {
        self.switching
            .iter()
            .find(|(cond, _)| cond.as_ref().is_none_or(|c| c.eval(ctx)))
            .map(|(_, b)| b)
            .or(self.backend.as_ref())
    }

    /// Whether `monitor fail` says the service is down.
    pub fn monitor_failing(&self, ctx: &dyn crate::sample::SampleCtx) -> bool {
        self.monitor_fail.iter().any(|c| c.eval(ctx))
    }
}

/// Counts one open connection on the process and a frontend; undone on drop.
#[derive(Debug)]
pub struct ConnCount {
    rt: Arc<Runtime>,
    fe: Arc<Frontend>,
}

impl ConnCount {
    /// Counts a new connection.
    pub fn new(rt: Arc<Runtime>, fe: Arc<Frontend>) -> ConnCount {
        rt.actconn.fetch_add(1, Ordering::AcqRel);
        fe.feconn.fetch_add(1, Ordering::Relaxed);
        fe.cum_conn.fetch_add(1, Ordering::Relaxed);
        ConnCount { rt, fe }
    }

    /// The frontend the connection came in on.
    pub fn frontend(&self) -> &Arc<Frontend> {
        &self.fe
    }

    /// The runtime.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.rt
    }
}

impl Drop for ConnCount {
    fn drop(&mut self) {
        self.fe.feconn.fetch_sub(1, Ordering::Relaxed);
        if self.rt.actconn.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.rt.idle.notify_waiters();
        }
    }
}

/// haproxy's timeout fallbacks, resolved once.
pub fn effective(t: Option<Duration>, fallback: Option<Duration>) -> Option<Duration> {
    t.or(fallback)
}

/// Frontend and backend `option forwardfor`: the backend's wins, as in haproxy.
pub fn forwardfor<'a>(fe: &'a Frontend, be: &'a BackendRt) -> Option<&'a ForwardFor> {
    be.forwardfor.as_ref().or(fe.forwardfor.as_ref())
}

/// The stricter of the frontend's and backend's connection modes.
pub fn conn_mode(fe: &Frontend, be: &BackendRt) -> HttpConnMode {
    use HttpConnMode::*;
    match (fe.http_conn_mode, be.http_conn_mode) {
        (Close, _) | (_, Close) => Close,
        (ServerClose, _) | (_, ServerClose) => ServerClose,
        _ => KeepAlive,
    }
}
