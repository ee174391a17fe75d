//! `server NAME ADDR [params]` and `default-server [params]`.
//!
//! Addresses: `IP`, `IP:PORT`, `[v6]:PORT`, `host[:PORT]` (resolved now with the system
//! resolver, as haproxy's default `init-addr libc` does), `IP:+N` / `IP:-N` / no port (the
//! client's destination port, shifted), `ipv4@`/`ipv6@`, `unix@PATH`, `/path`, `abns@NAME`.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::bind::{parse_port, resolve_host, split_host_port, Family};
use super::diag::Loc;
use super::keywords::{did_you_mean, SERVER, SERVER_UNSUPPORTED};
use super::model::{Server, ServerAddr};
use super::timeouts::parse_time;

/// A server with haproxy's defaults, before `default-server` and its own parameters.
pub fn blank_server(loc: &Loc, name: &str) -> Server {
    Server {
        loc: loc.clone(),
        name: name.to_string(),
        id: 0,
        addr: ServerAddr::InetPortOffset(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0),
        weight: 1,
        backup: false,
        disabled: false,
        maxconn: 0,
        maxqueue: 0,
        check: false,
        check_port: None,
        inter: None,
        rise: None,
        fall: None,
    }
}

/// Parses a server address.
pub fn parse_server_addr(s: &str) -> Result<ServerAddr, String> {
    let (proto, rest) = match s.find('@') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => ("", s),
    };
    let family = match proto {
        "" => Family::Any,
        "ipv4" => Family::V4,
        "ipv6" => Family::V6,
        "unix" if !rest.is_empty() => return Ok(ServerAddr::Unix(PathBuf::from(rest))),
        "abns" if !rest.is_empty() => return Ok(ServerAddr::Abns(rest.to_string())),
        "unix" | "abns" => return Err(format!("missing path in address '{s}'")),
        "sockpair" | "udp" | "udp4" | "udp6" | "quic4" | "quic6" | "tcp" | "tcp4" | "tcp6"
        | "fd" => {
            return Err(format!(
                "address family '{proto}@' is not supported yet for servers"
            ))
        }
        _ => return Err(format!("unknown address family '{proto}@' in '{s}'")),
    };
    if family == Family::Any && rest.starts_with('/') {
        return Ok(ServerAddr::Unix(PathBuf::from(rest)));
    }
    let (host, port) = split_host_port(rest).unwrap_or((rest, ""));
    if host.is_empty() || host == "*" || host == "0.0.0.0" || host == "::" {
        return Err(format!(
            "'{s}': a server without an address (transparent mode) is not supported yet"
        ));
    }
    let ip = resolve_host(host, family).map_err(|e| {
        // haproxy takes the last colon as the port separator, so a bare IPv6 address is
        // misread; say how to write it.
        if rest.parse::<std::net::Ipv6Addr>().is_ok() {
            format!(
                "{e} (an IPv6 address needs brackets or a trailing colon: '[{rest}]' or '{rest}:')"
            )
        } else {
            e
        }
    })?;
    if port.is_empty() {
        return Ok(ServerAddr::InetPortOffset(ip, 0));
    }
    if let Some(off) = port.strip_prefix('+').or(port.strip_prefix('-')) {
        let n: i32 = off
            .parse()
            .map_err(|_| format!("invalid port offset '{port}'"))?;
        if n > 65535 {
            return Err(format!("invalid port offset '{port}'"));
        }
        let n = if port.starts_with('-') { -n } else { n };
        return Ok(ServerAddr::InetPortOffset(ip, n));
    }
    if port.contains('-') {
        return Err(format!("port ranges are not allowed for servers ('{s}')"));
    }
    if port == "0" {
        // haproxy: port 0 is the same as no port (the client's destination port).
        return Ok(ServerAddr::InetPortOffset(ip, 0));
    }
    Ok(ServerAddr::Inet(SocketAddr::new(ip, parse_port(port)?)))
}

/// Applies server parameters to `srv`. `who` names it for messages (`'server b/s1'` or
/// `'default-server'`). Returns the errors (each stops only its own parameter) and
/// whether an `id` was given.
pub fn apply_server_params(
    srv: &mut Server,
    args: &[String],
    who: &str,
    is_default: bool,
) -> (Vec<String>, bool) {
    let mut errs = Vec::new();
    let mut custom_id = false;
    let mut i = 0;
    while i < args.len() {
        let kw = args[i].as_str();
        let val = args.get(i + 1);
        let takes_value = matches!(
            kw,
            "weight" | "maxconn" | "maxqueue" | "id" | "port" | "inter" | "rise" | "fall"
        );
        if takes_value && val.is_none() {
            errs.push(format!("{who} : '{kw}' expects an argument"));
            break;
        }
        let v = val.map(String::as_str).unwrap_or("");
        let num = |what: &str| -> Result<u32, String> {
            v.parse::<u32>()
                .map_err(|_| format!("{who} : '{what}' expects an integer argument, got '{v}'"))
        };
        let res: Result<(), String> = match kw {
            "weight" => num(kw).and_then(|w| {
                if w > 256 {
                    Err(format!(
                        "{who} : weight of server {} is not within 0 and 256 ({w})",
                        srv.name
                    ))
                } else {
                    srv.weight = w;
                    Ok(())
                }
            }),
            "maxconn" => num(kw).map(|n| srv.maxconn = n),
            "maxqueue" => num(kw).map(|n| srv.maxqueue = n),
            "id" if is_default => Err(format!("{who} : 'id' is not permitted in default-server")),
            "id" => num(kw).and_then(|n| {
                if n == 0 {
                    Err(format!("{who} : custom id has to be > 0"))
                } else {
                    srv.id = n;
                    custom_id = true;
                    Ok(())
                }
            }),
            "port" => parse_port(v)
                .map(|p| srv.check_port = Some(p))
                .map_err(|e| format!("{who} : 'port' : {e}")),
            "inter" => match parse_time(v) {
                Ok(d) if d.is_zero() => Err(format!(
                    "{who} : invalid value 0 for argument 'inter' of server {}.",
                    srv.name
                )),
                Ok(d) => {
                    srv.inter = Some(d);
                    Ok(())
                }
                Err(e) => Err(format!("{who} : {}", e.message("'inter'", v))),
            },
            "rise" | "fall" => num(kw).and_then(|n| {
                if n == 0 {
                    Err(format!("{who} : '{kw}' has to be > 0"))
                } else {
                    if kw == "rise" {
                        srv.rise = Some(n);
                    } else {
                        srv.fall = Some(n);
                    }
                    Ok(())
                }
            }),
            "backup" => {
                srv.backup = true;
                Ok(())
            }
            "disabled" => {
                srv.disabled = true;
                Ok(())
            }
            "enabled" => {
                srv.disabled = false;
                Ok(())
            }
            "check" => {
                srv.check = true;
                Ok(())
            }
            "no-check" => {
                srv.check = false;
                Ok(())
            }
            _ if SERVER_UNSUPPORTED.contains(&kw) => {
                Err(format!("{who} : '{kw}' is not supported yet"))
            }
            _ => Err(format!(
                "{who} : unknown keyword '{kw}'{}",
                did_you_mean(kw, &[SERVER, SERVER_UNSUPPORTED])
            )),
        };
        if let Err(e) = res {
            errs.push(e);
            // An unknown word may be a parameter with a value: stop here rather than
            // report its value as another unknown keyword.
            if !takes_value {
                break;
            }
        }
        i += if takes_value { 2 } else { 1 };
    }
    (errs, custom_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn addresses() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert_eq!(
            parse_server_addr("10.0.0.1:80"),
            Ok(ServerAddr::Inet("10.0.0.1:80".parse().unwrap()))
        );
        assert_eq!(
            parse_server_addr("[::1]:80"),
            Ok(ServerAddr::Inet("[::1]:80".parse().unwrap()))
        );
        assert_eq!(
            parse_server_addr("10.0.0.1"),
            Ok(ServerAddr::InetPortOffset(ip("10.0.0.1"), 0))
        );
        assert_eq!(
            parse_server_addr("::1:"),
            Ok(ServerAddr::InetPortOffset(ip("::1"), 0))
        );
        assert_eq!(
            parse_server_addr("[::1]"),
            Ok(ServerAddr::InetPortOffset(ip("::1"), 0))
        );
        assert!(parse_server_addr("2001:db8::2")
            .unwrap_err()
            .contains("needs brackets"));
        assert_eq!(
            parse_server_addr("10.0.0.1:+1000"),
            Ok(ServerAddr::InetPortOffset(ip("10.0.0.1"), 1000))
        );
        assert_eq!(
            parse_server_addr("10.0.0.1:-10"),
            Ok(ServerAddr::InetPortOffset(ip("10.0.0.1"), -10))
        );
        assert_eq!(
            parse_server_addr("localhost:80").map(|a| matches!(a, ServerAddr::Inet(_))),
            Ok(true)
        );
        assert_eq!(
            parse_server_addr("unix@/run/a"),
            Ok(ServerAddr::Unix("/run/a".into()))
        );
        assert_eq!(
            parse_server_addr("/run/a"),
            Ok(ServerAddr::Unix("/run/a".into()))
        );
        assert_eq!(
            parse_server_addr("abns@x"),
            Ok(ServerAddr::Abns("x".into()))
        );
        assert!(parse_server_addr("no-such-host.invalid:80").is_err());
        assert!(parse_server_addr("10.0.0.1:80-90").is_err());
        assert_eq!(
            parse_server_addr("10.0.0.1:0"),
            Ok(ServerAddr::InetPortOffset(ip("10.0.0.1"), 0))
        );
        assert!(parse_server_addr(":80").is_err());
    }

    #[test]
    fn params() {
        let loc = Loc {
            file: Arc::new("t".into()),
            line: 1,
        };
        let mut s = blank_server(&loc, "s1");
        let w = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let (e, id) = apply_server_params(
            &mut s,
            &w("weight 10 backup check inter 2s rise 3 fall 2 port 81 maxconn 5 maxqueue 6 id 9"),
            "'server b/s1'",
            false,
        );
        assert!(e.is_empty(), "{e:?}");
        assert!(id);
        assert_eq!(
            (s.weight, s.backup, s.check, s.rise, s.fall),
            (10, true, true, Some(3), Some(2))
        );
        assert_eq!(
            (s.check_port, s.maxconn, s.maxqueue, s.id),
            (Some(81), 5, 6, 9)
        );
        assert_eq!(s.inter, Some(std::time::Duration::from_secs(2)));
        let (e, _) = apply_server_params(&mut s, &w("wieght 3"), "'server b/s1'", false);
        assert_eq!(
            e,
            ["'server b/s1' : unknown keyword 'wieght'; did you mean 'weight'?"]
        );
        let (e, _) = apply_server_params(&mut s, &w("weight 300"), "'server b/s1'", false);
        assert_eq!(
            e,
            ["'server b/s1' : weight of server s1 is not within 0 and 256 (300)"]
        );
        let (e, _) = apply_server_params(&mut s, &w("ssl verify none"), "'server b/s1'", false);
        assert_eq!(e, ["'server b/s1' : 'ssl' is not supported yet"]);
        let (e, _) = apply_server_params(&mut s, &w("id 3"), "'default-server'", true);
        assert_eq!(e.len(), 1);
    }
}
