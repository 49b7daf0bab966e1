//! Time types shared by every stage.
//!
//! Everything that crosses a module boundary is in **seconds from the recording's first
//! presentation time** (`f64`). Only `media` and `cut` see stream time bases; they convert
//! with [`TimeBase`], which does the arithmetic in `i128` so that 1/90000 time bases on
//! 8-hour recordings cannot overflow.

use serde::{Deserialize, Serialize};

/// A stream time base (`num/den` seconds per tick).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeBase {
    pub num: i32,
    pub den: i32,
}

impl TimeBase {
    pub const fn new(num: i32, den: i32) -> Self {
        Self { num, den }
    }

    /// Ticks in this time base to seconds.
    pub fn to_secs(self, ticks: i64) -> f64 {
        if self.den == 0 {
            return 0.0;
        }
        (i128::from(ticks) * i128::from(self.num)) as f64 / f64::from(self.den)
    }

    /// Seconds to the nearest tick in this time base.
    pub fn from_secs(self, secs: f64) -> i64 {
        if self.num == 0 {
            return 0;
        }
        (secs * f64::from(self.den) / f64::from(self.num)).round() as i64
    }
}

/// A half-open span `[start, end)` in seconds from the recording's first presentation time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub start_s: f64,
    pub end_s: f64,
}

impl Span {
    pub fn new(start_s: f64, end_s: f64) -> Self {
        Self { start_s, end_s }
    }

    pub fn duration(&self) -> f64 {
        (self.end_s - self.start_s).max(0.0)
    }

    pub fn contains(&self, t: f64) -> bool {
        t >= self.start_s && t < self.end_s
    }

    /// Length of the intersection of two spans (0 when disjoint).
    pub fn overlap(&self, other: &Span) -> f64 {
        (self.end_s.min(other.end_s) - self.start_s.max(other.start_s)).max(0.0)
    }

    /// The span shifted and shrunk so that it lies inside `[0, limit]`, keeping its length
    /// where possible.
    pub fn clamp_to(&self, limit: f64) -> Span {
        let len = self.duration().min(limit);
        let mut start = self.start_s.max(0.0);
        let mut end = start + len;
        if end > limit {
            end = limit;
            start = (end - len).max(0.0);
        }
        Span::new(start, end)
    }
}

/// `HH:MM:SS.mmm` for logs and file names.
pub fn format_hms(secs: f64) -> String {
    let ms = (secs.max(0.0) * 1000.0).round() as u64;
    let (h, rem) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rem) = (rem / 60_000, rem % 60_000);
    format!("{h:02}:{m:02}:{:02}.{:03}", rem / 1000, rem % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_base_round_trip_without_overflow() {
        let tb = TimeBase::new(1, 90_000);
        let eight_hours = 8.0 * 3600.0;
        let ticks = tb.from_secs(eight_hours);
        assert_eq!(ticks, 2_592_000_000); // > i32::MAX
        assert!((tb.to_secs(ticks) - eight_hours).abs() < 1e-9);
    }

    #[test]
    fn span_clamp_keeps_length() {
        let s = Span::new(-5.0, 25.0).clamp_to(100.0);
        assert_eq!(s, Span::new(0.0, 30.0));
        let s = Span::new(90.0, 120.0).clamp_to(100.0);
        assert_eq!(s, Span::new(70.0, 100.0));
        let s = Span::new(0.0, 120.0).clamp_to(50.0);
        assert_eq!(s, Span::new(0.0, 50.0));
    }

    #[test]
    fn span_overlap() {
        let a = Span::new(0.0, 10.0);
        assert_eq!(a.overlap(&Span::new(5.0, 20.0)), 5.0);
        assert_eq!(a.overlap(&Span::new(10.0, 20.0)), 0.0);
    }

    #[test]
    fn hms() {
        assert_eq!(format_hms(3725.5), "01:02:05.500");
    }
}
