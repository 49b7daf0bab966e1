//! The pretrained models on real input (Debian's alsa-utils speech, espeak-ng Mandarin,
//! synthesised music, scikit-image's photos, a rendered CJK card), compared with the same
//! models run by the `onnxruntime` Python package with independent numpy preprocessing
//! (`scripts/make_model_refs.py` writes `models/refs/*.json`).

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use std::path::PathBuf;

use common::*;
use livecut::models::faces::FaceDetector;
use livecut::models::vad::Vad;
use livecut::models::whisper::Weights;
use livecut::models::yamnet::Yamnet;
use livecut::models::{Device, ModelDir, Runtime};
use serde_json::Value;

fn models() -> PathBuf {
    root().join("models")
}

fn runtime() -> Runtime {
    Runtime::init(None, Device::Cpu, 1).expect("ONNX Runtime from scripts/install-deps.sh")
}

fn refs(name: &str) -> Value {
    read_json(&models().join("refs").join(format!("{name}.json")))
}

/// 16-bit PCM mono WAV → f32 in -1..1 (the inputs are written by make_model_refs.py).
fn wav(name: &str) -> Vec<f32> {
    let bytes = std::fs::read(models().join("inputs").join(name)).unwrap();
    let mut i = 12;
    while i + 8 <= bytes.len() {
        let id = &bytes[i..i + 4];
        let len = u32::from_le_bytes(bytes[i + 4..i + 8].try_into().unwrap()) as usize;
        if id == b"data" {
            return bytes[i + 8..(i + 8 + len).min(bytes.len())]
                .chunks_exact(2)
                .map(|c| f32::from(i16::from_le_bytes([c[0], c[1]])) / 32768.0)
                .collect();
        }
        i += 8 + len + (len & 1);
    }
    panic!("{name}: no data chunk");
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn silero_vad_marks_speech_and_matches_python() {
    let rt = runtime();
    let dir = ModelDir::locate(Some(&models()));
    let r = refs("silero_vad");
    for (file, min_speech, max_speech) in [
        ("speech_en.wav", 0.6, 1.0),
        ("speech_cmn.wav", 0.8, 1.0),
        ("music.wav", 0.0, 0.05),
        ("silence.wav", 0.0, 0.0),
        ("noise.wav", 0.0, 0.05),
    ] {
        let mut vad = Vad::new(&rt, &dir).unwrap();
        let samples = wav(file);
        // Feed in uneven blocks, as the decoder does.
        let mut probs = Vec::new();
        for block in samples.chunks(1000) {
            probs.extend(vad.push(block).unwrap());
        }
        let want = floats(&r["files"][file]["probabilities"]);
        let diff = max_abs_diff(&probs, &want);
        let speech = probs.iter().filter(|&&p| p > 0.5).count() as f64 / probs.len() as f64;
        eprintln!(
            "vad {file}: {} chunks, speech share {speech:.3}, max |rust - python| {diff:.2e}",
            probs.len()
        );
        assert!(diff < 1e-4, "{file}: {diff}");
        assert!(
            (min_speech..=max_speech).contains(&speech),
            "{file}: {speech}"
        );
    }
}

#[test]
fn yamnet_front_end_and_scores_match_python() {
    let rt = runtime();
    let dir = ModelDir::locate(Some(&models()));
    let r = refs("yamnet");
    for (file, top) in [
        ("speech_en.wav", 0usize),
        ("speech_cmn.wav", 0),
        ("music.wav", 132),
        ("silence.wav", 494),
    ] {
        let mut y = Yamnet::new(&rt, &dir).unwrap();
        let samples = wav(file);
        let mut patches = Vec::new();
        for block in samples.chunks(777) {
            patches.extend(y.front.push(block));
        }
        let want = &r["files"][file];
        assert_eq!(
            patches.len() as u64,
            want["patches"].as_u64().unwrap(),
            "{file}"
        );
        let mel_want: Vec<f32> = want["first_patch_log_mel"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(floats)
            .collect();
        let mel_diff = max_abs_diff(&patches[0], &mel_want);
        let scores = y.scores(&patches).unwrap();
        let mut score_diff = 0f32;
        for (got, want) in scores.iter().zip(want["scores"].as_array().unwrap()) {
            score_diff = score_diff.max(max_abs_diff(got, &floats(want)));
        }
        let mean: Vec<f32> = (0..521)
            .map(|c| scores.iter().map(|s| s[c]).sum::<f32>() / scores.len() as f32)
            .collect();
        let best = (0..521)
            .max_by(|&a, &b| mean[a].total_cmp(&mean[b]))
            .unwrap();
        eprintln!(
            "yamnet {file}: {} patches, top class {best} ({:.3}), max |rust - python| log-mel {mel_diff:.2e}, scores {score_diff:.2e}",
            patches.len(),
            mean[best]
        );
        assert!(mel_diff < 1e-3, "{file}: log-mel differs by {mel_diff}");
        assert!(score_diff < 1e-3, "{file}: scores differ by {score_diff}");
        assert_eq!(best, top, "{file}");
    }
}

fn rgb(name: &str) -> Vec<u8> {
    std::fs::read(models().join("inputs").join(name)).unwrap()
}

#[test]
fn centerface_finds_the_astronaut_and_matches_python() {
    let rt = runtime();
    let dir = ModelDir::locate(Some(&models()));
    let r = refs("centerface");
    let mut det = FaceDetector::new(&rt, &dir).unwrap();
    let faces = det.detect(&rgb("astronaut.rgb"), 512, 512, 512).unwrap();
    assert_eq!(faces.len(), 1, "{faces:?}");
    let want = &r["files"]["astronaut"]["faces"][0];
    let b = floats(&want["box_xyxy"]);
    let got = [faces[0].x1, faces[0].y1, faces[0].x2, faces[0].y2];
    let box_diff = max_abs_diff(&got, &b);
    let score_diff = (faces[0].score - want["score"].as_f64().unwrap() as f32).abs();
    eprintln!("centerface astronaut: {:?}, max |rust - python| box {box_diff:.2e} px, score {score_diff:.2e}", faces[0]);
    assert!(box_diff < 0.01 && score_diff < 1e-4);
    // The face (by eye: the astronaut's face is around x 180–270, y 60–180 in the 512 px photo).
    assert!(
        faces[0].x1 > 150.0 && faces[0].x2 < 300.0 && faces[0].y1 > 30.0 && faces[0].y2 < 210.0
    );
    // No face in a cup of coffee (600×400 → 576×384 input).
    let none = det.detect(&rgb("coffee.rgb"), 600, 400, 640).unwrap();
    assert!(none.is_empty(), "{none:?}");
}

#[test]
fn models_command_lists_every_model_as_ok() {
    let o = run(livecut().arg("models"));
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    for name in [
        "silero_vad",
        "yamnet",
        "centerface",
        "ppocrv4_det",
        "ppocrv4_rec",
    ] {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("{out}"));
        assert!(line.ends_with("ok"), "{line}");
    }
    assert!(out.contains("runtime: ONNX Runtime"), "{out}");
}

#[test]
fn voice_pitch_on_real_speech() {
    // Not a network, but the same real recordings: Debian's alsa-utils voice and espeak-ng
    // Mandarin have a voice pitch in the human range; music has few voiced frames.
    for (file, min_voiced) in [("speech_en.wav", 0.3), ("speech_cmn.wav", 0.3)] {
        let mut m = livecut::signals::VoiceMeter::new();
        let samples = wav(file);
        let secs = samples.len() as f64 / 16_000.0;
        m.push(&livecut::media::AudioBlock {
            t: 0.0,
            samples,
            stereo: None,
        });
        let tracks = m.finish(secs);
        let pitch = &tracks.iter().find(|t| t.name == "pitch_hz").unwrap().values;
        let voiced: Vec<f32> = pitch.iter().copied().filter(|p| p.is_finite()).collect();
        let share = voiced.len() as f32 / pitch.len() as f32;
        let mut sorted = voiced.clone();
        sorted.sort_by(f32::total_cmp);
        let median = sorted[sorted.len() / 2];
        eprintln!("pitch {file}: voiced {share:.2}, median {median:.0} Hz");
        assert!(share > min_voiced, "{file}: {share}");
        assert!((75.0..=300.0).contains(&median), "{file}: {median}");
    }
}

/// The models load when a stage needs them, and the picture/sound models and Whisper are
/// never held at once (the peak memory is the larger of the two, not their sum); what was
/// let go loads again for the next recording.
#[test]
fn media_models_and_whisper_are_never_loaded_together() {
    let opts = livecut::pipeline::ModelOptions {
        device: Device::Cpu,
        dir: Some(models()),
        ..Default::default()
    };
    let (mut set, used) = livecut::pipeline::load_models(&opts).unwrap();
    // Checked up front (spec and files), loaded later.
    assert!(used.models.iter().any(|m| m.starts_with("whisper_base==")));
    assert!(set.names().is_empty() && set.speech.is_none());
    set.load_media().unwrap();
    assert_eq!(set.names().len(), 4, "{:?}", set.names());
    assert!(set.speech.is_none());
    assert!(set.load_speech().unwrap().is_some());
    assert!(set.names().is_empty(), "{:?}", set.names());
    set.load_media().unwrap();
    assert_eq!(set.names().len(), 4);
    assert!(set.speech.is_none());
}

/// A speech model whose files are missing fails when the models are set up, before any
/// decoding, naming the file.
#[test]
fn a_missing_whisper_file_fails_before_the_analysis() {
    // On the CPU the int8 graphs run by default, the float32 ones with
    // `--speech-weights float32`: each missing decoder is named when its graphs are asked for.
    for (missing, weights) in [
        ("whisper_base_int8_decoder.onnx", Weights::Auto),
        ("whisper_base_decoder.onnx", Weights::Float32),
    ] {
        let dir = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(models()).unwrap() {
            let p = entry.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_file() && name != missing {
                std::os::unix::fs::symlink(&p, dir.path().join(&name)).unwrap();
            }
        }
        let opts = livecut::pipeline::ModelOptions {
            device: Device::Cpu,
            dir: Some(dir.path().to_path_buf()),
            speech_weights: weights,
            ..Default::default()
        };
        let e = livecut::pipeline::load_models(&opts)
            .unwrap_err()
            .to_string();
        assert!(e.contains(missing), "{e}");
        // The other graphs do not need the missing file.
        let other = if weights == Weights::Auto {
            Weights::Float32
        } else {
            Weights::Auto
        };
        let opts = livecut::pipeline::ModelOptions {
            speech_weights: other,
            ..opts
        };
        assert!(
            livecut::pipeline::load_models(&opts).is_ok(),
            "{missing} {other:?}"
        );
    }
}
