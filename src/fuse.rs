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
    /// Seconds the track reacts after the on-screen moment; it is shifted back by this
    /// (the prior, used when the lag cannot be estimated).
    pub lag_s: f64,
    /// Bounds `[min, max]` of the lag (seconds) to estimate per recording by
    /// cross-correlation with the on-screen tracks; absent: `lag_s` as given.
    #[serde(default)]
    pub lag_range_s: Option<[f64; 2]>,
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
                lag_range_s: None,
                discount_by: None,
            };
        let reacting = |s: SignalSpec, by: &str, range: [f64; 2]| SignalSpec {
            discount_by: Some(by.into()),
            lag_range_s: Some(range),
            ..s
        };
        Self {
            signals: vec![
                spec("loudness", "loudness_momentary", 0.25, 0.0, 3.0, 1.5, -70.0),
                spec("motion", "motion", 0.2, 0.0, 3.0, 0.004, 0.0),
                spec("host_motion", "host_motion", 0.2, 0.0, 5.0, 0.004, 0.0),
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
                // Spoken keywords (the speech stage; absent with --transcribe off).
                spec(
                    "speech_purchase",
                    "speech_kw_purchase",
                    0.2,
                    0.0,
                    5.0,
                    0.3,
                    0.0,
                ),
                spec(
                    "speech_lottery",
                    "speech_kw_lottery",
                    0.1,
                    0.0,
                    5.0,
                    0.3,
                    0.0,
                ),
                spec("speech_price", "speech_kw_price", 0.05, 0.0, 5.0, 0.3, 0.0),
                spec(
                    "speech_product",
                    "speech_kw_product",
                    0.05,
                    0.0,
                    5.0,
                    0.3,
                    0.0,
                ),
                reacting(
                    spec("comments", "comment_users", 0.3, 3.0, 5.0, 1.0, 0.0),
                    "spam",
                    [1.0, 6.0],
                ),
                // The buyers' reaction. An export whose clock runs 20–30 s off the
                // recording's needs [4, 90] in the profile: by default a 90-s search
                // lined orders up with the next moment in 3 of 12 held-out sessions.
                reacting(
                    spec("orders", "orders", 0.2, 10.0, 15.0, 0.05, 0.0),
                    "order_spam",
                    [4.0, 30.0],
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
    /// The lag each reacting signal (comments, orders) was shifted back by.
    pub lags: Vec<Lag>,
}

/// A signal of the fusion that had nothing to measure (its track missing or empty), and
/// why: it is left out of the curve and the others' weights renormalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Absent {
    pub signal: String,
    pub why: String,
}

/// The weighted signals of `settings` whose tracks are missing or empty in `signals`,
/// each with the reason `why` gives for its track name.
pub fn absent(
    signals: &SignalSet,
    settings: &FuseSettings,
    why: impl Fn(&str) -> String,
) -> Vec<Absent> {
    settings
        .signals
        .iter()
        .filter(|s| s.weight > 0.0)
        .filter(|s| signals.get(&s.track).is_none_or(|t| t.is_empty()))
        .map(|s| Absent {
            signal: s.signal.clone(),
            why: why(&s.track),
        })
        .collect()
}

/// How far a reacting signal was shifted back, and whether that was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lag {
    pub signal: String,
    pub lag_s: f64,
    /// Bounds the estimate was searched in.
    pub range_s: [f64; 2],
    /// Correlation with the on-screen tracks at `lag_s` (absent when not estimated).
    pub correlation: Option<f64>,
    /// The confidence of the estimate: `correlation` minus the best correlation at lags
    /// more than 10 s away from it (absent when the range has none). Below 0.03 two
    /// lags explain the reaction about as well and the prior is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin: Option<f64>,
    /// False: the prior (`lag_s` of the profile) was used, because the recording had no
    /// on-screen activity or no clear reaction to correlate.
    pub estimated: bool,
}

/// Weakest correlation accepted as a measured lag; below it the prior is used.
const MIN_LAG_CORRELATION: f64 = 0.2;
/// Smallest lead of the chosen lag over any lag 10 s or more away ([`Lag::margin`]).
const MIN_LAG_MARGIN: f64 = 0.03;
/// Reactions usually come within this many seconds; a longer lag (a clock offset) is
/// taken only when it correlates [`FAR_LAG_LEAD`] better than every usual one.
const USUAL_LAG_S: f64 = 30.0;
const FAR_LAG_LEAD: f64 = 0.1;

impl Curve {
    pub fn len(&self) -> usize {
        self.score.len()
    }

    pub fn is_empty(&self) -> bool {
        self.score.is_empty()
    }

    /// The lag applied to `signal` (0 for signals that are not shifted).
    pub fn lag_of(&self, signal: &str) -> f64 {
        self.lags
            .iter()
            .find(|l| l.signal == signal)
            .map_or(0.0, |l| l.lag_s)
    }
}

/// One signal on the grid before its lag: robust z of the smoothed track, and the share of
/// it that survives the discount (spam).
struct Prepared<'a> {
    spec: &'a SignalSpec,
    z: Vec<f64>,
    keep: Vec<f64>,
}

/// Fuse `signals` over `duration_s` seconds. Signals whose track is absent (no comments
/// file, say) or never changes (no spoken keyword heard, no sale card on screen: it says
/// nothing about where the moments are) are left out and the remaining weights
/// renormalised.
pub fn fuse(signals: &SignalSet, duration_s: f64, settings: &FuseSettings) -> Curve {
    let n = duration_s.ceil().max(1.0) as usize;
    let per_second = |name: &str, fill: f32| -> Option<Vec<f64>> {
        let t = signals.get(name).filter(|t| !t.is_empty())?;
        Some(
            t.resample_mean(1.0, n, fill)
                .into_iter()
                .map(f64::from)
                .collect(),
        )
    };
    let prepared: Vec<Prepared> = settings
        .signals
        .iter()
        .filter(|s| s.weight > 0.0)
        .filter_map(|spec| {
            let raw = per_second(&spec.track, spec.fill)?;
            if raw.iter().all(|&v| v == raw[0]) {
                return None;
            }
            let window = spec.smooth_s.round().max(1.0) as usize;
            let smooth = moving_average(&raw, window);
            let baseline = settings.baseline_window_s as usize;
            // A track measured only in the cascade's windows is judged against the
            // examined seconds, and says nothing elsewhere.
            let z = match signals.coverage_of(&spec.track) {
                Some(windows) => {
                    robust_z_within(&smooth, &examined(windows, n), baseline, spec.min_spread)
                }
                None => robust_z(&smooth, baseline, spec.min_spread),
            };
            // The discount goes through the same smoothing (and later shift) as the signal.
            let keep = match spec.discount_by.as_deref().and_then(|d| per_second(d, 0.0)) {
                Some(d) => moving_average(&d, window)
                    .iter()
                    .map(|v| 1.0 - v.clamp(0.0, 1.0))
                    .collect(),
                None => vec![1.0; n],
            };
            Some(Prepared { spec, z, keep })
        })
        .collect();
    let total_weight: f64 = prepared.iter().map(|p| p.spec.weight).sum();
    let activation = |z: f64| (z / settings.z_saturation).clamp(0.0, 1.0);

    // What happens on screen and in the room: the signals that are not a reaction.
    let mut stimulus = vec![0.0; n];
    for p in prepared.iter().filter(|p| p.spec.lag_range_s.is_none()) {
        for (s, z) in stimulus.iter_mut().zip(&p.z) {
            *s += p.spec.weight * activation(*z);
        }
    }

    let mut score = vec![0.0; n];
    let mut contributions = Vec::new();
    let mut lags = Vec::new();
    for p in &prepared {
        let lag = match p.spec.lag_range_s {
            Some(range) => {
                let response: Vec<f64> =
                    p.z.iter()
                        .zip(&p.keep)
                        .map(|(z, k)| k * activation(*z))
                        .collect();
                let lag = estimate_lag(&stimulus, &response, range, p.spec.lag_s);
                let lag_s = lag.lag_s;
                lags.push(Lag {
                    signal: p.spec.signal.clone(),
                    ..lag
                });
                lag_s
            }
            None => p.spec.lag_s,
        };
        let shift = lag.round().max(0.0) as usize;
        let z = shift_back(&p.z, shift);
        let keep = shift_back(&p.keep, shift);
        let w = p.spec.weight / total_weight;
        let contrib: Vec<f64> = z
            .iter()
            .zip(&keep)
            .map(|(&z, &k)| k * w * activation(z))
            .collect();
        for (s, c) in score.iter_mut().zip(&contrib) {
            *s += c;
        }
        contributions.push((p.spec.signal.clone(), contrib));
    }
    for name in &settings.refuse {
        let Some(refuse) = per_second(name, 0.0) else {
            continue;
        };
        for (i, r) in refuse.iter().enumerate() {
            let keep = 1.0 - r.clamp(0.0, 1.0);
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
        lags,
    }
}

/// The lag in `range` (whole seconds) at which `response` best follows `stimulus`
/// (Pearson correlation of `stimulus[i]` with `response[i + lag]`); `prior` when no lag
/// correlates at least [`MIN_LAG_CORRELATION`], or when a lag 10 s or more away does
/// nearly as well ([`MIN_LAG_MARGIN`]). Lags beyond [`USUAL_LAG_S`] must beat the usual
/// ones by [`FAR_LAG_LEAD`].
fn estimate_lag(stimulus: &[f64], response: &[f64], range: [f64; 2], prior: f64) -> Lag {
    let lo = range[0].max(0.0).round() as usize;
    let hi = range[1].max(range[0]).round() as usize;
    let rs: Vec<(usize, f64)> = (lo..=hi)
        .take_while(|lag| lag + 10 < stimulus.len())
        .filter_map(|lag| {
            pearson(&stimulus[..stimulus.len() - lag], &response[lag..]).map(|r| (lag, r))
        })
        .collect();
    // Saturated activations make flat-topped correlations: take the middle of the lags
    // within 0.01 of the best, not the first of them.
    let pick = |rs: &[(usize, f64)]| -> Option<(usize, f64)> {
        let b = rs.iter().map(|&(_, r)| r).reduce(f64::max)?;
        let near: Vec<usize> = rs
            .iter()
            .filter(|&&(_, r)| r >= b - 0.01)
            .map(|&(l, _)| l)
            .collect();
        Some((near[near.len() / 2], b))
    };
    // A lag beyond the buyers' usual reaction (an export on another clock) has to beat
    // the best usual lag clearly: sessions whose moments come every minute or two
    // otherwise line a reaction up with the next moment.
    let usual: Vec<(usize, f64)> = rs
        .iter()
        .copied()
        .filter(|&(l, _)| (l as f64) <= USUAL_LAG_S)
        .collect();
    let best = match (pick(&rs), pick(&usual)) {
        (Some(all), Some(near)) if all.1 < near.1 + FAR_LAG_LEAD => Some(near),
        (all, _) => all,
    };
    // How clearly the best lag beats lags far from it (a wide range may hold another
    // rhythm of the session: moments every few minutes).
    let margin = best.and_then(|(lag, r)| {
        rs.iter()
            .filter(|&&(l, _)| l.abs_diff(lag) > 10)
            .map(|&(_, q)| q)
            .fold(None, |m: Option<f64>, q| Some(m.map_or(q, |m| m.max(q))))
            .map(|far| round3(r - far))
    });
    let prior_lag = Lag {
        signal: String::new(),
        lag_s: prior.clamp(range[0], range[1].max(range[0])),
        range_s: range,
        correlation: best.map(|(_, r)| round3(r)),
        margin,
        estimated: false,
    };
    match best {
        Some((lag, r))
            if r >= MIN_LAG_CORRELATION && margin.is_none_or(|m| m >= MIN_LAG_MARGIN) =>
        {
            Lag {
                lag_s: lag as f64,
                estimated: true,
                ..prior_lag
            }
        }
        _ => prior_lag,
    }
}

fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len().min(b.len());
    if n < 2 {
        return None;
    }
    let (a, b) = (&a[..n], &b[..n]);
    let ma = a.iter().sum::<f64>() / n as f64;
    let mb = b.iter().sum::<f64>() / n as f64;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    (saa > 1e-12 && sbb > 1e-12).then(|| sab / (saa * sbb).sqrt())
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
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

/// Per 1 s bin: whether it lies inside one of `windows`.
pub fn examined(windows: &[crate::time::Span], n: usize) -> Vec<bool> {
    let mut mask = vec![false; n];
    for w in windows {
        let lo = (w.start_s.max(0.0).floor() as usize).min(n);
        let hi = (w.end_s.max(0.0).ceil() as usize).min(n);
        for m in &mut mask[lo..hi] {
            *m = true;
        }
    }
    mask
}

/// [`robust_z`] over the bins where `mask` is set only (0 elsewhere). Where fewer than a
/// minute of examined bins lie within the local window, the baseline of all examined bins
/// is used.
pub fn robust_z_within(x: &[f64], mask: &[bool], window: usize, min_spread: f64) -> Vec<f64> {
    const BLOCK: usize = 30;
    const MIN_BINS: usize = 60;
    let n = x.len();
    let half = window.max(BLOCK) / 2;
    let mut out = vec![0.0; n];
    let picked = |lo: usize, hi: usize| -> Vec<f64> {
        (lo..hi)
            .filter(|&i| mask.get(i).copied().unwrap_or(false))
            .map(|i| x[i])
            .collect()
    };
    let centre_and_spread = |mut v: Vec<f64>| {
        let med = median(&mut v);
        for d in v.iter_mut() {
            *d = (*d - med).abs();
        }
        (med, (median(&mut v) * 1.4826).max(min_spread))
    };
    let global = centre_and_spread(picked(0, n));
    for block_start in (0..n).step_by(BLOCK) {
        let block_end = (block_start + BLOCK).min(n);
        if !mask[block_start..block_end].iter().any(|m| *m) {
            continue;
        }
        let centre = block_start + BLOCK / 2;
        let local = picked(centre.saturating_sub(half), (centre + half).min(n));
        let (med, spread) = if local.len() >= MIN_BINS {
            centre_and_spread(local)
        } else {
            global
        };
        for i in block_start..block_end {
            if mask[i] {
                out[i] = (x[i] - med) / spread;
            }
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
    fn a_track_measured_in_windows_counts_only_there_against_its_own_baseline() {
        use crate::time::Span;
        // Examined 100..200 and 400..500; a burst at 150..160 inside the first window.
        let mut times = Vec::new();
        let mut values = Vec::new();
        for w in [(100usize, 200usize), (400, 500)] {
            for i in w.0..w.1 {
                times.push(i as f64);
                values.push(if (150..160).contains(&i) {
                    10.0
                } else {
                    1.0 + ((i * 37) % 11) as f32 / 5.0
                });
            }
        }
        let set = SignalSet {
            tracks: vec![Track {
                name: "audio_excitement".into(),
                unit: String::new(),
                description: String::new(),
                times_s: times,
                values,
            }],
            detail: Some(crate::signals::Detail {
                windows: vec![Span::new(100.0, 200.0), Span::new(400.0, 500.0)],
                tracks: vec!["audio_excitement".into()],
            }),
            ..Default::default()
        };
        let curve = fuse(&set, 600.0, &FuseSettings::default());
        let peak = (0..600).max_by(|&a, &b| curve.score[a].total_cmp(&curve.score[b]));
        assert!((148..162).contains(&peak.unwrap()), "peak at {peak:?}");
        // Unexamined seconds contribute nothing, whatever the resampling held over.
        assert!(curve.score[..95].iter().all(|&s| s == 0.0));
        assert!(curve.score[250..395].iter().all(|&s| s == 0.0));
        assert!(curve.score[155] > 0.5);
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
    fn a_signal_that_never_moves_does_not_dilute_the_others() {
        let mut loud = vec![-30.0f32; 300];
        for v in &mut loud[150..160] {
            *v = -10.0;
        }
        let alone = SignalSet {
            tracks: vec![track("loudness_momentary", &loud)],
            ..Default::default()
        };
        let mut with_silent_speech = alone.clone();
        with_silent_speech
            .tracks
            .push(track("speech_kw_purchase", &[0.0; 300]));
        let a = fuse(&alone, 300.0, &FuseSettings::default());
        let b = fuse(&with_silent_speech, 300.0, &FuseSettings::default());
        assert!(a.score[155] > 0.5);
        assert_eq!(a.score, b.score);
        // Once a keyword is heard, the signal counts (and takes its share of the weight).
        let mut heard = vec![0.0f32; 300];
        heard[40] = 1.0;
        with_silent_speech.tracks[1] = track("speech_kw_purchase", &heard);
        let c = fuse(&with_silent_speech, 300.0, &FuseSettings::default());
        assert!(c.score[155] < a.score[155] && c.score[40] > 0.0);
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

    fn bumps(n: usize, at: &[usize], len: usize, height: f32) -> Vec<f32> {
        let mut v = vec![0.0f32; n];
        for &a in at {
            for x in &mut v[a..(a + len).min(n)] {
                *x = height;
            }
        }
        v
    }

    #[test]
    fn lags_are_estimated_within_their_priors() {
        // Three on-screen moments (motion); comments follow 5 s later, orders 14 s later.
        let n = 600;
        let at = [100, 280, 450];
        let motion = bumps(n, &at, 12, 0.05);
        let comments: Vec<f32> = bumps(n, &at.map(|a| a + 5), 12, 20.0)
            .iter()
            .map(|v| v + 1.0)
            .collect();
        let orders = bumps(n, &at.map(|a| a + 14), 12, 1.0);
        let set = SignalSet {
            tracks: vec![
                track("motion", &motion),
                track("comment_users", &comments),
                track("orders", &orders),
            ],
            ..Default::default()
        };
        let curve = fuse(&set, n as f64, &FuseSettings::default());
        let lag = |s: &str| curve.lags.iter().find(|l| l.signal == s).unwrap().clone();
        let c = lag("comments");
        assert!(c.estimated && c.lag_s == 5.0, "{c:?}");
        assert!(c.correlation.unwrap() > 0.5);
        let o = lag("orders");
        assert!(o.estimated && (o.lag_s - 14.0).abs() <= 1.0, "{o:?}");
        // A reaction outside the prior is not believed beyond its bound.
        let late = bumps(n, &at.map(|a| a + 12), 12, 20.0);
        let set = SignalSet {
            tracks: vec![track("motion", &motion), track("comment_users", &late)],
            ..Default::default()
        };
        let c = fuse(&set, n as f64, &FuseSettings::default()).lags[0].clone();
        assert!(c.lag_s <= 6.0, "{c:?}");
    }

    #[test]
    fn an_order_export_on_a_clock_half_a_minute_off_is_found_with_its_confidence() {
        // Orders 14 s after each moment by the buyers, plus 25 s of the shop's clock.
        let n = 900;
        let at = [100, 330, 520, 760];
        let motion = bumps(n, &at, 12, 0.05);
        let orders = bumps(n, &at.map(|a| a + 39), 12, 1.0);
        let set = SignalSet {
            tracks: vec![track("motion", &motion), track("orders", &orders)],
            ..Default::default()
        };
        // The profile's wider order range ([4, 90]: see the default's comment).
        let mut wide = FuseSettings::default();
        for s in wide.signals.iter_mut().filter(|s| s.signal == "orders") {
            s.lag_range_s = Some([4.0, 90.0]);
        }
        let curve = fuse(&set, n as f64, &wide);
        let o = curve.lags.iter().find(|l| l.signal == "orders").unwrap();
        assert!(o.estimated && (o.lag_s - 39.0).abs() <= 1.0, "{o:?}");
        assert!(o.margin.unwrap() >= 0.3, "a clear estimate: {o:?}");
        // Orders that follow no moment within 90 s (each comes before one): the prior.
        let noise = bumps(n, &[50, 280, 470, 700], 12, 1.0);
        let set = SignalSet {
            tracks: vec![track("motion", &motion), track("orders", &noise)],
            ..Default::default()
        };
        let curve = fuse(&set, n as f64, &wide);
        let o = curve.lags.iter().find(|l| l.signal == "orders").unwrap();
        assert!(!o.estimated && o.lag_s == 10.0, "{o:?}");
        // With the default range the clock offset is not reached: the best usual lag,
        // and a margin that says the estimate is weak.
        let curve = fuse(
            &SignalSet {
                tracks: vec![track("motion", &motion), track("orders", &orders)],
                ..Default::default()
            },
            n as f64,
            &FuseSettings::default(),
        );
        let o = curve.lags.iter().find(|l| l.signal == "orders").unwrap();
        assert!(o.lag_s <= 30.0, "{o:?}");
    }

    #[test]
    fn unrelated_reactions_keep_the_prior_lag() {
        let n = 600;
        let motion = bumps(n, &[100, 280, 450], 12, 0.05);
        let comments: Vec<f32> = bumps(n, &[30, 200, 520], 12, 20.0);
        let set = SignalSet {
            tracks: vec![track("motion", &motion), track("comment_users", &comments)],
            ..Default::default()
        };
        let curve = fuse(&set, n as f64, &FuseSettings::default());
        assert!(!curve.lags[0].estimated, "{:?}", curve.lags);
        assert_eq!(curve.lags[0].lag_s, 3.0);
        assert_eq!(curve.lag_of("comments"), 3.0);
    }

    #[test]
    fn moving_average_is_centred() {
        let x = [0.0, 0.0, 3.0, 0.0, 0.0];
        assert_eq!(moving_average(&x, 3), vec![0.0, 1.0, 1.0, 1.0, 0.0]);
    }
}
