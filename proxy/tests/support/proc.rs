//! Runs the real `fulcrum` binary (or `haproxy`, for comparison) on a config written to a
//! tempdir, on fresh loopback ports, and stops it on drop.
//!
//! Config templates use placeholders replaced before the file is written:
//! `{{P0}}`..`{{P9}}`: free TCP ports on 127.0.0.1 (picked by binding port 0 and dropping),
//! `{{DIR}}`: the tempdir of this run (for unix sockets, pid files, error files).

use std::fs;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// Which program runs the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The binary under test.
    Fulcrum,
    /// Debian's haproxy 2.6, the reference.
    Haproxy,
}

/// Where haproxy lives (CI installs it).
pub const HAPROXY: &str = "/usr/sbin/haproxy";

impl Kind {
    /// The program path. Panics loudly when haproxy is missing: comparisons must not skip.
    pub fn bin(self) -> PathBuf {
        match self {
            Kind::Fulcrum => PathBuf::from(env!("CARGO_BIN_EXE_fulcrum")),
            Kind::Haproxy => {
                let p = PathBuf::from(HAPROXY);
                assert!(
                    p.exists(),
                    "{HAPROXY} is not installed: the comparison tests need haproxy 2.6"
                );
                p
            }
        }
    }
}

/// Returns a port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A config rendered in its own tempdir.
pub struct Rendered {
    /// The tempdir (kept alive as long as this value).
    pub dir: tempfile::TempDir,
    /// The config file.
    pub cfg: PathBuf,
    /// The ports that replaced `{{P0}}`...
    pub ports: Vec<u16>,
}

/// Writes `tpl` to `DIR/haproxy.cfg` with placeholders replaced.
pub fn render(tpl: &str) -> Rendered {
    let dir = tempfile::tempdir().unwrap();
    let mut text = tpl.replace("{{DIR}}", dir.path().to_str().unwrap());
    let mut ports = Vec::new();
    for i in 0..10 {
        let ph = format!("{{{{P{i}}}}}");
        let p = free_port();
        ports.push(p);
        text = text.replace(&ph, &p.to_string());
    }
    let cfg = dir.path().join("haproxy.cfg");
    fs::write(&cfg, text).unwrap();
    Rendered { dir, cfg, ports }
}

/// A running proxy process. Killed on drop (SIGTERM, then SIGKILL).
pub struct Proxy {
    /// Which program.
    pub kind: Kind,
    /// The process.
    pub child: Option<Child>,
    /// Tempdir, config and ports.
    pub r: Rendered,
    stdout: PathBuf,
    stderr: PathBuf,
}

/// Options of [`Proxy::start_opts`].
#[derive(Default, Clone)]
pub struct Opts {
    /// Extra arguments after `-db -f CFG` (or instead of `-db` when `no_db`).
    pub args: Vec<String>,
    /// Do not pass `-db`.
    pub no_db: bool,
    /// Do not wait for `{{P0}}` to answer.
    pub no_wait: bool,
    /// Sockets passed to the child as the same fd numbers (cleared FD_CLOEXEC).
    pub pass_fds: Vec<i32>,
}

impl Proxy {
    /// Starts `kind` on `tpl` in the foreground and waits for `{{P0}}` to accept.
    pub fn start(kind: Kind, tpl: &str) -> Proxy {
        Proxy::start_opts(kind, tpl, Opts::default())
    }

    /// Starts with options.
    pub fn start_opts(kind: Kind, tpl: &str, o: Opts) -> Proxy {
        let r = render(tpl);
        Proxy::spawn(kind, r, o)
    }

    /// Starts on an already rendered config.
    pub fn spawn(kind: Kind, r: Rendered, o: Opts) -> Proxy {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let stamp = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let stdout = r.dir.path().join(format!("stdout-{kind:?}-{stamp}"));
        let stderr = r.dir.path().join(format!("stderr-{kind:?}-{stamp}"));
        let mut cmd = Command::new(kind.bin());
        if !o.no_db {
            cmd.arg("-db");
        }
        cmd.arg("-f").arg(&r.cfg).args(&o.args);
        cmd.current_dir(r.dir.path());
        cmd.stdin(Stdio::null())
            .stdout(fs::File::create(&stdout).unwrap())
            .stderr(fs::File::create(&stderr).unwrap());
        let fds = o.pass_fds.clone();
        // SAFETY: only async-signal-safe libc calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                for &fd in &fds {
                    let fl = libc::fcntl(fd, libc::F_GETFD);
                    if fl < 0 || libc::fcntl(fd, libc::F_SETFD, fl & !libc::FD_CLOEXEC) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        let mut p = Proxy {
            kind,
            child: Some(child),
            r,
            stdout,
            stderr,
        };
        if !o.no_wait {
            p.wait_port(p.port(0));
        }
        p
    }

    /// The port that replaced `{{Pi}}`.
    pub fn port(&self, i: usize) -> u16 {
        self.r.ports[i]
    }

    /// `127.0.0.1:{{Pi}}`.
    pub fn addr(&self, i: usize) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port(i)))
    }

    /// The tempdir.
    pub fn dir(&self) -> &Path {
        self.r.dir.path()
    }

    /// The process id.
    pub fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    /// Waits until 127.0.0.1:port accepts, or panics with the process output after 5 s.
    pub fn wait_port(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            if let Some(st) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "{:?} exited ({st}) before listening on {port}\nstdout:\n{}\nstderr:\n{}",
                    self.kind,
                    self.stdout(),
                    self.stderr()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "{:?} does not listen on {port} after 5 s\nstderr:\n{}",
                    self.kind,
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// What the process wrote to stdout so far.
    pub fn stdout(&self) -> String {
        fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits for stdout to contain at least `n` lines (logs are written asynchronously).
    pub fn wait_stdout_lines(&self, n: usize, max: Duration) -> String {
        let deadline = Instant::now() + max;
        loop {
            let s = self.stdout();
            if s.lines().count() >= n || Instant::now() > deadline {
                return s;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a signal.
    pub fn signal(&self, sig: i32) {
        // SAFETY: plain kill(2) on our own child.
        unsafe {
            libc::kill(self.pid(), sig);
        }
    }

    /// Waits for the process to exit, up to `max`.
    pub fn wait_exit(&mut self, max: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + max;
        loop {
            if let Some(st) = self.child.as_mut().unwrap().try_wait().unwrap() {
                return Some(st);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            if c.try_wait().ok().flatten().is_none() {
                // SAFETY: kill(2) on our own child.
                unsafe {
                    libc::kill(c.id() as i32, libc::SIGTERM);
                }
                let deadline = Instant::now() + Duration::from_secs(1);
                while Instant::now() < deadline {
                    if c.try_wait().ok().flatten().is_some() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

/// Runs the same scenario against fulcrum and haproxy (each on fresh ports and its own
/// tempdir) and returns both results: `(fulcrum, haproxy)`.
pub fn run_both<T>(tpl: &str, f: impl Fn(&Proxy) -> T) -> (T, T) {
    let a = {
        let p = Proxy::start(Kind::Fulcrum, tpl);
        f(&p)
    };
    let b = {
        let p = Proxy::start(Kind::Haproxy, tpl);
        f(&p)
    };
    (a, b)
}

/// Runs `kind` with `args` to completion (for `-v`, `-c`...), 10 s at most.
pub fn run_cmd(kind: Kind, args: &[&str], cwd: &Path) -> Output {
    let mut c = Command::new(kind.bin())
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if c.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = c.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut out = Output {
        status: c.wait().unwrap(),
        stdout: Vec::new(),
        stderr: Vec::new(),
    };
    c.stdout
        .take()
        .unwrap()
        .read_to_end(&mut out.stdout)
        .unwrap();
    c.stderr
        .take()
        .unwrap()
        .read_to_end(&mut out.stderr)
        .unwrap();
    out
}

/// Whether a process exists and is not a zombie (daemons are reparented to an init that
/// may not reap them).
pub fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X')),
        Err(_) => false,
    }
}
