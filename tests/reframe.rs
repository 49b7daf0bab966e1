//! Acceptance: 9:16 reframing on a generated clip where the host walks from the left edge
//! of a 16:9 frame to the right edge (`fixtures/make_walk.py`). With the real face model
//! (`livecut analyze --face-fps 2`) and a real render (`livecut cut --platforms douyin`):
//!
//! * the host's true face centre lies inside the crop window on at least 95 % of the
//!   output frames (`<rank>_douyin.crop.json` against the generator's exact positions);
//! * the crop never moves more than the documented bound from one frame to the next:
//!   `max_speed × crop_w / fps` source pixels (defaults: 0.5 crop widths per second, so
//!   0.5 × 406 / 25 = 8.12 px/frame for 1280x720 at 25 fps), and the clip's own
//!   `max_step_px` is that largest step;
//! * the rendered pixels agree: the host's shirt is visible and roughly centred in the
//!   1080x1920 clip on at least 95 % of its frames, where a centred still crop would have
//!   lost the host.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::*;
use serde_json::{json, Value};

/// The walking-host recording, generated once per version of its generator scripts.
struct Walk {
    mp4: PathBuf,
    truth: Value,
}

fn walk() -> &'static Walk {
    static WALK: OnceLock<Walk> = OnceLock::new();
    WALK.get_or_init(|| {
        // make_walk.py imports make_demo.py (the host sprite): both key the cache.
        let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
        for script in ["fixtures/make_walk.py", "fixtures/make_demo.py"] {
            let bytes = std::fs::read(root().join(script)).expect("generator script");
            sha2::Digest::update(&mut hasher, &bytes);
        }
        let key = &livecut::fsutil::hex(&sha2::Digest::finalize(hasher))[..12];
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("livecut-fixtures")
            .join(format!("walk-{key}"));
        let truth_path = dir.join("walk.truth.json");
        if !truth_path.exists() {
            let status = Command::new("python3")
                .arg(root().join("fixtures/make_walk.py"))
                .arg("--out")
                .arg(&dir)
                .status()
                .expect("python3");
            assert!(status.success(), "make_walk.py failed");
        }
        Walk {
            mp4: dir.join("walk.mp4"),
            truth: read_json(&truth_path),
        }
    })
}

/// The true face centre x (source pixels) at source time `t`: the generator's value for
/// the frame shown at `t`.
fn true_face_x(truth: &Value, t: f64) -> f64 {
    let fps = truth["fps"].as_f64().unwrap();
    let width = truth["width"].as_f64().unwrap();
    let frames = truth["face_cx"].as_array().unwrap();
    let i = ((t * fps).round().max(0.0) as usize).min(frames.len() - 1);
    let frame = frames[i].as_array().unwrap();
    assert!(
        (frame[0].as_f64().unwrap() - t).abs() < 0.5 / fps,
        "frame {i} at {t}"
    );
    frame[1].as_f64().unwrap() * width
}

/// Make `highlights.json` hold exactly one highlight, `start_s`–`end_s`.
fn one_highlight(path: &Path, start_s: f64, end_s: f64) {
    let mut file = read_json(path);
    let mut h = file["highlights"]
        .as_array()
        .and_then(|hs| hs.first().cloned())
        .unwrap_or_else(|| {
            json!({
                "reasons": [],
                "boundaries": ["none", "none"],
                "type": "moment",
                "tags": [],
                "type_evidence": [],
            })
        });
    h["rank"] = json!(1);
    h["start_s"] = json!(start_s);
    h["end_s"] = json!(end_s);
    h["peak_s"] = json!((start_s + end_s) / 2.0);
    h["score"] = json!(0.5);
    file["highlights"] = json!([h]);
    std::fs::write(path, serde_json::to_vec_pretty(&file).unwrap()).unwrap();
}

/// Decode `clip` to `w`x`h` RGB frames with the FFmpeg CLI.
fn decode_small(clip: &Path, w: usize, h: usize) -> Vec<Vec<u8>> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(clip)
        .args(["-vf", &format!("scale={w}:{h}:flags=area")])
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .expect("ffmpeg must be installed");
    assert!(out.status.success(), "ffmpeg decode of {}", clip.display());
    let size = w * h * 3;
    assert_eq!(out.stdout.len() % size, 0);
    out.stdout.chunks(size).map(<[u8]>::to_vec).collect()
}

/// The host's shirt and sleeves (make_demo.py's draw_host: (56,108,168) and (50,96,150)),
/// and nothing in the studio background: blue well above red.
fn is_shirt(px: &[u8]) -> bool {
    let (r, g, b) = (i32::from(px[0]), i32::from(px[1]), i32::from(px[2]));
    (125..=200).contains(&b) && b - r >= 75 && (60..=140).contains(&g) && r <= 100
}

#[test]
fn crop_follows_a_walking_host() {
    let started = std::time::Instant::now();
    let walk = walk();
    let truth = &walk.truth;
    let (src_w, src_h) = (
        truth["width"].as_f64().unwrap(),
        truth["height"].as_f64().unwrap(),
    );
    let duration = truth["duration_s"].as_f64().unwrap();
    let out = scratch("reframe-walk");

    let o = run(livecut()
        .arg("analyze")
        .arg(&walk.mp4)
        .arg("--out")
        .arg(&out)
        .args(["--face-fps", "2"]));
    assert_eq!(o.status.code(), Some(0), "analyze failed");
    let highlights = out.join("walk").join("highlights.json");
    // One highlight over the whole walk, standing still at both ends included.
    let (start_s, end_s) = (1.0, duration - 1.0);
    one_highlight(&highlights, start_s, end_s);
    let o = run(livecut().arg("cut").arg(&highlights).args([
        "--platforms",
        "douyin",
        "--x264-preset",
        "ultrafast",
    ]));
    assert_eq!(o.status.code(), Some(0), "cut failed");
    let m = validate_manifest(&out.join("walk").join("manifest.json"));
    assert_eq!(m["clips"][0]["framing"], "follow");

    // --- The crop track against the truth.
    let clips = out.join("walk").join("clips");
    let track = read_json(&clips.join("1_douyin.crop.json"));
    assert_eq!(track["source_width"].as_f64(), Some(src_w));
    assert_eq!(track["source_height"].as_f64(), Some(src_h));
    assert!((track["clip_start_s"].as_f64().unwrap() - start_s).abs() < 1e-6);
    let crop_w = track["path"]["crop_w"].as_f64().unwrap();
    let crop_h = track["path"]["crop_h"].as_f64().unwrap();
    assert_eq!((crop_w, crop_h), (406.0, 720.0), "9:16 of 1280x720");
    let points: Vec<(f64, f64, f64)> = track["path"]["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["t"].as_f64().unwrap(),
                p["x"].as_f64().unwrap(),
                p["y"].as_f64().unwrap(),
            )
        })
        .collect();
    let fps = truth["fps"].as_f64().unwrap();
    let expected_frames = ((end_s - start_s) * fps).round() as usize;
    assert_eq!(points.len(), expected_frames, "one crop point per frame");
    for (k, &(t, x, y)) in points.iter().enumerate() {
        assert!(
            (t - (start_s + k as f64 / fps)).abs() < 1e-6,
            "point {k} at {t}"
        );
        assert!(
            x >= 0.0 && x <= src_w - crop_w && y == 0.0,
            "point {k}: {x}, {y}"
        );
    }
    let inside = points
        .iter()
        .filter(|&&(t, x, _)| {
            let face = true_face_x(truth, t);
            face >= x && face <= x + crop_w
        })
        .count();
    let share_inside = inside as f64 / points.len() as f64;
    // A still crop in the middle, for contrast (what the crop would be without following).
    let centred = (src_w - crop_w) / 2.0;
    let static_inside = points
        .iter()
        .filter(|&&(t, _, _)| {
            let face = true_face_x(truth, t);
            face >= centred && face <= centred + crop_w
        })
        .count();
    let farthest = points
        .iter()
        .map(|&(t, _, _)| (true_face_x(truth, t) - src_w / 2.0).abs())
        .fold(0.0, f64::max);
    eprintln!(
        "walk: face centre inside the crop on {inside}/{} frames ({:.1} %); a centred still \
         crop would hold it on {static_inside} ({:.1} %); the face gets {farthest:.0} px from \
         the frame centre (crop half-width {:.0})",
        points.len(),
        share_inside * 100.0,
        static_inside as f64 / points.len() as f64 * 100.0,
        crop_w / 2.0
    );
    assert!(
        share_inside >= 0.95,
        "inside on {share_inside:.3} of frames"
    );
    assert!(
        farthest > crop_w / 2.0 && static_inside < points.len(),
        "the walk never leaves a centred crop: the test would prove nothing"
    );
    // The crop really travelled with the host (start near the left, end near the right).
    let (first_x, last_x) = (points[0].1, points[points.len() - 1].1);
    assert!(
        last_x - first_x > 0.6 * (src_w - crop_w),
        "crop moved {first_x} → {last_x}"
    );

    // --- Frame-to-frame movement against the documented bound.
    let bound = track["step_bound_px"].as_f64().unwrap();
    let reported = track["max_step_px"].as_f64().unwrap();
    let documented = 0.5 * crop_w / fps; // ReframeSettings::default().max_speed × crop_w / fps
    assert!((bound - documented).abs() < 1e-9, "{bound} vs {documented}");
    let max_dx = points
        .windows(2)
        .map(|w| (w[1].1 - w[0].1).abs())
        .fold(0.0, f64::max);
    // What FFmpeg got: whole pixels (CropPath::sendcmd rounds).
    let max_dx_px = points
        .windows(2)
        .map(|w| (w[1].1.round() - w[0].1.round()).abs())
        .fold(0.0, f64::max);
    eprintln!(
        "walk: max step {max_dx:.3} px/frame ({max_dx_px} px after rounding), reported \
         max_step_px {reported:.3}, bound {bound:.3} px/frame ({:.0} % of it)",
        max_dx / bound * 100.0
    );
    assert!(max_dx <= bound + 0.5, "{max_dx} > {bound}");
    assert!(
        max_dx_px <= (bound + 1.0).floor(),
        "{max_dx_px} > {bound} + 1"
    );
    assert!((max_dx - reported).abs() <= 0.5, "{max_dx} vs {reported}");

    // --- The file.
    let clip = clips.join("1_douyin.mp4");
    let probe = ffprobe(&clip);
    let video = probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == "video")
        .expect("video stream");
    assert_eq!(video["codec_name"], "h264");
    assert_eq!(
        (video["width"].as_u64(), video["height"].as_u64()),
        (Some(1080), Some(1920))
    );
    let clip_duration = probe_duration(&probe);
    let video_duration: f64 = video["duration"].as_str().unwrap().parse().unwrap();
    eprintln!(
        "walk: clip {}x{} h264, {clip_duration:.3} s (video stream {video_duration:.3} s) \
         for a {:.3} s span",
        video["width"],
        video["height"],
        end_s - start_s
    );
    for d in [clip_duration, video_duration] {
        assert!((d - (end_s - start_s)).abs() <= 0.1, "{d}");
    }

    // --- The rendered pixels: the host is in the picture and near its middle.
    let (w, h) = (108usize, 192usize);
    let frames = decode_small(&clip, w, h);
    assert!(
        frames.len().abs_diff(points.len()) <= 1,
        "{} frames decoded, {} crop points",
        frames.len(),
        points.len()
    );
    let mut centred_frames = 0;
    let mut misses = Vec::new();
    let mut worst_offset = 0.0f64;
    // Where the shirt's centroid lands in the source through the crop that was written
    // (the sprite is symmetric about the face), against the true face centre.
    let mut where_errors = Vec::new();
    for (k, frame) in frames.iter().enumerate() {
        let (mut n, mut sum_x) = (0usize, 0usize);
        for (i, px) in frame.chunks(3).enumerate() {
            if is_shirt(px) {
                n += 1;
                sum_x += i % w;
            }
        }
        let coverage = n as f64 / (w * h) as f64;
        let centroid = if n > 0 {
            (sum_x as f64 + 0.5 * n as f64) / n as f64 / w as f64
        } else {
            f64::NAN
        };
        if let (Some(&(t, x, _)), true) = (points.get(k), n > 0) {
            where_errors.push((x.round() + centroid * crop_w - true_face_x(truth, t)).abs());
        }
        if coverage >= 0.05 && (0.2..=0.8).contains(&centroid) {
            centred_frames += 1;
            worst_offset = worst_offset.max((centroid - 0.5).abs());
        } else if misses.len() < 10 {
            misses.push(format!(
                "frame {k}: shirt on {:.1} % of pixels, centroid {centroid:.2}",
                coverage * 100.0
            ));
        }
    }
    let pixel_share = centred_frames as f64 / frames.len() as f64;
    eprintln!(
        "walk: host's shirt visible and centred (centroid in the middle 60 %) on \
         {centred_frames}/{} rendered frames ({:.1} %), centroid at most {:.1} % of the width \
         off centre; misses: {misses:?}",
        frames.len(),
        pixel_share * 100.0,
        worst_offset * 100.0
    );
    assert!(pixel_share >= 0.95, "{pixel_share:.3}: {misses:?}");
    // The picture was cropped where the crop track says, frame by frame: the host seen in
    // the clip, mapped back through the track, is where the generator put them.
    where_errors.sort_by(f64::total_cmp);
    let close = where_errors.iter().filter(|&&e| e <= 12.0).count();
    eprintln!(
        "walk: host seen in the clip, mapped back through the crop track, within 12 px of \
         the true face centre on {close}/{} frames (median {:.1} px, worst {:.1} px)",
        frames.len(),
        where_errors[where_errors.len() / 2],
        where_errors[where_errors.len() - 1]
    );
    assert!(
        close as f64 >= 0.95 * frames.len() as f64,
        "the crop applied is not the crop track"
    );
    eprintln!("walk: {:.1} s", started.elapsed().as_secs_f64());
}
