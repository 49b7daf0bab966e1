//! The speech stage on real media: Debian alsa-utils' recorded human voices placed at
//! known times under a music bed (`fixtures/make_voices.py`), espeak-ng Mandarin keyword
//! windows (`fixtures/make_keywords.py`), and a labelled session whose flash sale is only
//! spoken (`fixtures/make_session.py --events spoken_flash_sale@…`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::*;
use serde_json::Value;

/// Generated once per generator version.
fn generated(script: &str, args: &[&str], marker: &str) -> PathBuf {
    let bytes = std::fs::read(root().join("fixtures").join(script)).expect("generator");
    let mut h = <sha2::Sha256 as sha2::Digest>::new();
    sha2::Digest::update(&mut h, &bytes);
    sha2::Digest::update(&mut h, args.join(" ").as_bytes());
    let key = &livecut::fsutil::hex(&sha2::Digest::finalize(h))[..12];
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("livecut-fixtures")
        .join(format!("{}-{key}", script.trim_end_matches(".py")));
    if !dir.join(marker).exists() {
        let status = Command::new("python3")
            .arg(root().join("fixtures").join(script))
            .arg("--out")
            .arg(&dir)
            .args(args)
            .status()
            .expect("python3");
        assert!(status.success(), "{script} failed");
    }
    dir
}

fn voices() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        generated(
            "make_voices.py",
            &["--duration", "120"],
            "voices.truth.json",
        )
    })
}

/// Lower-case words of a text, punctuation dropped.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[test]
fn recorded_voices_are_transcribed_where_they_were_placed_and_music_stays_silent() {
    let dir = voices();
    let truth = read_json(&dir.join("voices.truth.json"));
    let out = scratch("speech-voices");
    let o = run(livecut_with_speech()
        .arg("analyze")
        .arg(dir.join("voices.mp4"))
        .args(["--transcribe", "all", "--out"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let t = read_json(&out.join("voices/transcript.json"));
    assert!(t["model"]
        .as_str()
        .unwrap_or("")
        .starts_with("whisper_base=="));
    assert_eq!(t["language"], "en", "{}", t["language"]);
    let segments = t["segments"].as_array().expect("segments");
    let mut table = String::from("| placed | said | transcribed | Δstart s |\n|---|---|---|---|\n");
    let mut read_right = 0;
    for v in truth["voices"].as_array().expect("voices") {
        let (start, end) = (v["start_s"].as_f64().unwrap(), v["end_s"].as_f64().unwrap());
        let want = words(v["text"].as_str().unwrap());
        let hit = segments.iter().find(|s| {
            let (a, b) = (s["start_s"].as_f64().unwrap(), s["end_s"].as_f64().unwrap());
            a < end + 1.0 && b > start - 1.0
        });
        let got = hit.map(|s| s["text"].as_str().unwrap().to_string());
        let delta = hit.map(|s| s["start_s"].as_f64().unwrap() - start);
        table.push_str(&format!(
            "| {start:.1} | {} | {} | {} |\n",
            v["text"],
            got.as_deref().unwrap_or("–"),
            delta.map_or("–".into(), |d| format!("{d:+.2}"))
        ));
        let got_words = got.as_deref().map(words).unwrap_or_default();
        let right = want.iter().all(|w| got_words.contains(w));
        read_right += usize::from(right);
        // The two examples must read right; Whisper base may mishear a
        // 1.5-second clip now and then ("Rear, right" as "We're right").
        if ["Front, center", "Rear, left"].contains(&v["text"].as_str().unwrap()) {
            assert!(right, "{table}\n{} at {start} s: heard {got:?}", v["text"]);
        }
        let d = delta.unwrap_or(f64::INFINITY);
        assert!(d.abs() <= 1.0, "{table}\nstart off by {d:.2} s");
    }
    eprintln!("{table}");
    let placed = truth["voices"].as_array().map_or(0, Vec::len);
    assert!(
        read_right * 8 >= placed * 5,
        "{table}\nonly {read_right} of {placed} read right"
    );
    for span in truth["music_only"].as_array().expect("music_only") {
        let (a, b) = (span[0].as_f64().unwrap(), span[1].as_f64().unwrap());
        for s in segments {
            let (x, y) = (s["start_s"].as_f64().unwrap(), s["end_s"].as_f64().unwrap());
            let overlap = y.min(b) - x.max(a);
            assert!(overlap < 0.5, "{s} transcribed over music only {a}-{b}");
        }
    }
    // With --transcribe all, the whole recording was listened to where the VAD heard
    // speech; highlights carry what was said in them.
    let h = read_json(&out.join("voices/highlights.json"));
    for hl in h["highlights"].as_array().expect("highlights") {
        assert!(hl.get("transcript").is_some(), "{hl}");
    }
    // The preview shows the transcript.
    let page = std::fs::read_to_string(out.join("voices/preview.html")).expect("preview");
    assert!(page.contains("id=\"transcript\"") && page.contains("class=\"said\""));

    // An editor corrects the first sentence; a new analysis keeps the correction.
    let path = out.join("voices/transcript.json");
    let mut t = read_json(&path);
    let (a, b) = (
        t["segments"][0]["start_s"].as_f64().unwrap(),
        t["segments"][0]["end_s"].as_f64().unwrap(),
    );
    t["segments"][0]["text"] = "Corrected by hand".into();
    t["segments"][0]["edited"] = true.into();
    std::fs::write(&path, serde_json::to_vec_pretty(&t).unwrap()).unwrap();
    let o = run(livecut_with_speech()
        .arg("analyze")
        .arg(dir.join("voices.mp4"))
        .args(["--transcribe", "all", "--out"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let t = read_json(&path);
    let kept: Vec<&Value> = t["segments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["start_s"].as_f64().unwrap() < b && s["end_s"].as_f64().unwrap() > a)
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0]["text"], "Corrected by hand");
    assert_eq!(kept[0]["edited"], true);

    // A transcript broken by hand stops the next analysis, naming the file and line.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replacen("\"segments\": [", "\"segments\": [,", 1),
    )
    .unwrap();
    let o = run(livecut_with_speech()
        .arg("analyze")
        .arg(dir.join("voices.mp4"))
        .args(["--transcribe", "all", "--out"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("transcript.json:"), "{err}");
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains("Corrected by hand"));
}

#[test]
fn transcribe_off_needs_no_speech_model_and_a_missing_one_is_named() {
    let dir = voices();
    // A models folder with everything but Whisper.
    let models = scratch("speech-models-without-whisper");
    for e in std::fs::read_dir(root().join("models")).expect("models/") {
        let p = e.expect("entry").path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_file() && !name.starts_with("whisper_base_") {
            std::os::unix::fs::symlink(&p, models.join(&name)).expect("symlink");
        }
    }
    let out = scratch("speech-off");
    let o = run(livecut_with_speech()
        .arg("analyze")
        .arg(dir.join("voices.mp4"))
        .arg("--models")
        .arg(&models)
        .args(["--transcribe", "off", "--out"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    assert!(!out.join("voices/transcript.json").exists());
    let o = run(livecut_with_speech()
        .arg("analyze")
        .arg(dir.join("voices.mp4"))
        .arg("--models")
        .arg(&models)
        .arg("--out")
        .arg(&out));
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    let spec = std::fs::read_to_string(root().join("models/whisper_base.toml")).expect("spec");
    // On the CPU the int8 graphs run (`--speech-weights auto`): the first of them is named.
    let sha = spec
        .lines()
        .find_map(|l| l.strip_prefix("encoder_int8_sha256 = \""))
        .map(|s| s.trim_end_matches('"'))
        .expect("encoder_int8_sha256 in the spec");
    assert!(
        err.contains("whisper_base_int8_encoder.onnx") && err.contains(sha),
        "{err}"
    );
}

/// Mono 16 kHz samples of a WAV file (through the FFmpeg CLI).
fn samples(path: &Path) -> Vec<f32> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "f32le", "-ac", "1", "-ar", "16000", "-"])
        .output()
        .expect("ffmpeg");
    assert!(out.status.success());
    out.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[test]
fn each_keyword_scores_higher_in_the_windows_that_contain_it() {
    let dir = generated("make_keywords.py", &[], "keywords.truth.json");
    let truth = read_json(&dir.join("keywords.truth.json"));
    let rt = livecut::models::Runtime::init(None, livecut::models::Device::Cpu, 2)
        .expect("ONNX Runtime");
    let models = livecut::models::ModelDir::locate(None);
    // The graphs the speech stage runs on the CPU (int8 weights).
    let mut whisper = livecut::models::whisper::Whisper::load(
        &rt,
        &models,
        "whisper_base",
        livecut::models::whisper::Weights::Auto,
    )
    .expect("whisper_base");
    let keywords = ["上链接", "秒杀", "最后三单"];
    let lexicon = livecut::timelines::Lexicon::default().speech;
    let windows: Vec<&Value> = truth["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .collect();
    let mut table = format!(
        "| window | contains | {} |\n|---|---|---|---|---|\n",
        keywords.join(" | ")
    );
    let mut scores = vec![Vec::new(); keywords.len()];
    // Scored as the pipeline scores them: the lexicon's written forms, per character.
    let forms: Vec<String> = keywords
        .iter()
        .map(|k| {
            lexicon.scored_forms[lexicon
                .scored
                .iter()
                .position(|(w, _)| w == k)
                .expect("a scored word of the lexicon")]
            .clone()
        })
        .collect();
    for w in &windows {
        let enc = whisper
            .encode(&samples(&dir.join(w["file"].as_str().unwrap())))
            .expect("encode");
        let said: Vec<(&str, f64)> = w["keywords"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                (
                    k["keyword"].as_str().unwrap(),
                    k["start_s"].as_f64().unwrap(),
                )
            })
            .collect();
        let has: Vec<&str> = said.iter().map(|(k, _)| *k).collect();
        let mut row = format!("| {} | {} |", w["file"].as_str().unwrap(), has.join(","));
        let spots = livecut::speech::whisper::keyword_spots(&mut whisper, &enc, &forms, "zh")
            .expect("score");
        for (i, (k, spot)) in keywords.iter().zip(&spots).enumerate() {
            row.push_str(&format!(
                " {:.2} ({:.1}–{:.1} s) |",
                spot.logprob, spot.start_s, spot.end_s
            ));
            scores[i].push((has.contains(k), spot.logprob));
            // Where the word is said, the best block is where it is said (within a second:
            // the block's edges are coarse).
            if let Some((_, at)) = said.iter().find(|(w, _)| w == k) {
                assert!(
                    spot.start_s - 1.0 <= *at && *at <= spot.end_s + 1.0,
                    "{k} said at {at:.2} s in {}, best block {:.2}–{:.2} s",
                    w["file"],
                    spot.start_s,
                    spot.end_s
                );
            }
        }
        table.push_str(&row);
        table.push('\n');
    }
    eprintln!("{table}");
    // Every word scores higher in every window that contains it than in any window that
    // does not (research/keyword-slices: +0.50 / +1.19 / +1.63 on these windows).
    for (i, k) in keywords.iter().enumerate() {
        let with: Vec<f32> = scores[i]
            .iter()
            .filter(|(h, _)| *h)
            .map(|(_, s)| *s)
            .collect();
        let without: Vec<f32> = scores[i]
            .iter()
            .filter(|(h, _)| !*h)
            .map(|(_, s)| *s)
            .collect();
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        let lowest_with = with.iter().copied().fold(f32::INFINITY, f32::min);
        let highest_without = without.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        eprintln!(
            "{k}: separation {:.2} (lowest with {lowest_with:.2}, highest without \
             {highest_without:.2}), means {:.2} vs {:.2}",
            lowest_with - highest_without,
            mean(&with),
            mean(&without)
        );
        assert!(
            mean(&with) > mean(&without) + 0.3,
            "{table}\n{k}: mean with {:.2} vs without {:.2}",
            mean(&with),
            mean(&without)
        );
        assert!(
            lowest_with > highest_without + 0.2,
            "{table}\n{k}: lowest with {lowest_with:.2}, highest without {highest_without:.2}"
        );
    }
}

#[test]
fn a_flash_sale_that_is_only_spoken_is_found_and_typed_flash_sale() {
    let s = session_with(
        31,
        150,
        "spoken_flash_sale@60",
        &["--host-voice", "cmn-latn-pinyin"],
    );
    let out = scratch("speech-spoken-sale");
    let o = run(livecut_with_speech()
        .arg("analyze")
        .arg(&s.mp4)
        .arg("--comments")
        .arg(&s.comments)
        .arg("--orders")
        .arg(&s.orders)
        // The synthetic (espeak-ng) Mandarin is often taken for Thai by language detection;
        // a team that sells in Mandarin says so.
        .args(["--language", "zh"])
        .arg("--out")
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let moment = &s.truth["moments"][0];
    assert_eq!(moment["kind"], "spoken_flash_sale");
    let (a, b) = (
        moment["start_s"].as_f64().unwrap(),
        moment["end_s"].as_f64().unwrap(),
    );
    let h = read_json(&out.join("session/highlights.json"));
    let hl = h["highlights"]
        .as_array()
        .expect("highlights")
        .iter()
        .find(|x| {
            let (s, e) = (x["start_s"].as_f64().unwrap(), x["end_s"].as_f64().unwrap());
            s <= (a + b) / 2.0 && (a + b) / 2.0 <= e
        })
        .unwrap_or_else(|| panic!("no highlight over the spoken sale {a}-{b}: {h}"));
    assert_eq!(hl["type"], "flash_sale", "{hl}");
    assert!(
        hl["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["signal"] == "speech_purchase"),
        "{hl}"
    );
    let t = read_json(&out.join("session/transcript.json"));
    assert!(t["keywords"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["class"] == "purchase"));
}
