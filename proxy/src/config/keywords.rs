//! Keyword tables: what each section knows, what haproxy has that Fulcrum does not do yet
//! (refused with "not supported yet" rather than silently ignored), and suggestions for typos.

/// Global keywords Fulcrum implements (`tune.*` is handled apart: accepted with a warning).
pub const GLOBAL: &[&str] = &[
    "setenv",
    "presetenv",
    "resetenv",
    "unsetenv",
    "nbthread",
    "maxconn",
    "daemon",
    "master-worker",
    "pidfile",
    "log",
    "log-tag",
    "log-send-hostname",
    "stats",
    "hard-stop-after",
    "node",
    "description",
    "uid",
    "gid",
    "user",
    "group",
    "chroot",
    "nbproc",
];

/// Global keywords haproxy 2.6 has and Fulcrum does not implement yet.
pub const GLOBAL_UNSUPPORTED: &[&str] = &[
    "ca-base",
    "crt-base",
    "cpu-map",
    "ulimit-n",
    "quiet",
    "debug",
    "zero-warning",
    "nosplice",
    "noepoll",
    "nopoll",
    "nokqueue",
    "noevports",
    "nogetaddrinfo",
    "noreuseport",
    "localpeer",
    "lua-load",
    "lua-load-per-thread",
    "lua-prepend-path",
    "maxconnrate",
    "maxsessrate",
    "maxsslconn",
    "maxsslrate",
    "maxcomprate",
    "maxcompcpuusage",
    "maxpipes",
    "maxzlibmem",
    "spread-checks",
    "max-spread-checks",
    "ssl-default-bind-ciphers",
    "ssl-default-bind-ciphersuites",
    "ssl-default-bind-options",
    "ssl-default-bind-curves",
    "ssl-default-bind-sigalgs",
    "ssl-default-server-ciphers",
    "ssl-default-server-ciphersuites",
    "ssl-default-server-options",
    "ssl-dh-param-file",
    "ssl-engine",
    "ssl-mode-async",
    "ssl-server-verify",
    "ssl-load-extra-files",
    "ssl-skip-self-issued-ca",
    "ssl-propquery",
    "ssl-provider",
    "ssl-provider-path",
    "server-state-file",
    "server-state-base",
    "insecure-fork-wanted",
    "insecure-setuid-wanted",
    "external-check",
    "expose-experimental-directives",
    "set-dumpable",
    "strict-limits",
    "busy-polling",
    "profiling.tasks",
    "profiling.memory",
    "unix-bind",
    "numa-cpu-mapping",
    "h1-case-adjust",
    "h1-case-adjust-file",
    "grace",
    "issuers-chain-path",
    "log-send-hostname-all",
    "thread-group",
    "thread-groups",
    "uri-len-limit",
    "pp2-never-send-local",
    "httpclient.resolvers.id",
    "httpclient.resolvers.prefer",
    "httpclient.ssl.verify",
    "httpclient.ssl.ca-file",
    "httpclient.resolvers.disabled",
    "fd-hard-limit",
    "51degrees-data-file",
    "deviceatlas-json-file",
    "wurfl-data-file",
    "mworker-max-reloads",
    "hard-stop-after-all",
    "cluster-secret",
    "anonkey",
    "setcap",
    "no-memory-trimming",
    "default-path",
    "h2-workaround-bogus-websocket-clients",
    "stats-file",
];

/// Proxy keywords Fulcrum implements.
pub const PROXY: &[&str] = &[
    "mode",
    "bind",
    "maxconn",
    "timeout",
    "option",
    "no",
    "http-reuse",
    "monitor-uri",
    "errorfile",
    "default_backend",
    "use_backend",
    "balance",
    "hash-type",
    "retries",
    "fullconn",
    "id",
    "disabled",
    "enabled",
    "log",
    "server",
    "default-server",
    "acl",
    "monitor",
    "contimeout",
    "clitimeout",
    "srvtimeout",
];

/// Proxy keywords haproxy 2.6 has and Fulcrum does not implement yet.
pub const PROXY_UNSUPPORTED: &[&str] = &[
    "http-request",
    "http-response",
    "http-after-response",
    "tcp-request",
    "tcp-response",
    "stick-table",
    "stick",
    "stick on",
    "stick match",
    "stick store-request",
    "stick store-response",
    "cookie",
    "capture",
    "compression",
    "filter",
    "stats",
    "http-check",
    "tcp-check",
    "errorloc",
    "errorloc302",
    "errorloc303",
    "errorfiles",
    "http-error",
    "redirect",
    "use-server",
    "force-persist",
    "ignore-persist",
    "log-format",
    "log-format-sd",
    "log-tag",
    "error-log-format",
    "unique-id-format",
    "unique-id-header",
    "email-alert",
    "description",
    "dispatch",
    "external-check",
    "load-server-state-from-file",
    "server-state-file-name",
    "server-template",
    "source",
    "persist",
    "rate-limit",
    "declare",
    "max-keep-alive-queue",
    "bind-process",
    "hash-balance-factor",
    "http-send-name-header",
    "max-session-srv-conns",
    "backlog",
    "grace",
    "dynamic-cookie-key",
    "monitor-net",
    "log-steps",
    "http-check",
    "clitcpka-cnt",
    "clitcpka-idle",
    "clitcpka-intvl",
    "srvtcpka-cnt",
    "srvtcpka-idle",
    "srvtcpka-intvl",
    "guid",
    "rspadd",
    "reqadd",
    "reqrep",
    "rsprep",
    "reqdel",
    "rspdel",
    "reqirep",
    "reqallow",
    "reqdeny",
    "reqtarpit",
    "block",
];

/// `option` names Fulcrum implements.
pub const OPTIONS: &[&str] = &[
    "tcplog",
    "httplog",
    "dontlognull",
    "forwardfor",
    "http-keep-alive",
    "httpclose",
    "http-server-close",
    "redispatch",
    "allbackups",
    "persist",
];

/// `option` names haproxy 2.6 has and Fulcrum does not implement yet.
pub const OPTIONS_UNSUPPORTED: &[&str] = &[
    "httpchk",
    "ssl-hello-chk",
    "smtpchk",
    "mysql-check",
    "pgsql-check",
    "redis-check",
    "ldap-check",
    "tcp-check",
    "external-check",
    "spop-check",
    "abortonclose",
    "accept-invalid-http-request",
    "accept-invalid-http-response",
    "checkcache",
    "clitcpka",
    "contstats",
    "disable-h2-upgrade",
    "dontlog-normal",
    "h1-case-adjust-bogus-client",
    "h1-case-adjust-bogus-server",
    "http-buffer-request",
    "http-ignore-probes",
    "http-no-delay",
    "http-pretend-keepalive",
    "http-restrict-req-hdr-names",
    "http-use-proxy-header",
    "httpslog",
    "independent-streams",
    "log-health-checks",
    "log-separate-errors",
    "logasap",
    "nolinger",
    "originalto",
    "prefer-last-server",
    "socket-stats",
    "splice-auto",
    "splice-request",
    "splice-response",
    "srvtcpka",
    "tcp-smart-accept",
    "tcp-smart-connect",
    "tcpka",
    "transparent",
    "idle-close-on-response",
];

/// `bind` options Fulcrum implements.
pub const BIND: &[&str] = &[
    "name", "maxconn", "backlog", "v4v6", "v6only", "mode", "user", "group", "uid", "gid",
];

/// `bind` options haproxy 2.6 has and Fulcrum does not implement yet.
pub const BIND_UNSUPPORTED: &[&str] = &[
    "ssl",
    "crt",
    "crt-list",
    "ca-file",
    "ca-ignore-err",
    "ca-sign-file",
    "ca-sign-pass",
    "ca-verify-file",
    "ciphers",
    "ciphersuites",
    "crl-file",
    "crt-ignore-err",
    "curves",
    "ecdhe",
    "alpn",
    "npn",
    "allow-0rtt",
    "no-ca-names",
    "no-sslv3",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
    "no-tls-tickets",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
    "ssl-min-ver",
    "ssl-max-ver",
    "strict-sni",
    "generate-certificates",
    "prefer-client-ciphers",
    "sigalgs",
    "client-sigalgs",
    "verify",
    "accept-netscaler-cip",
    "accept-proxy",
    "defer-accept",
    "expose-fd",
    "id",
    "interface",
    "level",
    "severity-output",
    "mss",
    "namespace",
    "nice",
    "process",
    "proto",
    "quic-cc-algo",
    "quic-force-retry",
    "tcp-ut",
    "tfo",
    "thread",
    "transparent",
    "ocsp-update",
];

/// `server` / `default-server` parameters Fulcrum implements.
pub const SERVER: &[&str] = &[
    "weight", "backup", "disabled", "enabled", "maxconn", "maxqueue", "id", "port", "check",
    "no-check", "inter", "rise", "fall",
];

/// Server parameters haproxy 2.6 has and Fulcrum does not implement yet.
pub const SERVER_UNSUPPORTED: &[&str] = &[
    "addr",
    "agent-check",
    "agent-send",
    "agent-inter",
    "agent-addr",
    "agent-port",
    "allow-0rtt",
    "alpn",
    "ca-file",
    "check-send-proxy",
    "check-alpn",
    "check-proto",
    "check-sni",
    "check-ssl",
    "check-via-socks4",
    "ciphers",
    "ciphersuites",
    "cookie",
    "crl-file",
    "crt",
    "curves",
    "downinter",
    "error-limit",
    "fastinter",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
    "init-addr",
    "log-proto",
    "max-reuse",
    "minconn",
    "namespace",
    "no-agent-check",
    "no-backup",
    "no-send-proxy",
    "no-ssl",
    "no-ssl-reuse",
    "no-tls-tickets",
    "no-verifyhost",
    "npn",
    "observe",
    "on-error",
    "on-marked-down",
    "on-marked-up",
    "pool-low-conn",
    "pool-max-conn",
    "pool-purge-delay",
    "proto",
    "redir",
    "resolve-net",
    "resolve-prefer",
    "resolve-opts",
    "resolvers",
    "send-proxy",
    "send-proxy-v2",
    "send-proxy-v2-ssl",
    "send-proxy-v2-ssl-cn",
    "set-proxy-v2-tlv-fmt",
    "proxy-v2-options",
    "shard",
    "slowstart",
    "sni",
    "source",
    "usesrc",
    "interface",
    "socks4",
    "ssl",
    "ssl-max-ver",
    "ssl-min-ver",
    "ssl-reuse",
    "stick",
    "tcp-ut",
    "tfo",
    "track",
    "verify",
    "verifyhost",
    "ws",
    "no-tfo",
    "no-check-ssl",
    "sigalgs",
    "client-sigalgs",
    "check-pool-conn-name",
    "hash-key",
    "guid",
];

/// Other section kinds haproxy 2.6 has; their whole section is refused.
pub const SECTIONS_UNSUPPORTED: &[&str] = &[
    "resolvers",
    "peers",
    "userlist",
    "mailers",
    "program",
    "http-errors",
    "ring",
    "cache",
    "fcgi-app",
    "dynamic-update",
    "crt-store",
    "traces",
];

/// The closest of `candidates` to `word`, if close enough to be a plausible typo.
pub fn suggest<'a>(word: &str, candidates: &[&'a [&'a str]]) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for list in candidates {
        for c in list.iter() {
            if c.contains(' ') {
                continue;
            }
            let d = distance(word, c);
            if best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, c));
            }
        }
    }
    // Allow about one edit per three characters, at least one, at most three.
    let limit = (word.chars().count() / 3).clamp(1, 3);
    best.filter(|(d, _)| *d <= limit).map(|(_, c)| c)
}

/// `"; did you mean 'X'?"` or nothing.
pub fn did_you_mean(word: &str, candidates: &[&[&str]]) -> String {
    match suggest(word, candidates) {
        Some(s) => format!("; did you mean '{s}'?"),
        None => String::new(),
    }
}

/// Edit distance where swapping two neighbours counts as one edit (optimal string
/// alignment): "nmae" is one typo away from "name".
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("balanse", &[PROXY]), Some("balance"));
        assert_eq!(
            suggest("defualt_backend", &[PROXY]),
            Some("default_backend")
        );
        assert_eq!(suggest("wieght", &[SERVER]), Some("weight"));
        assert_eq!(suggest("zzzzzzzz", &[PROXY]), None);
        assert_eq!(distance("abc", "abc"), 0);
        assert_eq!(distance("", "ab"), 2);
        assert_eq!(distance("nmae", "name"), 1);
    }
}
