//! The line haproxy logs at accept time for a frontend with `log` targets
//! but neither `option tcplog`, `option httplog` nor `log-format`
//! (`frontend_accept()` in haproxy 2.6's src/frontend.c).

use super::fields::LogAddr;
use super::line::{push_ip, push_port};

/// Appends `Connect from IP:PORT to IP:PORT (FRONTEND/MODE)` (or, for a unix
/// socket client, `Connect to unix:ID (FRONTEND/MODE)`) to `out`, MODE being
/// `HTTP` or `TCP`. When the client address is unknown haproxy writes
/// `Connect from unknown source to listener ID (FRONTEND/MODE)`, with
/// `listener_id` the listener's numeric id. haproxy sends it at `info`.
pub fn write_connect_line(
    out: &mut Vec<u8>,
    client: &LogAddr,
    frontend_addr: &LogAddr,
    frontend_name: &str,
    http: bool,
    listener_id: u32,
) {
    let mode: &[u8] = if http { b"HTTP" } else { b"TCP" };
    match client {
        LogAddr::Inet(_) => {
            out.extend_from_slice(b"Connect from ");
            push_ip(out, client);
            out.push(b':');
            push_port(out, client);
            out.extend_from_slice(b" to ");
            match frontend_addr {
                LogAddr::Inet(_) => {
                    push_ip(out, frontend_addr);
                    out.push(b':');
                    push_port(out, frontend_addr);
                }
                _ => out.extend_from_slice(b"undetermined address:0"),
            }
        }
        LogAddr::Unix { listener_id } => {
            out.extend_from_slice(b"Connect to unix:");
            let _ = std::io::Write::write_fmt(out, format_args!("{listener_id}"));
        }
        LogAddr::None => {
            out.extend_from_slice(b"Connect from unknown source to listener ");
            let _ = std::io::Write::write_fmt(out, format_args!("{listener_id}"));
        }
    }
    out.extend_from_slice(b" (");
    out.extend_from_slice(frontend_name.as_bytes());
    out.push(b'/');
    out.extend_from_slice(mode);
    out.push(b')');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from haproxy 2.6.12: frontends `fdef` (mode tcp) and
    /// `fdefh` (mode http) with `log 127.0.0.1:5610 format raw local0` and
    /// no log option, reached with curl; a python UDP listener printed the
    /// datagrams.
    #[test]
    fn connect_line_matches_haproxy_captures() {
        let c = LogAddr::Inet("127.0.0.1:39218".parse().unwrap());
        let f = LogAddr::Inet("127.0.0.1:5803".parse().unwrap());
        let mut v = Vec::new();
        write_connect_line(&mut v, &c, &f, "fdef", false, 1);
        assert_eq!(
            v,
            b"Connect from 127.0.0.1:39218 to 127.0.0.1:5803 (fdef/TCP)"
        );
        v.clear();
        let c = LogAddr::Inet("127.0.0.1:51336".parse().unwrap());
        let f = LogAddr::Inet("127.0.0.1:5804".parse().unwrap());
        write_connect_line(&mut v, &c, &f, "fdefh", true, 1);
        assert_eq!(
            v,
            b"Connect from 127.0.0.1:51336 to 127.0.0.1:5804 (fdefh/HTTP)"
        );
    }

    /// Forms from the haproxy 2.6 sources, not captured.
    #[test]
    fn connect_line_unix_and_unknown() {
        let mut v = Vec::new();
        write_connect_line(
            &mut v,
            &LogAddr::Unix { listener_id: 4 },
            &LogAddr::None,
            "fe",
            false,
            9,
        );
        assert_eq!(v, b"Connect to unix:4 (fe/TCP)");
        v.clear();
        let c = LogAddr::Inet("[::1]:5".parse().unwrap());
        write_connect_line(&mut v, &c, &LogAddr::None, "fe", true, 9);
        assert_eq!(v, b"Connect from ::1:5 to undetermined address:0 (fe/HTTP)");
        v.clear();
        write_connect_line(&mut v, &LogAddr::None, &LogAddr::None, "fe", true, 9);
        assert_eq!(v, b"Connect from unknown source to listener 9 (fe/HTTP)");
    }
}
