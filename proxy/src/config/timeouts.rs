//! haproxy time values: an integer followed by an optional unit (`us`, `ms` — the default —,
//! `s`, `m`, `h`, `d`), at most 2147483647 ms as in haproxy (its timers are signed 32-bit).

use std::time::Duration;

use super::model::Timeouts;

/// The largest time haproxy accepts, in milliseconds.
pub const MAX_MS: u128 = 2_147_483_647;

/// Why a time value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeError {
    /// Nothing, or no leading digit.
    Empty,
    /// A character that is neither a digit nor a unit.
    BadChar(char),
    /// Larger than [`MAX_MS`].
    Overflow,
}

impl TimeError {
    /// haproxy's wording, for `what` (e.g. `'timeout client'`) and the `value` given.
    pub fn message(&self, what: &str, value: &str) -> String {
        match self {
            TimeError::Empty => format!("{what} expects an integer value (in milliseconds)"),
            TimeError::BadChar(c) => format!("unexpected character '{c}' in {what}"),
            TimeError::Overflow => format!(
                "timer overflow in argument '{value}' to {what} (maximum value is 2147483647 ms or ~24.8 days)"
            ),
        }
    }
}

/// Parses a time value, milliseconds by default.
pub fn parse_time(s: &str) -> Result<Duration, TimeError> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return match s.chars().next() {
            None => Err(TimeError::Empty),
            Some(c) => Err(TimeError::BadChar(c)),
        };
    }
    // Many digits overflow any unit; u128 keeps the arithmetic exact before the check.
    let n: u128 = s[..digits].parse().map_err(|_| TimeError::Overflow)?;
    let us_per = match &s[digits..] {
        "us" => 1u128,
        "" | "ms" => 1_000,
        "s" => 1_000_000,
        "m" => 60_000_000,
        "h" => 3_600_000_000,
        "d" => 86_400_000_000,
        rest => {
            // haproxy reports the first character it could not take as a unit.
            let c = rest
                .chars()
                .find(|c| !"umshd".contains(*c))
                .or(rest.chars().next());
            return Err(TimeError::BadChar(c.unwrap_or('?')));
        }
    };
    let us = n.checked_mul(us_per).ok_or(TimeError::Overflow)?;
    if us / 1000 > MAX_MS {
        return Err(TimeError::Overflow);
    }
    Ok(Duration::from_micros(us as u64))
}

/// Which proxy sides a `timeout` applies to: (frontend, backend).
pub fn timeout_sides(name: &str) -> Option<(bool, bool)> {
    Some(match name {
        "client" | "client-fin" | "http-request" => (true, false),
        "server" | "server-fin" | "connect" | "tunnel" | "queue" | "check" => (false, true),
        "http-keep-alive" => (true, true),
        _ => return None,
    })
}

/// The field of `t` for timeout `name` (one accepted by [`timeout_sides`]).
pub fn timeout_slot<'a>(t: &'a mut Timeouts, name: &str) -> Option<&'a mut Option<Duration>> {
    Some(match name {
        "client" => &mut t.client,
        "client-fin" => &mut t.client_fin,
        "http-request" => &mut t.http_request,
        "server" => &mut t.server,
        "server-fin" => &mut t.server_fin,
        "connect" => &mut t.connect,
        "tunnel" => &mut t.tunnel,
        "queue" => &mut t.queue,
        "check" => &mut t.check,
        "http-keep-alive" => &mut t.http_keep_alive,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_time("10"), Ok(Duration::from_millis(10)));
        assert_eq!(parse_time("10ms"), Ok(Duration::from_millis(10)));
        assert_eq!(parse_time("7us"), Ok(Duration::from_micros(7)));
        assert_eq!(parse_time("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_time("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_time("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_time("1d"), Ok(Duration::from_secs(86400)));
        assert_eq!(parse_time("24d"), Ok(Duration::from_secs(24 * 86400)));
    }

    #[test]
    fn errors() {
        assert_eq!(parse_time(""), Err(TimeError::Empty));
        assert_eq!(parse_time("10x"), Err(TimeError::BadChar('x')));
        assert_eq!(parse_time("x"), Err(TimeError::BadChar('x')));
        assert_eq!(parse_time("1.5s"), Err(TimeError::BadChar('.')));
        assert_eq!(parse_time("25d"), Err(TimeError::Overflow));
        assert_eq!(parse_time("100000d"), Err(TimeError::Overflow));
        assert_eq!(
            parse_time("99999999999999999999999999999999999999999"),
            Err(TimeError::Overflow)
        );
        assert_eq!(
            TimeError::BadChar('x').message("'timeout client'", "10x"),
            "unexpected character 'x' in 'timeout client'"
        );
    }
}
