//! `option httplog` lines. haproxy 2.6 defines it as the log-format
//! `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc
//! %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r`.

use super::fields::LogFields;
use super::line::{finish, line_limit, push_escaped, push_i64, push_ip, push_port, EscapeMap};
use super::tcplog::{push_bytes, push_counters, push_names};
use super::time::write_date_log;

/// haproxy keeps at most `tune.http.logurilen - 1` (1023) bytes of the
/// request line for `%r`.
pub const REQURI_LEN: usize = 1024;

fn push_captures(out: &mut Vec<u8>, caps: &[Option<&[u8]>], limit: usize) {
    // No captures configured: `%hr`/`%hs` print nothing and the separator
    // before them collapses, so the caller sees a single space.
    if caps.is_empty() {
        return;
    }
    out.extend_from_slice(b" {");
    for (i, c) in caps.iter().enumerate() {
        if i > 0 {
            out.push(b'|');
        }
        if let Some(v) = c {
            push_escaped(out, v, EscapeMap::Header, limit);
        }
    }
    out.push(b'}');
}

/// Appends the `option httplog` line for `f` to `out` (no trailing
/// newline), cut like haproxy to `max_len - 1` bytes where `max_len` is the
/// largest `len` of all log targets (see `Logger::max_line_len`).
pub fn write_httplog(out: &mut Vec<u8>, f: &LogFields<'_>, max_len: usize) {
    let start = out.len();
    push_ip(out, &f.client);
    out.push(b':');
    push_port(out, &f.client);
    out.extend_from_slice(b" [");
    write_date_log(out, f.request_date());
    out.extend_from_slice(b"] ");
    push_names(out, f);
    out.push(b' ');
    for t in [f.t_request, f.t_queue, f.t_connect, f.t_response] {
        push_i64(out, t);
        out.push(b'/');
    }
    if f.log_asap {
        out.push(b'+');
    }
    push_i64(out, f.t_active);
    out.push(b' ');
    push_i64(out, i64::from(f.status));
    out.push(b' ');
    push_bytes(out, f);
    out.push(b' ');
    // Captured cookies are printed raw, `-` when absent.
    out.extend_from_slice(f.captured_request_cookie.unwrap_or("-").as_bytes());
    out.push(b' ');
    out.extend_from_slice(f.captured_response_cookie.unwrap_or("-").as_bytes());
    out.push(b' ');
    out.extend_from_slice(&f.termination_state);
    out.extend_from_slice(&f.cookie_state);
    out.push(b' ');
    push_counters(out, f);
    let limit = line_limit(start, max_len);
    push_captures(out, f.request_captures, limit);
    push_captures(out, f.response_captures, limit);
    out.extend_from_slice(b" \"");
    match f.request_line {
        Some(r) => push_escaped(
            out,
            &r[..r.len().min(REQURI_LEN - 1)],
            EscapeMap::Url,
            limit,
        ),
        None => out.extend_from_slice(b"<BADREQ>"),
    }
    out.push(b'"');
    finish(out, start, max_len);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::fields::LogAddr;
    use crate::log::time::tests::local_is_utc;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    fn date(extra_s: u64, ms: u32) -> SystemTime {
        UNIX_EPOCH + Duration::new(1_795_580_230 + extra_s, ms * 1_000_000)
    }

    fn base<'a>(port: u16, extra_s: u64, ms: u32, fe: &'a str) -> LogFields<'a> {
        let mut f = LogFields::new(date(extra_s, ms));
        f.client = LogAddr::Inet(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
        f.t_idle = 0;
        f.frontend_name = fe;
        f.backend_name = fe;
        f.actconn = 1;
        f.feconn = 1;
        f
    }

    fn line(f: &LogFields<'_>) -> String {
        let mut v = Vec::new();
        write_httplog(&mut v, f, 1024);
        String::from_utf8(v).unwrap()
    }

    /// Reference lines captured from haproxy 2.6.12 (TZ=UTC), frontends with
    /// `option httplog` and `log 127.0.0.1:5609 format raw local0`, a python
    /// UDP listener printing each datagram:
    /// 1. `curl http://127.0.0.1:5802/foo?x=1` to a live python server;
    /// 2. a backend whose server port is closed (3 retries, 503, `SC--`);
    /// 3. a frontend without any backend (503 from the frontend itself);
    /// 4. `POST` answered 501 by the python server.
    #[test]
    fn httplog_matches_haproxy_captures() {
        if !local_is_utc(1_795_580_230) {
            return;
        }
        let mut f = base(53024, 0, 920, "fhttp");
        f.backend_name = "bhttp";
        f.server_name = Some("s1");
        (
            f.t_request,
            f.t_queue,
            f.t_connect,
            f.t_response,
            f.t_active,
        ) = (0, 0, 0, 25, 25);
        f.status = 200;
        f.bytes_read = 120;
        f.request_line = Some(b"GET /foo?x=1 HTTP/1.1");
        assert_eq!(
            line(&f),
            "127.0.0.1:53024 [25/Nov/2026:04:17:10.920] fhttp bhttp/s1 0/0/0/25/25 200 120 - - ---- 1/1/0/0/0 0/0 \"GET /foo?x=1 HTTP/1.1\""
        );

        let mut f = base(47972, 1, 33, "fnosrv");
        f.backend_name = "bdown";
        f.server_name = Some("s1");
        (
            f.t_request,
            f.t_queue,
            f.t_connect,
            f.t_response,
            f.t_active,
        ) = (0, 0, -1, -1, 3023);
        f.status = 503;
        f.bytes_read = 217;
        f.termination_state = *b"SC";
        f.retries = 3;
        f.request_line = Some(b"GET /nosrv HTTP/1.1");
        assert_eq!(
            line(&f),
            "127.0.0.1:47972 [25/Nov/2026:04:17:11.033] fnosrv bdown/s1 0/0/-1/-1/3023 503 217 - - SC-- 1/1/0/0/3 0/0 \"GET /nosrv HTTP/1.1\""
        );

        let mut f = base(36814, 7, 101, "fnobe");
        (
            f.t_request,
            f.t_queue,
            f.t_connect,
            f.t_response,
            f.t_active,
        ) = (-1, -1, -1, -1, 0);
        f.status = 503;
        f.bytes_read = 217;
        f.termination_state = *b"SC";
        f.request_line = Some(b"GET /nobe HTTP/1.1");
        assert_eq!(
            line(&f),
            "127.0.0.1:36814 [25/Nov/2026:04:17:17.101] fnobe fnobe/<NOSRV> -1/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0 \"GET /nobe HTTP/1.1\""
        );

        let mut f = base(39342, 7, 153, "fhttp");
        f.backend_name = "bhttp";
        f.server_name = Some("s1");
        (
            f.t_request,
            f.t_queue,
            f.t_connect,
            f.t_response,
            f.t_active,
        ) = (0, 0, 0, 1, 1);
        f.status = 501;
        f.bytes_read = 533;
        f.request_line = Some(b"POST /post HTTP/1.1");
        assert_eq!(
            line(&f),
            "127.0.0.1:39342 [25/Nov/2026:04:17:17.153] fhttp bhttp/s1 0/0/0/1/1 501 533 - - ---- 1/1/0/0/0 0/0 \"POST /post HTTP/1.1\""
        );
    }

    /// Captured from a frontend with `capture request header Host len 20`,
    /// `capture request header X-Foo len 5`, `capture response header
    /// Content-Length len 10` and `option accept-invalid-http-request`:
    /// an IPv6 client (`curl -g http://[::1]:5808/v6`), a raw request with
    /// characters needing `#XX` escapes (python socket), a request rejected
    /// with 400 (no stream, hence no captures and `<BADREQ>`), and a
    /// 1100-byte URI (line cut at 1023 bytes, closing quote lost).
    #[test]
    fn httplog_captures_escapes_and_badreq() {
        if !local_is_utc(1_795_580_230) {
            return;
        }
        let mut f = base(0, 172, 343, "fcap");
        f.client = LogAddr::Inet("[::1]:54142".parse().unwrap());
        f.backend_name = "bhttp";
        f.server_name = Some("s1");
        (
            f.t_request,
            f.t_queue,
            f.t_connect,
            f.t_response,
            f.t_active,
        ) = (0, 0, 0, 1, 1);
        f.status = 200;
        f.bytes_read = 120;
        let req: [Option<&[u8]>; 2] = [Some(b"[::1]:5808"), None];
        let res: [Option<&[u8]>; 1] = [Some(b"6")];
        f.request_captures = &req;
        f.response_captures = &res;
        f.request_line = Some(b"GET /v6 HTTP/1.1");
        assert_eq!(
            line(&f),
            "::1:54142 [25/Nov/2026:04:20:02.343] fcap bhttp/s1 0/0/0/1/1 200 120 - - ---- 1/1/0/0/0 0/0 {[::1]:5808|} {6} \"GET /v6 HTTP/1.1\""
        );

        let mut g = base(35046, 183, 256, "fcap");
        g.backend_name = "bhttp";
        g.server_name = Some("s1");
        (
            g.t_request,
            g.t_queue,
            g.t_connect,
            g.t_response,
            g.t_active,
        ) = (0, 0, 0, 2, 2);
        g.status = 200;
        g.bytes_read = 120;
        // haproxy cut X-Foo to its capture length (5) before logging.
        let req2: [Option<&[u8]>; 2] = [Some(b"h\"x|{y}#\xe9"), Some(b"12345")];
        g.request_captures = &req2;
        g.response_captures = &res;
        g.request_line = Some(b"GET /a\"b{c}|d%20\xe9 HTTP/1.1");
        assert_eq!(
            line(&g),
            "127.0.0.1:35046 [25/Nov/2026:04:20:13.256] fcap bhttp/s1 0/0/0/2/2 200 120 - - ---- 1/1/0/0/0 0/0 {h#22x#7C#7By#7D#23#E9|12345} {6} \"GET /a#22b{c}|d%20#E9 HTTP/1.1\""
        );

        let mut b = base(53428, 172, 321, "fcap");
        (
            b.t_request,
            b.t_queue,
            b.t_connect,
            b.t_response,
            b.t_active,
        ) = (-1, -1, -1, -1, 0);
        b.status = 400;
        b.termination_state = *b"PR";
        assert_eq!(
            line(&b),
            "127.0.0.1:53428 [25/Nov/2026:04:20:02.321] fcap fcap/<NOSRV> -1/-1/-1/-1/0 400 0 - - PR-- 1/1/0/0/0 0/0 \"<BADREQ>\""
        );

        let mut l = base(35058, 183, 259, "fcap");
        l.backend_name = "bhttp";
        l.server_name = Some("s1");
        (
            l.t_request,
            l.t_queue,
            l.t_connect,
            l.t_response,
            l.t_active,
        ) = (0, 0, 0, 0, 1);
        l.status = 200;
        l.bytes_read = 120;
        let req3: [Option<&[u8]>; 2] = [Some(b"h"), None];
        l.request_captures = &req3;
        l.response_captures = &res;
        let uri = format!("GET /{} HTTP/1.1", "x".repeat(1100));
        l.request_line = Some(uri.as_bytes());
        let prefix = "127.0.0.1:35058 [25/Nov/2026:04:20:13.259] fcap bhttp/s1 0/0/0/0/1 200 120 - - ---- 1/1/0/0/0 0/0 {h|} {6} \"";
        let got = line(&l);
        assert_eq!(got.len(), 1023);
        assert_eq!(&got[..prefix.len()], prefix);
        assert_eq!(&got[prefix.len()..], &uri[..1023 - prefix.len()]);
    }

    /// `%tr` is accept date + idle + handshake; logasap adds `+` to `%Ta`
    /// and `%B`; captured cookies print raw (haproxy 2.6 sources).
    #[test]
    fn httplog_request_date_logasap_cookies() {
        let mut f = base(1, 0, 0, "fe");
        f.t_idle = 1500;
        f.t_handshake = 250;
        f.log_asap = true;
        f.t_active = 5;
        f.captured_request_cookie = Some("SRV=a");
        f.cookie_state = *b"NI";
        f.request_line = Some(b"GET / HTTP/1.1");
        let l = line(&f);
        if local_is_utc(1_795_580_230) {
            assert!(l.contains("[25/Nov/2026:04:17:11.750]"), "{l}");
        }
        assert!(l.contains(" -1/-1/-1/-1/+5 -1 +0 SRV=a - --NI "), "{l}");
    }
}

#[cfg(test)]
mod boundary_tests {
    use super::*;
    use crate::log::fields::LogAddr;
    use crate::log::time::tests::local_is_utc;
    use std::time::{Duration, UNIX_EPOCH};

    /// Twelve lines captured from haproxy 2.6.12 (TZ=UTC, `option httplog`,
    /// `option accept-invalid-http-request`, `log 127.0.0.1:5609 format raw
    /// local0`, python UDP listener writing the raw datagrams to the
    /// fixture): request lines `GET /` + k×`a` + 20×`"` + ` HTTP/1.1` for
    /// k = 900..=911 sent from a python socket. They show where the 1024-byte
    /// line buffer cuts a `#22` escape (an escape needs 4 free bytes) and
    /// that the closing quote is still added after a cut escape.
    #[test]
    fn httplog_escape_cut_at_line_end_matches_haproxy() {
        const CAPTURED: &str = include_str!("testdata/httplog_uri_boundary.txt");
        // (k, client port, ms, Tr, Ta) of each captured request, at
        // 2026-11-25T04:28:54Z.
        let reqs: [(usize, u16, u32, i64, i64); 12] = [
            (900, 38190, 550, 1, 1),
            (901, 38196, 552, 0, 0),
            (902, 38200, 553, 0, 0),
            (903, 38202, 554, 0, 0),
            (904, 38214, 555, 0, 0),
            (905, 38230, 557, 0, 0),
            (906, 38240, 558, 0, 0),
            (907, 38242, 559, 0, 0),
            (908, 38248, 560, 1, 1),
            (909, 38260, 561, 0, 0),
            (910, 38270, 562, 0, 0),
            (911, 38282, 563, 0, 0),
        ];
        if !local_is_utc(1_795_580_934) {
            return;
        }
        let lines: Vec<&str> = CAPTURED.lines().collect();
        assert_eq!(lines.len(), reqs.len());
        for ((k, port, ms, tr, ta), want) in reqs.into_iter().zip(lines) {
            let mut f = LogFields::new(UNIX_EPOCH + Duration::new(1_795_580_934, ms * 1_000_000));
            f.client = LogAddr::Inet(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
            f.t_idle = 0;
            f.frontend_name = "fb";
            f.backend_name = "bhttp";
            f.server_name = Some("s1");
            (
                f.t_request,
                f.t_queue,
                f.t_connect,
                f.t_response,
                f.t_active,
            ) = (0, 0, 0, tr, ta);
            f.status = 200;
            f.bytes_read = 120;
            f.actconn = 1;
            f.feconn = 1;
            let req = format!("GET /{}{} HTTP/1.1", "a".repeat(k), "\"".repeat(20));
            f.request_line = Some(req.as_bytes());
            let mut v = Vec::new();
            write_httplog(&mut v, &f, 1024);
            assert_eq!(String::from_utf8(v).unwrap(), want, "k={k}");
        }
    }
}
