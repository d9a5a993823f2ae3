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

pub use qldb_ion::calendar::{civil_from_days, days_from_civil};

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
