//! The analysis cascade on a labelled session: the survey covers the whole recording, the
//! models run only in the candidate windows, the highlights come from inside them and are
//! the same moments `--full` finds; a rerun reuses the cached survey and detail.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use common::*;
use serde_json::Value;

/// Small windows so that a short session leaves most of itself unexamined: 2 highlights
/// → 6 candidates × 60 s windows (max clip 60 s, no margin) in 540 s.
const PROFILE: &str = "[selection]\ntop = 2\n\n[cascade]\nmargin_s = 0.0\nmax_coverage = 0.9\n";
const EVENTS: &str = "calm_demo@40,bot_flood@130,flash_sale@220,brb@320,lottery@420";

/// One session for both tests (generated once: tests run on parallel threads).
fn the_session() -> &'static Session {
    static S: std::sync::OnceLock<Session> = std::sync::OnceLock::new();
    S.get_or_init(|| session(31, 540, EVENTS))
}

/// `livecut analyze` into `out` (not emptied: a rerun finds its cache there).
fn analyze(s: &Session, out: &std::path::Path, extra: &[&str]) -> (Value, Value, String) {
    let profile = out.join("profile.toml");
    std::fs::write(&profile, PROFILE).unwrap();
    let o = run(livecut()
        .arg("analyze")
        .arg(&s.mp4)
        .arg("--comments")
        .arg(&s.comments)
        .arg("--orders")
        .arg(&s.orders)
        .arg("--profile")
        .arg(&profile)
        .arg("--out")
        .arg(out)
        .args(extra));
    assert_eq!(o.status.code(), Some(0));
    (
        read_json(&out.join("session/highlights.json")),
        read_json(&out.join("session/signals.json")),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn spans(v: &Value) -> Vec<(f64, f64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| (x["start_s"].as_f64().unwrap(), x["end_s"].as_f64().unwrap()))
        .collect()
}

/// The kind of the true moment a highlight overlaps, if any.
fn moment_of(truth: &Value, (a, b): (f64, f64)) -> Option<String> {
    spans(&truth["moments"])
        .iter()
        .zip(truth["moments"].as_array().unwrap())
        .find(|((s, e), _)| a < *e && *s < b)
        .map(|(_, m)| m["kind"].as_str().unwrap().to_string())
}

#[test]
fn the_cascade_finds_the_moments_full_analysis_finds_and_looks_closely_only_around_them() {
    let s = the_session();
    let (h, sig, _) = analyze(s, &scratch("cascade_on"), &[]);
    let cascade = &sig["cascade"];
    assert_eq!(cascade["enabled"], true, "{cascade:#}");
    let windows = spans(&cascade["windows"]);
    let coverage = cascade["coverage"].as_f64().unwrap();
    assert!(!windows.is_empty());
    assert!(coverage < 0.8, "coverage {coverage}");
    let inside = |t: f64| windows.iter().any(|(a, b)| *a <= t && t < *b);

    // The survey heard and saw the whole recording...
    let loud = track_points(&sig, "loudness_momentary");
    assert!(loud.first().unwrap().0 < 1.0 && loud.last().unwrap().0 > 535.0);
    let keyframes = track_points(&sig, "keyframe_motion");
    assert!(
        keyframes.len() > 200,
        "{} key-frame motion points",
        keyframes.len()
    );
    // ...the models only the windows.
    for name in ["speech", "audio_excitement", "face_score", "motion"] {
        let pts = track_points(&sig, name);
        assert!(!pts.is_empty(), "{name} empty");
        let outside = pts.iter().filter(|(t, _)| !inside(*t)).count();
        assert_eq!(outside, 0, "{name}: {outside} points outside the windows");
    }
    let detail = sig["media"]["detail"]["tracks"].as_array().unwrap();
    assert!(detail.iter().any(|t| t == "speech"), "{detail:?}");
    for stage in ["survey", "candidates", "detail"] {
        assert!(sig["stage_seconds"][stage].as_f64().is_some(), "{stage}");
    }

    // Highlights: inside the windows, on true moments, never on a decoy.
    let picked = spans(&h["highlights"]);
    assert_eq!(picked.len(), 2, "{:#}", h["highlights"]);
    for &(a, b) in &picked {
        assert!(
            inside(a) && inside(b - 0.01),
            "highlight {a}-{b} leaves {windows:?}"
        );
        assert!(
            moment_of(&s.truth, (a, b)).is_some(),
            "{a}-{b} is no moment"
        );
    }

    // The same moments as the full analysis.
    let (full, full_sig, _) = analyze(s, &scratch("cascade_off"), &["--full"]);
    assert!(full_sig.get("cascade").is_none() || full_sig["cascade"].is_null());
    let mut kinds: Vec<_> = picked.iter().map(|p| moment_of(&s.truth, *p)).collect();
    let mut full_kinds: Vec<_> = spans(&full["highlights"])
        .iter()
        .map(|p| moment_of(&s.truth, *p))
        .collect();
    kinds.sort();
    full_kinds.sort();
    assert_eq!(kinds, full_kinds);
}

#[test]
fn a_rerun_reuses_the_survey_and_the_detail() {
    let s = the_session();
    let out = scratch("cascade_rerun");
    let (h1, _, _) = analyze(s, &out, &[]);
    let (h2, sig2, _) = analyze(s, &out, &[]);
    assert!(
        sig2["stage_seconds"].get("detail").is_none(),
        "{:#}",
        sig2["stage_seconds"]
    );
    assert_eq!(spans(&h1["highlights"]), spans(&h2["highlights"]));
    assert!(!sig2["cascade"]["windows"].as_array().unwrap().is_empty());
}
