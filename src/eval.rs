//! Our own evaluation: livecut's highlights against labelled sessions
//! (`fixtures/make_session.py`), next to a plain baseline run on the same signal tracks.
//!
//! Definitions (per session, summed over sessions):
//! - a pick **matches** a true moment when it contains the moment's peak or covers at least
//!   half of the moment; picks are matched one to one, best rank first, each to the
//!   unmatched moment it overlaps most (temporal IoU);
//! - **K** is the number of true moments of each session (the baseline returns K picks;
//!   livecut returns as many as stand out), unless `--highlights N` caps both at N;
//! - **recall@K** = matched moments / true moments, **precision@K** = matched picks / picks
//!   returned;
//! - a **decoy hit** is a pick that matches no moment and whose peak lies in a decoy span
//!   (bot flood, "be right back" card, glitch) widened by [`DECOY_MARGIN_S`];
//! - **mean IoU** over matched pairs; **type accuracy** over matched pairs with a labelled
//!   type; **boundaries inside speech**: clip starts/ends that fall where the VAD hears
//!   speech.
//!
//! The **baseline** is what a plain tool does: z(comments per second) + z(loudness), each
//! z-scored over the whole recording, averaged over fixed 30 s windows (5 s stride), the K
//! best non-overlapping windows.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::boundaries::Boundaries;
use crate::signals::SignalSet;
use crate::time::Span;

/// Seconds around a decoy within which a pick's peak counts as landing on it.
pub const DECOY_MARGIN_S: f64 = 2.0;
/// The baseline's fixed window and stride, seconds.
pub const BASELINE_WINDOW_S: f64 = 30.0;
pub const BASELINE_STRIDE_S: f64 = 5.0;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{path}: {message}")]
    Session { path: PathBuf, message: String },
}

/// A labelled session's `truth.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Truth {
    pub duration_s: f64,
    #[serde(default)]
    pub seed: Option<u64>,
    pub moments: Vec<TrueMoment>,
    #[serde(default)]
    pub decoys: Vec<Decoy>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrueMoment {
    pub kind: String,
    /// The highlight type livecut should give it (product, flash_sale, interaction).
    #[serde(default, rename = "type")]
    pub kind_type: Option<String>,
    pub start_s: f64,
    pub peak_s: f64,
    pub end_s: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Decoy {
    pub kind: String,
    pub start_s: f64,
    pub end_s: f64,
}

/// One labelled session on disk.
#[derive(Debug, Clone)]
pub struct Session {
    pub stem: String,
    pub truth_path: PathBuf,
    pub recording: PathBuf,
    pub comments: Option<PathBuf>,
    pub orders: Option<PathBuf>,
}

const TRUTH_SUFFIX: &str = ".truth.json";

/// Sessions under `paths` (folders are searched one level deep for `*.truth.json`), sorted
/// by stem.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<Session>, EvalError> {
    let mut truths = Vec::new();
    for p in paths {
        if p.is_dir() {
            let entries = std::fs::read_dir(p).map_err(|e| EvalError::Session {
                path: p.clone(),
                message: format!("cannot list the folder: {e}"),
            })?;
            for e in entries.flatten() {
                let path = e.path();
                if path.to_string_lossy().ends_with(TRUTH_SUFFIX) {
                    truths.push(path);
                }
            }
        } else if p.to_string_lossy().ends_with(TRUTH_SUFFIX) && p.is_file() {
            truths.push(p.clone());
        } else {
            return Err(EvalError::Session {
                path: p.clone(),
                message: format!("neither a folder nor a *{TRUTH_SUFFIX} file"),
            });
        }
    }
    let mut sessions: Vec<Session> = truths.into_iter().map(session_of).collect();
    sessions.sort_by(|a, b| a.stem.cmp(&b.stem).then(a.truth_path.cmp(&b.truth_path)));
    if sessions.is_empty() {
        return Err(EvalError::Session {
            path: paths.first().cloned().unwrap_or_default(),
            message: format!("no *{TRUTH_SUFFIX} files found"),
        });
    }
    Ok(sessions)
}

fn session_of(truth_path: PathBuf) -> Session {
    let name = truth_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.trim_end_matches(TRUTH_SUFFIX).to_string();
    let dir = truth_path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let existing = |ext: &str| Some(dir.join(format!("{stem}.{ext}"))).filter(|p| p.is_file());
    Session {
        recording: dir.join(format!("{stem}.mp4")),
        comments: existing("comments.xml")
            .or_else(|| existing("comments.jsonl"))
            .or_else(|| existing("comments.csv")),
        orders: existing("orders.csv"),
        stem,
        truth_path,
    }
}

pub fn read_truth(path: &Path) -> Result<Truth, EvalError> {
    let err = |message: String| EvalError::Session {
        path: path.to_path_buf(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| err(format!("not a truth file: {e}")))
}

/// A highlight as the evaluation sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pick {
    pub start_s: f64,
    pub end_s: f64,
    pub peak_s: f64,
    #[serde(default)]
    pub kind_type: Option<String>,
}

impl Pick {
    fn span(&self) -> Span {
        Span::new(self.start_s, self.end_s)
    }
}

/// Counts for one system on one or more sessions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub moments: usize,
    pub picks: usize,
    pub matched: usize,
    pub decoy_hits: usize,
    pub iou_sum: f64,
    pub typed: usize,
    pub type_correct: usize,
    pub boundaries: usize,
    pub boundaries_in_speech: usize,
    /// Boundaries checked against a transcript, and those inside a transcribed sentence.
    #[serde(default)]
    pub sentence_boundaries: usize,
    #[serde(default)]
    pub boundaries_in_sentence: usize,
    /// (moment kind, moments, matched).
    pub by_kind: Vec<(String, usize, usize)>,
}

impl Scores {
    pub fn recall(&self) -> f64 {
        ratio(self.matched, self.moments)
    }

    pub fn precision(&self) -> f64 {
        ratio(self.matched, self.picks)
    }

    pub fn mean_iou(&self) -> f64 {
        if self.matched == 0 {
            0.0
        } else {
            self.iou_sum / self.matched as f64
        }
    }

    pub fn type_accuracy(&self) -> f64 {
        ratio(self.type_correct, self.typed)
    }

    pub fn add(&mut self, o: &Scores) {
        self.moments += o.moments;
        self.picks += o.picks;
        self.matched += o.matched;
        self.decoy_hits += o.decoy_hits;
        self.iou_sum += o.iou_sum;
        self.typed += o.typed;
        self.type_correct += o.type_correct;
        self.boundaries += o.boundaries;
        self.boundaries_in_speech += o.boundaries_in_speech;
        self.sentence_boundaries += o.sentence_boundaries;
        self.boundaries_in_sentence += o.boundaries_in_sentence;
        for (kind, n, m) in &o.by_kind {
            match self.by_kind.iter_mut().find(|(k, _, _)| k == kind) {
                Some(e) => {
                    e.1 += n;
                    e.2 += m;
                }
                None => self.by_kind.push((kind.clone(), *n, *m)),
            }
        }
        self.by_kind.sort();
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Score `picks` (best first) against `truth`; `speech` counts boundaries inside speech.
pub fn score(picks: &[Pick], truth: &Truth, speech: Option<&Boundaries>) -> Scores {
    let mut s = Scores {
        moments: truth.moments.len(),
        picks: picks.len(),
        ..Default::default()
    };
    let mut taken = vec![false; truth.moments.len()];
    for p in picks {
        let ps = p.span();
        let best = truth
            .moments
            .iter()
            .enumerate()
            .filter(|(i, _)| !taken[*i])
            .filter(|(_, m)| {
                let ms = Span::new(m.start_s, m.end_s);
                ps.contains(m.peak_s) || ps.overlap(&ms) >= 0.5 * ms.duration()
            })
            .map(|(i, m)| (i, iou(&ps, &Span::new(m.start_s, m.end_s))))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((i, iou)) => {
                taken[i] = true;
                s.matched += 1;
                s.iou_sum += iou;
                if let (Some(want), Some(got)) = (&truth.moments[i].kind_type, &p.kind_type) {
                    s.typed += 1;
                    if got == want {
                        s.type_correct += 1;
                    }
                }
            }
            None => {
                let on_decoy = truth.decoys.iter().any(|d| {
                    d.start_s - DECOY_MARGIN_S <= p.peak_s && p.peak_s <= d.end_s + DECOY_MARGIN_S
                });
                if on_decoy {
                    s.decoy_hits += 1;
                }
            }
        }
        if let Some(b) = speech {
            s.boundaries += 2;
            s.boundaries_in_speech +=
                usize::from(b.inside_speech(p.start_s)) + usize::from(b.inside_speech(p.end_s));
            if !b.sentences.is_empty() {
                s.sentence_boundaries += 2;
                s.boundaries_in_sentence += usize::from(b.inside_sentence(p.start_s))
                    + usize::from(b.inside_sentence(p.end_s));
            }
        }
    }
    for (i, m) in truth.moments.iter().enumerate() {
        let hit = usize::from(taken[i]);
        match s.by_kind.iter_mut().find(|(k, _, _)| *k == m.kind) {
            Some(e) => {
                e.1 += 1;
                e.2 += hit;
            }
            None => s.by_kind.push((m.kind.clone(), 1, hit)),
        }
    }
    s.by_kind.sort();
    s
}

fn iou(a: &Span, b: &Span) -> f64 {
    let inter = a.overlap(b);
    let union = a.duration() + b.duration() - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

/// The plain baseline's K picks: z(comments/s) + z(loudness) over fixed windows.
pub fn baseline(signals: &SignalSet, duration_s: f64, k: usize) -> Vec<Pick> {
    let n = duration_s.ceil().max(1.0) as usize;
    let mut sum = vec![0.0f64; n];
    for (name, fill) in [("comments", 0.0f32), ("loudness_momentary", -70.0)] {
        let Some(t) = signals.get(name).filter(|t| !t.is_empty()) else {
            continue;
        };
        let x: Vec<f64> = t
            .resample_mean(1.0, n, fill)
            .into_iter()
            .map(f64::from)
            .collect();
        let mean = x.iter().sum::<f64>() / n as f64;
        let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        if sd > 0.0 {
            for (s, v) in sum.iter_mut().zip(&x) {
                *s += (v - mean) / sd;
            }
        }
    }
    let w = (BASELINE_WINDOW_S as usize).min(n);
    let stride = BASELINE_STRIDE_S as usize;
    let mut windows: Vec<(usize, f64)> = (0..=n - w)
        .step_by(stride)
        .map(|s| (s, sum[s..s + w].iter().sum::<f64>() / w as f64))
        .collect();
    windows.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut picks: Vec<Pick> = Vec::new();
    for (s, _) in windows {
        if picks.len() >= k {
            break;
        }
        let span = Span::new(s as f64, (s + w) as f64);
        if picks.iter().any(|p| p.span().overlap(&span) > 0.0) {
            continue;
        }
        let peak = (s..s + w)
            .max_by(|a, b| sum[*a].total_cmp(&sum[*b]))
            .unwrap_or(s);
        picks.push(Pick {
            start_s: span.start_s,
            end_s: span.end_s,
            peak_s: peak as f64 + 0.5,
            kind_type: None,
        });
    }
    picks
}

/// One session's outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionResult {
    pub stem: String,
    pub truth: PathBuf,
    /// Analysis error (the session then counts its moments as missed by livecut).
    pub error: Option<String>,
    pub livecut: Scores,
    pub baseline: Scores,
    pub livecut_picks: Vec<Pick>,
    pub baseline_picks: Vec<Pick>,
}

/// `eval.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvalReport {
    pub label: String,
    /// `--highlights N`; 0: K is each session's number of true moments.
    pub k: usize,
    pub generator: String,
    pub sessions: Vec<SessionResult>,
    pub livecut: Scores,
    pub baseline: Scores,
}

impl EvalReport {
    pub fn new(label: &str, k: usize, sessions: Vec<SessionResult>) -> Self {
        let mut livecut = Scores::default();
        let mut base = Scores::default();
        for s in &sessions {
            livecut.add(&s.livecut);
            base.add(&s.baseline);
        }
        Self {
            label: label.to_string(),
            k,
            generator: crate::report::generator(),
            sessions,
            livecut,
            baseline: base,
        }
    }

    /// The tables printed by `livecut eval`.
    pub fn table(&self) -> String {
        let k = if self.k == 0 {
            "true moments per session".to_string()
        } else {
            self.k.to_string()
        };
        let mut out = String::new();
        if !self.label.is_empty() {
            out.push_str(&format!("## {}\n\n", self.label));
        }
        out.push_str(
            "| session | moments | livecut hits/picks | decoy hits | IoU | baseline hits/picks | decoy hits | IoU |\n\
             |---|---|---|---|---|---|---|---|\n",
        );
        for s in &self.sessions {
            let (l, b) = (&s.livecut, &s.baseline);
            out.push_str(&format!(
                "| {}{} | {} | {}/{} | {} | {:.2} | {}/{} | {} | {:.2} |\n",
                s.stem,
                if s.error.is_some() { " (failed)" } else { "" },
                l.moments,
                l.matched,
                l.picks,
                l.decoy_hits,
                l.mean_iou(),
                b.matched,
                b.picks,
                b.decoy_hits,
                b.mean_iou()
            ));
        }
        out.push_str(&format!(
            "\n| system (K = {k}) | recall@K | precision@K | decoy hits | mean IoU | type accuracy | boundaries inside speech | inside a transcribed sentence |\n\
             |---|---|---|---|---|---|---|---|\n"
        ));
        for (name, s) in [("livecut", &self.livecut), ("baseline", &self.baseline)] {
            let typed = if s.typed > 0 {
                format!("{:.2} ({}/{})", s.type_accuracy(), s.type_correct, s.typed)
            } else {
                "–".into()
            };
            let speech = if s.boundaries > 0 {
                format!("{} of {}", s.boundaries_in_speech, s.boundaries)
            } else {
                "–".into()
            };
            let sentence = if s.sentence_boundaries > 0 {
                format!("{} of {}", s.boundaries_in_sentence, s.sentence_boundaries)
            } else {
                "–".into()
            };
            out.push_str(&format!(
                "| {name} | {:.2} ({}/{}) | {:.2} ({}/{}) | {} | {:.2} | {typed} | {speech} | {sentence} |\n",
                s.recall(),
                s.matched,
                s.moments,
                s.precision(),
                s.matched,
                s.picks,
                s.decoy_hits,
                s.mean_iou(),
            ));
        }
        out.push_str(
            "\n| moment kind | moments | livecut recall | baseline recall |\n|---|---|---|---|\n",
        );
        for (kind, n, m) in &self.livecut.by_kind {
            let bm = self
                .baseline
                .by_kind
                .iter()
                .find(|(k, _, _)| k == kind)
                .map_or(0, |e| e.2);
            out.push_str(&format!("| {kind} | {n} | {m}/{n} | {bm}/{n} |\n"));
        }
        out
    }
}

/// Analyse every session with `template` (its exports and recording filled in per
/// session; results under `template.out_dir/<stem>/`) and score livecut and the baseline.
/// A session that fails to analyse is reported, its moments count as missed by livecut.
pub fn run(
    sessions: &[Session],
    template: &crate::pipeline::AnalyzeOptions,
    label: &str,
    progress: crate::pipeline::ProgressSink<'_>,
) -> Result<EvalReport, EvalError> {
    let k = template.select.top;
    let mut results = Vec::new();
    for session in sessions {
        let truth = read_truth(&session.truth_path)?;
        let opts = crate::pipeline::AnalyzeOptions {
            comments: session.comments.clone(),
            orders: session.orders.clone(),
            ..template.clone()
        };
        tracing::info!("eval: {}", session.stem);
        let mut result = SessionResult {
            stem: session.stem.clone(),
            truth: session.truth_path.clone(),
            error: None,
            livecut: score(&[], &truth, None),
            baseline: Scores::default(),
            livecut_picks: Vec::new(),
            baseline_picks: Vec::new(),
        };
        match crate::pipeline::analyze(&session.recording, &opts, progress) {
            Ok(analysis) => {
                let signals_path = analysis.dir.join(crate::report::SIGNALS_FILE);
                let mut all = SignalSet::default();
                if let Some(sig) = crate::report::read_signals(&signals_path) {
                    all.tracks.extend(sig.media.tracks);
                    all.tracks.extend(sig.timelines.tracks);
                }
                let mut bounds = Boundaries::from_signals(&all);
                let transcript = analysis.dir.join(crate::speech::TRANSCRIPT_FILE);
                if let Some(t) = std::fs::read(&transcript)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<crate::speech::Transcript>(&b).ok())
                {
                    bounds.sentences = t.sentences();
                }
                let speech = bounds.have_speech.then_some(&bounds);
                result.livecut_picks = analysis
                    .highlights
                    .highlights
                    .iter()
                    .map(|h| Pick {
                        start_s: h.start_s,
                        end_s: h.end_s,
                        peak_s: h.peak_s,
                        kind_type: Some(h.kind.as_str().to_string()),
                    })
                    .collect();
                result.livecut = score(&result.livecut_picks, &truth, speech);
                let duration = analysis.highlights.analysed_until_s;
                let k = if k == 0 { truth.moments.len() } else { k };
                result.baseline_picks = baseline(&all, duration, k);
                result.baseline = score(&result.baseline_picks, &truth, speech);
            }
            Err(e) => {
                tracing::error!("{}: {e}", session.recording.display());
                result.error = Some(e.to_string());
                result.baseline = score(&[], &truth, None);
            }
        }
        results.push(result);
    }
    Ok(EvalReport::new(label, k, results))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth() -> Truth {
        Truth {
            duration_s: 300.0,
            seed: None,
            moments: vec![
                TrueMoment {
                    kind: "calm_demo".into(),
                    kind_type: Some("product".into()),
                    start_s: 40.0,
                    peak_s: 50.0,
                    end_s: 60.0,
                },
                TrueMoment {
                    kind: "flash_sale".into(),
                    kind_type: Some("flash_sale".into()),
                    start_s: 150.0,
                    peak_s: 155.0,
                    end_s: 170.0,
                },
            ],
            decoys: vec![Decoy {
                kind: "bot_flood".into(),
                start_s: 220.0,
                end_s: 240.0,
            }],
        }
    }

    fn pick(a: f64, b: f64, peak: f64, t: Option<&str>) -> Pick {
        Pick {
            start_s: a,
            end_s: b,
            peak_s: peak,
            kind_type: t.map(String::from),
        }
    }

    #[test]
    fn matches_are_one_to_one_and_decoys_are_counted() {
        let picks = [
            pick(145.0, 175.0, 156.0, Some("flash_sale")),
            pick(150.0, 180.0, 170.0, Some("flash_sale")), // same moment again: no match
            pick(215.0, 245.0, 230.0, None),               // bot flood
            pick(35.0, 65.0, 50.0, Some("interaction")),   // right span, wrong type
        ];
        let s = score(&picks, &truth(), None);
        assert_eq!((s.moments, s.picks, s.matched, s.decoy_hits), (2, 4, 2, 1));
        assert_eq!((s.typed, s.type_correct), (2, 1));
        assert!((s.recall() - 1.0).abs() < 1e-9);
        assert!((s.precision() - 0.5).abs() < 1e-9);
        // IoU: 20/30 for the flash sale, 20/30 for the demo.
        assert!((s.mean_iou() - 2.0 / 3.0).abs() < 1e-9, "{}", s.mean_iou());
        assert_eq!(
            s.by_kind,
            vec![("calm_demo".into(), 1, 1), ("flash_sale".into(), 1, 1)]
        );
    }

    #[test]
    fn baseline_picks_loud_busy_fixed_windows() {
        use crate::signals::Track;
        let mut comments = Track::new("comments", "", "");
        let mut loud = Track::new("loudness_momentary", "", "");
        for i in 0..300 {
            let t = i as f64;
            comments.push(t, if (100..115).contains(&i) { 10.0 } else { 1.0 });
            loud.push(
                t,
                if (200..210).contains(&i) {
                    -10.0
                } else {
                    -30.0
                },
            );
        }
        let set = SignalSet {
            tracks: vec![comments, loud],
            ..Default::default()
        };
        let picks = baseline(&set, 300.0, 3);
        assert_eq!(picks.len(), 3);
        for p in &picks {
            assert_eq!(p.end_s - p.start_s, BASELINE_WINDOW_S);
        }
        assert!(picks.iter().any(|p| p.start_s <= 100.0 && p.end_s >= 115.0));
        assert!(picks.iter().any(|p| p.start_s <= 200.0 && p.end_s >= 210.0));
    }
}
