//! Model and runtime failures: each a clear message and exit code 1, never a panic.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn recording(dir: &Path) -> PathBuf {
    let rec = dir.join("rec.mp4");
    synth_recording(&rec, 5, &[]);
    rec
}

fn analyze(rec: &Path, out: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let o = run(livecut()
        .arg("analyze")
        .arg(rec)
        .arg("--out")
        .arg(out)
        .args(extra));
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (o.status.code(), stderr)
}

#[test]
fn runtime_library_missing() {
    let dir = scratch("m_noruntime");
    let rec = recording(&dir);
    let (code, err) = analyze(
        &rec,
        &dir.join("out"),
        &["--ort-lib", "/nonexistent/libonnxruntime.so"],
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains("/nonexistent/libonnxruntime.so") && err.contains("--no-models"),
        "{err}"
    );
    assert!(files_under(&dir.join("out")).is_empty());
}

#[test]
fn model_files_missing_or_corrupt() {
    let dir = scratch("m_nomodels");
    let rec = recording(&dir);
    // A models folder with the spec files but no model files.
    let models = dir.join("models");
    std::fs::create_dir_all(&models).unwrap();
    for entry in std::fs::read_dir(root().join("models")).unwrap().flatten() {
        if entry.path().extension().is_some_and(|e| e == "toml") {
            std::fs::copy(entry.path(), models.join(entry.file_name())).unwrap();
        }
    }
    let spec = std::fs::read_to_string(models.join("silero_vad.toml")).unwrap();
    let sha = spec
        .lines()
        .find(|l| l.starts_with("sha256"))
        .and_then(|l| l.split('"').nth(1))
        .unwrap()
        .to_string();
    let m = models.to_str().unwrap();
    let (code, err) = analyze(&rec, &dir.join("out"), &["--models", m]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("silero_vad.onnx") && err.contains(&sha) && err.contains("missing"),
        "{err}"
    );

    // The same file, corrupt.
    std::fs::write(models.join("silero_vad.onnx"), b"not a model").unwrap();
    let (code, err) = analyze(&rec, &dir.join("out"), &["--models", m]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("silero_vad.onnx") && err.contains(&format!("expected {sha}")),
        "{err}"
    );
    assert!(files_under(&dir.join("out")).is_empty());
}

#[test]
fn cuda_without_a_gpu_is_an_error_not_a_fallback() {
    let dir = scratch("m_cuda");
    let rec = recording(&dir);
    let (code, err) = analyze(&rec, &dir.join("out"), &["--device", "cuda"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("--device cuda"), "{err}");
}

#[test]
fn no_models_runs_the_cheap_signals_and_says_so() {
    let dir = scratch("m_nomodels_flag");
    let rec = recording(&dir);
    let out = dir.join("out");
    let (code, err) = analyze(&rec, &out, &["--no-models", "--ort-lib", "/nonexistent.so"]);
    assert_eq!(code, Some(0), "{err}");
    let h = read_json(&out.join("rec/highlights.json"));
    assert_eq!(h["models"]["enabled"], false);
    assert!(h["warnings"][0].as_str().unwrap().contains("--no-models"));
    let s = read_json(&out.join("rec/signals.json"));
    let names: Vec<&str> = s["media"]["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"loudness_momentary") && !names.contains(&"speech"),
        "{names:?}"
    );
}
