//! Highlight selection: peaks of the fused curve, non-maximum suppression, a span around
//! each peak that starts in the build-up and ends after the payoff, ranked by score.
//!
//! **How many.** As many as stand out from the session's own scores: a peak of the
//! smoothed curve is a highlight when
//! 1. it reaches `min_score` (an absolute floor: a session with nothing going on yields
//!    nothing),
//! 2. it reaches median + `significance_mads` × MAD of the smoothed curve over the examined
//!    seconds (the session's typical level and spread: a busy session needs more to stand
//!    out than a quiet one), both recomputed without the seconds above that bar until it
//!    settles (at most 5 rounds: a short session full of moments must not raise its own
//!    bar over them) — when there are at least `significance_min_s` examined seconds (a
//!    short clip where one moment fills half the time has no typical level), and
//! 3. its prominence — its height over the higher of the two lowest points between it and
//!    the nearest higher point on each side (within `prominence_window_s`) — reaches
//!    `min_prominence` (a shoulder or a ripple on a plateau is not a moment of its own);
//!
//! best first, at most `max_per_hour` in any hour of the recording (a long session's
//! highlights stay spread over it) and at most `top` in all (`--highlights N`; 0: no cap).

use serde::{Deserialize, Serialize};

use crate::boundaries::{Boundaries, Snap};
use crate::classify::HighlightType;
use crate::fuse::{moving_average, Curve};
use crate::time::Span;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SelectSettings {
    pub min_len_s: f64,
    pub max_len_s: f64,
    /// Most highlights to return (`--highlights N`); 0: every peak that passes the
    /// significance rule below, up to `max_per_hour`.
    pub top: usize,
    /// Peaks closer than this to an accepted peak are the same moment.
    pub min_separation_s: f64,
    /// Smoothed curve values below this are never a highlight (0–1 scale).
    pub min_score: f64,
    /// A highlight's peak reaches the median of the smoothed curve (examined seconds) plus
    /// this many median absolute deviations of it.
    pub significance_mads: f64,
    /// Examined seconds the median/MAD rule needs; below that only `min_score` and
    /// `min_prominence` apply.
    pub significance_min_s: f64,
    /// A highlight's peak rises at least this much (0–1 scale) over the lowest point
    /// between it and a higher peak on either side (topographic prominence).
    pub min_prominence: f64,
    /// How far each side of a peak its prominence is measured (seconds).
    pub prominence_window_s: f64,
    /// Most highlights in any hour (3600 s) of the recording (0: no cap).
    pub max_per_hour: usize,
    /// Window of the moving average that defines "sustained" excitement (seconds).
    pub smooth_s: f64,
    /// How far a boundary may move to reach a pause or a cut (seconds).
    pub snap_s: f64,
}

impl Default for SelectSettings {
    fn default() -> Self {
        Self {
            min_len_s: 20.0,
            max_len_s: 60.0,
            top: 0,
            min_separation_s: 30.0,
            min_score: 0.1,
            significance_mads: 4.0,
            significance_min_s: 120.0,
            min_prominence: 0.05,
            prominence_window_s: 600.0,
            max_per_hour: 30,
            smooth_s: 9.0,
            snap_s: 3.0,
        }
    }
}

impl SelectSettings {
    /// The same settings without the significance rule and the caps (`top` candidates at
    /// most, any score): the wider list the cascade and the speech stage look at.
    pub fn candidates(&self, top: usize) -> Self {
        Self {
            top,
            min_score: 0.0,
            significance_mads: 0.0,
            min_prominence: 0.0,
            max_per_hour: 0,
            ..self.clone()
        }
    }
}

/// Why a highlight was chosen: one signal's share of the score around the peak.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Reason {
    pub signal: String,
    pub contribution: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Highlight {
    pub rank: usize,
    pub start_s: f64,
    pub end_s: f64,
    pub peak_s: f64,
    /// Mean fused score around the peak (0–1); highlights are ranked by it.
    pub score: f64,
    /// Each signal's contribution to `score`, largest first.
    pub reasons: Vec<Reason>,
    /// What each boundary was snapped to (pause in speech, shot cut, or none nearby).
    #[serde(default)]
    pub boundaries: [Snap; 2],
    /// product, flash_sale, interaction or moment (see `classify.rs`).
    #[serde(rename = "type", default)]
    pub kind: HighlightType,
    /// `sku:…`, `kw:…` (dominant comment keyword classes), `emotion:…`, `sale_card`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Why it got its type, in words.
    #[serde(default)]
    pub type_evidence: Vec<String>,
    /// What the audience wrote while it played (the comment lag applied): the texts the
    /// most distinct accounts sent, best first. Absent without a comment export.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top_comments: Vec<TopComment>,
    /// What was said during it (the speech stage's transcript); absent when speech was
    /// not transcribed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
}

/// A comment text (as first written; variants that differ only in case, spacing,
/// punctuation or repeated characters are counted together) and how often it was sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct TopComment {
    pub text: String,
    /// Distinct accounts that sent it.
    pub users: u32,
    /// Times it was sent.
    pub count: u32,
}

impl Highlight {
    pub fn span(&self) -> Span {
        Span::new(self.start_s, self.end_s)
    }
}

/// Pick the non-overlapping highlights of `curve` that pass the significance rule (see the
/// module's documentation), best first, within the caps of `settings`.
pub fn select(
    curve: &Curve,
    duration_s: f64,
    settings: &SelectSettings,
    bounds: &Boundaries,
) -> Vec<Highlight> {
    let n = curve.len();
    if n == 0 || duration_s <= 0.0 {
        return Vec::new();
    }
    let smooth = moving_average(&curve.score, settings.smooth_s.round().max(1.0) as usize);
    let unexamined = |t: f64| bounds.unexamined.iter().any(|u| u.contains(t));
    // The typical level of the examined seconds.
    let mut sorted: Vec<f64> = smooth
        .iter()
        .enumerate()
        .filter(|(i, _)| !unexamined(*i as f64 + 0.5))
        .map(|(_, v)| *v)
        .collect();
    if sorted.is_empty() {
        return Vec::new();
    }
    sorted.sort_by(f64::total_cmp);
    let baseline = sorted[sorted.len() / 2];
    let typical = sorted.len() as f64 * curve.step_s >= settings.significance_min_s;
    let floor = if typical {
        settings
            .min_score
            .max(background_bar(&sorted, settings.significance_mads))
    } else {
        settings.min_score
    };
    let reach = settings.prominence_window_s.max(0.0).round() as usize;

    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| smooth[b].total_cmp(&smooth[a]).then(a.cmp(&b)));

    let min_len = settings.min_len_s.min(duration_s);
    let max_len = settings.max_len_s.max(min_len).min(duration_s);
    let mut chosen: Vec<Highlight> = Vec::new();
    // Peaks that could not become a clip (boxed in by flagged spans or other highlights):
    // their shoulders are the same moment and are not tried either.
    let mut rejected: Vec<f64> = Vec::new();
    for &p in &order {
        if (settings.top > 0 && chosen.len() >= settings.top) || smooth[p] < floor {
            break;
        }
        let peak_s = p as f64 + 0.5;
        if unexamined(peak_s) {
            continue;
        }
        if settings.min_prominence > 0.0 && prominence(&smooth, p, reach) < settings.min_prominence
        {
            continue;
        }
        if settings.max_per_hour > 0 && !hour_has_room(&chosen, peak_s, settings.max_per_hour) {
            continue;
        }
        let near = |q: f64| (q - peak_s).abs() < settings.min_separation_s;
        if chosen
            .iter()
            .any(|h| h.span().contains(peak_s) || near(h.peak_s))
            || rejected.iter().any(|&q| near(q))
        {
            continue;
        }
        // The elevated region around the peak: where the curve stays above a fraction of
        // the peak's height over the baseline.
        let threshold = baseline + 0.35 * (smooth[p] - baseline);
        let limit = max_len as usize;
        let mut lo = p;
        while lo > 0 && p - lo < limit && smooth[lo - 1] >= threshold {
            lo -= 1;
        }
        let mut hi = p + 1;
        while hi < n && hi - p < limit && smooth[hi] >= threshold {
            hi += 1;
        }
        let mut span = Span::new(lo as f64, hi as f64);
        if span.duration() < min_len {
            // Pad to the minimum, two thirds before the peak: the build-up matters.
            let missing = min_len - span.duration();
            span = Span::new(
                span.start_s - missing * 2.0 / 3.0,
                span.end_s + missing / 3.0,
            );
        }
        if span.duration() > max_len {
            // Keep 60 % before the peak.
            let start = (peak_s - 0.6 * max_len).max(span.start_s);
            span = Span::new(start, start + max_len);
        }
        let span = span.clamp_to(duration_s);
        // Never two highlights for one moment, and never a flagged span (glitch,
        // intermission) inside a clip: keep to the free stretch around the peak.
        let walls: Vec<Span> = chosen
            .iter()
            .map(Highlight::span)
            .chain(bounds.avoid.iter().copied())
            .chain(bounds.unexamined.iter().copied())
            .collect();
        let Some((span, free)) = fit_between(span, peak_s, &walls, min_len, duration_s) else {
            rejected.push(peak_s);
            continue;
        };
        let (span, how) = snap_span(
            span,
            free,
            peak_s,
            bounds,
            settings.snap_s,
            min_len,
            max_len,
        );
        chosen.push(Highlight {
            rank: 0,
            start_s: span.start_s,
            end_s: span.end_s,
            peak_s,
            score: round3(smooth[p].clamp(0.0, 1.0)),
            reasons: reasons_at(curve, p, settings.smooth_s),
            boundaries: how,
            ..Default::default()
        });
    }
    for (i, h) in chosen.iter_mut().enumerate() {
        h.rank = i + 1;
    }
    chosen
}

/// median + `k` × MAD of `sorted` (ascending, not empty), recomputed on the values at or
/// under it until no more fall away (at most 5 rounds): the background's bar, which the
/// moments themselves do not raise.
fn background_bar(sorted: &[f64], k: f64) -> f64 {
    let mut kept = sorted;
    let mut bar = f64::INFINITY;
    for _ in 0..5 {
        let median = kept[kept.len() / 2];
        let mut dev: Vec<f64> = kept.iter().map(|v| (v - median).abs()).collect();
        dev.sort_by(f64::total_cmp);
        bar = median + k * dev[dev.len() / 2];
        let n = kept.partition_point(|v| *v <= bar);
        if n == kept.len() || n == 0 {
            break;
        }
        kept = &kept[..n];
    }
    bar
}

/// Whether a highlight at `peak_s` keeps every hour of the recording at `most` highlights
/// or fewer: no 3600-s window that holds it holds `most` of `chosen` already.
fn hour_has_room(chosen: &[Highlight], peak_s: f64, most: usize) -> bool {
    const HOUR: f64 = 3600.0;
    let mut near: Vec<f64> = chosen
        .iter()
        .map(|h| h.peak_s)
        .filter(|q| (q - peak_s).abs() < HOUR)
        .collect();
    if near.len() < most {
        return true;
    }
    near.push(peak_s);
    near.sort_by(f64::total_cmp);
    // Windows starting at each peak up to the new one are the ones that can hold it.
    near.iter()
        .filter(|&&a| a <= peak_s)
        .all(|&a| near.iter().filter(|&&q| q >= a && q < a + HOUR).count() <= most)
}

/// Height of `v[p]` over the higher of the lowest points between it and the nearest
/// strictly higher value on each side, looking at most `reach` bins each way (the
/// recording's ends and the reach count as the end of the search; a side with no bins,
/// at the recording's edge, does not count).
fn prominence(v: &[f64], p: usize, reach: usize) -> f64 {
    let top = v[p];
    // None: no bins on that side; else the lowest point before a higher one (the peak's
    // own height when its neighbour is already higher: no prominence at all).
    let lowest = |side: &[f64], backwards: bool| {
        (!side.is_empty()).then(|| {
            let mut it: Box<dyn Iterator<Item = &f64>> = if backwards {
                Box::new(side.iter().rev())
            } else {
                Box::new(side.iter())
            };
            it.by_ref()
                .take_while(|x| **x <= top)
                .fold(top, |m, &x| m.min(x))
        })
    };
    let left = lowest(&v[p.saturating_sub(reach)..p], true);
    let right = lowest(&v[p + 1..(p + 1 + reach).min(v.len())], false);
    match (left, right) {
        (Some(a), Some(b)) => top - a.max(b),
        (Some(a), None) | (None, Some(a)) => top - a,
        (None, None) => top,
    }
}

/// `span` cut to the free stretch around `peak_s` between `walls` (and the recording),
/// grown back to `min_len` inside that stretch if the cut made it too short; with the
/// stretch. `None` when the peak is inside a wall or the stretch is shorter than `min_len`.
fn fit_between(
    span: Span,
    peak_s: f64,
    walls: &[Span],
    min_len: f64,
    duration_s: f64,
) -> Option<(Span, Span)> {
    if walls.iter().any(|w| w.start_s < peak_s && w.end_s > peak_s) {
        return None;
    }
    let lo = walls
        .iter()
        .filter(|w| w.end_s <= peak_s)
        .map(|w| w.end_s)
        .fold(0.0, f64::max);
    let hi = walls
        .iter()
        .filter(|w| w.start_s >= peak_s)
        .map(|w| w.start_s)
        .fold(duration_s, f64::min);
    if hi - lo + 1e-9 < min_len {
        return None;
    }
    let mut out = Span::new(span.start_s.max(lo), span.end_s.min(hi));
    let missing = min_len - out.duration();
    if missing > 1e-9 {
        // Grow on the sides with room, two thirds of it into the build-up.
        let before = (missing * 2.0 / 3.0).min(out.start_s - lo);
        let after = (missing - before).min(hi - out.end_s);
        out.start_s -= missing - after;
        out.end_s += after;
    }
    Some((out, Span::new(lo, hi)))
}

/// Clean boundaries: each end between transcribed sentences, into a pause of speech or onto
/// a shot cut — within `snap_s` either way, else up to 2× and 4× that outwards (a sentence
/// that runs on is better kept whole); with a transcript, any sentence edge within
/// `max_len` — keeping the length in range, the peak inside and the span inside `free`.
/// The combination with the most snapped ends wins, then the least moved.
fn snap_span(
    span: Span,
    free: Span,
    peak_s: f64,
    bounds: &Boundaries,
    snap_s: f64,
    min_len: f64,
    max_len: f64,
) -> (Span, [Snap; 2]) {
    // `loose`: sentence edges where the VAD hears speech too (a host who talks on without
    // a pause), tried only when nothing else fits.
    let options = |t: f64, is_start: bool, loose: bool| {
        let mut v = vec![(t, Snap::None), bounds.snap(t, is_start, snap_s)];
        for k in [2.0, 4.0] {
            v.push(bounds.snap_within(t, is_start, k * snap_s, true));
        }
        if !bounds.sentences.is_empty() {
            // A clip never cuts a transcribed sentence: every sentence edge within reach is
            // an option (the nearest one may leave the clip too short, the next one in).
            let edges = if loose {
                bounds.sentence_edges(is_start)
            } else {
                bounds.sentence_points(is_start)
            };
            v.extend(
                edges
                    .into_iter()
                    .filter(|x| (x - t).abs() <= max_len)
                    .map(|x| (x, Snap::Sentence)),
            );
        }
        v.retain(|(x, _)| {
            free.start_s - 1e-9 <= *x && *x <= free.end_s + 1e-9 && !bounds.inside_sentence(*x)
        });
        v
    };
    let mut best: Option<((usize, f64), Span, [Snap; 2])> = None;
    for loose in [false, true] {
        if best.is_some() || (loose && bounds.sentences.is_empty()) {
            break;
        }
        let starts = options(span.start_s, true, loose);
        let ends = options(span.end_s, false, loose);
        for &(s, sh) in &starts {
            for &(e, eh) in &ends {
                let c = Span::new(s, e);
                let fits = c.duration() + 1e-9 >= min_len
                    && c.duration() <= max_len + 1e-9
                    && c.contains(peak_s);
                if !fits {
                    continue;
                }
                let snapped = usize::from(sh != Snap::None) + usize::from(eh != Snap::None);
                let moved = (s - span.start_s).abs() + (e - span.end_s).abs();
                let better = best.as_ref().is_none_or(|((bs, bm), _, _)| {
                    snapped > *bs || (snapped == *bs && moved < *bm)
                });
                if better {
                    best = Some(((snapped, moved), c, [sh, eh]));
                }
            }
        }
    }
    best.map_or((span, [Snap::None, Snap::None]), |(_, c, how)| (c, how))
}

/// Each signal's mean contribution in the smoothing window around bin `p`, largest first.
fn reasons_at(curve: &Curve, p: usize, window_s: f64) -> Vec<Reason> {
    let half = (window_s / 2.0).round() as usize;
    let lo = p.saturating_sub(half);
    let hi = (p + half + 1).min(curve.len());
    let mut reasons: Vec<Reason> = curve
        .contributions
        .iter()
        .map(|(signal, c)| Reason {
            signal: signal.clone(),
            contribution: round3(c[lo..hi].iter().sum::<f64>() / (hi - lo).max(1) as f64),
        })
        .filter(|r| r.contribution > 0.0)
        .collect();
    reasons.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    reasons
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve_with_bumps(n: usize, bumps: &[(usize, f64)]) -> Curve {
        let mut score = vec![0.02; n];
        for &(at, height) in bumps {
            for (i, s) in score.iter_mut().enumerate() {
                let d = (i as f64 - at as f64) / 6.0;
                *s += height * (-d * d).exp();
            }
        }
        Curve {
            step_s: 1.0,
            contributions: vec![("motion".into(), score.clone())],
            score,
            lags: Vec::new(),
        }
    }

    #[test]
    fn picks_bumps_in_order_without_overlap() {
        let curve = curve_with_bumps(600, &[(100, 0.5), (300, 0.9), (320, 0.6), (500, 0.3)]);
        let hs = select(
            &curve,
            600.0,
            &SelectSettings::default(),
            &Boundaries::default(),
        );
        assert!(hs.len() >= 3);
        assert_eq!(hs[0].rank, 1);
        assert!((hs[0].peak_s - 300.5).abs() < 3.0, "{:?}", hs[0]);
        assert!((hs[1].peak_s - 100.5).abs() < 3.0, "{:?}", hs[1]);
        for (i, a) in hs.iter().enumerate() {
            assert!(a.end_s - a.start_s >= 20.0 - 1e-9 && a.end_s - a.start_s <= 60.0 + 1e-9);
            assert!(a.start_s <= a.peak_s && a.peak_s <= a.end_s);
            for b in &hs[i + 1..] {
                assert_eq!(a.span().overlap(&b.span()), 0.0, "{a:?} {b:?}");
            }
        }
        assert!(hs.windows(2).all(|w| w[0].score >= w[1].score));
        assert_eq!(hs[0].reasons[0].signal, "motion");
    }

    #[test]
    fn spans_are_clamped_to_the_recording() {
        let curve = curve_with_bumps(40, &[(2, 0.9)]);
        let hs = select(
            &curve,
            40.0,
            &SelectSettings::default(),
            &Boundaries::default(),
        );
        assert_eq!(hs.len(), 1);
        assert_eq!(hs[0].start_s, 0.0);
        assert!(hs[0].end_s <= 40.0);
    }

    #[test]
    fn clips_stop_at_flagged_spans_and_keep_their_length() {
        let curve = curve_with_bumps(300, &[(150, 0.8)]);
        let bounds = Boundaries {
            avoid: vec![Span::new(138.0, 141.0), Span::new(175.0, 200.0)],
            ..Default::default()
        };
        let hs = select(&curve, 300.0, &SelectSettings::default(), &bounds);
        assert_eq!(hs.len(), 1);
        let h = &hs[0];
        assert!(h.start_s >= 141.0 && h.end_s <= 175.0, "{h:?}");
        assert!(h.end_s - h.start_s >= 20.0 - 1e-9, "{h:?}");
        // A moment boxed in tighter than the shortest clip is dropped.
        let bounds = Boundaries {
            avoid: vec![Span::new(140.0, 141.0), Span::new(155.0, 160.0)],
            ..Default::default()
        };
        let hs = select(&curve, 300.0, &SelectSettings::default(), &bounds);
        assert!(hs.is_empty(), "{hs:?}");
    }

    #[test]
    fn a_clip_keeps_whole_sentences_without_growing_more_than_it_must() {
        // Sentences 2–10, 10.6–30 and 30.5–90 s, with pauses between them.
        let bounds = Boundaries {
            pauses: vec![
                Span::new(0.0, 2.0),
                Span::new(10.0, 10.6),
                Span::new(30.0, 30.5),
                Span::new(90.0, 100.0),
            ],
            have_speech: true,
            sentences: vec![
                Span::new(2.0, 10.0),
                Span::new(10.6, 30.0),
                Span::new(30.5, 90.0),
            ],
            ..Default::default()
        };
        let free = Span::new(0.0, 100.0);
        // The nearest sentence edges (10.45–30.15) leave less than 20 s: the start moves to
        // the sentence before rather than the end past a 60-s sentence.
        let (c, how) = snap_span(Span::new(12.0, 32.0), free, 25.0, &bounds, 3.0, 20.0, 60.0);
        assert_eq!(how, [Snap::Sentence, Snap::Sentence]);
        assert!(
            (1.8..=2.0).contains(&c.start_s) && (30.0..30.5).contains(&c.end_s),
            "{c:?}"
        );
        for x in [c.start_s, c.end_s] {
            assert!(!bounds.inside_sentence(x), "{x}");
        }
    }

    #[test]
    fn a_host_who_never_pauses_is_cut_between_sentences_all_the_same() {
        // Speech without a pause from 0 to 70 s: two sentences, 0–40 and 40–70.
        let bounds = Boundaries {
            pauses: vec![Span::new(70.0, 80.0)],
            have_speech: true,
            sentences: vec![Span::new(0.0, 40.0), Span::new(40.0, 70.0)],
            ..Default::default()
        };
        let (c, how) = snap_span(
            Span::new(30.0, 50.0),
            Span::new(0.0, 80.0),
            45.0,
            &bounds,
            3.0,
            20.0,
            60.0,
        );
        assert_eq!(how, [Snap::Sentence, Snap::Sentence]);
        assert!(
            (39.8..=40.0).contains(&c.start_s) && c.end_s >= 70.0,
            "{c:?}"
        );
        assert!(!bounds.inside_sentence(c.start_s) && !bounds.inside_sentence(c.end_s));
    }

    /// Deterministic noise in 0..1 (a small LCG), for calm curves.
    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (x >> 11) as f64 / (1u64 << 53) as f64
            })
            .collect()
    }

    /// A curve of noise around 0.03 (± 0.025) with Gaussian bumps (σ 6 s) on it.
    fn noisy_curve(n: usize, bumps: &[(usize, f64)], seed: u64) -> Curve {
        let mut c = curve_with_bumps(n, bumps);
        for (s, r) in c.score.iter_mut().zip(noise(n, seed)) {
            *s += 0.05 * r - 0.015;
        }
        c.contributions = vec![("motion".into(), c.score.clone())];
        c
    }

    #[test]
    fn a_calm_session_gives_at_most_two() {
        // 5 minutes of noise with two ripples barely above it: nothing stands out.
        for seed in 1..=5 {
            let curve = noisy_curve(300, &[(80, 0.04), (210, 0.06)], seed);
            let hs = select(
                &curve,
                300.0,
                &SelectSettings::default(),
                &Boundaries::default(),
            );
            assert!(hs.len() <= 2, "seed {seed}: {hs:?}");
        }
        // An hour of it.
        let curve = noisy_curve(3600, &[(900, 0.05), (2500, 0.04)], 7);
        let hs = select(
            &curve,
            3600.0,
            &SelectSettings::default(),
            &Boundaries::default(),
        );
        assert!(hs.len() <= 2, "{hs:?}");
    }

    /// 8 clear moments in 15 minutes, of varied height.
    const EIGHT: [(usize, f64); 8] = [
        (60, 0.45),
        (160, 0.3),
        (270, 0.8),
        (370, 0.25),
        (480, 0.6),
        (590, 0.35),
        (700, 0.5),
        (820, 0.28),
    ];

    #[test]
    fn eight_clear_moments_in_fifteen_minutes_give_eight() {
        let curve = noisy_curve(900, &EIGHT, 3);
        let hs = select(
            &curve,
            900.0,
            &SelectSettings::default(),
            &Boundaries::default(),
        );
        assert_eq!(hs.len(), 8, "{hs:?}");
        for (at, _) in EIGHT {
            assert!(
                hs.iter().any(|h| (h.peak_s - at as f64).abs() < 3.0),
                "{at}: {hs:?}"
            );
        }
        assert!(hs.windows(2).all(|w| w[0].score >= w[1].score));
        assert!((hs[0].peak_s - 270.5).abs() < 3.0, "{:?}", hs[0]);
        assert_eq!(
            hs.iter().map(|h| h.rank).collect::<Vec<_>>(),
            (1..=8).collect::<Vec<_>>()
        );
    }

    #[test]
    fn highlights_n_caps_the_count_keeping_the_best() {
        let curve = noisy_curve(900, &EIGHT, 3);
        let settings = SelectSettings {
            top: 3,
            ..SelectSettings::default()
        };
        let hs = select(&curve, 900.0, &settings, &Boundaries::default());
        assert_eq!(hs.len(), 3, "{hs:?}");
        for (h, at) in hs.iter().zip([270.0, 480.0, 700.0]) {
            assert!((h.peak_s - at).abs() < 3.0, "{hs:?}");
        }
    }

    #[test]
    fn a_long_session_gives_dozens_within_the_hourly_cap() {
        // 4 hours with a clear moment every 4 minutes (60 of them).
        let bumps: Vec<(usize, f64)> = (0..60)
            .map(|i| (120 + 240 * i, 0.3 + 0.5 * ((i * 37 % 60) as f64 / 60.0)))
            .collect();
        let curve = noisy_curve(4 * 3600, &bumps, 11);
        let all = select(
            &curve,
            4.0 * 3600.0,
            &SelectSettings::default(),
            &Boundaries::default(),
        );
        assert_eq!(all.len(), 60, "dozens, every one of them");
        // At most 6 in any hour.
        let settings = SelectSettings {
            max_per_hour: 6,
            ..SelectSettings::default()
        };
        let hs = select(&curve, 4.0 * 3600.0, &settings, &Boundaries::default());
        let mut peaks: Vec<f64> = hs.iter().map(|h| h.peak_s).collect();
        peaks.sort_by(f64::total_cmp);
        for &a in &peaks {
            let in_hour = peaks.iter().filter(|&&q| q >= a && q < a + 3600.0).count();
            assert!(in_hour <= 6, "{in_hour} in the hour from {a}: {peaks:?}");
        }
        // The cap thins, it does not starve: 4 hours hold at least 3 full hours' worth.
        assert!(hs.len() >= 18, "{}", hs.len());
        assert!(hs.windows(2).all(|w| w[0].score >= w[1].score));
    }

    #[test]
    fn a_short_clip_filled_by_its_moment_still_gives_it() {
        // 16 s, a burst over 6–9 s: half the clip is the moment, so the median/MAD rule has
        // no typical level to go by and only min_score and prominence apply.
        let mut score = vec![0.0; 17];
        for (i, v) in [0.06, 0.49, 0.62, 0.65, 0.62, 0.56, 0.14]
            .iter()
            .enumerate()
        {
            score[4 + i] = *v;
        }
        let curve = Curve {
            step_s: 1.0,
            contributions: vec![("loudness".into(), score.clone())],
            score,
            lags: Vec::new(),
        };
        let settings = SelectSettings {
            min_len_s: 4.0,
            max_len_s: 8.0,
            ..SelectSettings::default()
        };
        let hs = select(&curve, 17.0, &settings, &Boundaries::default());
        assert_eq!(hs.len(), 1, "{hs:?}");
        assert!((5.0..10.0).contains(&hs[0].peak_s), "{hs:?}");
    }

    #[test]
    fn the_moments_do_not_raise_their_own_bar() {
        // 4 minutes, 4 moments (σ 10 s) in the first 3: most seconds there are part of
        // one. The weakest (0.2) is under the bar of all seconds but stands out from the
        // background.
        let mut curve = noisy_curve(240, &[], 5);
        for (at, height) in [(30, 0.2), (75, 0.6), (120, 0.5), (165, 0.55)] {
            for (i, s) in curve.score.iter_mut().enumerate() {
                let d = (i as f64 - f64::from(at)) / 10.0;
                *s += height * (-d * d).exp();
            }
        }
        curve.contributions = vec![("motion".into(), curve.score.clone())];
        let smooth = moving_average(&curve.score, 9);
        let mut sorted = smooth.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        let mut dev: Vec<f64> = sorted.iter().map(|v| (v - median).abs()).collect();
        dev.sort_by(f64::total_cmp);
        assert!(
            median + 4.0 * dev[dev.len() / 2] > smooth[30],
            "not a test of the bar"
        );
        let hs = select(
            &curve,
            240.0,
            &SelectSettings::default(),
            &Boundaries::default(),
        );
        assert_eq!(hs.len(), 4, "{hs:?}");
        // The background's bar: 0..1 in steps of 0.01 with ten outliers at 5.
        let mut v: Vec<f64> = (0..100).map(|i| f64::from(i) / 100.0).collect();
        v.extend([5.0; 10]);
        let bar = background_bar(&v, 4.0);
        assert!((1.0..2.5).contains(&bar), "{bar}");
    }

    #[test]
    fn prominence_ignores_shoulders_and_counts_edges() {
        let v = [0.0, 0.5, 0.4, 0.45, 0.1, 0.9, 0.2];
        assert!((prominence(&v, 5, 100) - 0.7).abs() < 1e-9);
        assert!((prominence(&v, 1, 100) - 0.4).abs() < 1e-9);
        assert!((prominence(&v, 3, 100) - 0.05).abs() < 1e-9);
        assert_eq!(prominence(&v, 2, 100), 0.0, "a slope is no peak");
        let edge = [0.9, 0.3, 0.2];
        assert!((prominence(&edge, 0, 100) - 0.7).abs() < 1e-9);
    }

    #[test]
    fn flat_curve_gives_nothing() {
        let curve = curve_with_bumps(300, &[]);
        assert!(select(
            &curve,
            300.0,
            &SelectSettings::default(),
            &Boundaries::default()
        )
        .is_empty());
    }
}
