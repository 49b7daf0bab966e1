//! Row times in exports: relative seconds, clock offsets (`01:02:03.5`), ISO-8601 with an
//! offset, naive local times (read in a zone) and epoch seconds or milliseconds.

use std::path::Path;

use jiff::{civil, tz::TimeZone, Timestamp};

use super::{ParseReport, TimelineError};

/// A row's time as written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RowTime {
    /// Seconds from the start of the video.
    Relative(f64),
    /// An instant; `naive` when it was a local time read in the context's zone.
    Absolute { at: Timestamp, naive: bool },
}

/// Numbers below this are seconds from the video start; above, epoch seconds or ms.
const EPOCH_THRESHOLD: f64 = 1e8;

/// Parse a time that may be relative (seconds, `HH:MM:SS`) or absolute.
pub fn parse_row_time(raw: &str, tz: &TimeZone) -> Result<RowTime, String> {
    let s = raw.trim();
    if let Ok(v) = s.parse::<f64>() {
        if !v.is_finite() {
            return Err(format!("bad time {s:?}"));
        }
        if v.abs() < EPOCH_THRESHOLD {
            return Ok(RowTime::Relative(v));
        }
    }
    if let Some(secs) = parse_clock(s) {
        return Ok(RowTime::Relative(secs));
    }
    parse_instant(s, tz).map(|(at, naive)| RowTime::Absolute { at, naive })
}

/// `H:MM:SS(.fff)` or `MM:SS(.fff)` as seconds.
fn parse_clock(s: &str) -> Option<f64> {
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len()) || s.contains(' ') || s.contains('-') {
        return None;
    }
    let mut total = 0.0;
    for (i, p) in parts.iter().enumerate() {
        let last = i == parts.len() - 1;
        if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit() || (last && c == '.')) {
            return None;
        }
        total = total * 60.0 + p.parse::<f64>().ok()?;
    }
    Some(total)
}

/// Parse an absolute time. Returns the instant and whether it was a naive local time.
pub fn parse_instant(raw: &str, tz: &TimeZone) -> Result<(Timestamp, bool), String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("empty time".into());
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let v: f64 = s.parse().map_err(|_| format!("bad epoch time {s:?}"))?;
        // Epoch milliseconds are 13 digits for any date after 2001.
        let secs = if v > 1e11 { v / 1000.0 } else { v };
        let ts = jiff::SignedDuration::try_from_secs_f64(secs)
            .and_then(Timestamp::from_duration)
            .map_err(|e| format!("bad epoch time {s:?}: {e}"))?;
        return Ok((ts, false));
    }
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Ok((ts, false));
    }
    let normalized = s.replace('/', "-");
    match normalized.parse::<civil::DateTime>() {
        Ok(dt) => tz
            .to_timestamp(dt)
            .map(|ts| (ts, true))
            .map_err(|e| format!("bad local time {s:?}: {e}")),
        Err(_) => Err(format!(
            "unrecognised time {s:?} (expected seconds, ISO-8601, local 'YYYY-MM-DD HH:MM:SS' or epoch)"
        )),
    }
}

/// Seconds from the recording's first presentation time.
pub fn offset_s(
    time: RowTime,
    start: Option<Timestamp>,
    tz: &TimeZone,
    path: &Path,
    report: &mut ParseReport,
) -> Result<f64, TimelineError> {
    match time {
        RowTime::Relative(t) => Ok(t),
        RowTime::Absolute { at, naive } => {
            let start = start.ok_or_else(|| TimelineError::NoRecordingStart {
                path: path.to_path_buf(),
            })?;
            if naive {
                report.note_naive(tz);
            }
            Ok(at.duration_since(start).as_secs_f64())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }

    #[test]
    fn relative_and_clock_times() {
        assert_eq!(parse_row_time("12.5", &tz()), Ok(RowTime::Relative(12.5)));
        assert_eq!(
            parse_row_time("01:02:03.5", &tz()),
            Ok(RowTime::Relative(3723.5))
        );
        assert_eq!(parse_row_time("02:03", &tz()), Ok(RowTime::Relative(123.0)));
    }

    #[test]
    fn absolute_times() {
        let want: Timestamp = "2024-09-03T11:13:00Z".parse().unwrap();
        for s in [
            "2024-09-03T19:13:00+08:00",
            "2024-09-03 19:13:00",
            "2024/09/03 19:13:00",
            "2024-09-03T11:13:00Z",
            "1725361980",
            "1725361980000",
        ] {
            match parse_row_time(s, &tz()) {
                Ok(RowTime::Absolute { at, .. }) => assert_eq!(at, want, "{s}"),
                other => panic!("{s}: {other:?}"),
            }
        }
        assert!(parse_row_time("yesterday", &tz()).is_err());
        assert!(parse_row_time("NaN", &tz()).is_err());
        // Found by fuzzing: an absurd epoch value is an error, not a panic.
        assert!(parse_row_time("53213761222222222222222222222990", &tz()).is_err());
        assert!(parse_instant("1e400", &tz()).is_err());
    }
}
