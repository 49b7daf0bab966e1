//! Subtitles from the transcript on real renders: `.srt`/`.vtt` beside each clip in the
//! clip's own time, burned text seen in the pixels of the lower third only and only while
//! a cue is on screen, an editor's correction in `transcript.json` reaching the next cut.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::{json, Value};

/// The highlight cut in these tests (recording seconds) and the transcript's two
/// sentences inside it.
const SPAN: (f64, f64) = (40.0, 70.0);
const FIRST: (f64, f64, &str) = (44.0, 48.0, "到手价99元 iPhone 15 同款");
const SECOND: (f64, f64, &str) = (56.0, 60.0, "第二句字幕");

/// The demo analysed into `out` (without speech), one highlight of `SPAN`, and a
/// transcript with the two sentences (as an editor or the speech stage leaves it).
fn prepared(out: &Path) -> PathBuf {
    let demo = demo();
    let o = run(livecut()
        .arg("analyze")
        .arg(&demo.mp4)
        .arg("--comments")
        .arg(&demo.comments)
        .arg("--orders")
        .arg(&demo.orders)
        .arg("--out")
        .arg(out));
    assert_eq!(o.status.code(), Some(0));
    let path = out.join("demo/highlights.json");
    let mut h = read_json(&path);
    let mut first = h["highlights"][0].clone();
    first["start_s"] = SPAN.0.into();
    first["end_s"] = SPAN.1.into();
    first["peak_s"] = 50.0.into();
    h["highlights"] = Value::Array(vec![first]);
    std::fs::write(&path, serde_json::to_vec_pretty(&h).unwrap()).unwrap();
    write_transcript(&out.join("demo"), FIRST.2);
    path
}

fn write_transcript(dir: &Path, first_text: &str) {
    let seg = |(a, b, text): (f64, f64, &str)| json!({"start_s": a, "end_s": b, "text": text, "lang": "zh", "confidence": 0.9});
    let t = json!({
        "model": "whisper_base",
        "language": "zh",
        "transcribed": [[40.0, 70.0]],
        "segments": [seg((FIRST.0, FIRST.1, first_text)), seg(SECOND)],
    });
    std::fs::write(
        dir.join("transcript.json"),
        serde_json::to_vec_pretty(&t).unwrap(),
    )
    .unwrap();
}

/// Mean absolute difference per row between two frames of the same size.
fn row_diffs(a: &(Vec<u8>, usize, usize), b: &(Vec<u8>, usize, usize)) -> Vec<f64> {
    let (w, h) = (a.1, a.2);
    assert_eq!((w, h), (b.1, b.2));
    (0..h)
        .map(|r| {
            let (x, y) = (
                &a.0[r * w * 3..(r + 1) * w * 3],
                &b.0[r * w * 3..(r + 1) * w * 3],
            );
            x.iter()
                .zip(y)
                .map(|(p, q)| f64::from(p.abs_diff(*q)))
                .sum::<f64>()
                / (w * 3) as f64
        })
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

#[test]
fn vertical_clips_get_srt_vtt_and_burned_text_in_the_lower_third_only() {
    let out = scratch("subtitles_burn");
    let highlights = prepared(&out);
    let dir = out.join("demo");
    let cut = |extra: &[&str]| {
        let o = run(livecut()
            .arg("cut")
            .arg(&highlights)
            .args(["--platforms", "douyin,source"])
            .args(extra));
        assert_eq!(o.status.code(), Some(0));
        validate_manifest(&dir.join("manifest.json"))
    };

    // Default: burned on douyin (vertical), files only for the stream copy.
    let m = cut(&[]);
    let clips = m["clips"].as_array().unwrap();
    let douyin = clips.iter().find(|c| c["platform"] == "douyin").unwrap();
    assert_eq!(douyin["subtitles"]["burned"], true);
    assert_eq!(douyin["subtitles"]["cues"], 2);
    assert_eq!(douyin["subtitles"]["srt"], "clips/1_douyin.srt");
    let source = clips.iter().find(|c| c["platform"] == "source").unwrap();
    assert_eq!(source["subtitles"]["burned"], false);
    let srt = std::fs::read_to_string(dir.join("clips/1_douyin.srt")).unwrap();
    assert_eq!(
        srt,
        format!(
            "1\n00:00:04,000 --> 00:00:08,000\n{}\n\n2\n00:00:16,000 --> 00:00:20,000\n{}\n\n",
            FIRST.2, SECOND.2
        )
    );
    let vtt = std::fs::read_to_string(dir.join("clips/1_douyin.vtt")).unwrap();
    assert!(
        vtt.starts_with("WEBVTT\n\n00:00:04.000 --> 00:00:08.000\n"),
        "{vtt}"
    );
    // The stream copy starts on a key frame: its cues are in its own time.
    let src_span = source["span"]["start_s"].as_f64().unwrap();
    let src_srt = std::fs::read_to_string(dir.join("clips/1_source.srt")).unwrap();
    let first_start = src_srt.lines().nth(1).unwrap();
    let expect = FIRST.0 - src_span;
    let secs: f64 = first_start[6..12].replace(',', ".").parse().unwrap();
    assert!((secs - expect).abs() < 0.002, "{first_start} vs {expect}");

    let burned = dir.join("clips/burned.mp4");
    std::fs::rename(dir.join("clips/1_douyin.mp4"), &burned).unwrap();
    let m = cut(&["--subtitles", "off"]);
    assert!(m["clips"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c.get("subtitles").is_none()));
    assert!(
        !dir.join("clips/1_douyin.srt").exists(),
        "stale subtitles left"
    );
    let plain = dir.join("clips/1_douyin.mp4");

    // Mid-cue: the picture differs only in the lower third, and clearly there.
    let (a, b) = (frame_at(&burned, 6.0), frame_at(&plain, 6.0));
    let d = row_diffs(&a, &b);
    let third = a.2 * 2 / 3;
    let upper = mean(&d[..third]);
    let text_rows = d[third..].iter().filter(|x| **x > 8.0).count();
    assert!(upper < 1.5, "upper two thirds differ by {upper:.2}");
    assert!(
        text_rows > 40,
        "only {text_rows} rows of text in the lower third"
    );
    // The text sits above the platform's interface (the bottom 20 %).
    let lowest = d.iter().rposition(|x| *x > 8.0).unwrap();
    assert!(
        lowest < a.2 * 80 / 100,
        "text reaches row {lowest} of {}",
        a.2
    );
    // Between the cues: no text anywhere.
    let between = row_diffs(&frame_at(&burned, 12.0), &frame_at(&plain, 12.0));
    let most = between.iter().cloned().fold(0.0, f64::max);
    assert!(most < 6.0, "a row differs by {most:.1} between cues");
}

#[test]
fn an_edited_transcript_reaches_the_next_cut() {
    let out = scratch("subtitles_edit");
    let highlights = prepared(&out);
    let dir = out.join("demo");
    write_transcript(&dir, "改过的字幕");
    let o = run(livecut()
        .arg("cut")
        .arg(&highlights)
        .args(["--platforms", "bilibili"]));
    assert_eq!(o.status.code(), Some(0));
    // Bilibili is landscape: files only, by default.
    let m = validate_manifest(&dir.join("manifest.json"));
    assert_eq!(m["clips"][0]["subtitles"]["burned"], false);
    let srt = std::fs::read_to_string(dir.join("clips/1_bilibili.srt")).unwrap();
    assert!(srt.contains("\n改过的字幕\n"), "{srt}");
    assert!(!srt.contains("iPhone"), "{srt}");
}
