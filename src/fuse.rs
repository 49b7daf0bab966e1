//! Fusion: every track onto one per-second grid, robust local normalisation, lag
//! correction for audience and sales, and a weighted sum that keeps each signal's
//! contribution so a highlight can say why it was chosen.

use serde::{Deserialize, Serialize};

use crate::signals::SignalSet;

/// How one track enters the excitement curve.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SignalSpec {
    /// Name used in reasons ("loudness", "motion", "comments", "orders").
    pub signal: String,
    /// Track it is computed from.
    pub track: String,
    pub weight: f64,
    /// Seconds the track reacts after the on-screen moment; it is shifted back by this.
    pub lag_s: f64,
    /// Moving-average window applied before normalisation (seconds).
    pub smooth_s: f64,
    /// Smallest spread (in track units) used for normalisation, so a flat or sparse track
    /// does not turn noise into excitement.
    pub min_spread: f64,
    /// Value used where the track has no data.
    pub fill: f32,
    /// A 0–1 track (e.g. `spam`) that discounts this signal: contribution × (1 − it).
    #[serde(default)]
    pub discount_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FuseSettings {
    pub signals: Vec<SignalSpec>,
    /// Window of the local baseline (median and MAD), seconds: audiences grow and shrink
    /// over a session, so "unusual" is judged against the surrounding ten minutes.
    pub baseline_window_s: f64,
    /// Robust z-score at which a signal's activation saturates at 1.
    pub z_saturation: f64,
    /// 0–1 tracks whose seconds are never a highlight: the score (and every contribution)
    /// is multiplied by 1 − their value (`glitch`: broken frames; `intermission`: a static
    /// card with music and no speech).
    #[serde(default)]
    pub refuse: Vec<String>,
}

impl Default for FuseSettings {
    fn default() -> Self {
        let spec =
            |signal: &str, track: &str, weight, lag_s, smooth_s, min_spread, fill| SignalSpec {
                signal: signal.into(),
                track: track.into(),
                weight,
                lag_s,
                smooth_s,
                min_spread,
                fill,
                discount_by: None,
            };
        let discounted = |s: SignalSpec, by: &str| SignalSpec {
            discount_by: Some(by.into()),
            ..s
        };
        Self {
            signals: vec![
                spec("loudness", "loudness_momentary", 0.25, 0.0, 3.0, 1.5, -70.0),
                spec("motion", "motion", 0.25, 0.0, 3.0, 0.004, 0.0),
                spec(
                    "audio_events",
                    "audio_excitement",
                    0.15,
                    0.0,
                    3.0,
                    0.05,
                    0.0,
                ),
                spec("screen_text", "screen_keywords", 0.1, 0.0, 3.0, 0.5, 0.0),
                discounted(
                    spec("comments", "comment_users", 0.3, 3.0, 5.0, 1.0, 0.0),
                    "spam",
                ),
                discounted(
                    spec("orders", "orders", 0.2, 10.0, 15.0, 0.05, 0.0),
                    "order_spam",
                ),
            ],
            baseline_window_s: 600.0,
            z_saturation: 6.0,
            refuse: vec!["glitch".into(), "intermission".into()],
        }
    }
}

/// The fused excitement curve on a 1 s grid (bin `i` covers `[i, i+1)` seconds).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Curve {
    pub step_s: f64,
    /// Weighted sum of activations, normalised by the total weight (0–1).
    pub score: Vec<f64>,
    /// Per signal: its weighted activation per bin (sums to `score`).
    pub contributions: Vec<(String, Vec<f64>)>,
}

impl Curve {
    pub fn len(&self) -> usize {
        self.score.len()
    }

    pub fn is_empty(&self) -> bool {
        self.score.is_empty()
    }
}

/// Fuse `signals` over `duration_s` seconds. Signals whose track is absent (no comments
/// file, say) are left out and the remaining weights renormalised.
pub fn fuse(signals: &SignalSet, duration_s: f64, settings: &FuseSettings) -> Curve {
    let n = duration_s.ceil().max(1.0) as usize;
    let present: Vec<&SignalSpec> = settings
        .signals
        .iter()
        .filter(|s| s.weight > 0.0 && signals.get(&s.track).is_some_and(|t| !t.is_empty()))
        .collect();
    let total_weight: f64 = present.iter().map(|s| s.weight).sum();
    let mut score = vec![0.0; n];
    let mut contributions = Vec::new();
    for spec in present {
        let Some(track) = signals.get(&spec.track) else {
            continue;
        };
        let raw: Vec<f64> = track
            .resample_mean(1.0, n, spec.fill)
            .into_iter()
            .map(f64::from)
            .collect();
        let shifted = shift_back(&raw, spec.lag_s.round() as usize);
        let smooth = moving_average(&shifted, spec.smooth_s.round().max(1.0) as usize);
        let z = robust_z(
            &smooth,
            settings.baseline_window_s as usize,
            spec.min_spread,
        );
        let w = spec.weight / total_weight;
        // The discount (spam) goes through the same lag shift and smoothing as the signal.
        let keep: Vec<f64> = match spec.discount_by.as_deref().and_then(|d| signals.get(d)) {
            Some(d) => {
                let d: Vec<f64> = d
                    .resample_mean(1.0, n, 0.0)
                    .into_iter()
                    .map(f64::from)
                    .collect();
                let window = spec.smooth_s.round().max(1.0) as usize;
                moving_average(&shift_back(&d, spec.lag_s.round() as usize), window)
                    .iter()
                    .map(|v| 1.0 - v.clamp(0.0, 1.0))
                    .collect()
            }
            None => vec![1.0; n],
        };
        let contrib: Vec<f64> = z
            .iter()
            .zip(&keep)
            .map(|(&z, &k)| k * w * (z / settings.z_saturation).clamp(0.0, 1.0))
            .collect();
        for (s, c) in score.iter_mut().zip(&contrib) {
            *s += c;
        }
        contributions.push((spec.signal.clone(), contrib));
    }
    for name in &settings.refuse {
        let Some(track) = signals.get(name) else {
            continue;
        };
        let refuse = track.resample_mean(1.0, n, 0.0);
        for (i, r) in refuse.iter().enumerate() {
            let keep = 1.0 - f64::from(*r).clamp(0.0, 1.0);
            score[i] *= keep;
            for (_, c) in contributions.iter_mut() {
                c[i] *= keep;
            }
        }
    }
    Curve {
        step_s: 1.0,
        score,
        contributions,
    }
}

/// `out[i] = x[i + lag]`: a reaction `lag` seconds late is moved onto the moment.
fn shift_back(x: &[f64], lag: usize) -> Vec<f64> {
    let fill = x.last().copied().unwrap_or(0.0);
    (0..x.len())
        .map(|i| x.get(i + lag).copied().unwrap_or(fill))
        .collect()
}

/// Centred moving average over `w` bins.
pub fn moving_average(x: &[f64], w: usize) -> Vec<f64> {
    if w <= 1 || x.is_empty() {
        return x.to_vec();
    }
    let mut prefix = Vec::with_capacity(x.len() + 1);
    prefix.push(0.0);
    for v in x {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + v);
    }
    let half = w / 2;
    (0..x.len())
        .map(|i| {
            let lo = i.saturating_sub(half);
            let hi = (i + w - half).min(x.len());
            (prefix[hi] - prefix[lo]) / (hi - lo) as f64
        })
        .collect()
}

/// Robust z-score against a local baseline: median and MAD over `window` seconds around
/// each point (computed per 30 s block and held, so 8-hour recordings stay cheap).
pub fn robust_z(x: &[f64], window: usize, min_spread: f64) -> Vec<f64> {
    const BLOCK: usize = 30;
    let n = x.len();
    let half = window.max(BLOCK) / 2;
    let mut out = vec![0.0; n];
    let mut scratch = Vec::with_capacity(window + BLOCK);
    for block_start in (0..n).step_by(BLOCK) {
        let centre = block_start + BLOCK / 2;
        let lo = centre.saturating_sub(half);
        let hi = (centre + half).min(n);
        scratch.clear();
        scratch.extend_from_slice(&x[lo..hi]);
        let med = median(&mut scratch);
        for v in scratch.iter_mut() {
            *v = (*v - med).abs();
        }
        let mad = median(&mut scratch) * 1.4826;
        let spread = mad.max(min_spread);
        for i in block_start..(block_start + BLOCK).min(n) {
            out[i] = (x[i] - med) / spread;
        }
    }
    out
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    *m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::Track;

    fn track(name: &str, values: &[f32]) -> Track {
        Track {
            name: name.into(),
            unit: String::new(),
            description: String::new(),
            times_s: (0..values.len()).map(|i| i as f64).collect(),
            values: values.to_vec(),
        }
    }

    #[test]
    fn lagged_comment_burst_lands_on_the_moment() {
        let mut v = vec![1.0f32; 300];
        for x in &mut v[153..163] {
            *x = 20.0; // reaction 3 s after a moment at 150..160
        }
        let set = SignalSet {
            tracks: vec![track("comment_users", &v)],
            ..Default::default()
        };
        let curve = fuse(&set, 300.0, &FuseSettings::default());
        // Centre of mass of the curve: the moment (150..160 s, centre 155), not the
        // reaction (153..163 s, centre 158).
        let mass: f64 = curve.score.iter().sum();
        let centre: f64 = curve
            .score
            .iter()
            .enumerate()
            .map(|(i, s)| (i as f64 + 0.5) * s)
            .sum::<f64>()
            / mass;
        assert!((centre - 155.0).abs() < 1.0, "centre at {centre}");
        assert_eq!(curve.contributions.len(), 1);
        let max = curve.score.iter().cloned().fold(0.0, f64::max);
        assert!((max - 1.0).abs() < 1e-9, "the only signal saturates");
    }

    #[test]
    fn genuine_burst_outranks_a_bot_flood() {
        use crate::timelines::{CommentAggregator, Lexicon};
        let mut agg = CommentAggregator::new(300.0, Lexicon::default());
        for c in crate::timelines::tests_flood_and_burst() {
            agg.push(&c);
        }
        let (tracks, _) = agg.finish();
        let set = SignalSet {
            tracks,
            ..Default::default()
        };
        let curve = fuse(&set, 300.0, &FuseSettings::default());
        let max_in = |lo: usize, hi: usize| curve.score[lo..hi].iter().cloned().fold(0.0, f64::max);
        let flood = max_in(90, 125);
        let burst = max_in(190, 225);
        assert!(burst > 0.2, "burst {burst}");
        assert!(burst > 3.0 * flood, "burst {burst} vs flood {flood}");
        // Without the spam discount the flood would still register.
        let mut plain = FuseSettings::default();
        for s in &mut plain.signals {
            s.discount_by = None;
            s.track = if s.signal == "comments" {
                "comments".into()
            } else {
                s.track.clone()
            };
        }
        let raw = fuse(&set, 300.0, &plain);
        assert!(raw.score[90..125].iter().cloned().fold(0.0, f64::max) > flood);
    }

    #[test]
    fn local_baseline_follows_a_growing_audience() {
        // Audience grows tenfold over two hours; a steady level is not excitement.
        let x: Vec<f64> = (0..7200).map(|i| 1.0 + 9.0 * i as f64 / 7200.0).collect();
        let z = robust_z(&x, 600, 0.5);
        assert!(
            z.iter().all(|v| v.abs() < 1.5),
            "max {:?}",
            z.iter().cloned().fold(0.0, f64::max)
        );
    }

    #[test]
    fn moving_average_is_centred() {
        let x = [0.0, 0.0, 3.0, 0.0, 0.0];
        assert_eq!(moving_average(&x, 3), vec![0.0, 1.0, 1.0, 1.0, 0.0]);
    }
}
