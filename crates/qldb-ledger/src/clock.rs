//! Wall-clock time as QLDB reports it: UTC Ion timestamps with millisecond precision.

use ion_rs::Timestamp;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The UTC timestamp with millisecond precision for `millis` since the epoch, e.g.
/// `2021-06-02T07:03:05.226Z`.
pub fn timestamp_from_millis(millis: i64) -> Timestamp {
    let days = millis.div_euclid(86_400_000);
    let ms_of_day = millis.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let secs = (ms_of_day / 1000) as u32;
    Timestamp::with_ymd(y as u32, m, d)
        .with_hms(secs / 3600, (secs / 60) % 60, secs % 60)
        .with_milliseconds((ms_of_day % 1000) as u32)
        .with_offset(0)
        .build()
        .expect("a valid calendar date")
}

/// Milliseconds since the epoch of a timestamp (its instant; precision below ms is dropped).
pub fn millis_from_timestamp(ts: &Timestamp) -> i64 {
    let utc = ts.clone().to_utc();
    let days = days_from_civil(utc.year() as i64, utc.month(), utc.day());
    days * 86_400_000
        + (utc.hour() as i64 * 3600 + utc.minute() as i64 * 60 + utc.second() as i64) * 1000
        + utc.milliseconds() as i64
}

/// The current time as a millisecond-precision UTC timestamp.
pub fn now_timestamp() -> Timestamp {
    timestamp_from_millis(now_millis())
}

/// The proleptic Gregorian date (year, month, day) of a day number counted from 1970-01-01
/// (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of a proleptic Gregorian date; the inverse of [`civil_from_days`].
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_millisecond_utc() {
        let ts = timestamp_from_millis(1_622_617_385_226);
        // ion-rs writes UTC as `+00:00`, which Ion defines as the same value as `Z`.
        let expected = ion_rs::Element::read_one("2021-06-02T07:03:05.226Z").unwrap();
        assert_eq!(ion_rs::Element::timestamp(ts.clone()), expected);
        assert_eq!(millis_from_timestamp(&ts), 1_622_617_385_226);
    }

    #[test]
    fn round_trips_across_eras() {
        for ms in [0i64, 951_782_400_000, 4_102_444_800_000, 1_709_164_800_123] {
            assert_eq!(millis_from_timestamp(&timestamp_from_millis(ms)), ms);
        }
    }
}
