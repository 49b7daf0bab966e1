//! Anomalies the preview marks on the timeline, each with what happened:
//! - **comment / order rate drops**: the 30 s-smoothed rate falls below 30 % of the median
//!   of the previous 5 minutes while the recording goes on (a broken export, a muted chat,
//!   a checkout outage, or viewers leaving);
//! - **glitches** and **intermissions** (highlights.json `flagged`);
//! - **bot floods** (the comment report's `spam_spans`) and suspected **fake orders**
//!   (`order_spam` ≥ 0.5).

use serde::{Deserialize, Serialize};

use super::{HighlightsFile, SignalsFile};
use crate::fuse::moving_average;

/// Smoothing window of the rate-drop detector, seconds.
pub const DROP_SMOOTH_S: usize = 30;
/// History the smoothed rate is compared with (its median), seconds.
pub const DROP_HISTORY_S: usize = 300;
/// A drop: the smoothed rate below this share of the history's median.
pub const DROP_RATIO: f64 = 0.3;
/// Comment rates whose recent median is below this (per second) are too sparse to judge.
const MIN_COMMENT_RATE: f64 = 0.1;
/// The same for orders (one a minute).
const MIN_ORDER_RATE: f64 = 1.0 / 60.0;
/// `order_spam` at or above this marks suspected fake orders.
const ORDER_SPAM_LEVEL: f32 = 0.5;

/// One anomaly on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    /// comment_drop, order_drop, glitch, intermission, bot_flood or fake_orders.
    pub kind: String,
    pub start_s: f64,
    pub end_s: f64,
    /// What happened, in words.
    pub what: String,
}

/// A span where a per-second rate fell sharply.
#[derive(Debug, Clone, PartialEq)]
pub struct RateDrop {
    pub start_s: f64,
    pub end_s: f64,
    /// Median of the smoothed rate over the [`DROP_HISTORY_S`] before the drop.
    pub before: f64,
    /// Lowest smoothed rate during the drop.
    pub low: f64,
    /// The drop lasts until the data ends.
    pub to_end: bool,
}

/// Spans where the [`DROP_SMOOTH_S`]-smoothed `per_second` rate is below [`DROP_RATIO`] of
/// its median over the previous [`DROP_HISTORY_S`] (at least `min_rate`), starting at
/// least one smoothing window before `until_s` (the recording continues). A drop lasts
/// while the rate stays below that share of the median at its start.
pub fn rate_drops(per_second: &[f64], until_s: f64, min_rate: f64) -> Vec<RateDrop> {
    let n = per_second.len().min(until_s.ceil().max(0.0) as usize);
    let smooth = moving_average(&per_second[..n], DROP_SMOOTH_S);
    let latest_start = until_s - DROP_SMOOTH_S as f64;
    let mut out = Vec::new();
    let mut scratch = Vec::with_capacity(DROP_HISTORY_S);
    let mut i = DROP_HISTORY_S;
    while i < n && (i as f64) < latest_start {
        scratch.clear();
        scratch.extend_from_slice(&smooth[i - DROP_HISTORY_S..i]);
        let mid = scratch.len() / 2;
        let (_, &mut median, _) = scratch.select_nth_unstable_by(mid, f64::total_cmp);
        let limit = DROP_RATIO * median;
        if median < min_rate || smooth[i] >= limit {
            i += 1;
            continue;
        }
        let start = i;
        let mut low = smooth[i];
        while i < n && smooth[i] < limit {
            low = low.min(smooth[i]);
            i += 1;
        }
        out.push(RateDrop {
            start_s: start as f64,
            end_s: i as f64,
            before: median,
            low,
            to_end: i >= n,
        });
    }
    out
}

/// Every anomaly of a recording, in time order.
pub fn detect(highlights: &HighlightsFile, signals: Option<&SignalsFile>) -> Vec<Anomaly> {
    let until = highlights.analysed_until_s;
    let mut out = Vec::new();
    if let Some(s) = signals {
        let per_second = |name: &str| {
            s.timelines.get(name).filter(|t| !t.is_empty()).map(|t| {
                let n = until.ceil().max(1.0) as usize;
                t.resample_mean(1.0, n, 0.0)
                    .into_iter()
                    .map(f64::from)
                    .collect::<Vec<f64>>()
            })
        };
        let rates = [
            ("comment_drop", "comments", MIN_COMMENT_RATE, 1.0, "/s"),
            ("order_drop", "orders", MIN_ORDER_RATE, 60.0, "/min"),
        ];
        for (kind, track, min_rate, scale, unit) in rates {
            let Some(x) = per_second(track) else {
                continue;
            };
            for d in rate_drops(&x, until, min_rate) {
                let mut what = format!(
                    "{track} rate fell to {:.1}{unit} ({:.0} % of the {:.1}{unit} median of the \
                     5 minutes before) for {}",
                    d.low * scale,
                    100.0 * d.low / d.before,
                    d.before * scale,
                    duration_words(d.end_s - d.start_s),
                );
                if d.to_end {
                    what += " until the end of the recording (is the export cut short?)";
                }
                out.push(Anomaly {
                    kind: kind.into(),
                    start_s: d.start_s,
                    end_s: d.end_s,
                    what,
                });
            }
        }
        if let Some(spam) = s.timelines.get("order_spam") {
            let n = until.ceil().max(1.0) as usize;
            let v = spam.resample_mean(1.0, n, 0.0);
            let mut i = 0;
            while i < n {
                if v[i] < ORDER_SPAM_LEVEL {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < n && v[i] >= ORDER_SPAM_LEVEL {
                    i += 1;
                }
                out.push(Anomaly {
                    kind: "fake_orders".into(),
                    start_s: start as f64,
                    end_s: i as f64,
                    what: "suspected fake orders: one buyer placing most orders at one amount \
                           (discounted in the score)"
                        .into(),
                });
            }
        }
    }
    for f in &highlights.flagged {
        let what = match f.kind.as_str() {
            "glitch" => "glitch: broken or frozen picture (never a highlight)".to_string(),
            "intermission" => {
                "intermission: a static picture with nobody speaking (never a highlight)"
                    .to_string()
            }
            other => format!("{other} (never a highlight)"),
        };
        out.push(Anomaly {
            kind: f.kind.clone(),
            start_s: f.start_s,
            end_s: f.end_s,
            what,
        });
    }
    for r in &highlights.timelines {
        for s in &r.spam_spans {
            out.push(Anomaly {
                kind: "bot_flood".into(),
                start_s: s.start_s,
                end_s: s.end_s,
                what: format!(
                    "bot flood: {} comments, {:.0} % from the two most active accounts, {:.0} % \
                     repeated text (discounted in the score)",
                    s.comments,
                    100.0 * s.top_user_share,
                    100.0 * s.duplicate_share
                ),
            });
        }
    }
    out.sort_by(|a, b| {
        a.start_s
            .total_cmp(&b.start_s)
            .then_with(|| a.kind.cmp(&b.kind))
    });
    out
}

/// "45 s", "2 min 10 s".
pub fn duration_words(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match (s / 60, s % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates(parts: &[(usize, f64)]) -> Vec<f64> {
        parts
            .iter()
            .flat_map(|&(n, v)| std::iter::repeat_n(v, n))
            .collect()
    }

    #[test]
    fn a_sharp_drop_while_the_recording_continues_is_found() {
        // 2 comments/s for 10 min, nothing for 2 min, back to 2/s for 5 min.
        let x = rates(&[(600, 2.0), (120, 0.0), (300, 2.0)]);
        let drops = rate_drops(&x, x.len() as f64, 0.1);
        assert_eq!(drops.len(), 1, "{drops:?}");
        let d = &drops[0];
        // The centred 30 s mean is below 0.6/s from 6 s after the fall to 6 s before the
        // recovery.
        assert!((d.start_s - 606.0).abs() <= 1.0, "{d:?}");
        assert!((d.end_s - 714.0).abs() <= 1.0, "{d:?}");
        assert_eq!(d.before, 2.0);
        assert_eq!(d.low, 0.0);
        assert!(!d.to_end);
    }

    #[test]
    fn a_gentle_decline_a_sparse_stream_and_the_end_are_not_drops() {
        // Halving is not a sharp drop.
        let x = rates(&[(600, 2.0), (300, 1.0)]);
        assert!(rate_drops(&x, 900.0, 0.1).is_empty());
        // Too sparse to judge.
        let x = rates(&[(600, 0.05), (300, 0.0)]);
        assert!(rate_drops(&x, 900.0, 0.1).is_empty());
        // The stream ending with the recording.
        let x = rates(&[(600, 2.0), (20, 0.0)]);
        assert!(rate_drops(&x, 620.0, 0.1).is_empty());
        // The first 5 minutes have no history to judge against.
        let x = rates(&[(100, 2.0), (400, 0.0)]);
        assert!(rate_drops(&x, 500.0, 0.1).is_empty());
    }

    #[test]
    fn an_export_that_stops_early_drops_to_the_end() {
        let x = rates(&[(600, 3.0), (400, 0.0)]);
        let drops = rate_drops(&x, 1000.0, 0.1);
        assert_eq!(drops.len(), 1, "{drops:?}");
        assert!(drops[0].to_end);
        assert_eq!(drops[0].end_s, 1000.0);
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(duration_words(45.2), "45 s");
        assert_eq!(duration_words(120.0), "2 min");
        assert_eq!(duration_words(130.0), "2 min 10 s");
    }
}
