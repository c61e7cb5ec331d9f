//! Wall-clock time as JWTs and certificates count it: whole seconds since the
//! Unix epoch.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now. A clock set before 1970 reads as 0,
/// which makes every token look expired rather than panicking.
pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The civil (proleptic Gregorian, UTC) date of a Unix time, as
/// `(year, month 1..=12, day 1..=31)`.
///
/// Written out (Howard Hinnant's `civil_from_days`) because certificate
/// validity needs only a date and pulling in a date crate for that is more
/// than the job needs.
pub(crate) fn civil_date(unix_secs: u64) -> (i32, u8, u8) {
    let days = i64::try_from(unix_secs / 86_400).unwrap_or(i64::MAX / 2);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Day and month are in range by construction; the year fits i32 for any
    // clock within a few million years of now.
    (
        i32::try_from(year).unwrap_or(i32::MAX),
        u8::try_from(month).unwrap_or(1),
        u8::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(951_782_400), (2000, 2, 29));
        assert_eq!(civil_date(1_795_478_400), (2026, 11, 24));
    }
}
