//! PP-OCRv4 on the real models: the card frame of `scripts/make_model_refs.py`
//! (`models/inputs/card.rgb`, 736×416, white "限时秒杀" / "到手价￥99" on a dark
//! background), a 1280×720 frame rendered here (the resizing path), and the Python
//! reference `models/refs/ppocrv4.json` (onnxruntime + numpy, same pre/post-processing).
//!
//! The models are in `models/` whenever set-up ran (`scripts/fetch_models.py`): these
//! tests then always run. Each one skips, printing why, only when
//! `models/ppocrv4_det.onnx` is absent (a checkout where set-up has not run).

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

use livecut::models::ocr::{Ocr, TextLine};
use livecut::models::{Device, ModelDir, Runtime};
use serde_json::Value;

const FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc";

fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| Runtime::init(None, Device::Cpu, 1).unwrap())
}

fn models() -> ModelDir {
    ModelDir::locate(None)
}

/// The OCR, or `None` (after saying why) when set-up has not fetched the models.
fn ocr(test: &str) -> Option<Ocr> {
    let dir = models();
    let det = dir.0.join("ppocrv4_det.onnx");
    if !det.is_file() {
        eprintln!(
            "SKIP {test}: {} is absent (scripts/fetch_models.py puts it there; set-up runs it)",
            det.display()
        );
        return None;
    }
    Some(Ocr::new(runtime(), &dir).unwrap())
}

/// An RGB24 frame of `w`×`h` rendered by FFmpeg: `vf` on a dark background.
fn render(name: &str, w: u32, h: u32, vf: &str) -> Vec<u8> {
    let dir = common::scratch(name);
    let out = dir.join("frame.rgb");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("color=c=0x181818:s={w}x{h}:d=1,format=rgb24"),
        "-vf",
        vf,
        "-frames:v",
        "1",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        out.to_str().unwrap(),
    ]);
    let rgb = std::fs::read(&out).unwrap();
    assert_eq!(rgb.len(), (w * h * 3) as usize);
    rgb
}

fn text(font_size: u32, x: &str, y: u32, s: &str) -> String {
    format!("drawtext=fontfile={FONT}:text={s}:fontsize={font_size}:fontcolor=white:x={x}:y={y}")
}

/// The card: `models/inputs/card.rgb` (set-up), else the same frame rendered here.
fn card() -> (Vec<u8>, u32, u32) {
    let path = models().0.join("inputs/card.rgb");
    if let Ok(rgb) = std::fs::read(&path) {
        return (rgb, 736, 416);
    }
    eprintln!("{} is absent: rendering the card here", path.display());
    let vf = format!(
        "{},{}",
        text(120, "(w-text_w)/2", 80, "限时秒杀"),
        text(80, "(w-text_w)/2", 250, "到手价￥99")
    );
    (render("ocr_card", 736, 416, &vf), 736, 416)
}

fn show(lines: &[TextLine]) {
    for l in lines {
        eprintln!(
            "  {:?} {:.4} at x={} y={} w={} h={}",
            l.text, l.confidence, l.x, l.y, l.w, l.h
        );
    }
}

fn median_ms(mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..7)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

#[test]
fn reads_the_card() {
    let Some(mut ocr) = ocr("reads_the_card") else {
        return;
    };
    let (rgb, w, h) = card();
    let lines = ocr.read(&rgb, w, h).unwrap();
    eprintln!("card {w}×{h}:");
    show(&lines);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let (title, price) = (&lines[0], &lines[1]);
    assert_eq!(title.text, "限时秒杀");
    assert!(title.confidence > 0.9, "{title:?}");
    assert!(price.text.contains("99"), "{price:?}");
    assert_eq!(price.text, "到手价￥99");
    assert!(price.confidence > 0.8, "{price:?}");
    // Boxes around the drawn lines: the title (120 px font) above the price (80 px), both
    // centred horizontally.
    assert!(title.y + title.h <= price.y + 5.0, "{lines:?}");
    assert!(title.h > price.h, "{lines:?}");
    for l in &lines {
        let centre = l.x + l.w / 2.0;
        assert!((centre - w as f32 / 2.0).abs() < 20.0, "{l:?}");
    }

    // Timings (one intra-op thread, CPU).
    let det = ocr.detect(&rgb, w, h).unwrap();
    let det_ms = median_ms(|| {
        ocr.detect(&rgb, w, h).unwrap();
    });
    let rec_ms = median_ms(|| {
        ocr.recognize(&rgb, w, h, &det.boxes).unwrap();
    });
    let pre_ms = median_ms(|| {
        livecut::models::ocr::det_preprocess(&rgb, w, h, det.input_w, det.input_h).unwrap();
    });
    ocr.rec_batch = 1;
    let rec1_ms = median_ms(|| {
        ocr.recognize(&rgb, w, h, &det.boxes).unwrap();
    });
    eprintln!(
        "timing: detection {det_ms:.1} ms at {}×{} (pre/post-processing included, \
         preprocessing {pre_ms:.1} ms); \
         recognition {:.1} ms per line batched ({} lines), {:.1} ms per line one at a time",
        det.input_w,
        det.input_h,
        rec_ms / det.boxes.len() as f64,
        det.boxes.len(),
        rec1_ms / det.boxes.len() as f64
    );
}

#[test]
fn matches_the_python_reference() {
    let Some(mut ocr) = ocr("matches_the_python_reference") else {
        return;
    };
    let path: PathBuf = models().0.join("refs/ppocrv4.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "no {}: nothing to compare with (scripts/make_model_refs.py writes it)",
            path.display()
        );
        return;
    };
    let r: Value = serde_json::from_str(&text).unwrap();
    let (rgb, w, h) = card();
    assert_eq!(r["image_size_wh"], serde_json::json!([w, h]));
    let f = |v: &Value| v.as_f64().unwrap();

    // Detection: input size, probability map, boxes.
    let det = ocr.detect(&rgb, w, h).unwrap();
    let shape: Vec<u64> = r["det"]["input_shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(
        shape,
        [1, 3, u64::from(det.input_h), u64::from(det.input_w)]
    );
    let mean_diff = (f64::from(det.prob_mean) - f(&r["det"]["prob_map_mean"])).abs();
    let max_diff = (f64::from(det.prob_max) - f(&r["det"]["prob_map_max"])).abs();
    let ref_boxes = r["det"]["boxes"].as_array().unwrap();
    assert_eq!(det.boxes.len(), ref_boxes.len(), "{:?}", det.boxes);
    let (mut box_diff, mut score_diff) = (0f64, 0f64);
    for (b, rb) in det.boxes.iter().zip(ref_boxes) {
        let xyxy: Vec<f64> = rb["box_xyxy"].as_array().unwrap().iter().map(f).collect();
        for (got, want) in [b.x0, b.y0, b.x1, b.y1].iter().zip(&xyxy) {
            box_diff = box_diff.max((f64::from(*got) - want).abs());
        }
        score_diff = score_diff.max((f64::from(b.score) - f(&rb["score"])).abs());
    }
    eprintln!(
        "detection vs Python: prob-map mean {:.6} (|Δ| {mean_diff:.2e}), max |Δ| {max_diff:.2e}; \
         box coordinates max |Δ| {box_diff} px; box score max |Δ| {score_diff:.2e}",
        det.prob_mean
    );
    assert!(mean_diff < 1e-4, "{mean_diff}");
    assert!(box_diff <= 1.0, "{box_diff}");
    assert!(score_diff < 1e-3, "{score_diff}");

    // Recognition as the reference runs it: each line alone, no padding to 320.
    let ref_lines = r["rec"]["lines"].as_array().unwrap();
    ocr.rec_batch = 1;
    ocr.rec_min_width = 0;
    let alone = ocr.recognize(&rgb, w, h, &det.boxes).unwrap();
    // And as livecut runs it by default: batched, padded to at least 320.
    ocr.rec_batch = livecut::models::ocr::REC_BATCH;
    ocr.rec_min_width = livecut::models::ocr::REC_MIN_WIDTH;
    let batched = ocr.recognize(&rgb, w, h, &det.boxes).unwrap();
    assert_eq!(alone.len(), ref_lines.len());
    let mut conf_diff = 0f64;
    for ((a, b), rl) in alone.iter().zip(&batched).zip(ref_lines) {
        let want = rl["text"].as_str().unwrap();
        let want_conf = f(&rl["confidence"]);
        eprintln!(
            "  {want:?}: Python {want_conf:.5}; livecut alone {:?} {:.5}, batched+padded {:?} {:.5}",
            a.text, a.confidence, b.text, b.confidence
        );
        assert_eq!(a.text, want);
        assert_eq!(b.text, want);
        conf_diff = conf_diff.max((f64::from(a.confidence) - want_conf).abs());
    }
    eprintln!("recognition vs Python: confidence max |Δ| {conf_diff:.2e} (lines alone)");
    assert!(conf_diff < 1e-3, "{conf_diff}");
}

#[test]
fn reads_a_720p_frame_through_the_resize() {
    let Some(mut ocr) = ocr("reads_a_720p_frame_through_the_resize") else {
        return;
    };
    let vf = format!(
        "{},{}",
        text(64, "(w-text_w)/2", 120, "买一送一"),
        text(96, "100", 520, "上链接")
    );
    let (w, h) = (1280, 720);
    let rgb = render("ocr_720p", w, h, &vf);
    let det = ocr.detect(&rgb, w, h).unwrap();
    assert_eq!((det.input_w, det.input_h), (960, 544));
    let lines = ocr.read(&rgb, w, h).unwrap();
    eprintln!("720p frame (detection input 960×544):");
    show(&lines);
    let find = |s: &str| {
        lines
            .iter()
            .find(|l| l.text == s)
            .unwrap_or_else(|| panic!("{s:?} not read: {lines:?}"))
    };
    let (top, link) = (find("买一送一"), find("上链接"));
    // Boxes in the frame's pixels, around where the text was drawn.
    assert!((top.x + top.w / 2.0 - 640.0).abs() < 20.0, "{top:?}");
    assert!(top.y < 140.0 && top.y + top.h > 170.0, "{top:?}");
    assert!(link.x < 120.0 && link.x + link.w > 350.0, "{link:?}");
    assert!(
        link.y < 540.0 && link.y + link.h > 600.0 && link.y + link.h < 660.0,
        "{link:?}"
    );
    assert!(top.y < link.y, "reading order: {lines:?}");
}

#[test]
fn blank_frames_read_nothing_and_bad_buffers_are_errors() {
    let Some(mut ocr) = ocr("blank_frames_read_nothing_and_bad_buffers_are_errors") else {
        return;
    };
    let dark = vec![24u8; 320 * 240 * 3];
    assert!(ocr.read(&dark, 320, 240).unwrap().is_empty());
    let err = ocr.read(&dark, 321, 240).unwrap_err().to_string();
    assert!(err.contains("ppocrv4") && err.contains("321×240"), "{err}");
    assert!(ocr.read(&[], 0, 0).is_err());
    // Lines from boxes that fall outside the frame are an error, not a panic.
    let outside = livecut::models::ocr::DetBox {
        x0: 300.0,
        y0: 0.0,
        x1: 400.0,
        y1: 20.0,
        score: 1.0,
    };
    assert!(ocr.recognize(&dark, 320, 240, &[outside]).is_err());
}
