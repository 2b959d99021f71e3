//! The one place coweave reads the clock: `SOURCE_DATE_EPOCH` when set
//! (reproducible builds), the system clock otherwise.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch of "now" for outputs.
pub fn now_epoch() -> i64 {
    if let Some(v) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
    {
        return v;
    }
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The date of an epoch time as `YYYY-MM-DD` (UTC).
pub fn date_of(epoch: i64) -> String {
    // civil-from-days (Howard Hinnant's algorithm)
    let z = epoch.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

/// Today's date for outputs.
pub fn today() -> String {
    date_of(now_epoch())
}

#[cfg(test)]
mod tests {
    use super::date_of;

    #[test]
    fn dates_from_epoch() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(951_782_400), "2000-02-29");
        assert_eq!(date_of(1_795_478_400), "2026-11-24");
    }
}
