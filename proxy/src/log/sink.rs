//! The sender: a [`Logger`] holds resolved targets and ships framed lines
//! without ever blocking the calling (event-loop) thread.
//!
//! - UDP and unix datagram targets use non-blocking sockets; a full socket
//!   buffer (`EAGAIN`) drops the line and counts it, as haproxy does.
//! - File descriptor targets (`stdout`, `stderr`, `fd@N`) go through one
//!   background writer thread per fd with a bounded in-memory queue: the
//!   caller only copies the line under a short mutex, and drops it when the
//!   queue is full. haproxy instead sets `O_NONBLOCK` on the fd; we avoid
//!   that because the flag lives on the shared open file description and
//!   would also affect our parent shell or other users of the same tty/pipe.
//! - Each line is framed into a thread-local buffer that is reused, so the
//!   steady state allocates nothing.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use super::connect::write_connect_line;
use super::fields::{LogAddr, LogFields};
use super::format::{frame, resolve_format, SyslogMeta, Transport};
use super::httplog::write_httplog;
use super::target::{Facility, Level, LogAddress, LogFormat, LogTarget, Sample, DEFAULT_MAX_LEN};
use super::tcplog::write_tcplog;

/// Bytes an fd writer may hold before new lines are dropped. Large enough
/// to absorb bursts while a terminal or pipe reader is slow.
const FD_QUEUE_BYTES: usize = 1 << 20;

/// Process-wide count of dropped lines, haproxy's `DroppedLogs`.
static DROPPED_LOGS: AtomicU64 = AtomicU64::new(0);

/// Lines dropped by every logger of the process because a socket buffer or
/// an fd queue was full (what haproxy reports as `DroppedLogs`).
pub fn dropped_logs() -> u64 {
    DROPPED_LOGS.load(Ordering::Relaxed)
}

/// The largest line a traffic log builder should produce for a set of
/// targets: haproxy's `global.max_syslog_len`, i.e. 1024 or the largest
/// `len` configured anywhere. Pass this to `write_tcplog`/`write_httplog`.
pub fn max_syslog_len<'a>(targets: impl IntoIterator<Item = &'a LogTarget>) -> usize {
    targets
        .into_iter()
        .map(|t| t.max_len)
        .fold(DEFAULT_MAX_LEN, usize::max)
}

/// Process-level settings shared by all targets of a logger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggerSettings {
    /// Tag (`log-tag`), "haproxy" by default so lines match haproxy's.
    pub tag: String,
    /// `log-send-hostname` value, `None` when not configured.
    pub hostname: Option<String>,
    /// Process id written in headers.
    pub pid: u32,
    /// Floor for [`Logger::max_line_len`]: haproxy builds every traffic
    /// line in one buffer sized by the largest `len` of the whole
    /// configuration, so set this to [`max_syslog_len`] over all targets
    /// (global and every proxy). Default 1024.
    pub line_len: usize,
}

impl Default for LoggerSettings {
    fn default() -> Self {
        LoggerSettings {
            tag: "haproxy".to_string(),
            hostname: None,
            pid: std::process::id(),
            line_len: DEFAULT_MAX_LEN,
        }
    }
}

/// Counters of one logger (shared by its clones).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Lines handed to a socket or queued for an fd.
    pub sent: u64,
    /// Lines dropped because the socket buffer or fd queue was full.
    pub dropped: u64,
    /// Lines lost to other errors (no syslog daemon, bad fd, ...).
    pub errors: u64,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    dropped: AtomicU64,
    errors: AtomicU64,
}

/// haproxy's per-logger sampling state (`struct smp_info`).
struct SampleState {
    sample: Sample,
    /// Index of the range currently being consumed.
    curr_rg: usize,
    /// Position in the sampling period, 0-based.
    curr_idx: u32,
    /// Per-range consumption counters.
    rg_idx: Vec<u32>,
}

impl SampleState {
    fn new(sample: Sample) -> Self {
        let n = sample.ranges.len();
        SampleState {
            sample,
            curr_rg: 0,
            curr_idx: 0,
            rg_idx: vec![0; n],
        }
    }

    /// Same algorithm as haproxy's `process_send_log()`: is the current
    /// message inside the current range, then advance.
    fn admit(&mut self) -> bool {
        let Some(rg) = self.sample.ranges.get(self.curr_rg).copied() else {
            return true;
        };
        let pos = self.curr_idx.saturating_add(1);
        let in_range = pos >= rg.low && pos <= rg.high;
        if in_range {
            // Saturating: Sample is public, so ranges may not be validated.
            let sz = rg.high.saturating_sub(rg.low).saturating_add(1);
            let Some(i) = self.rg_idx.get_mut(self.curr_rg) else {
                return true;
            };
            *i = i.saturating_add(1) % sz;
            if *i == 0 {
                self.curr_rg = (self.curr_rg + 1) % self.sample.ranges.len();
            }
        }
        self.curr_idx = (self.curr_idx + 1) % self.sample.size.max(1);
        in_range
    }
}

enum Out {
    Udp(Arc<UdpSocket>, SocketAddr),
    Unix(Arc<UnixDatagram>, PathBuf),
    Fd(Arc<FdWriter>),
}

struct Sender {
    out: Out,
    format: LogFormat,
    facility: Facility,
    level: Level,
    min_level: Level,
    max_len: usize,
    sample: Option<Mutex<SampleState>>,
}

struct Shared {
    senders: Vec<Sender>,
    hostname: Option<String>,
    pid: u32,
    max_len: usize,
    counters: Counters,
}

/// A set of resolved log targets plus the tag to use. Cheap to clone
/// (`Arc`), `Send + Sync`; [`Logger::log`] never blocks.
#[derive(Clone)]
pub struct Logger {
    shared: Arc<Shared>,
    tag: Arc<str>,
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger")
            .field("targets", &self.shared.senders.len())
            .field("tag", &self.tag)
            .finish()
    }
}

thread_local! {
    /// Reused framing buffer: one per thread, so no locking and no
    /// allocation once it has grown to the largest line.
    static FRAME_BUF: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(DEFAULT_MAX_LEN + 128));
    /// Reused buffer for building traffic lines before framing.
    static LINE_BUF: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(DEFAULT_MAX_LEN));
}

/// Runs `f` with the thread-local buffer `key`, or with a fresh one when
/// that is impossible (re-entrant use, or a call made while the thread's
/// locals are being destroyed), so logging never panics.
fn with_buf(key: &'static std::thread::LocalKey<RefCell<Vec<u8>>>, f: impl FnOnce(&mut Vec<u8>)) {
    let mut f = Some(f);
    let _ = key.try_with(|cell| {
        if let Ok(mut b) = cell.try_borrow_mut() {
            if let Some(f) = f.take() {
                f(&mut b);
            }
        }
    });
    // Still here with `f` unused: fall back to a temporary buffer.
    if let Some(f) = f.take() {
        f(&mut Vec::new());
    }
}

impl Logger {
    /// Opens sockets and fd writers for `targets`. Fails only if a socket
    /// cannot be created; unreachable destinations are counted as errors at
    /// send time, as haproxy does.
    pub fn new(targets: &[LogTarget], settings: &LoggerSettings) -> io::Result<Logger> {
        let hostname_set = settings.hostname.is_some();
        let mut senders = Vec::with_capacity(targets.len());
        for t in targets {
            let out = match &t.address {
                LogAddress::Udp(addr) => Out::Udp(shared_udp(addr.is_ipv4())?, *addr),
                LogAddress::Unix(path) => Out::Unix(shared_unix()?, path.clone()),
                LogAddress::Fd(fd) => Out::Fd(fd_writer(*fd)?),
            };
            senders.push(Sender {
                out,
                format: resolve_format(t.format, hostname_set),
                facility: t.facility,
                level: t.level,
                min_level: t.min_level,
                max_len: t.max_len,
                sample: t.sample.clone().map(|s| Mutex::new(SampleState::new(s))),
            });
        }
        Ok(Logger {
            shared: Arc::new(Shared {
                senders,
                hostname: settings.hostname.clone(),
                pid: settings.pid,
                max_len: max_syslog_len(targets).max(settings.line_len),
                counters: Counters::default(),
            }),
            tag: Arc::from(settings.tag.as_str()),
        })
    }

    /// The same targets with another tag (a proxy's `log-tag`).
    pub fn with_tag(&self, tag: &str) -> Logger {
        Logger {
            shared: Arc::clone(&self.shared),
            tag: Arc::from(tag),
        }
    }

    /// Whether there is no target at all (callers can skip building lines).
    pub fn is_empty(&self) -> bool {
        self.shared.senders.is_empty()
    }

    /// Maximum line length to build for this logger: 1024 or the largest
    /// `len` of its targets. See also [`max_syslog_len`].
    pub fn max_line_len(&self) -> usize {
        self.shared.max_len
    }

    /// Counters shared by this logger and its clones.
    pub fn stats(&self) -> LogStats {
        let c = &self.shared.counters;
        LogStats {
            sent: c.sent.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            errors: c.errors.load(Ordering::Relaxed),
        }
    }

    /// Sends `msg` at `level` to every target with the target's facility.
    pub fn log(&self, level: Level, msg: &[u8]) {
        self.log_with(level, None, None, msg);
    }

    /// Sends `msg` at `level`; `facility` overrides the targets' own
    /// facility, `structured_data` fills the rfc5424 SD field (`-` if
    /// `None`). Per target: skipped if `level` is less severe than its
    /// level, capped to its minimum level, subject to sampling, framed per
    /// its format and truncated to its `len`.
    pub fn log_with(
        &self,
        level: Level,
        facility: Option<Facility>,
        structured_data: Option<&str>,
        msg: &[u8],
    ) {
        let sh = &*self.shared;
        if sh.senders.is_empty() {
            return;
        }
        let meta = SyslogMeta {
            tag: &self.tag,
            pid: sh.pid,
            hostname: sh.hostname.as_deref(),
            structured_data,
        };
        let now = SystemTime::now();
        with_buf(&FRAME_BUF, |buf| {
            for s in &sh.senders {
                if level > s.level {
                    continue;
                }
                if let Some(sample) = &s.sample {
                    let admitted = match sample.lock() {
                        Ok(mut st) => st.admit(),
                        Err(poisoned) => poisoned.into_inner().admit(),
                    };
                    if !admitted {
                        continue;
                    }
                }
                let lvl = level.max(s.min_level);
                let fac = facility.unwrap_or(s.facility);
                let transport = match s.out {
                    Out::Fd(_) => Transport::Fd,
                    _ => Transport::Datagram,
                };
                buf.clear();
                frame(
                    buf, s.format, fac, lvl, &meta, now, msg, s.max_len, transport,
                );
                let res = match &s.out {
                    Out::Udp(sock, addr) => sock.send_to(buf, addr).map(|_| ()),
                    Out::Unix(sock, path) => sock.send_to(buf, path).map(|_| ()),
                    Out::Fd(w) => w.push(buf),
                };
                self.account(res);
            }
        });
    }

    /// Builds a line with `build` into the thread-local line buffer and
    /// sends it at `level`; skipped entirely when there is no target.
    fn send_built(&self, level: Level, build: impl FnOnce(&mut Vec<u8>)) {
        if self.is_empty() {
            return;
        }
        with_buf(&LINE_BUF, |b| {
            b.clear();
            build(b);
            self.log(level, b);
        });
    }

    /// Builds the `option tcplog` line for `f` (cut at
    /// [`Logger::max_line_len`]) and sends it at `level` (haproxy uses
    /// `info`, or `err` for errors with `option log-separate-errors`).
    pub fn send_tcplog(&self, level: Level, f: &LogFields<'_>) {
        let max = self.max_line_len();
        self.send_built(level, |b| write_tcplog(b, f, max));
    }

    /// Builds the `option httplog` line for `f` and sends it at `level`.
    pub fn send_httplog(&self, level: Level, f: &LogFields<'_>) {
        let max = self.max_line_len();
        self.send_built(level, |b| write_httplog(b, f, max));
    }

    /// Sends the default accept-time line (`Connect from ... (fe/TCP)`) at
    /// `info`, as haproxy does for frontends without a log format.
    /// `listener_id` is only printed when the client address is unknown.
    pub fn send_connect(
        &self,
        client: &LogAddr,
        frontend_addr: &LogAddr,
        frontend_name: &str,
        http: bool,
        listener_id: u32,
    ) {
        self.send_built(Level::Info, |b| {
            write_connect_line(b, client, frontend_addr, frontend_name, http, listener_id)
        });
    }

    fn account(&self, res: io::Result<()>) {
        let c = &self.shared.counters;
        match res {
            Ok(()) => {
                c.sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                c.dropped.fetch_add(1, Ordering::Relaxed);
                DROPPED_LOGS.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                c.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Waits up to `timeout` for the fd targets' queues to be written out
    /// (datagram targets have nothing pending). Returns whether everything
    /// was flushed. For shutdown and tests; never call it from an event loop.
    pub fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        self.shared.senders.iter().all(|s| match &s.out {
            Out::Fd(w) => w.wait_drained(deadline),
            _ => true,
        })
    }
}

/// Queue state of one fd writer.
struct FdQueue {
    buf: VecDeque<u8>,
    /// The writer thread holds bytes taken from `buf` not yet written.
    writing: bool,
}

/// Background writer for one file descriptor.
struct FdWriter {
    queue: Mutex<FdQueue>,
    /// Signals the writer that bytes are queued.
    ready: Condvar,
    /// Signals flushers that the queue became empty.
    drained: Condvar,
}

impl FdWriter {
    /// Queues one complete line, or reports `WouldBlock` when the queue is
    /// full so the caller counts a drop. Never waits except for the short
    /// critical section.
    fn push(&self, line: &[u8]) -> io::Result<()> {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if q.buf.len() + line.len() > FD_QUEUE_BYTES {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        q.buf.extend(line);
        drop(q);
        self.ready.notify_one();
        Ok(())
    }

    fn wait_drained(&self, deadline: Instant) -> bool {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        while !q.buf.is_empty() || q.writing {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            q = match self.drained.wait_timeout(q, deadline - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
        true
    }

    fn run(&self, fd: i32) {
        let mut chunk: Vec<u8> = Vec::with_capacity(64 * 1024);
        loop {
            {
                let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
                q.writing = false;
                while q.buf.is_empty() {
                    self.drained.notify_all();
                    q = self.ready.wait(q).unwrap_or_else(|p| p.into_inner());
                }
                chunk.clear();
                let (a, b) = q.buf.as_slices();
                chunk.extend_from_slice(a);
                chunk.extend_from_slice(b);
                q.buf.clear();
                q.writing = true;
            }
            // Errors (closed stdout, bad fd) lose this chunk; there is no
            // one to report to except the counters, which only see queueing.
            let _ = write_all_fd(fd, &chunk);
        }
    }
}

/// Blocking write of the whole buffer, on the writer thread only. Retries
/// on EINTR, and briefly sleeps on EAGAIN in case someone else made the fd
/// non-blocking.
fn write_all_fd(fd: i32, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        // SAFETY: data points to data.len() readable bytes.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1));
                    continue;
                }
                _ => return Err(e),
            }
        }
        data = &data[usize::try_from(n).unwrap_or(0).min(data.len())..];
    }
    Ok(())
}

/// One unconnected non-blocking UDP socket per address family for the whole
/// process (haproxy keeps one per thread and family): `sendto()` on a
/// shared socket is thread-safe, and this keeps the fd count flat however
/// many proxies copy the global targets.
fn shared_udp(v4: bool) -> io::Result<Arc<UdpSocket>> {
    static V4: Mutex<Option<Arc<UdpSocket>>> = Mutex::new(None);
    static V6: Mutex<Option<Arc<UdpSocket>>> = Mutex::new(None);
    let slot = if v4 { &V4 } else { &V6 };
    let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = slot.as_ref() {
        return Ok(Arc::clone(s));
    }
    let bind: SocketAddr = if v4 {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let s = UdpSocket::bind(bind)?;
    s.set_nonblocking(true)?;
    let s = Arc::new(s);
    *slot = Some(Arc::clone(&s));
    Ok(s)
}

/// Same for unix datagram targets (`/dev/log`).
fn shared_unix() -> io::Result<Arc<UnixDatagram>> {
    static SOCK: Mutex<Option<Arc<UnixDatagram>>> = Mutex::new(None);
    let mut slot = SOCK.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = slot.as_ref() {
        return Ok(Arc::clone(s));
    }
    let s = UnixDatagram::unbound()?;
    s.set_nonblocking(true)?;
    let s = Arc::new(s);
    *slot = Some(Arc::clone(&s));
    Ok(s)
}

/// One writer thread per fd for the whole process, shared by all loggers,
/// so lines from different proxies never interleave mid-line.
fn fd_writer(fd: i32) -> io::Result<Arc<FdWriter>> {
    static WRITERS: OnceLock<Mutex<HashMap<i32, Arc<FdWriter>>>> = OnceLock::new();
    let map = WRITERS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(w) = map.get(&fd) {
        return Ok(Arc::clone(w));
    }
    let w = Arc::new(FdWriter {
        queue: Mutex::new(FdQueue {
            buf: VecDeque::new(),
            writing: false,
        }),
        ready: Condvar::new(),
        drained: Condvar::new(),
    });
    let w2 = Arc::clone(&w);
    std::thread::Builder::new()
        .name(format!("log-fd{fd}"))
        .spawn(move || w2.run(fd))?;
    map.insert(fd, Arc::clone(&w));
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::target::{parse_log_args, LogDirective};
    use std::io::Read;
    use std::os::fd::FromRawFd;

    fn target(line: &str) -> LogTarget {
        match parse_log_args(&line.split_whitespace().collect::<Vec<_>>()) {
            Ok(LogDirective::Target(t)) => t,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn settings() -> LoggerSettings {
        LoggerSettings {
            tag: "haproxy".into(),
            hostname: None,
            pid: 4242,
            line_len: 1024,
        }
    }

    fn udp_server() -> UdpSocket {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    }

    fn recv(s: &UdpSocket) -> Vec<u8> {
        let mut b = [0u8; 70000];
        let n = s.recv(&mut b).expect("datagram");
        b[..n].to_vec()
    }

    fn assert_nothing(s: &UdpSocket) {
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut b = [0u8; 100];
        assert!(s.recv(&mut b).is_err(), "unexpected datagram");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    }

    #[test]
    fn sink_udp_real_socket() {
        let srv = udp_server();
        let port = srv.local_addr().unwrap().port();
        let t = target(&format!("127.0.0.1:{port} format rfc5424 local1"));
        let lg = Logger::new(&[t], &settings()).unwrap();
        lg.log(Level::Info, b"hello world\n");
        let got = recv(&srv);
        let s = String::from_utf8(got).unwrap();
        assert!(s.starts_with("<142>1 "), "{s}");
        assert!(s.ends_with(" - haproxy 4242 - - hello world\n"), "{s}");
        assert_eq!(lg.stats().sent, 1);
    }

    #[test]
    fn sink_udp_levels_minlevel_facility_and_len() {
        let srv = udp_server();
        let port = srv.local_addr().unwrap().port();
        let t = target(&format!(
            "127.0.0.1:{port} len 80 format priority local0 notice err"
        ));
        let lg = Logger::new(&[t], &settings()).unwrap();
        assert_eq!(lg.max_line_len(), 1024);
        lg.log(Level::Info, b"filtered out");
        lg.log(Level::Warning, b"warn");
        assert_eq!(recv(&srv), b"<132>warn\n");
        // emerg is capped to err (minimum level).
        lg.log(Level::Emerg, b"boom");
        assert_eq!(recv(&srv), b"<131>boom\n");
        lg.log_with(Level::Notice, Some(Facility::Daemon), None, b"fac");
        assert_eq!(recv(&srv), b"<29>fac\n");
        let long = vec![b'a'; 200];
        lg.log(Level::Notice, &long);
        let got = recv(&srv);
        assert_eq!(got.len(), 81);
        assert_eq!(&got[..6], b"<133>a");
        assert_nothing(&srv);
    }

    #[test]
    fn sink_udp_sampling_and_tag() {
        let srv = udp_server();
        let port = srv.local_addr().unwrap().port();
        let t = target(&format!(
            "127.0.0.1:{port} format local sample 1-2,5:6 local0"
        ));
        let lg = Logger::new(&[t], &settings()).unwrap().with_tag("fe");
        for i in 1..=12 {
            lg.log(Level::Info, format!("m{i}").as_bytes());
        }
        let mut got = Vec::new();
        for _ in 0..6 {
            let d = recv(&srv);
            let s = String::from_utf8(d).unwrap();
            assert!(s.contains(" fe[4242]: "), "{s}");
            got.push(s.rsplit(' ').next().unwrap().trim_end().to_string());
        }
        assert_eq!(got, ["m1", "m2", "m5", "m7", "m8", "m11"]);
        assert_nothing(&srv);
    }

    #[test]
    fn sink_hostname_switches_default_format() {
        let srv = udp_server();
        let port = srv.local_addr().unwrap().port();
        let t = target(&format!("127.0.0.1:{port} local3"));
        let st = LoggerSettings {
            hostname: Some("myhost".into()),
            ..settings()
        };
        let lg = Logger::new(&[t], &st).unwrap();
        lg.log(Level::Info, b"x");
        let s = String::from_utf8(recv(&srv)).unwrap();
        assert!(s.starts_with("<158>"), "{s}");
        assert!(s.ends_with(" myhost haproxy[4242]: x\n"), "{s}");
    }

    #[test]
    fn sink_fd_pipe() {
        let mut fds = [0i32; 2];
        // SAFETY: fds has room for the two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let t = target(&format!("fd@{} len 80 format raw daemon", fds[1]));
        let lg = Logger::new(&[t], &settings()).unwrap();
        lg.log(Level::Info, b"first");
        lg.log(Level::Info, &[b'z'; 100]);
        assert!(lg.flush(Duration::from_secs(5)));
        // SAFETY: we own the read end; the write end stays open (leaked)
        // because the process-wide writer for that fd number keeps using it.
        let mut r = unsafe { std::fs::File::from_raw_fd(fds[0]) };
        let mut got = vec![0u8; 6 + 80];
        r.read_exact(&mut got).unwrap();
        let mut want = b"first\n".to_vec();
        want.extend_from_slice(&[b'z'; 79]);
        want.push(b'\n');
        assert_eq!(got, want);
    }

    #[test]
    fn sink_unix_datagram() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.sock");
        let srv = UnixDatagram::bind(&path).unwrap();
        srv.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let t = target(&format!("{} format short user", path.display()));
        let lg = Logger::new(&[t], &settings()).unwrap();
        lg.log(Level::Err, b"unix works");
        let mut b = [0u8; 200];
        let n = srv.recv(&mut b).unwrap();
        assert_eq!(&b[..n], b"<3>unix works\n");
        // A missing socket is an error, not a panic nor a block.
        drop(srv);
        std::fs::remove_file(&path).unwrap();
        lg.log(Level::Err, b"lost");
        assert_eq!(lg.stats().errors, 1);
    }

    #[test]
    fn sink_udp_never_blocks_on_unread_receiver() {
        // A receiver that never reads: loopback UDP drops at the receiver,
        // so this mostly proves the sender stays non-blocking and that every
        // line is accounted for exactly once.
        let srv = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = srv.local_addr().unwrap().port();
        let t = target(&format!("127.0.0.1:{port} len 65535 format raw local0"));
        let lg = Logger::new(std::slice::from_ref(&t), &settings()).unwrap();
        // Loggers share the process-wide socket of the family.
        let lg2 = Logger::new(&[t], &settings()).unwrap();
        match (&lg.shared.senders[0].out, &lg2.shared.senders[0].out) {
            (Out::Udp(a, _), Out::Udp(b, _)) => assert!(Arc::ptr_eq(a, b)),
            _ => panic!("udp expected"),
        }
        let msg = vec![b'x'; 60000];
        let start = Instant::now();
        for _ in 0..50 {
            lg.log(Level::Info, &msg);
        }
        assert!(start.elapsed() < Duration::from_secs(5));
        let st = lg.stats();
        assert_eq!(st.sent + st.dropped + st.errors, 50);
    }

    #[test]
    fn sink_fd_full_queue_drops_without_blocking() {
        // Nobody reads this pipe: the writer thread blocks once the pipe
        // buffer is full, the 1 MiB queue fills, then lines are dropped
        // while the caller keeps returning at once.
        let mut fds = [0i32; 2];
        // SAFETY: fds has room for the two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let t = target(&format!("fd@{} len 65535 format raw daemon", fds[1]));
        let lg = Logger::new(&[t], &settings()).unwrap();
        let msg = vec![b'y'; 10_000];
        let before = dropped_logs();
        let start = Instant::now();
        for _ in 0..300 {
            lg.log(Level::Info, &msg);
        }
        assert!(start.elapsed() < Duration::from_secs(5));
        let st = lg.stats();
        assert_eq!(st.sent + st.dropped, 300);
        assert!(st.dropped > 0, "{st:?}");
        assert!(dropped_logs() >= before + st.dropped);
        // Both pipe ends stay open on purpose (the writer thread is parked
        // on this fd for the rest of the test process).
    }

    #[test]
    fn sink_logger_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<Logger>();
        let lg = Logger::new(&[], &settings()).unwrap();
        assert!(lg.is_empty());
        lg.log(Level::Info, b"nowhere");
        assert_eq!(lg.stats(), LogStats::default());
        assert!(lg.flush(Duration::from_millis(1)));
    }

    #[test]
    fn sink_send_traffic_lines() {
        let srv = udp_server();
        let port = srv.local_addr().unwrap().port();
        let t = target(&format!("127.0.0.1:{port} format raw local0"));
        let st = LoggerSettings {
            line_len: 2048,
            ..settings()
        };
        let lg = Logger::new(&[t], &st).unwrap();
        assert_eq!(lg.max_line_len(), 2048);
        let c = LogAddr::Inet("127.0.0.1:39218".parse().unwrap());
        let fa = LogAddr::Inet("127.0.0.1:5803".parse().unwrap());
        lg.send_connect(&c, &fa, "fdef", false, 1);
        assert_eq!(
            recv(&srv),
            b"Connect from 127.0.0.1:39218 to 127.0.0.1:5803 (fdef/TCP)\n"
        );
        let mut f = LogFields::new(SystemTime::now());
        f.client = c;
        f.frontend_name = "fe";
        f.backend_name = "be";
        f.server_name = Some("s1");
        lg.send_tcplog(Level::Info, &f);
        let s = String::from_utf8(recv(&srv)).unwrap();
        assert!(s.starts_with("127.0.0.1:39218 ["), "{s}");
        assert!(
            s.ends_with("] fe be/s1 -1/-1/-1 0 -- 0/0/0/0/0 0/0\n"),
            "{s}"
        );
        f.request_line = Some(b"GET / HTTP/1.1");
        lg.send_httplog(Level::Info, &f);
        let s = String::from_utf8(recv(&srv)).unwrap();
        assert!(s.ends_with(" \"GET / HTTP/1.1\"\n"), "{s}");
    }

    #[test]
    fn sink_max_syslog_len() {
        let a = target("127.0.0.1 len 100 local0");
        let b = target("127.0.0.1 len 4000 local0");
        assert_eq!(max_syslog_len([&a]), 1024);
        assert_eq!(max_syslog_len([&a, &b]), 4000);
    }

    #[test]
    fn sink_sample_state_matches_haproxy_algorithm() {
        let mut st = SampleState::new(Sample {
            ranges: vec![crate::log::target::SampleRange { low: 2, high: 3 }],
            size: 4,
        });
        let admitted: Vec<bool> = (0..8).map(|_| st.admit()).collect();
        assert_eq!(
            admitted,
            [false, true, true, false, false, true, true, false]
        );
    }
}
