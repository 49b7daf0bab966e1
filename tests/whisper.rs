//! Whisper (`models::whisper`) against the references of `scripts/whisper_refs.py`
//! (`models/refs/whisper_base.json`): the log-mel front end against numpy's, greedy tokens
//! against CTranslate2's (`Whisper.generate`, beam 1) for the plain-text and the timestamp
//! prompt, language detection, no-speech probability, keyword scores against the ONNX graphs
//! run by Python ONNX Runtime. The models folder is `LIVECUT_MODELS` or `models/`; a missing
//! model or reference fails the test (run scripts/fetch_models.py, then
//! scripts/whisper_refs.py).

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::*;
use livecut::models::whisper::{self, TranscribeOptions, Whisper};
use livecut::models::{Device, ModelDir, Runtime};
use serde_json::Value;

fn models() -> PathBuf {
    std::env::var_os("LIVECUT_MODELS").map_or_else(|| root().join("models"), PathBuf::from)
}

fn runtime(threads: usize) -> Runtime {
    Runtime::init(None, Device::Cpu, threads).expect("ONNX Runtime from scripts/install-deps.sh")
}

fn load(rt: &Runtime) -> Whisper {
    let dir = ModelDir(models());
    Whisper::new(rt, &dir, whisper::NAME).unwrap_or_else(|e| {
        panic!(
            "Whisper model in {}: {e}\n(run scripts/fetch_models.py, or point LIVECUT_MODELS at \
             a models folder that has whisper_base.toml and its files)",
            dir.0.display()
        )
    })
}

fn refs() -> Value {
    let path = models().join("refs").join("whisper_base.json");
    if !path.is_file() {
        panic!(
            "{} is missing: run scripts/whisper_refs.py (it writes the Whisper references and \
             inputs), or point LIVECUT_MODELS at a models folder that has them",
            path.display()
        );
    }
    read_json(&path)
}

/// 16-bit PCM mono WAV → f32 in -1..1.
fn wav(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
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
    panic!("{}: no data chunk", path.display());
}

fn f32s(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn num(v: &Value) -> f32 {
    v.as_f64().unwrap() as f32
}

#[test]
fn whisper_matches_ctranslate2_on_every_reference_input() {
    let r = refs();
    let rt = runtime(1);
    let mut w = load(&rt);
    let dir = models();
    let inputs = r["inputs"].as_array().unwrap();
    assert!(inputs.len() >= 5, "{} inputs", inputs.len());
    let mut table = Vec::new();
    let mut failures = Vec::new();
    for input in inputs {
        let name = input["name"].as_str().unwrap();
        let samples = wav(&dir.join(input["wav"].as_str().unwrap()));
        // Log-mel against numpy (float64).
        let mel = whisper::log_mel(&samples, w.n_mels());
        let want = f32s(&dir.join(input["mel"].as_str().unwrap()));
        assert_eq!(want.len(), mel.len(), "{name}: mel size");
        let mel_diff = mel
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        if mel_diff > 1e-5 {
            failures.push(format!("{name}: log-mel differs by {mel_diff:.2e}"));
        }

        let enc = w.encode(&samples).unwrap();
        let langs = w.detect_language(&enc).unwrap();
        let lang_want = input["language"]["top"].as_str().unwrap();
        let lang_p_want = num(&input["language"]["prob"]);
        if langs[0].0 != lang_want {
            failures.push(format!(
                "{name}: language {:?}, CTranslate2 {lang_want}",
                langs[0]
            ));
        }
        let lang_dp = (langs[0].1 - lang_p_want).abs();

        let mut same = Vec::new();
        let mut ns_diff = 0f32;
        let mut score_diff = 0f32;
        for (run, onnx) in input["runs"]
            .as_array()
            .unwrap()
            .iter()
            .zip(input["onnx_runs"].as_array().unwrap())
        {
            let prompt = ids(&run["prompt"]);
            let g = w
                .generate_tokens(&enc, &prompt, whisper::DEFAULT_MAX_LENGTH)
                .unwrap();
            let ct2 = ids(&run["tokens"]);
            same.push(g.tokens == ct2);
            if g.tokens != ct2 {
                failures.push(format!(
                    "{name} prompt {prompt:?}: tokens {:?}, CTranslate2 {ct2:?} (Python ONNX \
                     Runtime {:?})",
                    g.tokens,
                    ids(&onnx["tokens"])
                ));
            }
            ns_diff = ns_diff.max((g.no_speech_prob - num(&run["no_speech_prob"])).abs());
            let score = g.sum_logprob / g.tokens.len().max(1) as f32;
            score_diff = score_diff.max((score - num(&run["score"])).abs());
            assert_eq!(
                w.decode_text(&g.tokens).unwrap(),
                run["text"].as_str().unwrap(),
                "{name}: text"
            );
        }
        if ns_diff > 0.02 {
            failures.push(format!("{name}: no_speech_prob differs by {ns_diff}"));
        }

        let mut kw_diff = 0f32;
        let mut kw = Vec::new();
        for (k, v) in input["keyword_logprob"].as_object().unwrap() {
            let got = w.keyword_logprob(&enc, "zh", k).unwrap();
            kw_diff = kw_diff.max((got - num(v)).abs());
            kw.push(format!("{k} {got:.2}"));
        }
        if kw_diff > 1e-3 {
            failures.push(format!("{name}: keyword log-prob differs by {kw_diff}"));
        }

        let lang = input["prompt_language"].as_str().unwrap_or(lang_want);
        let plain = w
            .transcribe(
                &enc,
                &TranscribeOptions {
                    language: Some(lang.into()),
                    ..Default::default()
                },
            )
            .unwrap();
        let stamped = w
            .transcribe(
                &enc,
                &TranscribeOptions {
                    language: Some(lang.into()),
                    timestamps: true,
                    ..Default::default()
                },
            )
            .unwrap();
        let segs: Vec<String> = stamped
            .segments
            .iter()
            .map(|s| format!("[{:.2}-{:.2}] {}", s.start_s, s.end_s, s.text))
            .collect();
        table.push(format!(
            "{name:12} mel {mel_diff:.1e}  lang {} {:.3} (Δ{lang_dp:.1e})  tokens same {same:?}  \
             no_speech {:.3} (Δ{ns_diff:.1e})  score Δ{score_diff:.1e}  keywords Δ{kw_diff:.1e} \
             [{}]\n{:14}text {:?}  ratio {:.2}  avg_logprob {:.2}\n{:14}segments {segs:?}",
            langs[0].0,
            langs[0].1,
            plain.no_speech_prob,
            kw.join(", "),
            "",
            plain.text,
            plain.compression_ratio,
            plain.avg_logprob,
            "",
        ));
    }
    eprintln!("\n{}\n", table.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn tokenizer_round_trip_and_special_tokens() {
    let r = refs();
    let rt = runtime(1);
    let w = load(&rt);
    for (k, want) in r["keyword_tokens"].as_object().unwrap() {
        let got = w.encode_text(k).unwrap();
        assert_eq!(got, ids(want), "{k}");
        assert_eq!(w.decode_text(&got).unwrap(), *k);
    }
    let ids = w.encode_text("上链接").unwrap();
    assert_eq!(w.decode_text(&ids).unwrap(), "上链接");
    // Timestamps and special tokens are not text.
    let sp = w.specials().clone();
    let mut with_specials = vec![sp.sot, sp.timestamp_begin];
    with_specials.extend(&ids);
    with_specials.extend([sp.timestamp_begin + 10, sp.eot]);
    assert_eq!(w.decode_text(&with_specials).unwrap(), "上链接");
    assert_eq!(w.language_token("zh"), Some(50260));
    assert_eq!(w.language_token("xx"), None);
}

/// A 25-s Mandarin window: the two Mandarin reference inputs, one after the other with 0.5 s
/// of silence after each, repeated up to 25 s.
fn mandarin_window(r: &Value) -> Vec<f32> {
    let dir = models();
    let parts: Vec<Vec<f32>> = ["speech_cmn", "keyword_cmn"]
        .iter()
        .map(|n| {
            let input = r["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["name"] == *n)
                .unwrap_or_else(|| panic!("no reference input {n}"));
            wav(&dir.join(input["wav"].as_str().unwrap()))
        })
        .collect();
    let len = 25 * 16_000;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        for p in &parts {
            out.extend_from_slice(p);
            out.extend(std::iter::repeat_n(0.0, 8_000));
        }
    }
    out.truncate(len);
    out
}

/// Milliseconds per decoder step (the step's decoder call and its logit rules) over `steps`
/// greedy steps after `prompt`, best of `reps` runs; `None` when the decoding ended early.
fn step_ms(
    w: &mut Whisper,
    enc: &whisper::Encoded,
    prompt: &[u32],
    steps: usize,
    reps: usize,
) -> Option<f64> {
    // generate_tokens runs min(max_len / 2, max_len - (prompt.len() - 1)) steps at most.
    let max_len = (prompt.len() - 1 + steps).max(2 * steps);
    assert!(max_len <= whisper::DEFAULT_MAX_LENGTH);
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let _ = w.generate_tokens(enc, prompt, max_len).unwrap();
        let t = w.timings();
        if t.steps + 1 < steps {
            return None;
        }
        best = best.min(t.steps_s / t.steps as f64 * 1e3);
    }
    Some(best)
}

#[test]
fn whisper_per_call_timings() {
    let r = refs();
    // The input whose timestamp run is longest: the most decoder steps.
    let input = r["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|i| i["runs"][1]["tokens"].as_array().unwrap().len())
        .unwrap();
    let samples = wav(&models().join(input["wav"].as_str().unwrap()));
    let mandarin = mandarin_window(&r);
    for threads in [1, 2] {
        let mut w = load(&runtime(threads));
        let _ = w.encode(&samples).unwrap(); // warm-up
        let t = Instant::now();
        let enc = w.encode(&samples).unwrap();
        let encode_s = t.elapsed().as_secs_f64();
        let t = w.timings();
        let prompt = ids(&input["runs"][1]["prompt"]);
        let _ = w.generate_tokens(&enc, &prompt, 448).unwrap();
        let mut steps = 0;
        let mut steps_s = 0.0;
        let mut prompt_s = 0.0;
        for _ in 0..3 {
            let _ = w.generate_tokens(&enc, &prompt, 448).unwrap();
            let tt = w.timings();
            steps += tt.steps;
            steps_s += tt.steps_s;
            prompt_s += tt.prompt_s;
        }
        eprintln!(
            "whisper, {threads} thread(s): encode {encode_s:.3} s per 30-s window (log-mel \
             {:.3} s, encoder {:.3} s); decoder prompt {:.1} ms; {:.1} ms per step ({steps} steps)",
            t.mel_s,
            t.encoder_s,
            prompt_s / 3.0 * 1e3,
            steps_s / steps.max(1) as f64 * 1e3
        );
        assert!(steps > 0);

        // Per-step cost against the cache length P, on the 25-s Mandarin window: P ≈ 10
        // (plain-text prompt of 4, 12 steps) and P ≈ 150 (the same prompt after
        // <|startofprev|> and 141 previous-text tokens, 16 steps).
        let _ = w.encode(&mandarin).unwrap();
        let t = Instant::now();
        let enc = w.encode(&mandarin).unwrap();
        let encode_zh_s = t.elapsed().as_secs_f64();
        let sp = w.specials().clone();
        let zh = w.language_token("zh").unwrap();
        let task = [sp.sot, zh, sp.transcribe, sp.no_timestamps];
        let mut previous = vec![50361]; // <|startofprev|>
        while previous.len() < 142 {
            previous.extend(
                w.encode_text("大家好，欢迎来到直播间，今天的秒杀马上开始。")
                    .unwrap(),
            );
        }
        previous.truncate(142);
        previous.extend(task);
        let fmt =
            |ms: Option<f64>| ms.map_or("(ended early)".to_string(), |m| format!("{m:.2} ms"));
        let p10 = step_ms(&mut w, &enc, &task, 12, 3);
        let p150 = step_ms(&mut w, &enc, &previous, 16, 3);
        // The whole window: log-mel, encoder and greedy decoding (language given; the
        // repeated sentences make it decode to the 224-token limit).
        let opts = TranscribeOptions {
            language: Some("zh".into()),
            ..Default::default()
        };
        let mut best = f64::INFINITY;
        let mut text = String::new();
        let mut steps = 0;
        for _ in 0..2 {
            let t = Instant::now();
            let enc = w.encode(&mandarin).unwrap();
            let out = w.transcribe(&enc, &opts).unwrap();
            best = best.min(t.elapsed().as_secs_f64());
            steps = w.timings().steps;
            text = out.text.chars().take(24).collect();
        }
        eprintln!(
            "whisper, {threads} thread(s): per step at P≈10 {}, at P≈150 {}; 25-s Mandarin \
             window: encode {encode_zh_s:.3} s, encode + transcribe {best:.3} s ({steps} \
             decoder steps: {text:?}…)",
            fmt(p10),
            fmt(p150),
        );
    }
}

#[test]
fn missing_or_corrupt_files_name_the_file_and_its_checksum() {
    let src = models();
    let spec_text = std::fs::read_to_string(src.join("whisper_base.toml"))
        .unwrap_or_else(|e| panic!("{}/whisper_base.toml: {e}", src.display()));
    let spec: toml::Table = toml::from_str(&spec_text).unwrap();
    let s = |k: &str| spec[k].as_str().unwrap().to_string();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("whisper_base.toml"), &spec_text).unwrap();
    let rt = runtime(1);
    let dir = ModelDir(tmp.path().to_path_buf());
    let err = |dir: &ModelDir| {
        Whisper::new(&rt, dir, whisper::NAME)
            .unwrap_err()
            .to_string()
    };
    // Nothing there: the encoder is named first.
    let e = err(&dir);
    assert!(e.contains(&s("file")) && e.contains(&s("sha256")), "{e}");
    // Encoder present: the decoder is named, with its own checksum.
    std::os::unix::fs::symlink(src.join(s("file")), tmp.path().join(s("file"))).unwrap();
    let e = err(&dir);
    assert!(
        e.contains(&s("decoder")) && e.contains(&s("decoder_sha256")),
        "{e}"
    );
    // A corrupt tokenizer: its path, the expected and the found checksum.
    std::os::unix::fs::symlink(src.join(s("decoder")), tmp.path().join(s("decoder"))).unwrap();
    std::fs::write(tmp.path().join(s("tokenizer")), b"{}").unwrap();
    let e = err(&dir);
    assert!(
        e.contains(&s("tokenizer")) && e.contains(&s("tokenizer_sha256")) && e.contains("expected"),
        "{e}"
    );
}

/// The int8 graphs (8-bit weights: what the speech stage runs on the CPU by default)
/// against the float32 graphs on every reference input: the same detected language, the
/// same no-speech verdict, the English clips' text word for word, keyword scores close;
/// the Mandarin clips' texts are printed (espeak's voice is hard for Whisper base and
/// greedy decoding amplifies small differences: they are compared by the evaluation
/// instead, see README "Speech").
#[test]
fn int8_graphs_agree_with_float32_on_the_reference_inputs() {
    let r = refs();
    let rt = runtime(2);
    let dir = models();
    let mut f32w = load(&rt);
    let mut int8 = Whisper::load(
        &rt,
        &ModelDir(dir.clone()),
        whisper::NAME,
        whisper::Weights::Int8,
    )
    .expect("the int8 graphs of whisper_base (scripts/fetch_models.py)");
    assert_ne!(f32w.sha256(), int8.sha256(), "two different encoders");
    let mut table = Vec::new();
    let mut failures = Vec::new();
    for input in r["inputs"].as_array().unwrap() {
        let name = input["name"].as_str().unwrap();
        let samples = wav(&dir.join(input["wav"].as_str().unwrap()));
        let (ea, eb) = (
            f32w.encode(&samples).unwrap(),
            int8.encode(&samples).unwrap(),
        );
        let (la, lb) = (
            f32w.detect_language(&ea).unwrap(),
            int8.detect_language(&eb).unwrap(),
        );
        if la[0].0 != lb[0].0 {
            failures.push(format!(
                "{name}: language {:?} vs float32 {:?}",
                lb[0], la[0]
            ));
        }
        let lang = input["prompt_language"].as_str().unwrap_or("en");
        let opts = TranscribeOptions {
            language: Some(lang.into()),
            timestamps: true,
            ..Default::default()
        };
        let (ta, tb) = (
            f32w.transcribe(&ea, &opts).unwrap(),
            int8.transcribe(&eb, &opts).unwrap(),
        );
        let ns = (ta.no_speech_prob - tb.no_speech_prob).abs();
        if ns > 0.05 || (ta.no_speech_prob > 0.6) != (tb.no_speech_prob > 0.6) {
            failures.push(format!(
                "{name}: no_speech_prob {:.3} vs float32 {:.3}",
                tb.no_speech_prob, ta.no_speech_prob
            ));
        }
        if name.starts_with("speech_en") && ta.text != tb.text {
            failures.push(format!(
                "{name}: text {:?} vs float32 {:?}",
                tb.text, ta.text
            ));
        }
        let mut kw = Vec::new();
        for k in input["keyword_logprob"].as_object().unwrap().keys() {
            let (a, b) = (
                f32w.keyword_logprob(&ea, "zh", k).unwrap(),
                int8.keyword_logprob(&eb, "zh", k).unwrap(),
            );
            if (a - b).abs() > 0.25 {
                failures.push(format!(
                    "{name}: keyword {k} log-prob {b:.3} vs float32 {a:.3}"
                ));
            }
            kw.push(format!("{k} {b:.2}/{a:.2}"));
        }
        table.push(format!(
            "{name:12} lang {} {:.2}/{:.2}  no_speech {:.3}/{:.3}  keywords [{}]\n{:14}int8 {:?}\n{:14}f32  {:?}",
            lb[0].0,
            lb[0].1,
            la[0].1,
            tb.no_speech_prob,
            ta.no_speech_prob,
            kw.join(", "),
            "",
            tb.text,
            "",
            ta.text
        ));
    }
    eprintln!("\nint8 / float32\n{}\n", table.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
