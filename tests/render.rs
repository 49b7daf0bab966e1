//! Platform clips on real media: every preset rendered from one highlight of the demo and
//! checked with ffprobe and FFmpeg's ebur128 filter; CJK title burn-in seen in the pixels.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use livecut::render::presets::{Mode, Presets};
use serde_json::Value;

/// Analyse the demo into `out` and keep one highlight with the given span.
fn demo_with_one_highlight(out: &Path, start: f64, end: f64) -> PathBuf {
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
    first["start_s"] = start.into();
    first["end_s"] = end.into();
    first["peak_s"] = ((start + end) / 2.0).into();
    h["highlights"] = Value::Array(vec![first]);
    std::fs::write(&path, serde_json::to_vec_pretty(&h).unwrap()).unwrap();
    path
}

/// Integrated loudness (LUFS) and true peak (dBTP) measured by FFmpeg's ebur128 filter.
fn ebur128(path: &Path) -> (f64, f64) {
    let o = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(path)
        .args(["-af", "ebur128=peak=true", "-f", "null", "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stderr);
    let summary = &text[text.rfind("Summary:").expect("ebur128 summary")..];
    let value = |key: &str| -> f64 {
        let line = summary
            .lines()
            .find(|l| l.trim_start().starts_with(key))
            .unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    (value("I:"), value("Peak:"))
}

fn stream<'a>(p: &'a Value, kind: &str) -> &'a Value {
    p["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == kind)
        .unwrap()
}

#[test]
fn every_preset_meets_its_platform_figures() {
    let out = scratch("render_presets");
    let highlights = demo_with_one_highlight(&out, 40.0, 52.0);
    let o = run(livecut()
        .arg("cut")
        .arg(&highlights)
        .args(["--platforms", "all"]));
    assert_eq!(o.status.code(), Some(0));
    let dir = out.join("demo");
    let m = validate_manifest(&dir.join("manifest.json"));
    let clips = m["clips"].as_array().unwrap();
    let presets = Presets::builtin();
    assert_eq!(clips.len(), presets.iter().count());
    let source = ffprobe(&demo().mp4);
    let src_fps = 25.0;
    for preset in presets.iter() {
        let clip = clips
            .iter()
            .find(|c| c["platform"] == preset.name.as_str())
            .unwrap_or_else(|| panic!("no {} clip", preset.name));
        let path = dir.join(clip["path"].as_str().unwrap());
        let p = ffprobe(&path);
        let v = stream(&p, "video");
        let a = stream(&p, "audio");
        let dur = probe_duration(&p);
        let bytes = std::fs::metadata(&path).unwrap().len();
        assert_eq!(bytes, clip["bytes"].as_u64().unwrap());
        assert!(bytes <= preset.max_bytes, "{}: {bytes} bytes", preset.name);
        assert_eq!(v["codec_name"], "h264");
        assert_eq!(a["codec_name"], "aac");
        let span =
            clip["span"]["end_s"].as_f64().unwrap() - clip["span"]["start_s"].as_f64().unwrap();
        if preset.mode == Mode::Copy {
            assert_eq!(v["width"], stream(&source, "video")["width"]);
            assert!(
                (dur - span).abs() <= 0.15,
                "{}: {dur} vs {span}",
                preset.name
            );
            continue;
        }
        let (lufs, tp) = ebur128(&path);
        eprintln!(
            "{:16} {}x{} {} {} {} fps {:.2} s (span {:.2}) {:.1} LUFS {:.1} dBTP {} bytes",
            preset.name,
            v["width"],
            v["height"],
            v["display_aspect_ratio"],
            v["profile"],
            v["r_frame_rate"],
            dur,
            span,
            lufs,
            tp,
            bytes
        );
        assert_eq!(v["width"].as_u64().unwrap(), u64::from(preset.width));
        assert_eq!(v["height"].as_u64().unwrap(), u64::from(preset.height));
        assert_eq!(v["display_aspect_ratio"], preset.aspect.as_str());
        assert_eq!(v["profile"], "High");
        assert_eq!(v["pix_fmt"], "yuv420p");
        let fps = preset.output_fps(src_fps);
        assert_eq!(v["r_frame_rate"], format!("{}/1", fps.round()));
        assert!(
            (dur - span).abs() <= 0.1,
            "{}: duration {dur} vs span {span}",
            preset.name
        );
        assert!((span - 12.0).abs() < 1e-6, "span kept: {span}");
        assert_eq!(a["sample_rate"], preset.audio_sample_rate.to_string());
        assert_eq!(a["channels"], 2);
        assert!(
            (lufs - preset.loudness_lufs).abs() <= 1.0,
            "{}: {lufs} LUFS",
            preset.name
        );
        assert!(tp <= preset.true_peak_dbtp, "{}: {tp} dBTP", preset.name);
        // +faststart: the index is before the media data.
        let head = std::fs::read(&path).unwrap();
        let moov = head.windows(4).position(|w| w == b"moov").unwrap();
        let mdat = head.windows(4).position(|w| w == b"mdat").unwrap();
        assert!(moov < mdat, "{}: moov after mdat", preset.name);
        // The cover: a JPEG of the output's size.
        let cover = dir.join(clip["cover"].as_str().unwrap());
        let c = ffprobe(&cover);
        assert_eq!(c["streams"][0]["codec_name"], "mjpeg");
        assert_eq!(
            c["streams"][0]["width"].as_u64().unwrap(),
            u64::from(preset.width)
        );
        assert!(!clip["suggested_title"].as_str().unwrap().is_empty());
        assert_eq!(clip["encoder"], "libx264");
    }
}

/// Grey 108x192 frame at `t` seconds of a clip.
fn grab(path: &Path, t: f64) -> Vec<u8> {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-ss", &t.to_string(), "-i"])
        .arg(path)
        .args([
            "-frames:v",
            "1",
            "-vf",
            "scale=108:192",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ])
        .output()
        .unwrap();
    assert_eq!(
        o.stdout.len(),
        108 * 192,
        "frame grab of {}",
        path.display()
    );
    o.stdout
}

fn mean_diff(a: &[u8], b: &[u8], rows: std::ops::Range<usize>) -> f64 {
    let (mut sum, mut n) = (0.0, 0.0);
    for r in rows {
        for c in 0..108 {
            let i = r * 108 + c;
            sum += f64::from(a[i].abs_diff(b[i]));
            n += 1.0;
        }
    }
    sum / n
}

#[test]
fn cjk_title_is_burnt_in() {
    let out = scratch("render_title");
    let highlights = demo_with_one_highlight(&out, 60.0, 66.0);
    let cut = |titles: bool, name: &str| {
        let mut cmd = livecut();
        cmd.arg("cut")
            .arg(&highlights)
            .args(["--platforms", "douyin"]);
        if titles {
            cmd.arg("--titles");
        }
        assert_eq!(run(&mut cmd).status.code(), Some(0));
        let clip = out.join("demo/clips/1_douyin.mp4");
        let keep = out.join(name);
        std::fs::rename(&clip, &keep).unwrap();
        keep
    };
    let plain = cut(false, "plain.mp4");
    let titled = cut(true, "titled.mp4");
    let m = validate_manifest(&out.join("demo/manifest.json"));
    let title = m["clips"][0]["suggested_title"].as_str().unwrap();
    assert!(
        title
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{title}"
    );
    let (a, b) = (grab(&plain, 2.0), grab(&titled, 2.0));
    // The title sits at 8 % of the height: rows 10–30 of 192 differ, the rest does not.
    let top = mean_diff(&a, &b, 10..30);
    let rest = mean_diff(&a, &b, 60..192);
    eprintln!("title band diff {top:.1}, rest {rest:.2}");
    assert!(top > 15.0, "title band differs by {top}");
    assert!(rest < 2.0, "rest of the picture differs by {rest}");
}

#[test]
fn pad_framing_fills_the_frame_with_a_blurred_background() {
    let out = scratch("render_pad");
    let highlights = demo_with_one_highlight(&out, 60.0, 66.0);
    let o = run(livecut().arg("cut").arg(&highlights).args([
        "--platforms",
        "douyin",
        "--framing",
        "pad",
    ]));
    assert_eq!(o.status.code(), Some(0));
    let clip = out.join("demo/clips/1_douyin.mp4");
    let m = validate_manifest(&out.join("demo/manifest.json"));
    assert_eq!(m["clips"][0]["framing"], "pad");
    assert!(!out.join("demo/clips/1_douyin.crop.json").exists());
    let p = ffprobe(&clip);
    assert_eq!(stream(&p, "video")["width"], 1080);
    assert_eq!(stream(&p, "video")["height"], 1920);
    // 16:9 picture in the middle (rows ~66–126 of 192); above and below: the blurred
    // picture, not black bars, and smooth (no sharp edges).
    let g = grab(&clip, 2.0);
    let band: Vec<u8> = g[..40 * 108].to_vec();
    let mean = band.iter().map(|&v| f64::from(v)).sum::<f64>() / band.len() as f64;
    let edges = band
        .windows(2)
        .map(|w| f64::from(w[0].abs_diff(w[1])))
        .sum::<f64>()
        / band.len() as f64;
    let middle = &g[80 * 108..110 * 108];
    let middle_edges = middle
        .windows(2)
        .map(|w| f64::from(w[0].abs_diff(w[1])))
        .sum::<f64>()
        / middle.len() as f64;
    eprintln!("pad band mean {mean:.1}, edges {edges:.2}; picture edges {middle_edges:.2}");
    assert!(mean > 20.0, "black bars? mean {mean}");
    assert!(edges < middle_edges, "background sharper than the picture");
}

#[test]
fn cuda_where_it_cannot_work_is_an_error() {
    if Path::new("/dev/nvidia0").exists() {
        eprintln!("an NVIDIA GPU is present: nothing to check");
        return;
    }
    let out = scratch("render_cuda");
    let highlights = demo_with_one_highlight(&out, 60.0, 66.0);
    let o = run(livecut().arg("cut").arg(&highlights).args([
        "--platforms",
        "douyin",
        "--device",
        "cuda",
    ]));
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--device cuda"), "{err}");
    assert!(!out.join("demo/clips/1_douyin.mp4").exists());
}
