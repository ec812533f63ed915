//! RFC 3339 timestamps.
//!
//! orc writes UTC timestamps with second precision (`2026-11-21T09:30:00Z`).
//! It reads any RFC 3339 timestamp an agent may write (fractions, offsets)
//! and keeps the text as written, so a rewrite never changes what an agent
//! put there.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A validated RFC 3339 timestamp, kept as written, with its Unix time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    text: String,
    unix: i64,
}

impl Timestamp {
    /// The UTC timestamp of `unix` seconds since the epoch.
    pub fn from_unix(unix: i64) -> Self {
        let days = unix.div_euclid(86_400);
        let secs = unix.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let text = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        Timestamp { text, unix }
    }

    /// Parses an RFC 3339 date-time such as `2026-11-21T09:30:00Z` or
    /// `2026-11-21T11:30:00.25+02:00`.
    pub fn parse(text: &str) -> Result<Self, String> {
        parse_rfc3339(text)
            .map(|unix| Timestamp {
                text: text.to_string(),
                unix,
            })
            .ok_or_else(|| {
                format!(
                    "{:?} is not an RFC 3339 timestamp (expected e.g. 2026-11-21T09:30:00Z)",
                    super::id::shorten(text)
                )
            })
    }

    pub fn unix(&self) -> i64 {
        self.unix
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = crate::model::decode::text(d)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(range)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let digits = [*h1, *h2, *m1, *m2];
            if !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let d = |i: usize| i64::from(digits[i] - b'0');
            let (h, m) = (d(0) * 10 + d(1), d(2) * 10 + d(3));
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = h * 60 + m;
            if *sign == b'+' { minutes } else { -minutes }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset * 60)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days-from-civil and civil-from-days algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Parses `10m`, `30s`, `1h`, `250ms`, or a number of seconds.
pub fn parse_duration(text: &str) -> crate::error::Result<std::time::Duration> {
    let t = text.trim();
    let (num, unit) = t.split_at(
        t.find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(t.len()),
    );
    let n: f64 = num.parse().map_err(|_| {
        crate::error::Error::usage(format!("{t:?} is not a duration (e.g. 10m, 30s, 250ms)"))
    })?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => {
            return Err(crate::error::Error::usage(format!(
                "{t:?} is not a duration (e.g. 10m, 30s, 250ms)"
            )));
        }
    };
    std::time::Duration::try_from_secs_f64(secs)
        .map_err(|_| crate::error::Error::usage(format!("{t:?} is too long a duration")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        for unix in [0, 951_782_400, 1_795_000_000, 4_102_444_800, -86_400] {
            let ts = Timestamp::from_unix(unix);
            assert_eq!(Timestamp::parse(ts.as_str()).unwrap().unix(), unix, "{ts}");
        }
        assert_eq!(Timestamp::from_unix(0).as_str(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::from_unix(1_795_253_400).as_str(),
            "2026-11-21T09:30:00Z"
        );
    }

    #[test]
    fn accepts_offsets_and_fractions() {
        let a = Timestamp::parse("2026-11-21T11:30:00.250+02:00").unwrap();
        let b = Timestamp::parse("2026-11-21T09:30:00Z").unwrap();
        assert_eq!(a.unix(), b.unix());
        assert_eq!(
            a.as_str(),
            "2026-11-21T11:30:00.250+02:00",
            "kept as written"
        );
    }

    #[test]
    fn refuses_garbage() {
        for bad in [
            "",
            "yesterday",
            "2026-11-21",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-11-21T24:00:00Z",
            "2026-11-21T09:30:00",
            "2026-11-21T09:30:00+2:00",
            "2026-11-21T09:30:00.Z",
            "２026-11-21T09:30:00Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations() {
        use super::parse_duration;
        use std::time::Duration;
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        for bad in ["", "m", "1d", "-1s", "1e3s", &"9".repeat(400)] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
