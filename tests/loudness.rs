//! Loudness agrees with FFmpeg's own `ebur128` filter on the same file.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use std::process::Command;

use common::*;

/// FFmpeg's momentary loudness: (t, M) every 100 ms.
fn ffmpeg_momentary(path: &std::path::Path) -> Vec<(f64, f64)> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(path)
        .args(["-af", "ebur128", "-f", "null", "-"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    log.lines()
        .filter_map(|l| {
            let t = l
                .split("t:")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            let m = l
                .split("M:")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            Some((t, m))
        })
        .collect()
}

#[test]
fn momentary_loudness_matches_ffmpeg_ebur128_within_half_a_lu() {
    let dir = scratch("loudness");
    let rec = dir.join("levels.mp4");
    // Stereo noise with its energy in the voice band (brown) and a tone, at three levels.
    // (Loudness is measured on 16 kHz audio, so content above 8 kHz — pink or white noise,
    // cymbals — reads up to about 0.6 LU lower than FFmpeg measures at 48 kHz.)
    ffmpeg(&[
        "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=30",
        "-f", "lavfi", "-i", "anoisesrc=color=brown:sample_rate=48000:duration=30:amplitude=0.5",
        "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000:duration=30",
        "-filter_complex",
        "[1:a][2:a]amix=inputs=2,volume='if(lt(t,10),0.06,if(lt(t,20),0.25,0.12))':eval=frame,pan=stereo|c0=c0|c1=0.7*c0[a]",
        "-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "192k",
        rec.to_str().unwrap(),
    ]);
    let s = analyze_signals(&rec, &dir.join("out"), &["--no-models"]);
    let ours = track_points(&s, "loudness_momentary");
    let theirs = ffmpeg_momentary(&rec);
    assert!(theirs.len() > 250, "ffmpeg printed {} values", theirs.len());
    // Compare inside each steady level (away from the steps and the edges).
    let mut diffs = Vec::new();
    for &(t, m) in &theirs {
        let steady = [(1.0, 9.5), (11.0, 19.5), (21.0, 29.5)]
            .iter()
            .any(|(a, b)| t >= *a && t <= *b);
        if !steady {
            continue;
        }
        if let Some(&(_, v)) = ours
            .iter()
            .min_by(|a, b| (a.0 - t).abs().total_cmp(&(b.0 - t).abs()))
        {
            diffs.push((v - m).abs());
        }
    }
    diffs.sort_by(f64::total_cmp);
    let median = diffs[diffs.len() / 2];
    let p90 = diffs[diffs.len() * 9 / 10];
    eprintln!(
        "loudness vs ffmpeg ebur128: {} points, median |diff| {median:.3} LU, p90 {p90:.3} LU",
        diffs.len()
    );
    assert!(median < 0.5 && p90 < 0.8, "median {median}, p90 {p90}");
}
