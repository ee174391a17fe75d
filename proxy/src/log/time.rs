//! Local-time rendering used by syslog headers and the `%t`/`%tr` log fields.
//!
//! haproxy renders all of these in the process's local time zone (via
//! `localtime_r`), so we do the same through libc rather than assuming UTC.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// Month abbreviations used by both the rfc3164 header and `%t`.
pub(crate) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Broken-down local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tm {
    pub year: i32,
    /// 0..=11
    pub mon: usize,
    pub mday: i32,
    pub hour: i32,
    pub min: i32,
    pub sec: i32,
    /// Offset from UTC in seconds (east positive).
    pub gmtoff: i64,
}

/// Splits a SystemTime into (seconds, microseconds) since the epoch; times
/// before the epoch are clamped to it because no log date can be that old.
pub(crate) fn split(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_micros(),
        ),
        Err(_) => (0, 0),
    }
}

/// `localtime_r()` of `secs`; falls back to UTC fields of the epoch if libc
/// refuses the value, so formatting never fails.
pub(crate) fn local_tm(secs: i64) -> Tm {
    // SAFETY: tm is plain old data; localtime_r only writes into it.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let t: libc::time_t = secs as libc::time_t;
    // SAFETY: both pointers are valid for the duration of the call.
    let ok = !unsafe { libc::localtime_r(&t, &mut tm) }.is_null();
    if !ok {
        return Tm {
            year: 1970,
            mon: 0,
            mday: 1,
            hour: 0,
            min: 0,
            sec: 0,
            gmtoff: 0,
        };
    }
    Tm {
        year: tm.tm_year + 1900,
        mon: usize::try_from(tm.tm_mon).unwrap_or(0).min(11),
        mday: tm.tm_mday,
        hour: tm.tm_hour,
        min: tm.tm_min,
        sec: tm.tm_sec,
        gmtoff: tm.tm_gmtoff,
    }
}

/// rfc3164 timestamp followed by a space: `Nov  5 04:17:10 ` (day padded with
/// a space, as haproxy's `"%s %2d %02d:%02d:%02d "`).
pub(crate) fn write_legacy(out: &mut Vec<u8>, t: SystemTime) {
    let tm = local_tm(split(t).0);
    let _ = write!(
        out,
        "{} {:2} {:02}:{:02}:{:02} ",
        MONTHS[tm.mon], tm.mday, tm.hour, tm.min, tm.sec
    );
}

/// ISO 8601 local time with microseconds and numeric offset, no trailing
/// space: `2026-11-25T04:17:10.946421+00:00` (haproxy's
/// `timeofday_as_iso_us()`).
pub(crate) fn write_iso_us(out: &mut Vec<u8>, t: SystemTime) {
    let (secs, us) = split(t);
    let tm = local_tm(secs);
    let sign = if tm.gmtoff < 0 { '-' } else { '+' };
    let off = tm.gmtoff.unsigned_abs();
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}{}{:02}:{:02}",
        tm.year,
        tm.mon + 1,
        tm.mday,
        tm.hour,
        tm.min,
        tm.sec,
        us,
        sign,
        off / 3600,
        (off / 60) % 60
    );
}

/// Log-line date `25/Nov/2026:04:17:10.920` (haproxy's `date2str_log()`,
/// used for `%t` and `%tr`).
pub(crate) fn write_date_log(out: &mut Vec<u8>, t: SystemTime) {
    let (secs, us) = split(t);
    let tm = local_tm(secs);
    let _ = write!(
        out,
        "{:02}/{}/{:04}:{:02}:{:02}:{:02}.{:03}",
        tm.mday,
        MONTHS[tm.mon],
        tm.year,
        tm.hour,
        tm.min,
        tm.sec,
        us / 1000
    );
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::time::Duration;

    /// Whether the process's local zone is UTC at `secs`; the byte-exact
    /// tests below only assert literal strings in that case (the captures
    /// were made on a UTC machine) and otherwise check the shape.
    pub(crate) fn local_is_utc(secs: i64) -> bool {
        local_tm(secs).gmtoff == 0
    }

    #[test]
    fn log_time_formats() {
        // 2026-11-25T04:17:10.946421Z
        let t = UNIX_EPOCH + Duration::new(1_795_580_230, 946_421_000);
        let mut a = Vec::new();
        write_legacy(&mut a, t);
        let mut b = Vec::new();
        write_iso_us(&mut b, t);
        let mut c = Vec::new();
        write_date_log(&mut c, t);
        if local_is_utc(1_795_580_230) {
            assert_eq!(a, b"Nov 25 04:17:10 ");
            assert_eq!(b, b"2026-11-25T04:17:10.946421+00:00");
            assert_eq!(c, b"25/Nov/2026:04:17:10.946");
        } else {
            assert_eq!(a.len(), 16);
            assert_eq!(b.len(), 32);
            assert_eq!(c.len(), 24);
        }
    }

    #[test]
    fn log_time_single_digit_day_is_space_padded() {
        // 2026-11-05T00:00:00Z
        let t = UNIX_EPOCH + Duration::from_secs(1_793_836_800);
        let mut a = Vec::new();
        write_legacy(&mut a, t);
        if local_is_utc(1_793_836_800) {
            assert_eq!(a, b"Nov  5 00:00:00 ");
        }
        assert_eq!(a.len(), 16);
    }

    #[test]
    fn log_time_before_epoch_does_not_panic() {
        let mut a = Vec::new();
        write_iso_us(&mut a, UNIX_EPOCH - Duration::from_secs(10));
        assert!(!a.is_empty());
    }
}
