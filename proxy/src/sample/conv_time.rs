//! Time converters: `ltime`, `utime` (strftime) and `http_date`.

/// Formats `secs` with strftime, in local time (`ltime`) or UTC (`utime`).
pub fn strftime(secs: i64, fmt: &str, local: bool) -> Option<Vec<u8>> {
    let cfmt = std::ffi::CString::new(fmt).ok()?;
    let t: libc::time_t = secs as libc::time_t;
    // SAFETY: tm is plain data zero-initialised; localtime_r/gmtime_r write into it and
    // return NULL on failure, which we check; strftime writes at most buf.len() bytes.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        let r = if local {
            libc::localtime_r(&t, &mut tm)
        } else {
            libc::gmtime_r(&t, &mut tm)
        };
        if r.is_null() {
            return None;
        }
        let mut buf = [0u8; 1024];
        let n = libc::strftime(
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            cfmt.as_ptr(),
            &tm,
        );
        Some(buf[..n].to_vec())
    }
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `http_date([offset[,unit]])`: IMF-fixdate; with ms/us units the fraction is printed
/// (".123"), as haproxy 2.6 does. `offset` is in the same unit as `value`.
pub fn http_date(value: i64, offset: i64, unit_div: i64) -> Option<Vec<u8>> {
    // The offset is in the same unit as the value (haproxy: http_date(1000,ms) adds 1s).
    let value = value.checked_add(offset)?;
    let secs = value.div_euclid(unit_div);
    let frac = value.rem_euclid(unit_div);
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    let wd = (days + 4).rem_euclid(7) as usize;
    let mut s = format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02}",
        DAYS[wd],
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    match unit_div {
        1000 => s.push_str(&format!(".{frac:03}")),
        1_000_000 => s.push_str(&format!(".{frac:06}")),
        _ => {}
    }
    s.push_str(" GMT");
    Some(s.into_bytes())
}

// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Values captured from haproxy 2.6.12.
    #[test]
    fn dates() {
        assert_eq!(
            http_date(0, 0, 1).unwrap(),
            b"Thu, 01 Jan 1970 00:00:00 GMT"
        );
        assert_eq!(
            http_date(1700000000, 3600, 1).unwrap(),
            b"Tue, 14 Nov 2023 23:13:20 GMT"
        );
        assert_eq!(
            http_date(1700000000123, 0, 1000).unwrap(),
            b"Tue, 14 Nov 2023 22:13:20.123 GMT"
        );
        assert_eq!(
            strftime(1700000000, "%Y-%m-%d %H:%M:%S", false).unwrap(),
            b"2023-11-14 22:13:20"
        );
        assert_eq!(
            strftime(1700000060, "%a %d/%b", false).unwrap(),
            b"Tue 14/Nov"
        );
        assert!(strftime(1700000000, "%Y", true).is_some());
    }
}
