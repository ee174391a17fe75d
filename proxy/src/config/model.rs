//! The typed configuration: what haproxy.cfg says, parsed once and validated, with no strings
//! left to interpret at run time. Everything the data path needs is here; everything that is
//! here is implemented (what is not is refused by the parser).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::diag::Loc;

/// A whole configuration: the `global` section and every proxy, in file order.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The `global` section (merged when several are given, as haproxy does).
    pub global: Global,
    /// Frontends, backends and listens, in the order they were declared.
    pub proxies: Vec<Proxy>,
}

impl Config {
    /// The proxy named `name` that can act as a backend.
    pub fn backend(&self, name: &str) -> Option<&Proxy> {
        self.proxies
            .iter()
            .find(|p| p.cap.backend && p.name == name)
    }
}

/// The `global` section.
#[derive(Debug, Clone, Default)]
pub struct Global {
    /// `nbthread`: worker threads; `None` means one per core.
    pub nbthread: Option<usize>,
    /// `maxconn`: concurrent connections for the whole process.
    pub maxconn: Option<u32>,
    /// `daemon`.
    pub daemon: bool,
    /// `master-worker`.
    pub master_worker: bool,
    /// `pidfile`.
    pub pidfile: Option<PathBuf>,
    /// `log` lines, in order.
    pub logs: Vec<LogLine>,
    /// `log-tag` (default: the program name).
    pub log_tag: Option<String>,
    /// `log-send-hostname [NAME]`: `Some("")` means the system hostname.
    pub log_send_hostname: Option<String>,
    /// `stats socket` lines.
    pub stats_sockets: Vec<StatsSocket>,
    /// `stats timeout` for the runtime API sockets.
    pub stats_timeout: Option<Duration>,
    /// `hard-stop-after`: how long a soft-stopping process may keep old connections.
    pub hard_stop_after: Option<Duration>,
    /// `node`.
    pub node: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `uid`/`user`, `gid`/`group`: privileges to drop to after binding.
    pub uid: Option<u32>,
    /// See `uid`.
    pub gid: Option<u32>,
    /// `chroot`.
    pub chroot: Option<PathBuf>,
}

/// One `log` line as written (the target itself is parsed by the log module).
#[derive(Debug, Clone)]
pub struct LogLine {
    /// Where it was written, for errors found when opening the target.
    pub loc: Loc,
    /// The words after `log`.
    pub args: Vec<String>,
}

/// A `stats socket` line.
#[derive(Debug, Clone)]
pub struct StatsSocket {
    /// Where it was written.
    pub loc: Loc,
    /// The address: a unix path or `ipv4@`/`ipv6@`/`IP:PORT`.
    pub addr: BindAddr,
    /// `level user|operator|admin`.
    pub level: CliLevel,
    /// `mode` for the unix socket file, octal.
    pub mode: Option<u32>,
    /// `user`/`uid` owner of the unix socket file.
    pub uid: Option<u32>,
    /// `group`/`gid` owner of the unix socket file.
    pub gid: Option<u32>,
}

/// Runtime-API privilege level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum CliLevel {
    /// Read-only, no sensitive data.
    User,
    /// Read-only plus non-sensitive changes (the default).
    #[default]
    Operator,
    /// Everything.
    Admin,
}

/// What a proxy section can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// Accepts connections (`frontend`, `listen`).
    pub frontend: bool,
    /// Holds servers (`backend`, `listen`).
    pub backend: bool,
}

/// `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Layer 4: bytes both ways.
    #[default]
    Tcp,
    /// Layer 7: HTTP/1.1 parsed and forwarded.
    Http,
}

/// A `frontend`, `backend` or `listen` section, with its `defaults` already applied.
#[derive(Debug, Clone)]
pub struct Proxy {
    /// The section's name.
    pub name: String,
    /// Where the section starts.
    pub loc: Loc,
    /// Frontend and/or backend.
    pub cap: Capabilities,
    /// `id` (assigned in declaration order from 1 when not set, as haproxy does).
    pub id: u32,
    /// `mode`.
    pub mode: Mode,
    /// `disabled`.
    pub disabled: bool,
    /// `maxconn` (frontend side).
    pub maxconn: Option<u32>,
    /// `bind` lines.
    pub binds: Vec<Bind>,
    /// Every `timeout`.
    pub timeouts: Timeouts,
    /// `log` lines of this proxy (`log global` expanded to the global ones).
    pub logs: Vec<LogLine>,
    /// `option tcplog`, `option httplog [clf]`, or neither.
    pub log_format: LogFormatKind,
    /// `option dontlognull`.
    pub dontlognull: bool,
    /// `option forwardfor`.
    pub forwardfor: Option<ForwardFor>,
    /// `option http-keep-alive` / `httpclose` / `http-server-close`.
    pub http_conn_mode: HttpConnMode,
    /// `http-reuse`.
    pub http_reuse: HttpReuse,
    /// `monitor-uri`.
    pub monitor_uri: Option<String>,
    /// `monitor fail if|unless COND` lines: any that matches makes `monitor-uri` answer 503.
    pub monitor_fail: Vec<crate::acl::Condition>,
    /// `errorfile CODE FILE`: the raw HTTP response to send, read at parse time.
    pub errorfiles: BTreeMap<u16, Vec<u8>>,
    /// `default_backend`.
    pub default_backend: Option<String>,
    /// `use_backend` lines, in order (conditions arrive with the ACL engine).
    pub use_backends: Vec<UseBackend>,
    /// `balance`.
    pub balance: Balance,
    /// `hash-type`.
    pub hash_type: HashType,
    /// `retries` (default 3).
    pub retries: u32,
    /// `option redispatch [INTERVAL]`: `Some(n)`, n > 0 redispatches on every n-th retry,
    /// n < 0 on the (-n)-th retry before the last (plain `option redispatch` is -1).
    pub redispatch: Option<i32>,
    /// `option allbackups`.
    pub allbackups: bool,
    /// `option persist`.
    pub persist: bool,
    /// `fullconn`.
    pub fullconn: Option<u32>,
    /// `server` lines with `default-server` applied.
    pub servers: Vec<Server>,
}

/// Which built-in log line a proxy emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormatKind {
    /// No option: haproxy's short "Connect from" line.
    #[default]
    Default,
    /// `option tcplog`.
    Tcp,
    /// `option httplog`.
    Http,
    /// `option httplog clf`.
    HttpClf,
}

/// The timeouts a proxy carries; `None` means "not set" (haproxy then waits forever and warns).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// `timeout client`.
    pub client: Option<Duration>,
    /// `timeout client-fin`.
    pub client_fin: Option<Duration>,
    /// `timeout server`.
    pub server: Option<Duration>,
    /// `timeout server-fin`.
    pub server_fin: Option<Duration>,
    /// `timeout connect`.
    pub connect: Option<Duration>,
    /// `timeout tunnel`.
    pub tunnel: Option<Duration>,
    /// `timeout http-request`.
    pub http_request: Option<Duration>,
    /// `timeout http-keep-alive`.
    pub http_keep_alive: Option<Duration>,
    /// `timeout queue`.
    pub queue: Option<Duration>,
    /// `timeout check` (used by the health-check issue).
    pub check: Option<Duration>,
}

/// `option forwardfor [except NET] [header NAME] [if-none]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardFor {
    /// Header name (default `X-Forwarded-For`).
    pub header: String,
    /// Clients in this network get no header.
    pub except: Option<IpNet>,
    /// Only add the header when the request has none.
    pub if_none: bool,
}

/// An IPv4 or IPv6 network (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    /// Network address.
    pub addr: std::net::IpAddr,
    /// Prefix length.
    pub prefix: u8,
}

impl IpNet {
    /// Whether `ip` is inside this network (IPv4-mapped IPv6 clients match IPv4 networks).
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let bits = u32::from(self.prefix.min(32));
                let mask = if bits == 0 {
                    0
                } else {
                    u32::MAX << (32 - bits)
                };
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let bits = u32::from(self.prefix.min(128));
                let mask = if bits == 0 {
                    0
                } else {
                    u128::MAX << (128 - bits)
                };
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// How client-side HTTP connections live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpConnMode {
    /// `option http-keep-alive` (default): both sides stay open.
    #[default]
    KeepAlive,
    /// `option http-server-close`: client side kept, server side closed after each response.
    ServerClose,
    /// `option httpclose`: both sides closed after each exchange.
    Close,
}

/// `http-reuse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpReuse {
    /// Never share an idle server connection.
    Never,
    /// Default: reuse for a connection's first request only when it is idempotent-safe.
    #[default]
    Safe,
    /// `aggressive`: as safe, plus connections that were reused once.
    Aggressive,
    /// Always reuse.
    Always,
}

/// A `use_backend` line.
#[derive(Debug, Clone)]
pub struct UseBackend {
    /// Where it was written.
    pub loc: Loc,
    /// The backend name.
    pub backend: String,
    /// `if`/`unless` condition; `None` always matches.
    pub cond: Option<crate::acl::Condition>,
}

/// `balance`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Balance {
    /// `roundrobin` (default): weighted, dynamic.
    #[default]
    RoundRobin,
    /// `static-rr`.
    StaticRr,
    /// `leastconn`.
    LeastConn,
    /// `first`.
    First,
    /// `source`.
    Source,
    /// `uri [len N] [depth N] [whole] [path-only]`.
    Uri {
        /// Only the first `len` characters are hashed (0 = all).
        len: u32,
        /// Only the first `depth` directories are hashed (0 = all).
        depth: u32,
        /// Hash the query string too.
        whole: bool,
        /// Hash the path only, not the authority of absolute URIs.
        path_only: bool,
    },
    /// `url_param NAME [check_post]`.
    UrlParam {
        /// The query-string parameter.
        name: String,
    },
    /// `hdr(NAME) [use_domain_only]`.
    Hdr {
        /// The header.
        name: String,
        /// Hash only the domain part of a host-like value.
        use_domain_only: bool,
    },
    /// `random[(DRAWS)]`: the least loaded of DRAWS random picks (default 2).
    Random {
        /// How many servers are drawn.
        draws: u32,
    },
}

/// `hash-type METHOD [FUNCTION] [MODIFIER]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HashType {
    /// map-based (default) or consistent.
    pub method: HashMethod,
    /// sdbm (default), djb2, wt6, crc32.
    pub function: HashFunction,
    /// `avalanche`.
    pub avalanche: bool,
}

/// Hash method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HashMethod {
    /// Modulo over the weighted server table.
    #[default]
    MapBased,
    /// A hash ring: few keys move when a server changes.
    Consistent,
}

/// Hash function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HashFunction {
    /// `sdbm` (default).
    #[default]
    Sdbm,
    /// `djb2`.
    Djb2,
    /// `wt6`.
    Wt6,
    /// `crc32`.
    Crc32,
}

/// A `server` line, with its `default-server` values applied.
#[derive(Debug, Clone)]
pub struct Server {
    /// Where it was written.
    pub loc: Loc,
    /// Its name (unique in the backend).
    pub name: String,
    /// `id` (assigned from 1 in declaration order when not set).
    pub id: u32,
    /// The address. Port 0 with `port_offset` set means "the client's destination port + N".
    pub addr: ServerAddr,
    /// `weight` (default 1, 0..=256).
    pub weight: u32,
    /// `backup`.
    pub backup: bool,
    /// `disabled`: starts in maintenance.
    pub disabled: bool,
    /// `maxconn` (0 = unlimited).
    pub maxconn: u32,
    /// `maxqueue` (0 = unlimited).
    pub maxqueue: u32,
    /// `check`: health checks enabled (they run once the health-check work lands).
    pub check: bool,
    /// `port`: the port health checks use.
    pub check_port: Option<u16>,
    /// `inter`.
    pub inter: Option<Duration>,
    /// `rise`.
    pub rise: Option<u32>,
    /// `fall`.
    pub fall: Option<u32>,
}

/// Where a server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerAddr {
    /// A fixed socket address.
    Inet(SocketAddr),
    /// An IP with no port or a `+N`/`-N` port: the client's destination port is used (shifted).
    InetPortOffset(std::net::IpAddr, i32),
    /// `unix@PATH` or `/path`.
    Unix(PathBuf),
    /// `abns@NAME`.
    Abns(String),
}

/// A `bind` line.
#[derive(Debug, Clone)]
pub struct Bind {
    /// Where it was written.
    pub loc: Loc,
    /// Every address it names (commas and port ranges expanded).
    pub addrs: Vec<BindAddr>,
    /// `name`.
    pub name: Option<String>,
    /// `maxconn`.
    pub maxconn: Option<u32>,
    /// `backlog`.
    pub backlog: Option<u32>,
    /// `v4v6`.
    pub v4v6: bool,
    /// `v6only`.
    pub v6only: bool,
    /// `mode` of a unix socket file (octal).
    pub unix_mode: Option<u32>,
    /// `uid`/`user` owner of a unix socket file.
    pub unix_uid: Option<u32>,
    /// `gid`/`group` owner of a unix socket file.
    pub unix_gid: Option<u32>,
}

/// One address to listen on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindAddr {
    /// An IP socket address (`*` and empty hosts become the unspecified address).
    Inet(SocketAddr),
    /// `unix@PATH` or a path starting with `/`.
    Unix(PathBuf),
    /// `abns@NAME`: Linux abstract namespace.
    Abns(String),
    /// `fd@N`: an already-bound, listening socket inherited from the parent.
    Fd(i32),
}
