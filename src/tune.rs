//! `livecut tune`: the team's taste from the editors' decisions.
//!
//! Every reviewed recording gives examples: the approved highlights (their trimmed spans)
//! and the added moments are positives, the rejected highlights negatives, and spans the
//! editors never had to look at (5 s clear of every decision, every 10 s) weak negatives
//! (weight [`BACKGROUND_WEIGHT`]). An example's features are each signal's activation over
//! its span (the mean of its upper quarter: moments are picked by their peaks), read back
//! from `curve.json` (a contribution is the signal's weight share times its activation). A
//! logistic model with non-negative coefficients on features in units of their spread,
//! pulled towards the built-in weights (ridge), gives the new fusion weights (rescaled to
//! the built-in total); the selection's significance bar and score floor are then picked
//! from grids on the training recordings. Quality is measured leave-one-recording-out: each recording is rescored
//! with weights fitted on the others and selection rerun on its re-weighted curve, then
//! compared with the built-in profile on the same recording (recall and precision of the
//! approved and added moments; how often an approved moment outscores a rejected one).
//! A profile worse than the built-in one on held-out recordings is not written.

use std::path::{Path, PathBuf};

use crate::fuse::{Curve, FuseSettings};
use crate::profile::Profile;
use crate::review::{Decision, ReviewFile};
use crate::select::{Highlight, SelectSettings};
use crate::time::Span;

/// Sample weight of a background span (a weak negative: nobody rejected it).
pub const BACKGROUND_WEIGHT: f64 = 0.3;
/// Background spans: one every this many seconds…
const BACKGROUND_EVERY_S: f64 = 10.0;
/// …at least this far from every decision.
const BACKGROUND_CLEAR_S: f64 = 5.0;
/// Ridge strength pulling the coefficients towards the built-in weights.
const RIDGE: f64 = 0.05;
/// Smallest spread a feature is scaled by (activations are 0–1).
const MIN_SPREAD: f64 = 0.02;
/// Score floors tried (`min_score`; fused scores are 0–1).
const FLOORS: [f64; 5] = [0.05, 0.075, 0.1, 0.125, 0.15];
/// Significance bars tried (MADs above the typical score).
const BARS: [f64; 7] = [2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0];

#[derive(Debug, thiserror::Error)]
pub enum TuneError {
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Review(#[from] crate::review::ReviewError),
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One reviewed recording: its curve (activations per signal), what the editors
/// wanted and rejected.
#[derive(Debug, Clone)]
pub struct Reviewed {
    pub name: String,
    pub duration_s: f64,
    /// Signal names and per-bin activations (0–1), from curve.json.
    pub signals: Vec<String>,
    pub activations: Vec<Vec<f64>>,
    pub step_s: f64,
    /// Approved (trimmed) highlights and added moments.
    pub wanted: Vec<Span>,
    pub rejected: Vec<Span>,
}

/// The built-in (or base profile's) weight of each fusion signal.
fn weight_of(fusion: &FuseSettings, signal: &str) -> f64 {
    fusion
        .signals
        .iter()
        .find(|s| s.signal == signal)
        .map_or(0.0, |s| s.weight)
}

/// Read `dir/<stem>/` (review.json, highlights.json, curve.json); `None` without a review
/// or a curve.
pub fn read_reviewed(dir: &Path, fusion: &FuseSettings) -> Result<Option<Reviewed>, TuneError> {
    if !dir.join(crate::review::REVIEW_FILE).is_file() {
        return Ok(None);
    }
    let review: ReviewFile = crate::review::load(dir)?;
    let file = crate::report::read_highlights(&dir.join(crate::report::HIGHLIGHTS_FILE))?;
    let Some(curve) = crate::report::read_curve(&dir.join(crate::report::CURVE_FILE)) else {
        return Ok(None);
    };
    let curve = curve.curve;
    // The weights the analysis used (recorded since this version), else the base profile's.
    let used = FuseSettings {
        signals: fusion
            .signals
            .iter()
            .map(|s| crate::fuse::SignalSpec {
                weight: file
                    .fusion_weights
                    .iter()
                    .find(|w| w.signal == s.signal)
                    .map_or(s.weight, |w| w.weight),
                ..s.clone()
            })
            .collect(),
        ..fusion.clone()
    };
    let fusion = &used;
    // contribution = (w / W) · activation, W the total weight of the signals present.
    let total: f64 = curve
        .contributions
        .iter()
        .map(|(s, _)| weight_of(fusion, s))
        .sum();
    let mut signals = Vec::new();
    let mut activations = Vec::new();
    for (s, c) in &curve.contributions {
        let w = weight_of(fusion, s);
        if w <= 0.0 || total <= 0.0 {
            continue;
        }
        signals.push(s.clone());
        activations.push(c.iter().map(|v| (v * total / w).clamp(0.0, 1.0)).collect());
    }
    let mut wanted = Vec::new();
    let mut rejected = Vec::new();
    for h in &file.highlights {
        let Some(r) = review.highlights.iter().find(|r| r.rank == h.rank) else {
            continue;
        };
        let span = Span::new(r.start_s.unwrap_or(h.start_s), r.end_s.unwrap_or(h.end_s));
        match r.decision {
            Decision::Approve => wanted.push(span),
            Decision::Reject => rejected.push(span),
            Decision::Pending => {}
        }
    }
    wanted.extend(review.added.iter().map(|a| Span::new(a.start_s, a.end_s)));
    // The output folder and the recording's folder: stems repeat across days.
    let part = |p: Option<&Path>| {
        p.and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let name = format!("{}/{}", part(dir.parent()), part(Some(dir)));
    Ok(Some(Reviewed {
        name,
        duration_s: file.analysed_until_s.max(curve.len() as f64 * curve.step_s),
        signals,
        activations,
        step_s: curve.step_s,
        wanted,
        rejected,
    }))
}

/// Mean activation of each of `names` over `span` (0 for a signal the recording lacks).
fn features(r: &Reviewed, names: &[String], span: Span) -> Vec<f64> {
    let a = (span.start_s / r.step_s).floor().max(0.0) as usize;
    let b = ((span.end_s / r.step_s).ceil() as usize).max(a + 1);
    names
        .iter()
        .map(|n| {
            r.signals.iter().position(|s| s == n).map_or(0.0, |i| {
                let act = &r.activations[i];
                let (a, b) = (a.min(act.len()), b.min(act.len()));
                if b > a {
                    upper_mean(&act[a..b])
                } else {
                    0.0
                }
            })
        })
        .collect()
}

/// Mean of the upper quarter of `v` (at least one value): a moment is picked by its peak,
/// and a laugh in bursts or a short cheer is diluted by the quiet seconds around it in a
/// plain mean.
fn upper_mean(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| b.total_cmp(a));
    let k = s.len().div_ceil(4).max(1);
    s[..k].iter().sum::<f64>() / k as f64
}

/// Background spans of `r`: every 10 s, the length of its median decision, 5 s clear of
/// every decision.
fn background(r: &Reviewed) -> Vec<Span> {
    let mut lens: Vec<f64> = r
        .wanted
        .iter()
        .chain(&r.rejected)
        .map(Span::duration)
        .collect();
    lens.sort_by(f64::total_cmp);
    let len = lens
        .get(lens.len() / 2)
        .copied()
        .unwrap_or(30.0)
        .clamp(10.0, 90.0);
    let mut out = Vec::new();
    let mut t = 0.0;
    while t + len <= r.duration_s {
        let s = Span::new(t, t + len);
        let clear = r.wanted.iter().chain(&r.rejected).all(|d| {
            s.end_s + BACKGROUND_CLEAR_S <= d.start_s || d.end_s + BACKGROUND_CLEAR_S <= s.start_s
        });
        if clear {
            out.push(s);
        }
        t += BACKGROUND_EVERY_S;
    }
    out
}

/// Examples of `recordings`: (features, label, sample weight).
fn examples(recordings: &[&Reviewed], names: &[String]) -> Vec<(Vec<f64>, f64, f64)> {
    let mut out = Vec::new();
    for r in recordings {
        out.extend(r.wanted.iter().map(|s| (features(r, names, *s), 1.0, 1.0)));
        out.extend(
            r.rejected
                .iter()
                .map(|s| (features(r, names, *s), 0.0, 1.0)),
        );
        out.extend(
            background(r)
                .into_iter()
                .map(|s| (features(r, names, s), 0.0, BACKGROUND_WEIGHT)),
        );
    }
    out
}

/// Logistic regression with non-negative coefficients pulled towards `prior` (projected
/// gradient descent, deterministic). Returns the coefficients.
///
/// The features are fitted in units of their spread over the examples (each divided by
/// its weighted standard deviation, floored at [`MIN_SPREAD`]): a signal that is near
/// zero everywhere except in the moments the editors want (a laugh YAMNet hears at 0.2)
/// then weighs as much in the fit as a loud one, and the ridge pulls each coefficient by
/// the same amount per unit of spread.
fn fit(examples: &[(Vec<f64>, f64, f64)], prior: &[f64]) -> Vec<f64> {
    let d = prior.len();
    let total: f64 = examples.iter().map(|e| e.2).sum::<f64>().max(1e-9);
    let spread: Vec<f64> = (0..d)
        .map(|i| {
            let mean = examples.iter().map(|(x, _, w)| w * x[i]).sum::<f64>() / total;
            let var = examples
                .iter()
                .map(|(x, _, w)| w * (x[i] - mean).powi(2))
                .sum::<f64>()
                / total;
            var.sqrt().max(MIN_SPREAD)
        })
        .collect();
    // The prior as coefficients of a comparable scale, in spread units.
    let scale = 8.0 / prior.iter().sum::<f64>().max(1e-9);
    let p0: Vec<f64> = prior
        .iter()
        .zip(&spread)
        .map(|(w, s)| w * scale * s)
        .collect();
    let xs: Vec<Vec<f64>> = examples
        .iter()
        .map(|(x, _, _)| x.iter().zip(&spread).map(|(a, s)| a / s).collect())
        .collect();
    let mut v = p0.clone();
    let mut b = -2.0;
    for _ in 0..3000 {
        let mut gv = vec![0.0; d];
        let mut gb = 0.0;
        for (x, (_, y, w)) in xs.iter().zip(examples) {
            let z = b + x.iter().zip(&v).map(|(a, c)| a * c).sum::<f64>();
            let p = 1.0 / (1.0 + (-z).exp());
            let e = w * (p - y) / total;
            for (g, xi) in gv.iter_mut().zip(x) {
                *g += e * xi;
            }
            gb += e;
        }
        for i in 0..d {
            gv[i] += RIDGE * (v[i] - p0[i]);
            v[i] = (v[i] - 0.5 * gv[i]).max(0.0);
        }
        b -= 0.5 * gb;
    }
    v.iter().zip(&spread).map(|(c, s)| c / s).collect()
}

/// The fusion weights of `names` from coefficients `v`, rescaled to the total of `prior`.
fn weights_from(v: &[f64], prior: &[f64]) -> Vec<f64> {
    let sum: f64 = v.iter().sum();
    let target: f64 = prior.iter().sum();
    if sum <= 0.0 {
        return prior.to_vec();
    }
    v.iter()
        .map(|c| (c / sum * target * 1000.0).round() / 1000.0)
        .collect()
}

/// `r`'s curve re-weighted with `weights` (for `names`).
fn reweighted(r: &Reviewed, names: &[String], weights: &[f64]) -> Curve {
    let n = r.activations.first().map_or(0, Vec::len);
    let present: Vec<(usize, f64)> = r
        .signals
        .iter()
        .enumerate()
        .filter_map(|(i, s)| names.iter().position(|x| x == s).map(|k| (i, weights[k])))
        .collect();
    let total: f64 = present.iter().map(|(_, w)| w).sum::<f64>().max(1e-9);
    let mut score = vec![0.0; n];
    for (i, w) in &present {
        for (s, a) in score.iter_mut().zip(&r.activations[*i]) {
            *s += w / total * a;
        }
    }
    Curve {
        step_s: r.step_s,
        score,
        contributions: Vec::new(),
        lags: Vec::new(),
    }
}

/// How a set of picks fares against the editors' decisions on one recording.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Score {
    /// Wanted moments a pick overlaps.
    pub found: usize,
    pub wanted: usize,
    /// Picks that overlap a wanted moment.
    pub good_picks: usize,
    pub picks: usize,
    /// Pairs (wanted, rejected) where the wanted one scores higher, and all such pairs.
    pub ordered: usize,
    pub pairs: usize,
}

impl Score {
    pub fn add(&mut self, o: &Score) {
        self.found += o.found;
        self.wanted += o.wanted;
        self.good_picks += o.good_picks;
        self.picks += o.picks;
        self.ordered += o.ordered;
        self.pairs += o.pairs;
    }
    pub fn recall(&self) -> f64 {
        self.found as f64 / self.wanted.max(1) as f64
    }
    pub fn precision(&self) -> f64 {
        self.good_picks as f64 / self.picks.max(1) as f64
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    /// Share of (approved, rejected) pairs in the right order (0.5 without pairs).
    pub fn order(&self) -> f64 {
        if self.pairs == 0 {
            0.5
        } else {
            self.ordered as f64 / self.pairs as f64
        }
    }
}

fn overlaps(a: &Span, b: &Span) -> bool {
    a.overlap(b) > 0.25 * a.duration().min(b.duration())
}

/// Selection rerun on `r`'s curve re-weighted with `weights`, scored against the decisions.
fn evaluate(r: &Reviewed, names: &[String], weights: &[f64], select: &SelectSettings) -> Score {
    let curve = reweighted(r, names, weights);
    let picks: Vec<Highlight> = crate::select::select(
        &curve,
        r.duration_s,
        select,
        &crate::boundaries::Boundaries::default(),
    );
    let spans: Vec<Span> = picks.iter().map(Highlight::span).collect();
    let mean = |s: &Span| {
        let a = (s.start_s / r.step_s).floor().max(0.0) as usize;
        let b = ((s.end_s / r.step_s).ceil() as usize).min(curve.score.len());
        if b > a {
            curve.score[a..b].iter().sum::<f64>() / (b - a) as f64
        } else {
            0.0
        }
    };
    let mut pairs = 0;
    let mut ordered = 0;
    for w in &r.wanted {
        for x in &r.rejected {
            pairs += 1;
            if mean(w) > mean(x) {
                ordered += 1;
            }
        }
    }
    Score {
        found: r
            .wanted
            .iter()
            .filter(|w| spans.iter().any(|p| overlaps(w, p)))
            .count(),
        wanted: r.wanted.len(),
        good_picks: spans
            .iter()
            .filter(|p| r.wanted.iter().any(|w| overlaps(w, p)))
            .count(),
        picks: spans.len(),
        ordered,
        pairs,
    }
}

/// A tuned profile for `train`: weights and the selection with its significance bar and
/// score floor picked from grids.
fn tune_on(train: &[&Reviewed], names: &[String], base: &Profile) -> (Vec<f64>, SelectSettings) {
    let prior: Vec<f64> = names.iter().map(|n| weight_of(&base.fusion, n)).collect();
    let v = fit(&examples(train, names), &prior);
    let weights = weights_from(&v, &prior);
    let built_in = &base.selection;
    let mut best = (f64::NEG_INFINITY, built_in.clone());
    for bar in BARS {
        for floor in FLOORS {
            let select = SelectSettings {
                significance_mads: bar,
                min_score: floor,
                ..built_in.clone()
            };
            let mut s = Score::default();
            for r in train {
                s.add(&evaluate(r, names, &weights, &select));
            }
            // Ties keep the settings nearest the built-in ones.
            let f = s.f1()
                - 1e-6 * (bar - built_in.significance_mads).abs()
                - 1e-4 * (floor - built_in.min_score).abs();
            if f > best.0 {
                best = (f, select);
            }
        }
    }
    (weights, best.1)
}

/// What `livecut tune` found.
#[derive(Debug, Clone)]
pub struct TuneReport {
    pub recordings: Vec<String>,
    pub signals: Vec<String>,
    pub base_weights: Vec<f64>,
    pub weights: Vec<f64>,
    pub base_bar: f64,
    pub bar: f64,
    /// The selection's score floor (`min_score`), built-in and tuned.
    pub base_floor: f64,
    pub floor: f64,
    /// Leave-one-recording-out: per recording (name, built-in, tuned).
    pub held_out: Vec<(String, Score, Score)>,
    pub base_total: Score,
    pub tuned_total: Score,
    /// The profile (None: refused, with the reason in `verdict`).
    pub profile: Option<Profile>,
    pub verdict: String,
}

/// Tune on the reviewed recordings in `dirs` (each `DIR/<stem>/` with review.json).
pub fn tune(dirs: &[PathBuf], base: &Profile) -> Result<TuneReport, TuneError> {
    let mut recs = Vec::new();
    for d in dirs {
        let entries =
            std::fs::read_dir(d).map_err(|e| TuneError::Input(format!("{}: {e}", d.display())))?;
        let mut subs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        subs.sort();
        for sub in subs.into_iter().filter(|p| p.is_dir()) {
            if let Some(r) = read_reviewed(&sub, &base.fusion)? {
                recs.push(r);
            }
        }
    }
    if recs.len() < 2 {
        return Err(TuneError::Input(format!(
            "{} reviewed recording(s) found (review.json with curve.json); tuning needs at \
             least 2 to hold one out",
            recs.len()
        )));
    }
    let mut names: Vec<String> = Vec::new();
    for r in &recs {
        for s in &r.signals {
            if !names.contains(s) {
                names.push(s.clone());
            }
        }
    }
    let base_weights: Vec<f64> = names.iter().map(|n| weight_of(&base.fusion, n)).collect();
    let mut held_out = Vec::new();
    let mut base_total = Score::default();
    let mut tuned_total = Score::default();
    for (i, r) in recs.iter().enumerate() {
        let train: Vec<&Reviewed> = recs
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, r)| r)
            .collect();
        let (w, select) = tune_on(&train, &names, base);
        let b = evaluate(r, &names, &base_weights, &base.selection);
        let t = evaluate(r, &names, &w, &select);
        base_total.add(&b);
        tuned_total.add(&t);
        held_out.push((r.name.clone(), b, t));
    }
    let all: Vec<&Reviewed> = recs.iter().collect();
    let (weights, select) = tune_on(&all, &names, base);
    let worse = tuned_total.f1() + 1e-9 < base_total.f1()
        || tuned_total.order() + 1e-9 < base_total.order();
    let (profile, verdict) = if worse {
        (
            None,
            format!(
                "not written: on held-out recordings the tuned profile is worse than the \
                 built-in one (F1 {:.2} vs {:.2}, order {:.2} vs {:.2})",
                tuned_total.f1(),
                base_total.f1(),
                tuned_total.order(),
                base_total.order()
            ),
        )
    } else {
        let mut p = base.clone();
        for s in p.fusion.signals.iter_mut() {
            if let Some(k) = names.iter().position(|n| *n == s.signal) {
                s.weight = weights[k];
            }
        }
        p.selection.significance_mads = select.significance_mads;
        p.selection.min_score = select.min_score;
        (
            Some(p),
            format!(
                "held-out F1 {:.2} (built-in {:.2}), order {:.2} (built-in {:.2})",
                tuned_total.f1(),
                base_total.f1(),
                tuned_total.order(),
                base_total.order()
            ),
        )
    };
    Ok(TuneReport {
        recordings: recs.iter().map(|r| r.name.clone()).collect(),
        signals: names,
        base_weights,
        weights,
        base_bar: base.selection.significance_mads,
        bar: select.significance_mads,
        base_floor: base.selection.min_score,
        floor: select.min_score,
        held_out,
        base_total,
        tuned_total,
        profile,
        verdict,
    })
}

/// The report as a table (printed by `livecut tune`).
pub fn table(r: &TuneReport) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} reviewed recordings; leave-one-recording-out (each scored with weights fitted on the others):\n",
        r.recordings.len()
    ));
    out.push_str("| recording | built-in recall | built-in precision | tuned recall | tuned precision | approved>rejected built-in | tuned |\n|---|---:|---:|---:|---:|---:|---:|\n");
    let row = |name: &str, b: &Score, t: &Score| {
        format!(
            "| {name} | {:.2} ({}/{}) | {:.2} ({}/{}) | {:.2} ({}/{}) | {:.2} ({}/{}) | {:.2} | {:.2} |\n",
            b.recall(), b.found, b.wanted, b.precision(), b.good_picks, b.picks,
            t.recall(), t.found, t.wanted, t.precision(), t.good_picks, t.picks,
            b.order(), t.order()
        )
    };
    for (name, b, t) in &r.held_out {
        out.push_str(&row(name, b, t));
    }
    out.push_str(&row("all", &r.base_total, &r.tuned_total));
    out.push_str("\nweights (built-in → tuned on all recordings):\n");
    for ((s, b), w) in r.signals.iter().zip(&r.base_weights).zip(&r.weights) {
        out.push_str(&format!("  {s:<16} {b:.3} → {w:.3}\n"));
    }
    out.push_str(&format!(
        "  significance bar {:.1} → {:.1} MADs\n  score floor      {:.3} → {:.3}\n",
        r.base_bar, r.bar, r.base_floor, r.floor
    ));
    out.push_str(&format!("{}\n", r.verdict));
    out
}

/// Write the tuned profile (TOML, with the figures as a header comment) atomically.
pub fn write_profile(path: &Path, r: &TuneReport, profile: &Profile) -> Result<(), TuneError> {
    let body = toml::to_string(profile)
        .map_err(|e| TuneError::Input(format!("cannot write the profile as TOML: {e}")))?;
    let header: String = table(r).lines().map(|l| format!("# {l}\n")).collect();
    let text = format!(
        "# livecut profile tuned from the editors' decisions (livecut tune)\n{header}\n{body}"
    );
    crate::fsutil::write_atomic(path, text.as_bytes()).map_err(|source| TuneError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A recording of `n` seconds with two signals: `comments` high over `loud_moments`
    /// (which the editors approved) and `motion` high over `busy` (rejected).
    fn recording(name: &str, n: usize, wanted: &[(f64, f64)], rejected: &[(f64, f64)]) -> Reviewed {
        let mut comments = vec![0.02; n];
        let mut motion = vec![0.05; n];
        for &(a, b) in wanted {
            for v in &mut comments[a as usize..b as usize] {
                *v = 0.9;
            }
        }
        for &(a, b) in rejected {
            for v in &mut motion[a as usize..b as usize] {
                *v = 1.0;
            }
        }
        Reviewed {
            name: name.into(),
            duration_s: n as f64,
            signals: vec!["comments".into(), "motion".into()],
            activations: vec![comments, motion],
            step_s: 1.0,
            wanted: wanted.iter().map(|&(a, b)| Span::new(a, b)).collect(),
            rejected: rejected.iter().map(|&(a, b)| Span::new(a, b)).collect(),
        }
    }

    #[test]
    fn the_fit_moves_weight_to_what_editors_approve() {
        let recs = [
            recording(
                "a",
                900,
                &[(100.0, 130.0), (500.0, 530.0)],
                &[(300.0, 330.0), (700.0, 730.0)],
            ),
            recording(
                "b",
                900,
                &[(200.0, 230.0)],
                &[(600.0, 630.0), (800.0, 830.0)],
            ),
        ];
        let names = vec!["comments".to_string(), "motion".to_string()];
        let prior = [0.3, 0.3];
        let refs: Vec<&Reviewed> = recs.iter().collect();
        let v = fit(&examples(&refs, &names), &prior);
        let w = weights_from(&v, &prior);
        assert!(w[0] > 2.5 * w[1], "{w:?}");
        assert!((w.iter().sum::<f64>() - 0.6).abs() < 0.01);
        // Re-weighted, the approved moments outrank the rejected ones.
        let s = evaluate(&recs[0], &names, &w, &SelectSettings::default());
        assert_eq!((s.ordered, s.pairs), (4, 4));
        let b = evaluate(&recs[0], &names, &prior, &SelectSettings::default());
        assert!(s.f1() >= b.f1(), "{s:?} vs {b:?}");
    }

    #[test]
    fn features_read_activations_back_from_contributions() {
        let r = recording("a", 100, &[(10.0, 20.0)], &[]);
        let f = features(
            &r,
            &["motion".into(), "comments".into(), "orders".into()],
            Span::new(10.0, 20.0),
        );
        let want = [0.05, 0.9, 0.0];
        assert!(
            f.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-9),
            "{f:?}"
        );
        // Every 10 s, 5 s clear of the approved 10–20 s: from 30 s on.
        let bg: Vec<f64> = background(&r).iter().map(|s| s.start_s).collect();
        assert_eq!(bg, [30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0]);
    }

    #[test]
    fn a_faint_signal_only_in_the_wanted_moments_gains_weight_and_bursts_count_by_their_peaks() {
        // `audio_events` at 0.3 in two 3-s bursts of each 20-s wanted moment, 0 elsewhere;
        // `loudness` the same everywhere.
        let mut recs = Vec::new();
        for (k, name) in ["a", "b", "c"].iter().enumerate() {
            let start = 60.0 + 50.0 * k as f64;
            let mut ev = vec![0.0; 400];
            for b in [start + 2.0, start + 12.0] {
                for v in &mut ev[b as usize..b as usize + 3] {
                    *v = 0.3;
                }
            }
            recs.push(Reviewed {
                name: (*name).into(),
                duration_s: 400.0,
                signals: vec!["audio_events".into(), "loudness".into()],
                activations: vec![ev, vec![0.2; 400]],
                step_s: 1.0,
                wanted: vec![Span::new(start, start + 20.0)],
                rejected: Vec::new(),
            });
        }
        let names = vec!["audio_events".to_string(), "loudness".to_string()];
        // The upper quarter of the 20 s: 5 values, 5 of the 6 burst seconds.
        let f = features(&recs[0], &names, Span::new(60.0, 80.0));
        assert!(
            (f[0] - 0.3).abs() < 1e-9 && (f[1] - 0.2).abs() < 1e-9,
            "{f:?}"
        );
        let prior = [0.15, 0.25];
        let refs: Vec<&Reviewed> = recs.iter().collect();
        let w = weights_from(&fit(&examples(&refs, &names), &prior), &prior);
        assert!(w[0] > 3.0 * w[1], "{w:?}");
        assert!((upper_mean(&[1.0, 0.0, 0.0, 0.0, 0.0]) - 0.5).abs() < 1e-9);
    }
}
