//! The `Date` field value, formatted at most once a second per thread.
//!
//! Every response carries a Date (RFC 9110 6.6.1). Formatting it costs far more than
//! copying 29 bytes, so each worker thread keeps the last value and the instant until
//! which it is current (the end of its second). A connection keeps a copy with that
//! instant too, so a response only compares two instants, using the clock read the
//! connection makes anyway for its timer: no second (wall) clock read per request.

use std::cell::RefCell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// Length of an IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) const DATE_LEN: usize = 29;

/// A Date value and the instant it stops being current.
#[derive(Clone, Copy)]
pub(crate) struct Date {
    pub(crate) value: [u8; DATE_LEN],
    until: Option<Instant>,
}

impl Date {
    /// A value that is current at no instant (refreshed on first use).
    pub(crate) const fn stale() -> Self {
        Self {
            value: [b' '; DATE_LEN],
            until: None,
        }
    }

    /// Whether the value is current at `now`.
    pub(crate) fn is_current(&self, now: Instant) -> bool {
        self.until.is_some_and(|u| now < u)
    }
}

thread_local! {
    static CACHE: RefCell<Date> = const { RefCell::new(Date::stale()) };
}

/// The Date value at `now` (from the monotonic clock), from this thread's cache.
pub(crate) fn current(now: Instant) -> Date {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if !c.is_current(now) {
            let since_epoch = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            c.value = format_imf_fixdate(since_epoch.as_secs());
            // Current until the wall clock's next second begins.
            let left =
                Duration::from_secs(1) - Duration::from_nanos(since_epoch.subsec_nanos().into());
            c.until = Some(now + left);
        }
        *c
    })
}

/// Formats seconds since the Unix epoch as an IMF-fixdate.
pub(crate) fn format_imf_fixdate(secs: u64) -> [u8; DATE_LEN] {
    const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (hour, min, sec) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let weekday = DAYS[(days % 7) as usize];
    // Civil-from-days (Howard Hinnant's algorithm), for the proleptic Gregorian calendar.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as usize;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as u64;

    let mut out = [0u8; DATE_LEN];
    out[..3].copy_from_slice(weekday);
    out[3..5].copy_from_slice(b", ");
    two(&mut out[5..7], day);
    out[7] = b' ';
    out[8..11].copy_from_slice(MONTHS[month - 1]);
    out[11] = b' ';
    two(&mut out[12..14], year / 100 % 100);
    two(&mut out[14..16], year % 100);
    out[16] = b' ';
    two(&mut out[17..19], hour);
    out[19] = b':';
    two(&mut out[20..22], min);
    out[22] = b':';
    two(&mut out[23..25], sec);
    out[25..].copy_from_slice(b" GMT");
    out
}

fn two(dst: &mut [u8], v: u64) {
    dst[0] = b'0' + (v / 10 % 10) as u8;
    dst[1] = b'0' + (v % 10) as u8;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_dates() {
        assert_eq!(
            &format_imf_fixdate(784_111_777),
            b"Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(&format_imf_fixdate(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            &format_imf_fixdate(951_782_400),
            b"Tue, 29 Feb 2000 00:00:00 GMT"
        );
        assert_eq!(
            &format_imf_fixdate(4_102_444_799),
            b"Thu, 31 Dec 2099 23:59:59 GMT"
        );
    }

    #[test]
    fn cached_value_is_current() {
        let now = Instant::now();
        let d = current(now);
        assert!(d.value.ends_with(b" GMT"));
        assert!(d.is_current(now));
        assert!(!d.is_current(now + Duration::from_secs(1)));
        assert!(!Date::stale().is_current(now));
    }
}
