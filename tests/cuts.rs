//! livecut's `shot_cut` track against the generator's truth and PySceneDetect's
//! ContentDetector on the clips of `scripts/scene_refs.py` (models/refs/cuts.json).
//! `cargo test --test cuts -- --nocapture` prints the agreement table.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

/// A detected cut matches a true one (or another detector's) within this many seconds:
/// one sampled-frame interval at the default 2 fps plus a frame.
const TOLERANCE_S: f64 = 0.5;
const SAMPLE_FPS: &str = "5";
/// Clip (a), hard cuts between different shots: what livecut must get right.
const HARD_CUT_CLIP: &str = "shots";
const MIN_RECALL: f64 = 0.9;
const MIN_PRECISION: f64 = 0.8;

const RERUN: &str = "run `python3 scripts/scene_refs.py` (it makes the clips in \
                     models/inputs/cuts/ and PySceneDetect's cuts; scripts/test.sh runs it)";

fn sha256_file(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}; {RERUN}", path.display()));
    livecut::fsutil::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes))
}

/// models/refs/cuts.json, checked to be complete and to belong to this scene_refs.py.
fn refs() -> Value {
    let path = root().join("models/refs/cuts.json");
    assert!(path.is_file(), "{} is missing: {RERUN}", path.display());
    let refs = read_json(&path);
    let script = sha256_file(&root().join("scripts/scene_refs.py"));
    assert_eq!(
        refs["state"]["script_sha256"].as_str(),
        Some(script.as_str()),
        "{} was made by another version of scripts/scene_refs.py: {RERUN}",
        path.display()
    );
    refs
}

fn times(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_f64().unwrap())
        .collect()
}

/// Pairs of `a` and `b` within [`TOLERANCE_S`], one-to-one, closest pairs first.
fn matched(a: &[f64], b: &[f64]) -> usize {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            let d = (x - y).abs();
            if d <= TOLERANCE_S + 1e-9 {
                pairs.push((d, i, j));
            }
        }
    }
    pairs.sort_by(|p, q| p.0.total_cmp(&q.0));
    let (mut used_a, mut used_b) = (vec![false; a.len()], vec![false; b.len()]);
    let mut n = 0;
    for (_, i, j) in pairs {
        if !used_a[i] && !used_b[j] {
            used_a[i] = true;
            used_b[j] = true;
            n += 1;
        }
    }
    n
}

/// Precision, recall and F1 of `found` against `truth` (None where undefined).
#[derive(Debug, Clone, Copy)]
struct Prf {
    hits: usize,
    found: usize,
    truth: usize,
}

impl Prf {
    fn new(found: &[f64], truth: &[f64]) -> Self {
        Self {
            hits: matched(found, truth),
            found: found.len(),
            truth: truth.len(),
        }
    }
    fn precision(self) -> Option<f64> {
        (self.found > 0).then(|| self.hits as f64 / self.found as f64)
    }
    fn recall(self) -> Option<f64> {
        (self.truth > 0).then(|| self.hits as f64 / self.truth as f64)
    }
    fn f1(self) -> Option<f64> {
        let (p, r) = (self.precision()?, self.recall()?);
        Some(if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        })
    }
    fn cell(self) -> String {
        let f = |x: Option<f64>| x.map_or_else(|| "  - ".to_string(), |v| format!("{v:.2}"));
        format!(
            "{} {} {}",
            f(self.precision()),
            f(self.recall()),
            f(self.f1())
        )
    }
}

/// How many of `found` lie within a gradual transition (widened by the tolerance).
fn in_spans(found: &[f64], spans: &[(f64, f64)]) -> usize {
    found
        .iter()
        .filter(|&&t| {
            spans
                .iter()
                .any(|&(a, b)| t >= a - TOLERANCE_S && t <= b + TOLERANCE_S)
        })
        .count()
}

fn list(ts: &[f64]) -> String {
    let items: Vec<String> = ts.iter().map(|t| format!("{t:.2}")).collect();
    format!("[{}]", items.join(", "))
}

struct Analysis {
    cuts: Vec<f64>,
    samples: usize,
}

/// `livecut analyze CLIP --no-models --sample-fps 5`: the times where `shot_cut` is 1.
fn livecut_cuts(clip: &Path, out: &Path) -> Analysis {
    let o = livecut()
        .arg("analyze")
        .arg(clip)
        .arg("--out")
        .arg(out)
        .args(["--no-models", "--sample-fps", SAMPLE_FPS])
        .output()
        .expect("spawn livecut");
    assert!(
        o.status.success(),
        "livecut analyze {} failed ({:?}):\n{}",
        clip.display(),
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    let stem = clip.file_stem().unwrap().to_str().unwrap();
    let signals = read_json(&out.join(stem).join("signals.json"));
    let track = signals["media"]["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "shot_cut")
        .unwrap_or_else(|| panic!("no shot_cut track in {stem}/signals.json"));
    let ts = times(&track["times_s"]);
    let vs = times(&track["values"]);
    assert_eq!(
        ts.len(),
        vs.len(),
        "shot_cut: times_s and values differ in length"
    );
    Analysis {
        cuts: ts
            .iter()
            .zip(&vs)
            .filter(|(_, &v)| v == 1.0)
            .map(|(&t, _)| t)
            .collect(),
        samples: ts.len(),
    }
}

#[test]
fn shot_cuts_agree_with_truth_and_pyscenedetect() {
    let refs = refs();
    let models = root().join("models");
    let dir = scratch("cuts");
    let v = &refs["versions"];
    let det = &refs["detector"];
    let mut table = vec![
        format!(
            "shot cuts: livecut shot_cut (--sample-fps {SAMPLE_FPS}) and PySceneDetect {} {} \
             (threshold {}, OpenCV {}) against the generator's truth; a match is within \
             ±{TOLERANCE_S} s, one-to-one",
            v["scenedetect"].as_str().unwrap(),
            det["name"].as_str().unwrap(),
            det["threshold"],
            v["opencv"].as_str().unwrap(),
        ),
        format!(
            "{:<7} {:>5} {:>7} {:>4} | {:<14} | {:<14} | {:>13} | {:>9} | {:>9} | {:>7}",
            "clip",
            "truth",
            "livecut",
            "PySD",
            "livecut P R F1",
            "PySD P R F1",
            "PySD cuts",
            "in fades",
            "non-cuts",
            "livecut"
        ),
        format!(
            "{:<7} {:>5} {:>7} {:>4} | {:<14} | {:<14} | {:>13} | {:>9} | {:>9} | {:>7}",
            "",
            "cuts",
            "cuts",
            "cuts",
            "vs truth",
            "vs truth",
            "livecut finds",
            "lc/PySD",
            "lc/PySD",
            "samples"
        ),
    ];
    let mut details = Vec::new();
    let mut checked = None;
    for clip in refs["clips"].as_array().unwrap() {
        let name = clip["name"].as_str().unwrap();
        let path = models.join(clip["file"].as_str().unwrap());
        assert!(path.is_file(), "{} is missing: {RERUN}", path.display());
        assert_eq!(
            sha256_file(&path),
            clip["sha256"].as_str().unwrap(),
            "{} is not the clip PySceneDetect saw: {RERUN}",
            path.display()
        );
        let truth = &clip["truth"];
        let true_cuts: Vec<f64> = truth["cuts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["t"].as_f64().unwrap())
            .collect();
        let non_cuts: Vec<f64> = truth["non_cuts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["t"].as_f64().unwrap())
            .collect();
        let spans: Vec<(f64, f64)> = truth["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["start_s"].as_f64().unwrap(), s["end_s"].as_f64().unwrap()))
            .collect();
        let psd = times(&clip["pyscenedetect"]["cuts_s"]);
        let lc = livecut_cuts(&path, &dir.join(name));

        let lc_truth = Prf::new(&lc.cuts, &true_cuts);
        let psd_truth = Prf::new(&psd, &true_cuts);
        let agree = matched(&psd, &lc.cuts);
        let share = if psd.is_empty() {
            "-".to_string()
        } else {
            format!(
                "{agree}/{} {:.2}",
                psd.len(),
                agree as f64 / psd.len() as f64
            )
        };
        let dash_if = |empty: bool, s: String| if empty { "-".to_string() } else { s };
        let fades = dash_if(
            spans.is_empty(),
            format!("{}/{}", in_spans(&lc.cuts, &spans), in_spans(&psd, &spans)),
        );
        let at_non_cuts = dash_if(
            non_cuts.is_empty(),
            format!(
                "{}/{}",
                matched(&lc.cuts, &non_cuts),
                matched(&psd, &non_cuts)
            ),
        );
        table.push(format!(
            "{:<7} {:>5} {:>7} {:>4} | {:<14} | {:<14} | {:>13} | {:>9} | {:>9} | {:>7}",
            name,
            true_cuts.len(),
            lc.cuts.len(),
            psd.len(),
            lc_truth.cell(),
            psd_truth.cell(),
            share,
            fades,
            at_non_cuts,
            lc.samples
        ));
        details.push(format!(
            "{name}: {}\n  truth   {}\n  livecut {}\n  PySD    {}{}{}",
            clip["description"].as_str().unwrap(),
            list(&true_cuts),
            list(&lc.cuts),
            list(&psd),
            if non_cuts.is_empty() {
                String::new()
            } else {
                format!("\n  not cuts (lower third on/off) {}", list(&non_cuts))
            },
            if spans.is_empty() {
                String::new()
            } else {
                let s: Vec<String> = spans.iter().map(|(a, b)| format!("{a}–{b}")).collect();
                format!("\n  gradual transitions {}", s.join(", "))
            },
        ));
        if name == HARD_CUT_CLIP {
            checked = Some(lc_truth);
        }
    }
    eprintln!("{}\n\n{}", table.join("\n"), details.join("\n"));
    let prf = checked.unwrap_or_else(|| panic!("no clip {HARD_CUT_CLIP} in cuts.json: {RERUN}"));
    let (p, r) = (prf.precision().unwrap_or(0.0), prf.recall().unwrap());
    assert!(
        r >= MIN_RECALL && p >= MIN_PRECISION,
        "{HARD_CUT_CLIP}: livecut's shot_cut recall {r:.2} (want >= {MIN_RECALL}), precision \
         {p:.2} (want >= {MIN_PRECISION}) against the true hard cuts"
    );
}
