//! `fulcrum-ha.toml`: typed configuration, validation, and errors that name key and line.

use serde::Deserialize;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The virtual router.
    pub vrrp: VrrpConfig,
    /// Health probe of the local proxy; without it the node is always healthy.
    pub probe: Option<ProbeConfig>,
    /// Movers, applied in order on every transition (e.g. `linux` then `exec`).
    #[serde(default, rename = "mover")]
    pub movers: Vec<MoverConfig>,
    /// Status file and metrics endpoint.
    #[serde(default)]
    pub status: StatusConfig,
}

/// `[vrrp]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VrrpConfig {
    /// Interface adverts are sent and received on.
    pub interface: String,
    /// Virtual router id, 1..=255.
    pub virtual_router_id: u8,
    /// Priority, 1..=255; 255 means this node owns the addresses.
    #[serde(default = "default_priority")]
    pub priority: u8,
    /// Advertisement interval in centiseconds, 1..=4095 (RFC 5798: 12 bits).
    #[serde(default = "default_advert_interval")]
    pub advert_interval: u16,
    /// Preempt a lower-priority master.
    #[serde(default = "default_true")]
    pub preempt: bool,
    /// Seconds after startup during which this node does not preempt.
    #[serde(default)]
    pub preempt_delay: u64,
    /// Source address of adverts; default: the first address of `interface` of the
    /// family of the virtual IPs (link-local for IPv6).
    pub source: Option<IpAddr>,
    /// Unicast peers; empty means multicast (224.0.0.18 / ff02::12).
    #[serde(default)]
    pub peers: Vec<IpAddr>,
    /// The floating address(es), `addr/prefix`.
    pub virtual_ips: Vec<Cidr>,
    /// What a failed probe does: `fault` (give the address up, stop advertising) or
    /// `lower` (advertise `priority - lower_by`).
    #[serde(default)]
    pub on_probe_fail: ProbeFailMode,
    /// Priority decrement for `on_probe_fail = "lower"`.
    #[serde(default)]
    pub lower_by: u8,
}

/// `on_probe_fail` values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeFailMode {
    /// Enter FAULT.
    #[default]
    Fault,
    /// Lower the priority.
    Lower,
}

/// `[probe]`: HTTP GET of the proxy's `monitor-uri` or stats page.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeConfig {
    /// `http://host:port/path`; a 2xx or 3xx answer is healthy.
    pub url: String,
    /// Milliseconds between probes.
    #[serde(default = "default_probe_interval")]
    pub interval_ms: u64,
    /// Milliseconds before a probe counts as failed.
    #[serde(default = "default_probe_timeout")]
    pub timeout_ms: u64,
    /// Consecutive successes to become healthy.
    #[serde(default = "default_rise")]
    pub rise: u32,
    /// Consecutive failures to become unhealthy.
    #[serde(default = "default_fall")]
    pub fall: u32,
}

/// `[[mover]]`: one way of moving the address.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum MoverConfig {
    /// Add/remove the address on a local interface, with gratuitous ARP / NA.
    Linux {
        /// Interface; default: `vrrp.interface`.
        interface: Option<String>,
        /// Gratuitous ARPs / unsolicited NAs sent on acquiring.
        #[serde(default = "default_garp_count")]
        garp_count: u32,
        /// Re-announce every this many milliseconds while master (0 = off). Lets
        /// neighbours that learned another node's MAC during a partition come back
        /// without waiting for their ARP/ND cache to expire.
        #[serde(default)]
        garp_refresh_ms: u64,
    },
    /// Assign a DigitalOcean reserved (floating) IP to this droplet.
    Digitalocean {
        /// API base URL.
        #[serde(default = "default_do_api")]
        api_url: String,
        /// Metadata service base URL.
        #[serde(default = "default_do_metadata")]
        metadata_url: String,
        /// File holding the API token (first line); read at start, never logged.
        token_file: Option<PathBuf>,
        /// Environment variable holding the token when `token_file` is not set.
        #[serde(default = "default_do_token_env")]
        token_env: String,
        /// `reserved_ips` (current name) or `floating_ips` (legacy path).
        #[serde(default = "default_do_path")]
        api_path: String,
        /// Droplet id; default: asked from the metadata service.
        droplet_id: Option<u64>,
        /// Seconds an assign may take overall, retries and polling included.
        #[serde(default = "default_do_timeout")]
        timeout_s: u64,
    },
    /// Run a command on every transition: `command... STATE IP...`.
    Exec {
        /// Program and its first arguments.
        command: Vec<String>,
        /// Milliseconds before the command is killed.
        #[serde(default = "default_exec_timeout")]
        timeout_ms: u64,
    },
}

/// `[status]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusConfig {
    /// JSON file rewritten on every transition, read by `fulcrum-ha status`.
    #[serde(default = "default_status_file")]
    pub file: PathBuf,
    /// `host:port` of the Prometheus endpoint (`/metrics`); none if unset.
    pub metrics_listen: Option<std::net::SocketAddr>,
}

impl Default for StatusConfig {
    fn default() -> Self {
        StatusConfig {
            file: default_status_file(),
            metrics_listen: None,
        }
    }
}

/// An address with prefix length, `192.0.2.10/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The address.
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Cidr, String> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .parse()
            .map_err(|_| format!("`{s}` is not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{s}`: prefix must be 0..={max}"))?,
            None => max,
        };
        Ok(Cidr { addr, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Cidr, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

fn default_priority() -> u8 {
    100
}
fn default_advert_interval() -> u16 {
    100
}
fn default_true() -> bool {
    true
}
fn default_probe_interval() -> u64 {
    1000
}
fn default_probe_timeout() -> u64 {
    1000
}
fn default_rise() -> u32 {
    2
}
fn default_fall() -> u32 {
    2
}
fn default_garp_count() -> u32 {
    3
}
fn default_do_api() -> String {
    "https://api.digitalocean.com".into()
}
fn default_do_metadata() -> String {
    "http://169.254.169.254".into()
}
fn default_do_token_env() -> String {
    "DIGITALOCEAN_TOKEN".into()
}
fn default_do_path() -> String {
    "reserved_ips".into()
}
fn default_do_timeout() -> u64 {
    120
}
fn default_exec_timeout() -> u64 {
    10_000
}
fn default_status_file() -> PathBuf {
    "/run/fulcrum-ha/status.json".into()
}

/// One problem in the file, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key, e.g. `vrrp.priority` or `mover[1].command`.
    pub key: String,
    /// 1-based line, when it could be found.
    pub line: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
}

/// All problems of a configuration file (not just the first).
#[derive(Debug, Clone)]
pub struct ConfigError {
    /// File name as given.
    pub file: String,
    /// The problems, in file order where known.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match p.line {
                Some(l) => write!(f, "{}:{}: `{}`: {}", self.file, l, p.key, p.message)?,
                None => write!(f, "{}: `{}`: {}", self.file, p.key, p.message)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Finds the line of `key` (dotted, `mover[N].x` for the Nth `[[mover]]`) in the TOML
/// text by scanning table headers and `key =` lines; good enough for this flat format.
pub fn locate(src: &str, key: &str) -> Option<usize> {
    let (table, leaf) = match key.rsplit_once('.') {
        Some((t, l)) => (t.to_string(), l),
        None => (String::new(), key),
    };
    // `mover[1]` -> header `mover`, occurrence 1.
    let (want_header, want_idx) = match table.split_once('[') {
        Some((h, rest)) => (
            h.to_string(),
            rest.trim_end_matches(']').parse::<usize>().ok(),
        ),
        None => (table.clone(), None),
    };
    let mut header = String::new();
    let mut counts: std::collections::HashMap<String, usize> = Default::default();
    let mut idx: Option<usize> = None;
    let mut header_line = None;
    for (n, raw) in src.lines().enumerate() {
        let line = raw.trim();
        if let Some(h) = line.strip_prefix("[[") {
            header = h.split("]]").next().unwrap_or("").trim().to_string();
            let c = counts.entry(header.clone()).or_insert(0);
            idx = Some(*c);
            *c += 1;
        } else if let Some(h) = line.strip_prefix('[') {
            header = h.split(']').next().unwrap_or("").trim().to_string();
            idx = None;
        } else if header == want_header && (want_idx.is_none() || idx == want_idx) {
            let k = line
                .split('=')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"');
            if line.contains('=') && k == leaf {
                return Some(n + 1);
            }
            continue;
        } else {
            continue;
        }
        if header == want_header && (want_idx.is_none() || idx == want_idx) {
            header_line = Some(n + 1);
        }
    }
    // A missing key is reported at its table's header.
    header_line
}

fn line_of_offset(src: &str, off: usize) -> usize {
    src[..off.min(src.len())].matches('\n').count() + 1
}

impl Config {
    /// Reads and validates a file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let src = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: file.clone(),
            problems: vec![Problem {
                key: String::new(),
                line: None,
                message: format!("cannot read: {e}"),
            }],
        })?;
        Config::parse(&file, &src)
    }

    /// Parses and validates TOML text; `file` is only used in messages.
    pub fn parse(file: &str, src: &str) -> Result<Config, ConfigError> {
        let de = toml::Deserializer::new(src);
        let cfg: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let mut key = e.path().to_string();
            let inner = e.into_inner();
            let mut line = inner
                .span()
                .map(|s| line_of_offset(src, s.start))
                .or_else(|| locate(src, &key));
            // Inside internally tagged tables ([[mover]]) serde loses the span of an
            // unknown key and points at the table: find the key's own line.
            if let Some(field) = inner
                .message()
                .strip_prefix("unknown field `")
                .and_then(|r| r.split('`').next())
            {
                let full = if key == "." {
                    field.to_string()
                } else {
                    format!("{key}.{field}")
                };
                if let Some(l) = locate(src, &full) {
                    line = Some(l);
                    key = full;
                }
            }
            ConfigError {
                file: file.to_string(),
                problems: vec![Problem {
                    key: if key == "." { String::new() } else { key },
                    line,
                    message: inner.message().trim().to_string(),
                }],
            }
        })?;
        let problems = cfg.validate(src);
        if problems.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigError {
                file: file.to_string(),
                problems,
            })
        }
    }

    fn validate(&self, src: &str) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut bad = |key: String, message: String| {
            let line = locate(src, &key);
            out.push(Problem { key, line, message });
        };
        let v = &self.vrrp;
        if v.interface.is_empty() {
            bad("vrrp.interface".into(), "must name an interface".into());
        }
        if v.virtual_router_id == 0 {
            bad("vrrp.virtual_router_id".into(), "must be 1..=255".into());
        }
        if v.priority == 0 {
            bad(
                "vrrp.priority".into(),
                "must be 1..=255 (0 is reserved for a resigning master)".into(),
            );
        }
        if v.advert_interval == 0 || v.advert_interval > 4095 {
            bad(
                "vrrp.advert_interval".into(),
                "must be 1..=4095 centiseconds".into(),
            );
        }
        if v.virtual_ips.is_empty() {
            bad(
                "vrrp.virtual_ips".into(),
                "needs at least one address".into(),
            );
        }
        let v4 = v
            .virtual_ips
            .first()
            .map(|c| c.addr.is_ipv4())
            .unwrap_or(true);
        if v.virtual_ips.iter().any(|c| c.addr.is_ipv4() != v4) {
            bad(
                "vrrp.virtual_ips".into(),
                "mixes IPv4 and IPv6; run one virtual router per family".into(),
            );
        }
        if v.peers.iter().any(|p| p.is_ipv4() != v4) {
            bad(
                "vrrp.peers".into(),
                "peers must be of the family of the virtual IPs".into(),
            );
        }
        if v.source.is_some_and(|s| s.is_ipv4() != v4) {
            bad(
                "vrrp.source".into(),
                "must be of the family of the virtual IPs".into(),
            );
        }
        if v.on_probe_fail == ProbeFailMode::Lower && v.lower_by == 0 {
            bad(
                "vrrp.lower_by".into(),
                "must be > 0 when on_probe_fail = \"lower\"".into(),
            );
        }
        if v.priority == 255 && v.on_probe_fail == ProbeFailMode::Lower {
            bad(
                "vrrp.on_probe_fail".into(),
                "an address owner (priority 255) cannot lower its priority; use \"fault\"".into(),
            );
        }
        if let Some(p) = &self.probe {
            if !p.url.starts_with("http://") {
                bad(
                    "probe.url".into(),
                    "must be an http:// URL (the proxy's monitor-uri or stats page)".into(),
                );
            }
            if p.interval_ms == 0 {
                bad("probe.interval_ms".into(), "must be > 0".into());
            }
            if p.timeout_ms == 0 {
                bad("probe.timeout_ms".into(), "must be > 0".into());
            }
            if p.rise == 0 {
                bad("probe.rise".into(), "must be >= 1".into());
            }
            if p.fall == 0 {
                bad("probe.fall".into(), "must be >= 1".into());
            }
        }
        for (i, m) in self.movers.iter().enumerate() {
            match m {
                MoverConfig::Exec {
                    command,
                    timeout_ms,
                } => {
                    if command.is_empty() || command[0].is_empty() {
                        bad(format!("mover[{i}].command"), "needs a program".into());
                    }
                    if *timeout_ms == 0 {
                        bad(format!("mover[{i}].timeout_ms"), "must be > 0".into());
                    }
                }
                MoverConfig::Digitalocean { api_path, .. } => {
                    if api_path != "reserved_ips" && api_path != "floating_ips" {
                        bad(
                            format!("mover[{i}].api_path"),
                            "must be \"reserved_ips\" or \"floating_ips\"".into(),
                        );
                    }
                    if !v4 || v.virtual_ips.len() != 1 {
                        bad(
                            "vrrp.virtual_ips".into(),
                            "the digitalocean mover moves exactly one IPv4 address".into(),
                        );
                    }
                }
                MoverConfig::Linux { .. } => {}
            }
        }
        out
    }

    /// Advert interval as a duration.
    pub fn advert_interval(&self) -> Duration {
        Duration::from_millis(u64::from(self.vrrp.advert_interval) * 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[vrrp]
interface = "eth0"
virtual_router_id = 51
priority = 150
advert_interval = 100
peers = ["10.0.0.2"]
virtual_ips = ["10.0.0.100/24"]

[probe]
url = "http://127.0.0.1:8404/health"
rise = 2
fall = 3

[[mover]]
type = "linux"

[[mover]]
type = "exec"
command = ["/bin/true"]
"#;

    fn err(src: &str) -> ConfigError {
        Config::parse("t.toml", src).unwrap_err()
    }

    #[test]
    fn parses_good_config() {
        let c = Config::parse("t.toml", GOOD).unwrap();
        assert_eq!(c.vrrp.priority, 150);
        assert_eq!(c.vrrp.virtual_ips[0].prefix, 24);
        assert!(c.vrrp.preempt);
        assert_eq!(c.movers.len(), 2);
        assert!(matches!(
            c.movers[1],
            MoverConfig::Exec {
                timeout_ms: 10_000,
                ..
            }
        ));
        assert_eq!(c.probe.unwrap().fall, 3);
    }

    #[test]
    fn sample_config_is_valid() {
        let src = include_str!("../../etc/fulcrum-ha.toml");
        Config::parse("fulcrum-ha.toml", src).unwrap();
    }

    #[test]
    fn type_error_names_key_and_line() {
        let e = err(&GOOD.replace("priority = 150", "priority = 300"));
        assert_eq!(e.problems.len(), 1);
        assert_eq!(e.problems[0].key, "vrrp.priority");
        assert_eq!(e.problems[0].line, Some(5));
        assert!(
            e.to_string().starts_with("t.toml:5: `vrrp.priority`:"),
            "{e}"
        );
    }

    #[test]
    fn unknown_key_is_named() {
        let e = err(&GOOD.replace("rise = 2", "rsie = 2"));
        assert!(e.problems[0].message.contains("rsie"), "{e}");
        assert_eq!(e.problems[0].line, Some(12), "{e}");
    }

    #[test]
    fn unknown_key_in_mover_points_at_its_line() {
        let e = err(&GOOD.replace("type = \"linux\"", "type = \"linux\"\ngarp_cont = 2"));
        assert_eq!(e.problems[0].key, "mover[0].garp_cont", "{e}");
        assert_eq!(e.problems[0].line, Some(17), "{e}");
        let e = err(&GOOD.replace("type = \"linux\"", "type = \"linx\""));
        assert_eq!(e.problems[0].key, "mover[0].type", "{e}");
        assert_eq!(e.problems[0].line, Some(16), "{e}");
    }

    #[test]
    fn bad_address_names_key_and_line() {
        let e = err(&GOOD.replace("10.0.0.100/24", "10.0.0.300/24"));
        assert_eq!(e.problems[0].key, "vrrp.virtual_ips[0]", "{e}");
        assert_eq!(e.problems[0].line, Some(8));
    }

    #[test]
    fn validation_collects_all_problems_with_lines() {
        let src = GOOD
            .replace("priority = 150", "priority = 0")
            .replace("advert_interval = 100", "advert_interval = 5000")
            .replace("fall = 3", "fall = 0")
            .replace("command = [\"/bin/true\"]", "command = []");
        let e = err(&src);
        let got: Vec<(String, Option<usize>)> =
            e.problems.iter().map(|p| (p.key.clone(), p.line)).collect();
        assert_eq!(
            got,
            vec![
                ("vrrp.priority".into(), Some(5)),
                ("vrrp.advert_interval".into(), Some(6)),
                ("probe.fall".into(), Some(13)),
                ("mover[1].command".into(), Some(20)),
            ]
        );
    }

    #[test]
    fn mixed_families_rejected() {
        let e = err(&GOOD.replace("peers = [\"10.0.0.2\"]", "peers = [\"fe80::2\"]"));
        assert_eq!(e.problems[0].key, "vrrp.peers");
        assert_eq!(e.problems[0].line, Some(7));
    }

    #[test]
    fn missing_section_reported() {
        let e = err("[probe]\nurl = \"http://x/\"\n");
        assert!(e.to_string().contains("vrrp"), "{e}");
    }

    #[test]
    fn cidr_parsing() {
        assert_eq!("10.0.0.1".parse::<Cidr>().unwrap().prefix, 32);
        assert_eq!("2001:db8::1/64".parse::<Cidr>().unwrap().prefix, 64);
        assert!("10.0.0.1/33".parse::<Cidr>().is_err());
        assert!("nope/1".parse::<Cidr>().is_err());
    }
}
