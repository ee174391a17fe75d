//! `bind` lines: addresses (`ADDR:PORT`, `:PORT`, `*:PORT`, `[v6]:PORT`, `ipv4@`/`ipv6@`,
//! port ranges, comma lists, `unix@PATH`, `/path`, `abns@NAME`, `fd@N`) and their options.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use super::diag::Loc;
use super::keywords::{did_you_mean, BIND, BIND_UNSUPPORTED};
use super::model::{Bind, BindAddr};

/// Splits `host:port` (the port part possibly a range) honouring `[v6]` brackets; `None`
/// when there is no colon at all.
pub(crate) fn split_host_port(s: &str) -> Option<(&str, &str)> {
    if let Some(rest) = s.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &rest[..end];
        let after = &rest[end + 1..];
        return Some((host, after.strip_prefix(':').unwrap_or(after)));
    }
    // The last colon separates the port, so ":::80" is "::" port 80 as in haproxy.
    s.rfind(':').map(|i| (&s[..i], &s[i + 1..]))
}

/// Family forced by an `ipv4@`/`ipv6@` prefix.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Family {
    Any,
    V4,
    V6,
}

/// Resolves a host for a bind or server: IP literal, `*`/empty (unspecified), or a name
/// looked up with the system resolver now (haproxy resolves at startup the same way).
pub(crate) fn resolve_host(host: &str, family: Family) -> Result<IpAddr, String> {
    if host.is_empty() || host == "*" {
        return Ok(match family {
            Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        });
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return match (family, ip) {
            (Family::V4, IpAddr::V6(_)) | (Family::V6, IpAddr::V4(_)) => {
                Err(format!("address family mismatch for '{host}'"))
            }
            _ => Ok(ip),
        };
    }
    let found = (host, 0u16)
        .to_socket_addrs()
        .map_err(|_| format!("could not resolve address '{host}'"))?;
    found
        .map(|sa| sa.ip())
        .find(|ip| match family {
            Family::Any => true,
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        })
        .ok_or_else(|| format!("could not resolve address '{host}'"))
}

/// Parses a port (1..=65535).
pub(crate) fn parse_port(s: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("invalid port '{s}'")),
    }
}

/// Parses one bind address (no comma), expanding a port range.
pub fn parse_bind_addr(s: &str) -> Result<Vec<BindAddr>, String> {
    let (proto, rest) = match s.find('@') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => ("", s),
    };
    let family = match proto {
        "" => Family::Any,
        "ipv4" => Family::V4,
        "ipv6" => Family::V6,
        "unix" => {
            if rest.is_empty() {
                return Err(format!("missing path in address '{s}'"));
            }
            return Ok(vec![BindAddr::Unix(PathBuf::from(rest))]);
        }
        "abns" => {
            if rest.is_empty() {
                return Err(format!("missing name in address '{s}'"));
            }
            return Ok(vec![BindAddr::Abns(rest.to_string())]);
        }
        "fd" => {
            return match rest.parse::<i32>() {
                Ok(n) if n >= 0 => Ok(vec![BindAddr::Fd(n)]),
                _ => Err(format!(
                    "file descriptor '{rest}' is not a valid integer in '{s}'"
                )),
            }
        }
        "sockpair" | "udp" | "udp4" | "udp6" | "quic4" | "quic6" | "tcp" | "tcp4" | "tcp6"
        | "uxst" | "uxdg" | "unix-dgram" => {
            return Err(format!("address family '{proto}@' is not supported yet"))
        }
        _ => return Err(format!("unknown address family '{proto}@' in '{s}'")),
    };
    if family == Family::Any && rest.starts_with('/') {
        return Ok(vec![BindAddr::Unix(PathBuf::from(rest))]);
    }
    let Some((host, ports)) = split_host_port(rest) else {
        return Err(format!("missing port number: '{s}'"));
    };
    if ports.is_empty() {
        return Err(format!("missing port number: '{s}'"));
    }
    let (lo, hi) = match ports.split_once('-') {
        Some((a, b)) => (parse_port(a)?, parse_port(b)?),
        None => {
            let p = parse_port(ports)?;
            (p, p)
        }
    };
    if hi < lo {
        return Err(format!(
            "invalid port range '{ports}': end is lower than start"
        ));
    }
    let ip = resolve_host(host, family)?;
    Ok((lo..=hi)
        .map(|p| BindAddr::Inet(SocketAddr::new(ip, p)))
        .collect())
}

/// Parses a comma-separated list of bind addresses.
pub fn parse_bind_addrs(s: &str) -> Result<Vec<BindAddr>, String> {
    let mut out = Vec::new();
    for part in s.split(',') {
        if part.is_empty() {
            return Err(format!("empty address in '{s}'"));
        }
        out.extend(parse_bind_addr(part)?);
    }
    Ok(out)
}

/// Looks `name` up in `/etc/passwd` (field 3) or `/etc/group`, or takes it as a number.
pub(crate) fn lookup_id(file: &str, name: &str) -> Option<u32> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        if f.next()? == name {
            f.nth(1)?.parse().ok()
        } else {
            None
        }
    })
}

/// Parses an unsigned integer option value.
pub(crate) fn parse_u32(kw: &str, v: Option<&String>) -> Result<u32, String> {
    match v {
        Some(v) => v
            .parse::<u32>()
            .map_err(|_| format!("'{kw}' expects an integer argument, got '{v}'")),
        None => Err(format!("'{kw}' expects an integer argument")),
    }
}

/// Parses `bind ADDR [options]` (`args` are the words after `bind`). `section` names the
/// section kind for messages.
pub fn parse_bind(loc: &Loc, args: &[String], section: &str) -> Result<Bind, String> {
    let Some(addr) = args.first() else {
        return Err(
            "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments."
                .to_string(),
        );
    };
    let addrs = parse_bind_addrs(addr).map_err(|e| format!("'bind {addr}' : {e}"))?;
    let mut b = Bind {
        loc: loc.clone(),
        addrs,
        name: None,
        maxconn: None,
        backlog: None,
        v4v6: false,
        v6only: false,
        unix_mode: None,
        unix_uid: None,
        unix_gid: None,
    };
    let mut i = 1;
    while i < args.len() {
        let kw = args[i].as_str();
        let val = args.get(i + 1);
        let need = |v: Option<&String>| -> Result<String, String> {
            v.cloned()
                .ok_or_else(|| format!("'bind {addr}' : missing value for '{kw}' option"))
        };
        match kw {
            "name" => {
                b.name = Some(need(val)?);
                i += 1;
            }
            "maxconn" => {
                b.maxconn = Some(parse_u32(kw, val).map_err(|e| format!("'bind {addr}' : {e}"))?);
                i += 1;
            }
            "backlog" => {
                b.backlog = Some(parse_u32(kw, val).map_err(|e| format!("'bind {addr}' : {e}"))?);
                i += 1;
            }
            "v4v6" => b.v4v6 = true,
            "v6only" => b.v6only = true,
            "mode" => {
                let v = need(val)?;
                b.unix_mode = Some(u32::from_str_radix(&v, 8).map_err(|_| {
                    format!("'bind {addr}' : 'mode' expects an octal value, got '{v}'")
                })?);
                i += 1;
            }
            "uid" => {
                b.unix_uid = Some(parse_u32(kw, val).map_err(|e| format!("'bind {addr}' : {e}"))?);
                i += 1;
            }
            "gid" => {
                b.unix_gid = Some(parse_u32(kw, val).map_err(|e| format!("'bind {addr}' : {e}"))?);
                i += 1;
            }
            "user" => {
                let v = need(val)?;
                b.unix_uid = Some(
                    lookup_id("/etc/passwd", &v)
                        .ok_or_else(|| format!("'bind {addr}' : unknown user '{v}'"))?,
                );
                i += 1;
            }
            "group" => {
                let v = need(val)?;
                b.unix_gid = Some(
                    lookup_id("/etc/group", &v)
                        .ok_or_else(|| format!("'bind {addr}' : unknown group '{v}'"))?,
                );
                i += 1;
            }
            _ if BIND_UNSUPPORTED.contains(&kw) => {
                return Err(format!("'bind {addr}' : '{kw}' is not supported yet"));
            }
            _ => {
                return Err(format!(
                    "'bind {addr}' in section '{section}': unknown keyword '{kw}'{}",
                    did_you_mean(kw, &[BIND, BIND_UNSUPPORTED])
                ));
            }
        }
        i += 1;
    }
    // haproxy accepts both `v4v6` and `v6only` on one line; the runtime gives v6only
    // precedence, as the socket option it sets last.
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn inet(s: &str) -> BindAddr {
        BindAddr::Inet(s.parse().unwrap())
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_bind_addrs(":80").unwrap(), [inet("0.0.0.0:80")]);
        assert_eq!(parse_bind_addrs("*:80").unwrap(), [inet("0.0.0.0:80")]);
        assert_eq!(
            parse_bind_addrs("10.0.0.1:80").unwrap(),
            [inet("10.0.0.1:80")]
        );
        assert_eq!(parse_bind_addrs("[::1]:80").unwrap(), [inet("[::1]:80")]);
        assert_eq!(parse_bind_addrs(":::80").unwrap(), [inet("[::]:80")]);
        assert_eq!(parse_bind_addrs("ipv6@:80").unwrap(), [inet("[::]:80")]);
        assert_eq!(
            parse_bind_addrs("ipv4@127.0.0.1:81").unwrap(),
            [inet("127.0.0.1:81")]
        );
        assert_eq!(
            parse_bind_addrs("127.0.0.1:8000-8002,:9000").unwrap(),
            [
                inet("127.0.0.1:8000"),
                inet("127.0.0.1:8001"),
                inet("127.0.0.1:8002"),
                inet("0.0.0.0:9000")
            ]
        );
        assert_eq!(
            parse_bind_addrs("/run/x.sock").unwrap(),
            [BindAddr::Unix("/run/x.sock".into())]
        );
        assert_eq!(
            parse_bind_addrs("unix@rel.sock").unwrap(),
            [BindAddr::Unix("rel.sock".into())]
        );
        assert_eq!(
            parse_bind_addrs("abns@foo").unwrap(),
            [BindAddr::Abns("foo".into())]
        );
        assert_eq!(parse_bind_addrs("fd@3").unwrap(), [BindAddr::Fd(3)]);
    }

    #[test]
    fn address_errors() {
        assert!(parse_bind_addrs("127.0.0.1")
            .unwrap_err()
            .contains("missing port"));
        assert!(parse_bind_addrs(":0").is_err());
        assert!(parse_bind_addrs(":70000").is_err());
        assert!(parse_bind_addrs(":90-80").is_err());
        assert!(parse_bind_addrs("ipv4@[::1]:80").is_err());
        assert!(parse_bind_addrs("foo@x").is_err());
        assert!(parse_bind_addrs("fd@x").is_err());
        assert!(parse_bind_addrs(":80,").is_err());
    }

    #[test]
    fn options() {
        let loc = Loc {
            file: Arc::new("t".into()),
            line: 1,
        };
        let w = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let b = parse_bind(
            &loc,
            &w(":80 name web maxconn 10 backlog 5 v4v6 mode 660 uid 0 gid 0"),
            "frontend",
        )
        .unwrap();
        assert_eq!(b.name.as_deref(), Some("web"));
        assert_eq!((b.maxconn, b.backlog, b.v4v6), (Some(10), Some(5), true));
        assert_eq!(b.unix_mode, Some(0o660));
        assert_eq!((b.unix_uid, b.unix_gid), (Some(0), Some(0)));
        assert_eq!(
            parse_bind(&loc, &w(":80 user root"), "frontend")
                .unwrap()
                .unix_uid,
            Some(0)
        );
        assert_eq!(
            parse_bind(&loc, &w(":80 ssl"), "frontend").unwrap_err(),
            "'bind :80' : 'ssl' is not supported yet"
        );
        assert_eq!(
            parse_bind(&loc, &w(":80 nmae x"), "frontend").unwrap_err(),
            "'bind :80' in section 'frontend': unknown keyword 'nmae'; did you mean 'name'?"
        );
        assert!(parse_bind(&loc, &w(":80 maxconn"), "frontend").is_err());
        assert!(parse_bind(&loc, &w(":80 mode 99"), "frontend").is_err());
    }
}
