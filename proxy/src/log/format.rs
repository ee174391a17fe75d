//! Syslog framing of one message, byte-exact with haproxy 2.6's
//! `build_log_header()` and the truncation done by `__do_send_log()`.

use std::time::SystemTime;

use super::target::{Facility, Level, LogFormat};
use super::time;

/// Per-message header data besides facility/level/format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyslogMeta<'a> {
    /// Program tag (`log-tag`, default "haproxy"); empty omits `tag[pid]: `
    /// in local/rfc3164 and gives `-` in rfc5424, as haproxy does.
    pub tag: &'a str,
    /// Process id shown as `[pid]` / rfc5424 PROCID.
    pub pid: u32,
    /// Host name from `log-send-hostname`; `None` when not configured.
    pub hostname: Option<&'a str>,
    /// rfc5424 STRUCTURED-DATA; `None` (or empty) gives `-`.
    pub structured_data: Option<&'a str>,
}

/// How the bytes reach the target; the two differ in how `len` applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// UDP or unix datagram: header+message are cut at `len` bytes and the
    /// final `\n` comes on top (so up to `len + 1` bytes are sent).
    Datagram,
    /// File descriptor (`stdout`, `fd@N`): header+message are cut at
    /// `len - 1` bytes so that the whole line including `\n` fits in `len`
    /// (haproxy's `fd_write_frag_line()`).
    Fd,
}

/// The format actually used for a target: an explicit `format`, else
/// `rfc3164` when `log-send-hostname` is set, else `local` (observed with
/// haproxy 2.6.12: without a hostname the default header has none, while an
/// explicit `format rfc3164` prints `localhost`).
pub fn resolve_format(explicit: Option<LogFormat>, hostname_set: bool) -> LogFormat {
    match explicit {
        Some(f) => f,
        None if hostname_set => LogFormat::Rfc3164,
        None => LogFormat::Local,
    }
}

fn write_u32(out: &mut Vec<u8>, mut v: u32) {
    // Small manual itoa: avoids going through fmt for the hot PRI/PID path.
    let mut tmp = [0u8; 10];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Appends the header for `format` to `out` (everything before the message).
pub fn write_header(
    out: &mut Vec<u8>,
    format: LogFormat,
    facility: Facility,
    level: Level,
    meta: &SyslogMeta<'_>,
    now: SystemTime,
) {
    // Priority: facility is only part of it for the syslog-like formats.
    let pri = match format {
        LogFormat::Local | LogFormat::Rfc3164 | LogFormat::Rfc5424 | LogFormat::Priority => {
            Some(u32::from(facility.code()) * 8 + u32::from(level.code()))
        }
        LogFormat::Short | LogFormat::Timed => Some(u32::from(level.code())),
        LogFormat::Iso | LogFormat::Raw => None,
    };
    if let Some(p) = pri {
        out.push(b'<');
        write_u32(out, p);
        out.push(b'>');
    }

    match format {
        LogFormat::Local | LogFormat::Rfc3164 => {
            time::write_legacy(out, now);
            if format == LogFormat::Rfc3164 {
                // The hostname is mandatory in rfc3164; haproxy fills in
                // "localhost" when none is configured.
                out.extend_from_slice(
                    meta.hostname
                        .filter(|h| !h.is_empty())
                        .unwrap_or("localhost")
                        .as_bytes(),
                );
                out.push(b' ');
            }
            if !meta.tag.is_empty() {
                out.extend_from_slice(meta.tag.as_bytes());
                out.push(b'[');
                write_u32(out, meta.pid);
                out.extend_from_slice(b"]: ");
            }
        }
        LogFormat::Rfc5424 => {
            out.extend_from_slice(b"1 ");
            time::write_iso_us(out, now);
            out.push(b' ');
            let field = |out: &mut Vec<u8>, v: Option<&str>| {
                match v {
                    Some(s) if !s.is_empty() => out.extend_from_slice(s.as_bytes()),
                    _ => out.push(b'-'),
                }
                out.push(b' ');
            };
            field(out, meta.hostname);
            field(out, Some(meta.tag));
            write_u32(out, meta.pid);
            out.push(b' ');
            // MSGID is never set by haproxy for traffic/alert logs.
            field(out, None);
            // haproxy strips trailing spaces of the structured data.
            field(out, meta.structured_data.map(|s| s.trim_end_matches(' ')));
        }
        LogFormat::Timed | LogFormat::Iso => {
            time::write_iso_us(out, now);
            out.push(b' ');
        }
        LogFormat::Priority | LogFormat::Short | LogFormat::Raw => {}
    }
}

/// Strips the trailing `\n` and NUL bytes some callers leave, as
/// `__do_send_log()` does, so the frame always ends with exactly one `\n`.
pub fn trim_message(mut msg: &[u8]) -> &[u8] {
    while let [rest @ .., b'\n' | 0] = msg {
        msg = rest;
    }
    msg
}

/// Appends one complete frame (header, message, `\n`) to `out`, truncated
/// to `max_len` according to `transport`. `out` is not cleared, so callers
/// can reuse one buffer.
#[allow(clippy::too_many_arguments)] // mirrors haproxy's flat signature
pub fn frame(
    out: &mut Vec<u8>,
    format: LogFormat,
    facility: Facility,
    level: Level,
    meta: &SyslogMeta<'_>,
    now: SystemTime,
    msg: &[u8],
    max_len: usize,
    transport: Transport,
) {
    let start = out.len();
    write_header(out, format, facility, level, meta, now);
    out.extend_from_slice(trim_message(msg));
    let limit = match transport {
        Transport::Datagram => max_len,
        Transport::Fd => max_len.saturating_sub(1),
    };
    out.truncate(start + limit.min(out.len() - start));
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::time::tests::local_is_utc;
    use std::time::{Duration, UNIX_EPOCH};

    /// The message haproxy logged in the capture below.
    const MSG: &[u8] = b"127.0.0.1:53024 [25/Nov/2026:04:17:10.920] fhttp bhttp/s1 0/0/0/25/25 200 120 - - ---- 1/1/0/0/0 0/0 \"GET /foo?x=1 HTTP/1.1\"";

    fn at(us: u32) -> SystemTime {
        // 2026-11-25T04:17:10Z plus the captured microseconds.
        UNIX_EPOCH + Duration::new(1_795_580_230, us * 1000)
    }

    fn meta(host: Option<&'static str>) -> SyslogMeta<'static> {
        SyslogMeta {
            tag: "haproxy",
            pid: 5181,
            hostname: host,
            structured_data: None,
        }
    }

    fn framed(
        fmt: LogFormat,
        fac: Facility,
        meta: &SyslogMeta<'_>,
        us: u32,
        max: usize,
        tr: Transport,
    ) -> Vec<u8> {
        let mut v = Vec::new();
        frame(&mut v, fmt, fac, Level::Info, meta, at(us), MSG, max, tr);
        v
    }

    /// Captured with haproxy 2.6.12 (TZ=UTC) from a `global` section with
    /// `log 127.0.0.1:56xx format <fmt> localN` lines, one UDP port per
    /// format, while a python UDP listener printed each datagram's bytes;
    /// the HTTP request was `curl http://127.0.0.1:5802/foo?x=1` through an
    /// `option httplog` frontend (pid 5181). The microseconds in the iso
    /// stamps are those of the captured datagrams.
    #[test]
    fn log_format_matches_haproxy_captures() {
        if !local_is_utc(1_795_580_230) {
            return; // captures are UTC; shape is covered elsewhere
        }
        let m = meta(None);
        let d = Transport::Datagram;
        let cases: Vec<(Vec<u8>, &[u8])> = vec![
            (
                framed(LogFormat::Rfc3164, Facility::Local0, &m, 0, 1024, d),
                b"<134>Nov 25 04:17:10 localhost haproxy[5181]: ",
            ),
            (
                framed(LogFormat::Rfc5424, Facility::Local1, &m, 946_421, 1024, d),
                b"<142>1 2026-11-25T04:17:10.946421+00:00 - haproxy 5181 - - ",
            ),
            (
                framed(LogFormat::Short, Facility::Local2, &m, 0, 1024, d),
                b"<6>",
            ),
            (
                framed(LogFormat::Raw, Facility::Local3, &m, 0, 1024, d),
                b"",
            ),
            (
                framed(LogFormat::Timed, Facility::Local4, &m, 946_471, 1024, d),
                b"<6>2026-11-25T04:17:10.946471+00:00 ",
            ),
            (
                framed(LogFormat::Iso, Facility::Local5, &m, 946_477, 1024, d),
                b"2026-11-25T04:17:10.946477+00:00 ",
            ),
            (
                framed(LogFormat::Priority, Facility::Local6, &m, 0, 1024, d),
                b"<182>",
            ),
            (
                framed(LogFormat::Local, Facility::Local7, &m, 0, 1024, d),
                b"<190>Nov 25 04:17:10 haproxy[5181]: ",
            ),
        ];
        for (got, hdr) in cases {
            let mut want = hdr.to_vec();
            want.extend_from_slice(MSG);
            want.push(b'\n');
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want)
            );
        }
    }

    /// Same capture, target `log 127.0.0.1:5611 len 80 local0` (no format):
    /// default format without hostname is `local`, and UDP sends 80 bytes
    /// plus the `\n`.
    #[test]
    fn log_format_default_and_len_truncation_udp() {
        if !local_is_utc(1_795_580_230) {
            return;
        }
        let f = resolve_format(None, false);
        assert_eq!(f, LogFormat::Local);
        let got = framed(f, Facility::Local0, &meta(None), 0, 80, Transport::Datagram);
        assert_eq!(
            got,
            b"<134>Nov 25 04:17:10 haproxy[5181]: 127.0.0.1:53024 [25/Nov/2026:04:17:10.920] f\n"
        );
        assert_eq!(got.len(), 81);
    }

    /// Captured from `log stdout len 80 format raw local0` (haproxy 2.6.12,
    /// stdout redirected to a file): fd targets cut at 79 bytes + `\n`.
    #[test]
    fn log_format_len_truncation_fd() {
        let msg = b"::1:54142 [25/Nov/2026:04:20:02.343] fcap bhttp/s1 0/0/0/1/1 200 120 - - ---- 1/1/0/0/0 0/0 {[::1]:5808|} {6} \"GET /v6 HTTP/1.1\"";
        let mut v = Vec::new();
        frame(
            &mut v,
            LogFormat::Raw,
            Facility::Local0,
            Level::Info,
            &meta(None),
            at(0),
            msg,
            80,
            Transport::Fd,
        );
        assert_eq!(
            v,
            b"::1:54142 [25/Nov/2026:04:20:02.343] fcap bhttp/s1 0/0/0/1/1 200 120 - - ---- 1\n"
        );
        assert_eq!(v.len(), 80);
    }

    /// Captured with `log-send-hostname myhost`, `log-tag mytag` globally and
    /// `log-tag fetag` in the frontend (pid 8742): rfc5424 with hostname and
    /// `len 80`, the default format switching to rfc3164, and level capping
    /// (`local5 debug err` keeps info as info; warnings are `<172>`).
    #[test]
    fn log_format_hostname_and_tag_captures() {
        let t = UNIX_EPOCH + Duration::new(1_795_580_376, 365_807_000); // 04:19:36
        if !local_is_utc(1_795_580_376) {
            return;
        }
        let m = SyslogMeta {
            tag: "fetag",
            pid: 8742,
            hostname: Some("myhost"),
            structured_data: Some("- "),
        };
        let msg = b"Connect from 127.0.0.1:41194 to 127.0.0.1:5801 (ftcp/TCP)\n";
        let mut v = Vec::new();
        frame(
            &mut v,
            LogFormat::Rfc5424,
            Facility::Local0,
            Level::Info,
            &m,
            t,
            msg,
            80,
            Transport::Datagram,
        );
        assert_eq!(
            v,
            b"<134>1 2026-11-25T04:19:36.365807+00:00 myhost fetag 8742 - - Connect from 127.0\n"
        );
        v.clear();
        let f = resolve_format(None, true);
        frame(
            &mut v,
            f,
            Facility::Local3,
            Level::Info,
            &m,
            t,
            msg,
            1024,
            Transport::Datagram,
        );
        assert_eq!(
            v,
            b"<158>Nov 25 04:19:36 myhost fetag[8742]: Connect from 127.0.0.1:41194 to 127.0.0.1:5801 (ftcp/TCP)\n"
        );
        v.clear();
        frame(
            &mut v,
            LogFormat::Rfc3164,
            Facility::Local4,
            Level::Warning,
            &SyslogMeta { tag: "mytag", ..m },
            t,
            b"Proxy btcp stopped (cumulated conns: FE: 0, BE: 1).",
            1024,
            Transport::Datagram,
        );
        assert_eq!(
            v,
            b"<164>Nov 25 04:19:36 myhost mytag[8742]: Proxy btcp stopped (cumulated conns: FE: 0, BE: 1).\n"
        );
    }

    #[test]
    fn log_format_empty_tag_and_sd() {
        let m = SyslogMeta {
            tag: "",
            pid: 1,
            hostname: None,
            structured_data: Some("[x@1 a=\"b\"]  "),
        };
        let mut v = Vec::new();
        write_header(
            &mut v,
            LogFormat::Local,
            Facility::Kern,
            Level::Emerg,
            &m,
            at(0),
        );
        assert!(v.starts_with(b"<0>"));
        assert!(v.ends_with(b":10 "), "{}", String::from_utf8_lossy(&v));
        v.clear();
        write_header(
            &mut v,
            LogFormat::Rfc5424,
            Facility::Kern,
            Level::Emerg,
            &m,
            at(0),
        );
        assert!(
            v.ends_with(b" - - 1 - [x@1 a=\"b\"] "),
            "{}",
            String::from_utf8_lossy(&v)
        );
    }

    #[test]
    fn log_format_trim_and_tiny_len() {
        assert_eq!(trim_message(b"a\n\0\n"), b"a");
        assert_eq!(trim_message(b"\n"), b"");
        let mut v = Vec::new();
        frame(
            &mut v,
            LogFormat::Raw,
            Facility::Kern,
            Level::Info,
            &meta(None),
            at(0),
            b"abc",
            0,
            Transport::Fd,
        );
        assert_eq!(v, b"\n");
    }
}

#[cfg(test)]
mod tz_tests {
    use super::*;
    use crate::log::fields::{LogAddr, LogFields};
    use crate::log::tcplog::write_tcplog;
    use crate::log::time::local_tm;
    use std::time::{Duration, UNIX_EPOCH};

    /// Captured from haproxy 2.6.12 started as `TZ=Asia/Kolkata haproxy -f
    /// h5.cfg` (`option tcplog` frontend, targets `format rfc5424 local1`,
    /// `format rfc3164 local0`, `format timed local4`, python UDP listener),
    /// one `curl` through it. Only asserted when the test process itself
    /// runs in that zone: `TZ=Asia/Kolkata cargo test -p fulcrum --lib log`
    /// (the zone cannot be switched inside a multi-threaded test binary).
    #[test]
    fn log_format_non_utc_offsets_match_haproxy() {
        let secs = 1_795_581_165; // 2026-11-25T04:32:45Z = 10:02:45+05:30
        if local_tm(secs).gmtoff != 19_800 {
            return;
        }
        let mut f = LogFields::new(UNIX_EPOCH + Duration::new(secs as u64, 447_000_000));
        f.client = LogAddr::Inet("127.0.0.1:40954".parse().unwrap());
        f.frontend_name = "ftcp";
        f.backend_name = "btcp";
        f.server_name = Some("s1");
        (f.t_queue, f.t_connect, f.t_total) = (1, 0, 3);
        f.bytes_read = 117;
        f.actconn = 1;
        f.feconn = 1;
        let mut msg = Vec::new();
        write_tcplog(&mut msg, &f, 1024);
        let m = SyslogMeta {
            tag: "haproxy",
            pid: 29090,
            hostname: None,
            structured_data: None,
        };
        let at = |us: u32| UNIX_EPOCH + Duration::new(secs as u64, us * 1000);
        let body =
            "127.0.0.1:40954 [25/Nov/2026:10:02:45.447] ftcp btcp/s1 1/0/3 117 -- 1/1/0/0/0 0/0\n";
        let cases = [
            (
                LogFormat::Rfc3164,
                Facility::Local0,
                0,
                "<134>Nov 25 10:02:45 localhost haproxy[29090]: ",
            ),
            (
                LogFormat::Rfc5424,
                Facility::Local1,
                451_011,
                "<142>1 2026-11-25T10:02:45.451011+05:30 - haproxy 29090 - - ",
            ),
            (
                LogFormat::Timed,
                Facility::Local4,
                451_046,
                "<6>2026-11-25T10:02:45.451046+05:30 ",
            ),
        ];
        for (fmt, fac, us, hdr) in cases {
            let mut v = Vec::new();
            frame(
                &mut v,
                fmt,
                fac,
                Level::Info,
                &m,
                at(us),
                &msg,
                1024,
                Transport::Datagram,
            );
            assert_eq!(String::from_utf8(v).unwrap(), format!("{hdr}{body}"));
        }
    }
}
