//! Startup: command line → configuration → runtime → listeners → workers, then signals.
//! Errors before the workers start are printed and turn into exit code 1, like haproxy.

use std::sync::Arc;

use crate::args::Args;
use crate::config::{self, Config, Diag, Severity};
use crate::net::listener::bind_all;
use crate::runtime::{Limit, Runtime};
use crate::worker::{self, WorkerListeners};

/// Runs `fulcrum` with the given command line; returns the process exit code.
pub fn main(argv: Vec<String>) -> i32 {
    let args = match Args::parse(argv.clone()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("[ALERT] {e}\n{}", crate::args::USAGE);
            return 1;
        }
    };
    if args.version > 0 {
        print!(
            "{}",
            if args.version > 1 {
                crate::version::long()
            } else {
                crate::version::short()
            }
        );
        return 0;
    }
    let features = crate::version::features();
    if let Some(expr) = &args.check_condition {
        return match config::eval_condition_str(expr, &features) {
            Ok(true) => 0,
            Ok(false) => 1,
            Err(e) => {
                eprintln!("[ALERT] Failed to evaluate condition: {e}");
                2
            }
        };
    }
    if let Some(dir) = &args.chdir {
        if let Err(e) = std::env::set_current_dir(dir) {
            eprintln!("[ALERT] Cannot chdir to {}: {e}", dir.display());
            return 1;
        }
    }
    if args.debug {
        crate::debug::enable();
    }
    // haproxy presets these before parsing so that configs can use them.
    let localpeer = args
        .local_peer
        .clone()
        .unwrap_or_else(crate::log::target::system_hostname);
    std::env::set_var("HAPROXY_LOCALPEER", localpeer);
    let files: Vec<String> = args
        .config_files
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    std::env::set_var("HAPROXY_CFGFILES", files.join(";"));
    let (cfg, diags) = config::load(&args.config_files, &config::ProcessEnv, &features);
    report(&diags, &args);
    let Some(cfg) = cfg else {
        if !diags.iter().any(Diag::is_error) {
            eprintln!("[ALERT] configuration could not be loaded");
        }
        eprintln!("[ALERT] Fatal errors found in configuration.");
        return 1;
    };
    let has_listener = !cfg.global.stats_sockets.is_empty()
        || cfg
            .proxies
            .iter()
            .any(|p| p.cap.frontend && !p.disabled && !p.binds.is_empty());
    if args.check_only {
        if !late_checks(&cfg, &args) {
            return 1;
        }
        if !has_listener {
            println!(
                "Configuration file has no error but will not start (no listener) => exit(2)."
            );
            return 2;
        }
        if !args.quiet {
            println!("Configuration file is valid");
        }
        return 0;
    }
    if !has_listener {
        eprintln!("[ALERT] No enabled listener found (check for 'bind' directives) ! Exiting.");
        return 1;
    }
    if (args.master_worker || cfg.global.master_worker) && !crate::master::is_worker() {
        return start_master(&cfg, &args, argv);
    }
    start(cfg, &args)
}

/// What the parser leaves to the runtime (log targets, error files), checked so that `-c`
/// and the master find everything a start would. Prints the errors.
fn late_checks(cfg: &Config, args: &Args) -> bool {
    let mut late = crate::runtime::check_global_logs(cfg);
    if let Err(e) = Runtime::build(cfg, args.maxconn) {
        late.push(e);
    }
    for e in &late {
        eprintln!("{e}");
    }
    if !late.is_empty() {
        eprintln!("[ALERT] Fatal errors found in configuration.");
    }
    late.is_empty()
}

/// Goes to the background when asked (`-D`, `daemon`), unless `-db`/`-d` or this is a
/// master's worker.
fn detach(cfg: &Config, args: &Args) -> Result<Option<crate::process::Detach>, i32> {
    let daemon = (args.daemon || cfg.global.daemon)
        && !args.no_background
        && !args.debug
        && !crate::master::is_worker();
    if !daemon {
        return Ok(None);
    }
    crate::process::daemonize().map(Some).map_err(|e| {
        eprintln!("[ALERT] cannot go to the background: {e}");
        1
    })
}

/// Writes the pid file (not in a master's worker: the master owns it) and lets the parent
/// of a daemon exit.
fn started(cfg: &Config, args: &Args, detach: Option<crate::process::Detach>) -> Result<(), i32> {
    if let Some(path) = args
        .pidfile
        .as_ref()
        .or(cfg.global.pidfile.as_ref())
        .filter(|_| !crate::master::is_worker())
    {
        if let Err(e) = crate::process::write_pidfile(path) {
            eprintln!("[ALERT] cannot write pid file {}: {e}", path.display());
            return Err(1);
        }
    }
    if let Some(d) = detach {
        if let Err(e) = d.done() {
            eprintln!("[ALERT] cannot detach: {e}");
            return Err(1);
        }
    }
    Ok(())
}

/// Master-worker mode: the master detaches if asked, owns the pid file, runs the workers.
fn start_master(cfg: &Config, args: &Args, argv: Vec<String>) -> i32 {
    let detach = match detach(cfg, args) {
        Ok(d) => d,
        Err(code) => return code,
    };
    if !late_checks(cfg, args) {
        return 1;
    }
    if let Err(code) = started(cfg, args, detach) {
        return code;
    }
    crate::master::run(argv)
}

/// Prints diagnostics the way the flags ask: errors always, warnings unless `-q`, `.diag`
/// messages only with `-dD`.
fn report(diags: &[Diag], args: &Args) {
    for d in diags {
        let show = match d.severity {
            Severity::Alert => true,
            Severity::Warning | Severity::Notice => !args.quiet,
            Severity::Diag => args.diag,
        };
        if show {
            eprintln!("{d}");
        }
    }
}

fn start(cfg: Config, args: &Args) -> i32 {
    let detach = match detach(&cfg, args) {
        Ok(d) => d,
        Err(code) => return code,
    };
    // The sockets of the processes this one replaces, so no queued connection is lost.
    let mut handed = Vec::new();
    for &pid in args.soft_finish.iter().chain(&args.terminate) {
        match crate::net::handover::fetch(pid) {
            Ok(mut h) => handed.append(&mut h),
            Err(e) if !args.quiet => {
                eprintln!("[WARNING] could not take over the listeners of pid {pid}: {e}; binding new ones")
            }
            Err(_) => {}
        }
    }
    let bound = match Bound::new(&cfg, args.maxconn, handed) {
        Ok(b) => b,
        Err(errors) => {
            for e in errors {
                eprintln!("[ALERT] {e}");
            }
            return 1;
        }
    };
    let cli = match crate::cli::bind(&cfg.global.stats_sockets, cfg.global.stats_timeout) {
        Ok(c) => c,
        Err(errors) => {
            for e in errors {
                eprintln!("[ALERT] {e}");
            }
            return 1;
        }
    };
    if let Err(e) = cli.serve() {
        eprintln!("[ALERT] cannot start the stats socket thread: {e}");
        return 1;
    }
    if let Err(e) = crate::net::handover::serve(bound.handover_fds()) {
        eprintln!("[WARNING] reloads will bind new sockets: cannot offer ours: {e}");
    }
    // The pid file exists before the first connection is served (scripts wait for the port,
    // then read the pid); the sockets are bound, so early connections just queue.
    if let Err(code) = started(&cfg, args, detach) {
        return code;
    }
    let running = bound.run();
    // We listen now: the old processes of a reload can let go.
    crate::process::signal_old(&args.soft_finish, &args.terminate);
    crate::process::wait_for_signals(running.rt.clone(), cfg.global.hard_stop_after)
}

/// A configuration with its runtime built and every listener bound, workers not started yet
/// (daemon mode forks in between).
#[derive(Debug)]
pub struct Bound {
    rt: Arc<Runtime>,
    listeners: Vec<WorkerListeners>,
    /// Each frontend's bound IP addresses (port 0 resolved), for tests and logs.
    pub addrs: Vec<(String, std::net::SocketAddr)>,
}

/// Workers running a configuration.
#[derive(Debug)]
pub struct Running {
    /// The shared runtime (counters, soft stop).
    pub rt: Arc<Runtime>,
    /// Each frontend's bound IP addresses.
    pub addrs: Vec<(String, std::net::SocketAddr)>,
    /// The worker threads.
    pub threads: Vec<std::thread::JoinHandle<()>>,
}

impl Bound {
    /// Builds the runtime and binds all listeners; every failure is reported.
    pub fn new(
        cfg: &Config,
        maxconn: Option<u32>,
        handed: Vec<crate::net::handover::Handed>,
    ) -> Result<Bound, Vec<String>> {
        let rt = Runtime::build(cfg, maxconn).map_err(|e| vec![e])?;
        let workers = cfg
            .global
            .nbthread
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1);
        let listeners = bind_listeners(cfg, &rt, workers, handed)?;
        let addrs = listeners
            .first()
            .map(|w| {
                w.iter()
                    .filter_map(|(fe, _, l)| Some((fe.name.clone(), l.local_addr()?)))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Bound {
            rt,
            listeners,
            addrs,
        })
    }

    /// Copies of every listening socket with its handover key, for a successor.
    pub fn handover_fds(&self) -> Vec<(String, std::os::fd::OwnedFd)> {
        let mut out = Vec::new();
        for w in &self.listeners {
            for (_, _, l) in w {
                let (Some(key), Ok(fd)) = (l.handover_key(), l.dup_fd()) else {
                    continue;
                };
                out.push((key, fd));
            }
        }
        out
    }

    /// Starts the workers.
    pub fn run(self) -> Running {
        let threads = worker::start(self.rt.clone(), self.listeners);
        Running {
            rt: self.rt,
            addrs: self.addrs,
            threads,
        }
    }
}

impl Running {
    /// The first address the frontend `name` listens on.
    pub fn addr(&self, name: &str) -> Option<std::net::SocketAddr> {
        self.addrs.iter().find(|(n, _)| n == name).map(|(_, a)| *a)
    }
}

/// Binds every address of every `bind` line, collecting all failures (`file:line: ...`).
fn bind_listeners(
    cfg: &Config,
    rt: &Arc<Runtime>,
    workers: usize,
    handed: Vec<crate::net::handover::Handed>,
) -> Result<Vec<WorkerListeners>, Vec<String>> {
    let mut handed: std::collections::HashMap<String, Vec<std::os::fd::OwnedFd>> =
        handed.into_iter().fold(Default::default(), |mut m, h| {
            m.entry(h.key).or_default().push(h.fd);
            m
        });
    let mut per_worker: Vec<WorkerListeners> = (0..workers).map(|_| Vec::new()).collect();
    let mut errors = Vec::new();
    for p in cfg.proxies.iter().filter(|p| p.cap.frontend && !p.disabled) {
        let Some(fe) = rt.frontend(&p.name) else {
            continue;
        };
        for b in &p.binds {
            let limit = Limit::new(b.maxconn);
            for addr in &b.addrs {
                let inherited = crate::net::listener::handover_key(addr)
                    .and_then(|k| handed.remove(&k))
                    .unwrap_or_default();
                match bind_all(b, addr, workers, inherited) {
                    Ok(socks) => {
                        for (w, list) in socks.into_iter().enumerate() {
                            for s in list {
                                per_worker[w].push((fe.clone(), limit.clone(), s));
                            }
                        }
                    }
                    Err(e) => errors.push(format!(
                        "{}: proxy '{}': cannot bind socket ({}) for {}",
                        b.loc,
                        p.name,
                        e,
                        crate::net::listener::describe(addr)
                    )),
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(per_worker)
    } else {
        Err(errors)
    }
}
