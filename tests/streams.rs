//! Recordings as phones and recorders write them: a display matrix (rotation), anamorphic
//! pixels, a missing audio or video stream.
//!
//! Debian's FFmpeg 5.1 command line cannot write a rotation, so [`set_rotation`] writes
//! the display matrix into the MP4's video track header (`tkhd`) itself, as a phone does.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

/// Write the display matrix of a phone held upright (ffprobe: "rotation of -90.00
/// degrees"; players turn the picture 90° clockwise) into the first `tkhd` box of `mp4`.
fn set_rotation(mp4: &Path) {
    let mut b = std::fs::read(mp4).unwrap();
    let at = b.windows(4).position(|w| w == b"tkhd").expect("tkhd box");
    let version = b[at + 4];
    // type, version+flags, times, track id, reserved, duration, reserved, layer,
    // alternate group, volume, reserved; then the 3×3 matrix.
    let times = if version == 1 {
        8 + 8 + 4 + 4 + 8
    } else {
        4 + 4 + 4 + 4 + 4
    };
    let matrix_at = at + 4 + 4 + times + 8 + 2 + 2 + 2 + 2;
    // a b u / c d v / x y w: 16.16 fixed point except u, v, w (2.30). Players ignore
    // the translation (x, y) that some phones also write.
    let matrix: [i32; 9] = [0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x4000_0000];
    for (i, v) in matrix.iter().enumerate() {
        b[matrix_at + 4 * i..matrix_at + 4 * i + 4].copy_from_slice(&v.to_be_bytes());
    }
    std::fs::write(mp4, b).unwrap();
}

/// Mean colour of rows `rows` of an RGB24 frame.
fn mean_rgb(frame: &(Vec<u8>, usize, usize), rows: std::ops::Range<usize>) -> [f64; 3] {
    let (data, w, _) = frame;
    let mut sum = [0f64; 3];
    let mut n = 0.0;
    for r in rows {
        for px in data[r * w * 3..(r + 1) * w * 3].chunks_exact(3) {
            for c in 0..3 {
                sum[c] += f64::from(px[c]);
            }
            n += 1.0;
        }
    }
    sum.map(|s| s / n)
}

/// Loud pink noise from 12 to 18 s over a quiet bed: one moment to find.
const BURST: &str =
    "anoisesrc=a=0.5:c=pink:r=48000,volume='if(between(t,12,18),1,0.03)':eval=frame";

/// A 30-s phone recording held upright: the picture's top half red, bottom half blue as
/// the viewer sees it, stored sideways (320×180) with a −90° display matrix.
fn phone_recording(dir: &Path) -> PathBuf {
    let rec = dir.join("phone.mp4");
    lavfi_recording(
        &rec,
        "color=red:s=180x160:r=25,format=yuv420p[top];color=blue:s=180x160:r=25,\
         format=yuv420p[bottom];[top][bottom]vstack,transpose=cclock",
        BURST,
        30,
        &["-metadata", "creation_time=2024-09-03T11:12:50Z"],
    );
    set_rotation(&rec);
    assert_eq!(
        ffprobe_rotation(&rec),
        Some(-90.0),
        "fixture has the matrix"
    );
    rec
}

fn clip<'a>(manifest: &'a Value, platform: &str) -> &'a Value {
    manifest["clips"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["platform"] == platform && c["rank"] == 1)
        .unwrap_or_else(|| panic!("no {platform} clip: {manifest}"))
}

#[test]
fn a_phone_recording_is_upright_in_the_analysis_the_renders_and_the_copy() {
    let dir = scratch("streams_rotated");
    let rec = phone_recording(&dir);
    let out = dir.join("out");
    let o = run(livecut()
        .arg("run")
        .arg(&rec)
        .args(["--platforms", "douyin,source", "--no-models", "--out"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let h = read_json(&out.join("phone/highlights.json"));
    let v = &h["source"]["video"];
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(180), Some(320)),
        "{v}"
    );
    assert_eq!(v["rotation"], 90, "{v}");
    assert_eq!(v["coded"]["width"], 320, "{v}");
    let manifest = validate_manifest(&out.join("phone/manifest.json"));

    // The 9:16 render: the upright picture scaled (no sideways crop): red on top.
    let douyin = out
        .join("phone")
        .join(clip(&manifest, "douyin")["path"].as_str().unwrap());
    let f = frame_at(&douyin, 1.0);
    assert_eq!((f.1, f.2), (1080, 1920));
    let top = mean_rgb(&f, 100..300);
    let bottom = mean_rgb(&f, 1620..1820);
    eprintln!("douyin top {top:?} bottom {bottom:?}");
    assert!(top[0] > 200.0 && top[2] < 50.0, "top is red: {top:?}");
    assert!(
        bottom[2] > 200.0 && bottom[0] < 50.0,
        "bottom is blue: {bottom:?}"
    );
    assert_eq!(
        ffprobe_rotation(&douyin),
        None,
        "render is upright without a matrix"
    );

    // The stream copy keeps the matrix: it plays as the original does.
    let source = clip(&manifest, "source");
    assert_eq!(
        (source["width"].as_u64(), source["height"].as_u64()),
        (Some(180), Some(320))
    );
    let copy = out.join("phone").join(source["path"].as_str().unwrap());
    assert_eq!(
        ffprobe_rotation(&copy),
        Some(-90.0),
        "copy keeps the rotation"
    );
    let f = frame_at(&copy, 1.0);
    let (top, bottom) = (mean_rgb(&f, 10..60), mean_rgb(&f, 260..310));
    assert!(top[0] > 200.0 && bottom[2] > 200.0, "{top:?} {bottom:?}");
}

#[test]
fn anamorphic_pixels_are_displayed_square_in_renders() {
    // 160×180 stored with 2:1 pixels: shown 320×180 (16:9).
    let dir = scratch("streams_sar");
    let rec = dir.join("wide.mp4");
    lavfi_recording(
        &rec,
        "color=white:s=160x180:r=25,drawbox=x=60:y=70:w=40:h=40:color=black:t=fill,setsar=2",
        BURST,
        30,
        &[],
    );
    let out = dir.join("out");
    let o = run(livecut()
        .arg("run")
        .arg(&rec)
        .args(["--platforms", "bilibili", "--no-models", "--out"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let h = read_json(&out.join("wide/highlights.json"));
    assert_eq!(h["source"]["video"]["width"], 320);
    assert_eq!(
        h["source"]["video"]["coded"]["sample_aspect_ratio"],
        serde_json::json!([2, 1])
    );
    let manifest = validate_manifest(&out.join("wide/manifest.json"));
    let path = out
        .join("wide")
        .join(clip(&manifest, "bilibili")["path"].as_str().unwrap());
    let p = ffprobe(&path);
    assert_eq!(p["streams"][0]["sample_aspect_ratio"], "1:1");
    // The square (40×40 stored, 80×40 shown) is twice as wide as tall on screen too:
    // 16:9 fills 1920×1080 without bars, the box spans 480×240 px.
    let f = frame_at(&path, 1.0);
    let (data, w, _) = &f;
    let dark_row = |r: usize| {
        data[r * w * 3..(r + 1) * w * 3]
            .chunks_exact(3)
            .filter(|p| p[0] < 80)
            .count()
    };
    let box_w = dark_row(540);
    let box_h = (0..1080).filter(|&r| data[(r * w + 960) * 3] < 80).count();
    eprintln!("box {box_w}×{box_h} px");
    assert!(
        (box_w as f64 / box_h as f64 - 2.0).abs() < 0.1,
        "{box_w}×{box_h}"
    );
    assert!(
        mean_rgb(&f, 0..20)[0] > 200.0,
        "no bars: the picture fills the frame"
    );
}

#[test]
fn faces_are_found_on_a_rotated_astronaut() {
    let astronaut = root().join("models/inputs/astronaut.png");
    let dir = scratch("streams_astronaut");
    let rec = dir.join("astronaut.mp4");
    // The photo stored sideways, as a phone held upright stores it.
    ffmpeg(&[
        "-loop",
        "1",
        "-i",
        astronaut.to_str().unwrap(),
        "-f",
        "lavfi",
        "-i",
        BURST,
        "-vf",
        "transpose=cclock,format=yuv420p",
        "-t",
        "12",
        "-r",
        "25",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        rec.to_str().unwrap(),
    ]);
    let sideways = analyze_signals(&rec, &dir.join("sideways"), &["--transcribe", "off"]);
    set_rotation(&rec);
    let upright = analyze_signals(&rec, &dir.join("upright"), &["--transcribe", "off"]);
    let faces = |s: &Value| {
        track_points(s, "face_count")
            .iter()
            .filter(|(_, n)| *n >= 1.0)
            .count()
    };
    let frames = track_points(&upright, "face_count").len();
    eprintln!(
        "frames with a face: upright {} of {frames}, sideways {}",
        faces(&upright),
        faces(&sideways)
    );
    assert!(
        frames > 0 && faces(&upright) == frames,
        "a face in every upright frame"
    );
    // Upright, the face is in the top half (the photo's face is at y ≈ 0.2–0.35) and
    // left of centre.
    let cy = track_points(&upright, "face_cy");
    let cx = track_points(&upright, "face_cx");
    assert!(cy.iter().all(|(_, y)| *y < 0.45), "{cy:?}");
    assert!(cx.iter().all(|(_, x)| (0.3..0.6).contains(x)), "{cx:?}");
    // Without the matrix the same face sits low on the left (the analysis saw the
    // picture as stored): the positions above come from the turned frames.
    let sideways_cx = track_points(&sideways, "face_cx");
    assert!(sideways_cx.iter().all(|(_, x)| *x < 0.3), "{sideways_cx:?}");
}

#[test]
fn a_video_only_recording_is_analysed_from_picture_comments_and_orders() {
    let demo = demo();
    let dir = scratch("streams_video_only");
    let rec = dir.join("mute.mp4");
    ffmpeg(&[
        "-i",
        demo.mp4.to_str().unwrap(),
        "-map_metadata",
        "0",
        "-an",
        "-c",
        "copy",
        rec.to_str().unwrap(),
    ]);
    let out = dir.join("out");
    let o = run(livecut()
        .arg("run")
        .arg(&rec)
        .arg("--comments")
        .arg(&demo.comments)
        .arg("--orders")
        .arg(&demo.orders)
        .args(["--platforms", "douyin,source", "--out"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no sound"));
    let h = read_json(&out.join("mute/highlights.json"));
    assert!(h["source"]["audio"].is_null());
    let absent: Vec<(String, String)> = h["absent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["signal"].as_str().unwrap().into(),
                a["why"].as_str().unwrap().into(),
            )
        })
        .collect();
    for signal in ["loudness", "audio_events", "speech_purchase"] {
        assert!(
            absent
                .iter()
                .any(|(s, why)| s == signal && why.contains("no sound")),
            "{signal} absent: {absent:?}"
        );
    }
    assert!(
        !absent.iter().any(|(s, _)| s == "comments" || s == "orders"),
        "{absent:?}"
    );
    // Highlights from the picture and the timelines: the demo's true moments.
    let highlights = h["highlights"].as_array().unwrap();
    let truth = demo.truth["moments"].as_array().unwrap();
    let hits = truth
        .iter()
        .filter(|m| {
            let (s, e) = (m["start_s"].as_f64().unwrap(), m["end_s"].as_f64().unwrap());
            highlights
                .iter()
                .any(|hl| hl["start_s"].as_f64().unwrap() < e && hl["end_s"].as_f64().unwrap() > s)
        })
        .count();
    eprintln!(
        "video only: {} highlights, {hits} of {} true moments",
        highlights.len(),
        truth.len()
    );
    assert!(hits * 3 >= truth.len() * 2, "{hits} of {}", truth.len());

    // Clips without sound, of the lengths the manifest says.
    let manifest = validate_manifest(&out.join("mute/manifest.json"));
    let clips = manifest["clips"].as_array().unwrap();
    assert_eq!(clips.len(), 2 * highlights.len());
    for c in clips {
        assert!(c["audio_codec"].is_null(), "{c}");
        let p = ffprobe(&out.join("mute").join(c["path"].as_str().unwrap()));
        let kinds: Vec<&str> = p["streams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["codec_type"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["video"], "{}", c["path"]);
        let d = probe_duration(&p);
        assert!(
            (d - c["duration_s"].as_f64().unwrap()).abs() < 0.2,
            "{d} vs {c}"
        );
    }
}
