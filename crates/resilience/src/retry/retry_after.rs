//! The `Retry-After` header (RFC 9110 §10.2.3): delta-seconds or an HTTP-date.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// The longest wait [`parse_retry_after`] returns: 1 hour. A hostile or broken server
/// cannot make a client sleep for days; a policy then refuses waits above its own,
/// smaller, limit.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(3600);

/// Parses a `Retry-After` value into how long to wait from `now`, at most
/// [`RETRY_AFTER_CAP`].
///
/// Accepts delta-seconds (`120`) and the three HTTP-date forms recipients must accept
/// (RFC 9110 §5.6.7): IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850
/// `Sunday, 06-Nov-94 08:49:37 GMT` and asctime `Sun Nov  6 08:49:37 1994`. A date in
/// the past means "now" (zero). `now` is the wall clock the date is compared with,
/// normally `SystemTime::now()`; it is a parameter so tests are exact.
///
/// # Errors
///
/// [`Error::InvalidRetryAfter`] for anything else (negative or fractional seconds,
/// unknown date formats, impossible dates such as 31 Feb).
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use ghostnet_resilience::retry::parse_retry_after;
///
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // 06 Nov 1994 08:49:37
/// assert_eq!(parse_retry_after("120", now).unwrap(), Duration::from_secs(120));
/// assert_eq!(
///     parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now).unwrap(),
///     Duration::from_secs(30)
/// );
/// assert_eq!(parse_retry_after("9999999999", now).unwrap(), Duration::from_secs(3600));
/// assert!(parse_retry_after("soon", now).is_err());
/// ```
pub fn parse_retry_after(value: impl AsRef<[u8]>, now: SystemTime) -> Result<Duration> {
    parse_retry_after_capped(value, now, RETRY_AFTER_CAP)
}

/// [`parse_retry_after`] with a cap of your choice instead of [`RETRY_AFTER_CAP`].
///
/// # Errors
///
/// [`Error::InvalidRetryAfter`], as for [`parse_retry_after`].
pub fn parse_retry_after_capped(
    value: impl AsRef<[u8]>,
    now: SystemTime,
    cap: Duration,
) -> Result<Duration> {
    let raw = value.as_ref();
    let v = trim_ows(raw);
    let wait = if !v.is_empty() && v.iter().all(u8::is_ascii_digit) {
        // Saturate instead of failing on huge numbers: RFC 9110 §1.2.2 treats overflowing
        // delta-seconds as "very large", and the cap cuts them anyway.
        let secs = v.iter().fold(0u64, |n, d| {
            n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        });
        Duration::from_secs(secs)
    } else {
        let when = http_date(v, now).ok_or_else(|| Error::InvalidRetryAfter {
            value: String::from_utf8_lossy(&raw[..raw.len().min(64)]).into_owned(),
        })?;
        when.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Ok(wait.min(cap))
}

fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

const DAYS: [&[u8]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
const DAYS_LONG: [&[u8]; 7] = [
    b"Monday",
    b"Tuesday",
    b"Wednesday",
    b"Thursday",
    b"Friday",
    b"Saturday",
    b"Sunday",
];
const MONTHS: [&[u8]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// A date and time of day, as written.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

/// Parses the three HTTP-date forms. The day name is checked to be a day name but not
/// against the date: a wrong weekday is a sender bug that changes nothing here.
fn http_date(v: &[u8], now: SystemTime) -> Option<SystemTime> {
    imf_fixdate(v)
        .or_else(|| rfc850(v, now))
        .or_else(|| asctime(v))
        .and_then(to_system_time)
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`
fn imf_fixdate(v: &[u8]) -> Option<Civil> {
    let mut c = Cursor(v);
    c.one_of(&DAYS)?;
    c.tag(b", ")?;
    let day = c.digits(2)?;
    c.tag(b" ")?;
    let month = c.month()?;
    c.tag(b" ")?;
    let year = i64::from(c.digits(4)?);
    c.tag(b" ")?;
    let (hour, minute, second) = c.time()?;
    c.tag(b" GMT")?;
    c.end()?;
    Some(Civil {
        year,
        month,
        day,
        hour,
        minute,
        second,
    })
}

/// `Sunday, 06-Nov-94 08:49:37 GMT`, with the two-digit year read as RFC 9110 says: a
/// year more than 50 years ahead of `now` is the most recent past year with those digits.
fn rfc850(v: &[u8], now: SystemTime) -> Option<Civil> {
    let mut c = Cursor(v);
    c.one_of(&DAYS_LONG)?;
    c.tag(b", ")?;
    let day = c.digits(2)?;
    c.tag(b"-")?;
    let month = c.month()?;
    c.tag(b"-")?;
    let yy = i64::from(c.digits(2)?);
    c.tag(b" ")?;
    let (hour, minute, second) = c.time()?;
    c.tag(b" GMT")?;
    c.end()?;
    let this_year = year_of(unix_seconds(now).div_euclid(86_400));
    let mut year = this_year - this_year.rem_euclid(100) + yy;
    if year > this_year + 50 {
        year -= 100;
    }
    Some(Civil {
        year,
        month,
        day,
        hour,
        minute,
        second,
    })
}

/// `Sun Nov  6 08:49:37 1994`
fn asctime(v: &[u8]) -> Option<Civil> {
    let mut c = Cursor(v);
    c.one_of(&DAYS)?;
    c.tag(b" ")?;
    let month = c.month()?;
    c.tag(b" ")?;
    let day = if c.tag(b" ").is_some() {
        c.digits(1)?
    } else {
        c.digits(2)?
    };
    c.tag(b" ")?;
    let (hour, minute, second) = c.time()?;
    c.tag(b" ")?;
    let year = i64::from(c.digits(4)?);
    c.end()?;
    Some(Civil {
        year,
        month,
        day,
        hour,
        minute,
        second,
    })
}

fn to_system_time(t: Civil) -> Option<SystemTime> {
    let leap = t.year % 4 == 0 && (t.year % 100 != 0 || t.year % 400 == 0);
    let month_days = match t.month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    // Second 60 is a leap second, which RFC 9110's grammar allows.
    if t.day == 0 || t.day > month_days || t.hour > 23 || t.minute > 59 || t.second > 60 {
        return None;
    }
    let secs = days_from_civil(t.year, t.month, t.day) * 86_400
        + i64::from(t.hour * 3600 + t.minute * 60 + t.second);
    Some(match u64::try_from(secs) {
        Ok(s) => UNIX_EPOCH + Duration::from_secs(s),
        // Before 1970: in the past for any real clock, so "now" is as good as exact.
        Err(_) => UNIX_EPOCH,
    })
}

fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((month + 9) % 12); // March = 0
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The year of a day counted from 1970-01-01 (inverse of [`days_from_civil`]).
fn year_of(days: i64) -> i64 {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let year = yoe + era * 400;
    // Days in January and February belong to the next civil year.
    if mp >= 10 { year + 1 } else { year }
}

/// A tiny parser over the bytes of a date.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn tag(&mut self, t: &[u8]) -> Option<()> {
        self.0 = self.0.strip_prefix(t)?;
        Some(())
    }

    /// Exactly `n` ASCII digits.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let (head, rest) = self.0.split_at_checked(n)?;
        if !head.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.0 = rest;
        Some(head.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0')))
    }

    /// The index of the name (ASCII case-insensitive) that comes next.
    fn one_of(&mut self, names: &[&[u8]]) -> Option<usize> {
        let i = names.iter().position(|name| {
            self.0
                .get(..name.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(name))
        })?;
        self.0 = &self.0[names[i].len()..];
        Some(i)
    }

    /// A month name, as 1 to 12.
    fn month(&mut self) -> Option<u32> {
        self.one_of(&MONTHS).map(|i| i as u32 + 1)
    }

    /// `HH:MM:SS`
    fn time(&mut self) -> Option<(u32, u32, u32)> {
        let h = self.digits(2)?;
        self.tag(b":")?;
        let m = self.digits(2)?;
        self.tag(b":")?;
        let s = self.digits(2)?;
        Some((h, m, s))
    }

    fn end(&self) -> Option<()> {
        self.0.is_empty().then_some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::{RngExt, SeedableRng};

    /// 1994-11-06 08:49:37 UTC, the RFC's example date.
    fn rfc_now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(784_111_777)
    }

    fn secs(v: &str, now: SystemTime) -> u64 {
        parse_retry_after(v, now).unwrap().as_secs()
    }

    #[test]
    fn delta_seconds() {
        let now = rfc_now();
        assert_eq!(secs("0", now), 0);
        assert_eq!(secs("120", now), 120);
        assert_eq!(secs(" \t7 ", now), 7);
        assert_eq!(secs("3600", now), 3600);
        assert_eq!(secs("3601", now), 3600);
        assert_eq!(secs(&"9".repeat(40), now), 3600);
        let capped = parse_retry_after_capped("120", now, Duration::from_secs(60)).unwrap();
        assert_eq!(capped, Duration::from_secs(60));
    }

    #[test]
    fn the_three_date_forms_agree() {
        let now = rfc_now() - Duration::from_secs(90);
        for v in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "sun, 06 nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(secs(v, now), 90, "{v}");
        }
        assert_eq!(secs("Thu Feb 29 00:00:00 1996", UNIX_EPOCH), 3600);
    }

    #[test]
    fn past_dates_mean_now() {
        assert_eq!(secs("Sun, 06 Nov 1994 08:49:37 GMT", SystemTime::now()), 0);
        assert_eq!(secs("Thu, 01 Jan 1970 00:00:00 GMT", SystemTime::now()), 0);
        assert_eq!(secs("Mon, 01 Jan 1900 00:00:00 GMT", SystemTime::now()), 0);
    }

    #[test]
    fn far_future_dates_are_capped() {
        assert_eq!(secs("Fri, 31 Dec 9999 23:59:59 GMT", rfc_now()), 3600);
    }

    #[test]
    fn rfc850_two_digit_years() {
        // 2030-01-01 seen from 2025: 30 is within 50 years ahead, so 2030.
        let y2025 = UNIX_EPOCH + Duration::from_secs(days_from_civil(2025, 1, 1) as u64 * 86_400);
        let jan_2030 = days_from_civil(2030, 1, 1) * 86_400;
        let wait = secs("Tuesday, 01-Jan-30 00:00:00 GMT", y2025);
        assert_eq!(wait, 3600); // capped, but in the future: 2030 not 1930
        let capped =
            parse_retry_after_capped("Tuesday, 01-Jan-30 00:00:00 GMT", y2025, Duration::MAX)
                .unwrap();
        assert_eq!(
            capped.as_secs() as i64,
            jan_2030 - days_from_civil(2025, 1, 1) * 86_400
        );
        // 94 seen from 2025 would be 2094, more than 50 years ahead: 1994, in the past.
        assert_eq!(secs("Sunday, 06-Nov-94 08:49:37 GMT", y2025), 0);
    }

    #[test]
    fn invalid_values() {
        for v in [
            "",
            " ",
            "-1",
            "1.5",
            "+5",
            "12 s",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 29 Feb 1995 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT trailing",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sun Nov 6 08:49:37 1994",
        ] {
            let err = parse_retry_after(v, rfc_now()).unwrap_err();
            assert!(
                matches!(&err, Error::InvalidRetryAfter { value } if value == v),
                "{v:?}: {err}"
            );
        }
        let long = "x".repeat(1000);
        match parse_retry_after(&long, rfc_now()) {
            Err(Error::InvalidRetryAfter { value }) => assert_eq!(value.len(), 64),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn civil_round_trips() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        for days in (-800_000..800_000).step_by(997) {
            let y = year_of(days);
            assert!(days_from_civil(y, 1, 1) <= days && days < days_from_civil(y + 1, 1, 1));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut rng = SmallRng::seed_from_u64(0x5eed);
        let alphabet = b"0123456789 ,:-GMTSunNovMonFebday\t\xff";
        for len in 0..40 {
            for _ in 0..500 {
                let v: Vec<u8> = (0..len)
                    .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                    .collect();
                let _ = parse_retry_after(&v, rfc_now());
            }
        }
        // Every valid date shape with every field at its limits.
        for d in ["00", "01", "28", "29", "30", "31", "99"] {
            for t in ["00:00:00", "23:59:60", "99:99:99"] {
                let v = format!("Mon, {d} Feb 2000 {t} GMT");
                let _ = parse_retry_after(v, rfc_now());
            }
        }
    }
}
