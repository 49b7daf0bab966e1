//! The main job on the demo-like recording from `fixtures/make_demo.py`: highlights line up
//! with the true moments, the JSON contracts hold, and every clip checks out with ffprobe.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

const GOP_S: f64 = 2.0; // make_demo.py encodes with a 2 s GOP
const SIGNALS: &[&str] = &[
    "loudness",
    "motion",
    "host_motion",
    "audio_events",
    "screen_text",
    "speech_purchase",
    "speech_lottery",
    "speech_price",
    "speech_product",
    "comments",
    "orders",
];

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Top-level MP4 boxes in order (to check `+faststart`: moov before mdat).
fn top_level_boxes(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    let mut i = 0usize;
    while i + 8 <= bytes.len() {
        let mut size = u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap()) as u64;
        let kind = String::from_utf8_lossy(&bytes[i + 4..i + 8]).into_owned();
        if size == 1 && i + 16 <= bytes.len() {
            size = u64::from_be_bytes(bytes[i + 8..i + 16].try_into().unwrap());
        }
        out.push(kind);
        if size < 8 {
            break;
        }
        i += size as usize;
    }
    out
}

fn check_highlights_schema(h: &Value, duration: f64) {
    assert_eq!(h["schema_version"], 1);
    assert!(h["source"]["path"].as_str().is_some());
    assert!((f(&h["source"]["duration_s"]) - duration).abs() < 0.2);
    let hs = h["highlights"].as_array().expect("highlights array");
    assert!(!hs.is_empty());
    let mut last_score = f64::INFINITY;
    for (i, hl) in hs.iter().enumerate() {
        assert_eq!(hl["rank"].as_u64(), Some(i as u64 + 1));
        let (s, e, p, score) = (
            f(&hl["start_s"]),
            f(&hl["end_s"]),
            f(&hl["peak_s"]),
            f(&hl["score"]),
        );
        assert!(0.0 <= s && s <= p && p <= e && e <= duration + 1e-6, "{hl}");
        assert!(
            (20.0 - 1e-6..=60.0 + 1e-6).contains(&(e - s)),
            "length {}",
            e - s
        );
        assert!((0.0..=1.0).contains(&score) && score <= last_score, "{hl}");
        last_score = score;
        let reasons = hl["reasons"].as_array().unwrap();
        assert!(!reasons.is_empty());
        let sum: f64 = reasons.iter().map(|r| f(&r["contribution"])).sum();
        assert!(sum > 0.0 && sum <= 1.0 + 1e-6);
        for r in reasons {
            assert!(SIGNALS.contains(&r["signal"].as_str().unwrap()), "{r}");
        }
        for other in &hs[i + 1..] {
            let overlap = e.min(f(&other["end_s"])) - s.max(f(&other["start_s"]));
            assert!(overlap <= 1e-6, "highlights overlap: {hl} {other}");
        }
    }
}

#[test]
fn run_finds_the_moments_and_cuts_clean_clips() {
    let demo = demo();
    let out = scratch("demo_run");
    // The main job as users run it: speech transcribed (the default).
    let o = run(livecut_with_speech()
        .arg("run")
        .arg(&demo.mp4)
        .arg("--comments")
        .arg(&demo.comments)
        .arg("--orders")
        .arg(&demo.orders)
        .arg("--out")
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let dir = out.join("demo");
    let probe = ffprobe(&demo.mp4);
    let duration = probe_duration(&probe);
    let h = read_json(&dir.join("highlights.json"));
    check_highlights_schema(&h, duration);
    let hs = h["highlights"].as_array().unwrap();

    // Every true moment is covered by one of the top three highlights.
    let top3 = &hs[..hs.len().min(3)];
    for m in demo.truth["moments"].as_array().unwrap() {
        let (ms, me) = (f(&m["start_s"]), f(&m["end_s"]));
        let covering = top3.iter().find(|hl| {
            let overlap = me.min(f(&hl["end_s"])) - ms.max(f(&hl["start_s"]));
            overlap >= 0.5 * (me - ms)
        });
        let hl = covering.unwrap_or_else(|| panic!("moment {m} not in the top 3: {top3:?}"));
        // …and typed as an editor would: demo → product, lottery → interaction.
        let want = match m["kind"].as_str().unwrap() {
            "product_demo" => "product",
            "lottery" => "interaction",
            _ => "flash_sale",
        };
        assert_eq!(hl["type"], want, "{hl}");
        let tags: Vec<&str> = hl["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        if want == "flash_sale" {
            assert!(tags.contains(&"sku:SKU-B200"), "{tags:?}");
        }
    }
    // The bot flood (one account spamming) is not a highlight's peak.
    for d in demo.truth["decoys"].as_array().unwrap() {
        for hl in hs {
            let p = f(&hl["peak_s"]);
            assert!(
                !(f(&d["start_s"]) <= p && p <= f(&d["end_s"])),
                "decoy {d} picked: {hl}"
            );
        }
    }

    // Clean boundaries: no highlight starts or ends while the host is talking.
    let s = read_json(&dir.join("signals.json"));
    let speech = s["media"]["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "speech")
        .unwrap();
    let times: Vec<f64> = speech["times_s"]
        .as_array()
        .unwrap()
        .iter()
        .map(f)
        .collect();
    let probs: Vec<f64> = speech["values"].as_array().unwrap().iter().map(f).collect();
    let prob_at = |t: f64| {
        let i = times.partition_point(|&x| x < t).min(times.len() - 1);
        probs[i].max(probs[i.saturating_sub(1)])
    };
    let inside: Vec<(f64, f64)> = hs
        .iter()
        .flat_map(|hl| [f(&hl["start_s"]), f(&hl["end_s"])])
        .filter(|&t| t > 0.5 && t < duration - 0.5)
        .map(|t| (t, prob_at(t)))
        .filter(|(_, p)| *p >= 0.5)
        .collect();
    eprintln!(
        "boundaries inside speech: {} of {}",
        inside.len(),
        2 * hs.len()
    );
    assert!(inside.is_empty(), "boundaries inside speech: {inside:?}");

    // What was said: transcript.json, each highlight's transcript, and no boundary inside
    // a transcribed sentence.
    let t = read_json(&dir.join("transcript.json"));
    assert!(t["model"].as_str().unwrap().starts_with("whisper_base=="));
    let sentences: Vec<(f64, f64)> = t["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (f(&x["start_s"]), f(&x["end_s"])))
        .collect();
    assert!(!sentences.is_empty(), "the host talks all the time: {t}");
    for hl in hs {
        assert!(hl["transcript"].is_string(), "{hl}");
        for b in [f(&hl["start_s"]), f(&hl["end_s"])] {
            let cut = sentences.iter().find(|(a, e)| a + 0.1 < b && b < e - 0.1);
            assert!(cut.is_none(), "boundary {b} inside the sentence {cut:?}");
        }
    }

    // Manifest and clips.
    let m = validate_manifest(&dir.join("manifest.json"));
    assert_eq!(m["schema_version"], 1);
    let clips = m["clips"].as_array().unwrap();
    assert_eq!(clips.len(), hs.len());
    let src_video = probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == "video")
        .unwrap();
    for (clip, hl) in clips.iter().zip(hs) {
        assert_eq!(clip["rank"], hl["rank"]);
        let path = dir.join(clip["path"].as_str().unwrap());
        let (rs, re) = (
            f(&clip["requested"]["start_s"]),
            f(&clip["requested"]["end_s"]),
        );
        assert_eq!((rs, re), (f(&hl["start_s"]), f(&hl["end_s"])));
        let (cs, ce) = (f(&clip["span"]["start_s"]), f(&clip["span"]["end_s"]));
        assert!(
            cs <= rs + 1e-3 && rs - cs <= GOP_S + 1e-3,
            "start widened by {}",
            rs - cs
        );
        assert!(
            ce >= re - 1e-3 || ce >= duration - 0.1,
            "end {ce} before {re}"
        );
        assert!(ce - re <= GOP_S + 1e-3, "end widened by {}", ce - re);

        let p = ffprobe(&path);
        let dur = probe_duration(&p);
        assert!(
            (dur - (ce - cs)).abs() <= 0.15,
            "ffprobe {dur} s vs span {} s",
            ce - cs
        );
        assert!(
            (dur - (re - rs)).abs() <= 2.0 * GOP_S,
            "within one GOP each side"
        );
        assert!((f(&clip["duration_s"]) - (ce - cs)).abs() < 0.01);
        let streams = p["streams"].as_array().unwrap();
        assert_eq!(streams.len(), 2);
        let v = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
        let a = streams.iter().find(|s| s["codec_type"] == "audio").unwrap();
        assert_eq!(v["codec_name"], "h264");
        assert_eq!(a["codec_name"], "aac");
        assert_eq!(v["width"], src_video["width"]);
        assert_eq!(v["height"], src_video["height"]);
        assert_eq!(clip["video_codec"], "h264");
        assert_eq!(clip["audio_codec"], "aac");
        // Faststart: the index comes before the media data.
        let boxes = top_level_boxes(&path);
        let moov = boxes.iter().position(|b| b == "moov").unwrap();
        let mdat = boxes.iter().position(|b| b == "mdat").unwrap();
        assert!(moov < mdat, "boxes {boxes:?}");
        assert_eq!(
            clip["bytes"].as_u64().unwrap(),
            std::fs::metadata(&path).unwrap().len()
        );
        assert_eq!(
            clip["sha256"].as_str().unwrap(),
            livecut::fsutil::sha256_file(&path).unwrap()
        );
    }

    // Preview lists every clip; nothing half-written is left behind.
    let preview = std::fs::read_to_string(dir.join("preview.html")).unwrap();
    for clip in clips {
        // The page escapes paths (`/` becomes `&#x2f;`); the file name itself is plain.
        let name = clip["path"].as_str().unwrap().rsplit('/').next().unwrap();
        assert!(preview.contains(name), "{name} in preview");
    }
    let leftovers: Vec<String> = files_under(&out)
        .into_iter()
        .filter(|f| f.contains(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn analyze_then_cut_top_n_and_reuse_the_cache() {
    let demo = demo();
    let out = scratch("demo_analyze_cut");
    let analyze = |verbose: bool| {
        let mut cmd = livecut();
        if verbose {
            cmd.arg("-v");
        }
        cmd.arg("analyze")
            .arg(&demo.mp4)
            .arg("--comments")
            .arg(&demo.comments)
            .arg("--out")
            .arg(&out);
        run(&mut cmd)
    };
    let o = analyze(false);
    assert_eq!(o.status.code(), Some(0));
    let dir = out.join("demo");
    assert!(dir.join("highlights.json").is_file());
    assert!(dir.join("signals.json").is_file());
    assert!(!dir.join("clips").exists(), "analyze cuts no clips");
    let first = read_json(&dir.join("highlights.json"));

    // Same inputs and settings: the media tracks come from the cache, same result.
    let o = analyze(true);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("reusing cached signal tracks"));
    assert!(String::from_utf8_lossy(&o.stdout).contains("reused from the cache"));
    let second = read_json(&dir.join("highlights.json"));
    assert_eq!(first["highlights"], second["highlights"]);

    let o = run(livecut()
        .arg("cut")
        .arg(dir.join("highlights.json"))
        .args(["--top", "2"]));
    assert_eq!(o.status.code(), Some(0));
    let m = validate_manifest(&dir.join("manifest.json"));
    assert_eq!(m["clips"].as_array().unwrap().len(), 2);
    assert_eq!(files_under(&dir.join("clips")).len(), 2);

    // Signal tracks carry explicit time axes and units.
    let s = read_json(&dir.join("signals.json"));
    for t in s["media"]["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .chain(s["timelines"]["tracks"].as_array().unwrap())
    {
        assert_eq!(
            t["times_s"].as_array().unwrap().len(),
            t["values"].as_array().unwrap().len()
        );
        assert!(!t["unit"].as_str().unwrap().is_empty());
    }
    // The models ran: speech, audio events, faces and on-screen text.
    let names: Vec<&str> = s["media"]["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for want in [
        "speech",
        "audio_speech",
        "audio_music",
        "audio_excitement",
        "face_count",
        "screen_keywords",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let speech = s["media"]["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "speech")
        .unwrap();
    let speech_share = speech["values"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v.as_f64().unwrap_or(0.0) > 0.5)
        .count() as f64
        / speech["values"].as_array().unwrap().len() as f64;
    assert!(
        speech_share > 0.3,
        "the host talks most of the time: {speech_share}"
    );
    // The flash-sale card is read while it is on screen.
    let sale = demo.truth["moments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "flash_sale")
        .unwrap();
    let (ss, se) = (f(&sale["start_s"]), f(&sale["end_s"]));
    let read: Vec<&str> = s["media"]["screen_text"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| (ss - 1.0..=se + 1.0).contains(&f(&l["t"])))
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert!(
        read.iter().any(|t| t.contains("秒杀")),
        "screen text during the sale: {read:?}"
    );

    let loud = s["media"]["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "loudness_momentary")
        .unwrap();
    let n = loud["values"].as_array().unwrap().len() as f64;
    assert!(
        (n - 1500.0).abs() < 20.0,
        "{n} loudness values for 150 s at 10 Hz"
    );
}
