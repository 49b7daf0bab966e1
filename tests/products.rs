//! The product timeline on a generated session that sells four products one after another
//! (`fixtures/make_products.py`: greetings, 保温杯 with orders, 蓝牙耳机 without any order,
//! 面膜 with orders, 手机壳 sold only in a flash sale, goodbyes; each with its card), analysed
//! with the catalogue (`--products`) and without it. Speech is off here (Whisper over the
//! whole session is too slow for the suite): the stretches rest on orders and cards.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use common::*;
use serde_json::Value;

fn stretches(products: &Value) -> Vec<(Option<String>, f64, f64)> {
    products["stretches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["sku"].as_str().map(str::to_string),
                s["start_s"].as_f64().unwrap(),
                s["end_s"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// How many of the truth's product starts and ends a stretch of the same SKU starts or
/// ends within `tol` seconds of, and how many there are.
fn boundaries_within(
    found: &[(Option<String>, f64, f64)],
    truth: &Value,
    tol: f64,
) -> (usize, usize) {
    let mut hit = 0;
    let mut all = 0;
    for p in truth["products"].as_array().unwrap() {
        let sku = p["sku"].as_str().unwrap();
        let mine: Vec<_> = found
            .iter()
            .filter(|s| s.0.as_deref() == Some(sku))
            .collect();
        for (edge, want) in [
            (0, p["start_s"].as_f64().unwrap()),
            (1, p["end_s"].as_f64().unwrap()),
        ] {
            all += 1;
            if mine
                .iter()
                .any(|s| ((if edge == 0 { s.1 } else { s.2 }) - want).abs() <= tol)
            {
                hit += 1;
            }
        }
    }
    (hit, all)
}

#[test]
fn four_products_in_sequence_with_and_without_the_catalogue() {
    // (product clips: see `product_clips` below, on the analysis with the catalogue)
    let dir = scratch("products");
    let status = std::process::Command::new("python3")
        .arg(root().join("fixtures/make_products.py"))
        .args(["--out"])
        .arg(&dir)
        .args([
            "--seed",
            "5",
            "--stretch",
            "90",
            "--width",
            "480",
            "--height",
            "270",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let truth = read_json(&dir.join("products.truth.json"));
    let analyze = |out: &str, catalogue: bool| {
        let mut cmd = livecut();
        cmd.arg("analyze")
            .arg(dir.join("products.mp4"))
            .arg("--orders")
            .arg(dir.join("products.orders.csv"))
            .args(["--transcribe", "off", "--full", "--face-fps", "1"])
            .arg("--out")
            .arg(dir.join(out));
        if catalogue {
            cmd.arg("--products").arg(dir.join("products.products.csv"));
        } else {
            // From orders alone the models add nothing to the timeline.
            cmd.arg("--no-models");
        }
        let o = run(&mut cmd);
        assert_eq!(o.status.code(), Some(0));
        let products = read_json(&dir.join(out).join("products/products.json"));
        let errors = validate_json(&products, &root().join("schema/products.schema.json"));
        assert!(errors.is_empty(), "{errors:?}");
        let highlights = read_json(&dir.join(out).join("products/highlights.json"));
        (products, highlights)
    };

    let (products, highlights) = analyze("with", true);
    let found = stretches(&products);
    let (hit, all) = boundaries_within(&found, &truth, 15.0);
    eprintln!("with the catalogue: {hit}/{all} boundaries within 15 s: {found:?}");
    // The target: at least 90 % of the boundaries within ±15 s.
    assert!(hit * 10 >= all * 9, "{hit}/{all}: {found:?}");
    assert_eq!(products["source"], "catalogue");
    // Every product with its own stretch; the one without orders found from its card.
    let by_sku = |sku: &str| {
        found
            .iter()
            .filter(|s| s.0.as_deref() == Some(sku))
            .collect::<Vec<_>>()
    };
    let ear = by_sku("SKU-EAR2");
    assert!(
        !ear.is_empty() && ear.iter().all(|s| s.1 >= 115.0 && s.2 <= 215.0),
        "{found:?}"
    );
    // The flash-sale-only product: its stretch starts with its explanation, well before
    // the sale (at 70 % of its 90 s).
    let truth_of = |sku: &str| {
        truth["products"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["sku"] == sku)
            .unwrap()
            .clone()
    };
    let flash = truth_of("SKU-CAS4");
    let sale_s = flash["start_s"].as_f64().unwrap() + 0.7 * 90.0;
    let cas = by_sku("SKU-CAS4");
    assert!(
        cas.iter()
            .any(|s| s.1 <= flash["start_s"].as_f64().unwrap() + 15.0 && s.2 > sale_s),
        "{found:?}"
    );
    // The catalogue's other products never sold and are listed, not given stretches.
    let unsold: Vec<&str> = products["unsold_skus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        unsold.contains(&"SKU-BRU5") && unsold.contains(&"SKU-EAR2"),
        "{unsold:?}"
    );
    assert!(products["not_found"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["sku"] == "SKU-BAG6"));
    // Figures: the flash sale's items are counted during its stretch, with its GMV.
    let fig = products["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sku"] == "SKU-CAS4")
        .unwrap();
    assert!(fig["items_during"].as_f64().unwrap() >= 15.0, "{fig}");
    assert_eq!(
        fig["gmv_during"].as_f64().unwrap(),
        29.0 * fig["items_during"].as_f64().unwrap()
    );
    // A highlight never spans two products.
    for h in highlights["highlights"].as_array().unwrap() {
        let (a, b) = (h["start_s"].as_f64().unwrap(), h["end_s"].as_f64().unwrap());
        let mut skus: Vec<&str> = found
            .iter()
            .filter(|s| s.1 < b && s.2 > a)
            .filter_map(|s| s.0.as_deref())
            .collect();
        skus.dedup();
        assert!(skus.len() <= 1, "{h} spans {skus:?}");
    }

    product_clips(&dir, &truth, &found);

    // Without the catalogue: the SKUs sold are the products; the ones with orders found.
    let (products, _) = analyze("without", false);
    let found = stretches(&products);
    assert_eq!(products["source"], "orders");
    let (hit, all) = boundaries_within(&found, &truth, 15.0);
    eprintln!("without the catalogue: {hit}/{all} boundaries within 15 s: {found:?}");
    for sku in ["SKU-MSK3", "SKU-CAS4"] {
        let t = truth_of(sku);
        let (a, b) = (t["start_s"].as_f64().unwrap(), t["end_s"].as_f64().unwrap());
        assert!(
            found
                .iter()
                .any(|s| s.0.as_deref() == Some(sku) && s.1 < b && s.2 > a),
            "{sku}: {found:?}"
        );
    }
}

/// A small 9:16 preset for the product clips (fast to encode in the suite).
const TINY_PRESET: &str = r#"
[platforms.tiny]
title = "tiny test preset"
mode = "encode"
width = 144
height = 256
aspect = "9:16"
framing = "follow"
max_fps = 15.0
min_duration_s = 3.0
max_duration_s = 60.0
product_clip_s = 30.0
video_codec = "h264"
video_profile = "high"
video_level = "4.1"
video_bitrate_kbps = 300
video_maxrate_kbps = 400
video_bufsize_kbps = 600
gop_s = 2.0
audio_codec = "aac"
audio_sample_rate = 48000
audio_channels = 2
audio_bitrate_kbps = 64
loudness_lufs = -14.0
true_peak_dbtp = -1.0
max_bytes = 50_000_000
faststart = true
sources = ["test preset"]
"#;

/// `cut --product-clips` on the analysis with the catalogue: one explanation clip per
/// product on air, each inside its own stretch (and its truth span), at most the preset's
/// `product_clip_s`, its name and price in the title; the products never on air listed
/// with the reason.
fn product_clips(dir: &std::path::Path, truth: &Value, found: &[(Option<String>, f64, f64)]) {
    let profile = dir.join("tiny.toml");
    std::fs::write(&profile, TINY_PRESET).unwrap();
    let o = run(livecut()
        .arg("cut")
        .arg(dir.join("with/products/highlights.json"))
        .args(["--product-clips", "--top", "0", "--platforms", "tiny"])
        .arg("--profile")
        .arg(&profile));
    assert_eq!(o.status.code(), Some(0));
    let out = dir.join("with/products");
    let manifest = validate_manifest(&out.join("manifest.json"));
    let clips: Vec<&Value> = manifest["clips"].as_array().unwrap().iter().collect();
    assert!(clips.iter().all(|c| c["kind"] == "product"), "--top 0");
    let explanations: Vec<&&Value> = clips
        .iter()
        .filter(|c| c["product"]["part"] == "explanation")
        .collect();
    for p in truth["products"].as_array().unwrap() {
        let sku = p["sku"].as_str().unwrap();
        let clip = explanations
            .iter()
            .find(|c| c["product"]["sku"] == sku)
            .unwrap_or_else(|| panic!("no clip of {sku}: {clips:?}"));
        assert_eq!(
            clip["path"],
            format!("clips/product_{sku}_tiny.mp4"),
            "{clip}"
        );
        let (a, b) = (
            clip["span"]["start_s"].as_f64().unwrap(),
            clip["span"]["end_s"].as_f64().unwrap(),
        );
        // Inside its own stretch of products.json…
        assert!(
            found
                .iter()
                .any(|s| s.0.as_deref() == Some(sku) && s.1 <= a + 1e-6 && b <= s.2 + 1e-6),
            "{sku} {a}–{b}: {found:?}"
        );
        // …and (within the stretch tolerance) inside the product's truth span.
        let (ta, tb) = (p["start_s"].as_f64().unwrap(), p["end_s"].as_f64().unwrap());
        assert!(
            a >= ta - 15.0 && b <= tb + 15.0,
            "{sku} {a}–{b} vs {ta}–{tb}"
        );
        // The file: H.264 9:16, as long as its span (≤ the preset's product length).
        let probe = ffprobe(&out.join(clip["path"].as_str().unwrap()));
        let d = probe_duration(&probe);
        assert!((d - (b - a)).abs() < 0.2, "{sku}: {d} s vs {a}–{b}");
        assert!((15.0..=30.2).contains(&d), "{sku}: {d} s");
        let v = probe["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["codec_type"] == "video")
            .unwrap();
        assert_eq!(
            (
                v["codec_name"].as_str(),
                v["width"].as_u64(),
                v["height"].as_u64()
            ),
            (Some("h264"), Some(144), Some(256))
        );
        let price = p["price"].as_f64().unwrap();
        assert_eq!(
            clip["title"],
            format!("{} 直播价{price}元", p["name"].as_str().unwrap()),
        );
    }
    preview_shows_the_products(&out, found, &manifest);
    // Not on air: listed with the reason, not clipped.
    let skipped = manifest["products_not_clipped"].as_array().unwrap();
    for sku in ["SKU-BRU5", "SKU-BAG6"] {
        let s = skipped.iter().find(|s| s["sku"] == sku).unwrap();
        assert!(s["reason"].as_str().unwrap().contains("not on air"), "{s}");
        assert!(!clips.iter().any(|c| c["product"]["sku"] == sku));
    }
}

/// The preview in headless Chromium: the product lane has a stretch per products.json
/// stretch, placed by time; clicking a product's stretch plays the source from its start;
/// every product has its figures row and its clips linked; those not clipped are listed.
fn preview_shows_the_products(
    out: &std::path::Path,
    found: &[(Option<String>, f64, f64)],
    manifest: &Value,
) {
    use common::browser::*;
    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let b = Browser::start(out);
    b.goto(&file_url(&out.join("preview.html")));
    let lane = b.exec(
        "return [...document.querySelectorAll('.product-lane .stretch')].map(s => \
         [s.dataset.sku, Number(s.dataset.start), s.getBoundingClientRect().width, s.textContent])",
    );
    let lane = lane.as_array().unwrap();
    assert_eq!(lane.len(), found.len(), "{lane:?}");
    let total: f64 = lane.iter().map(|s| s[2].as_f64().unwrap()).sum();
    for (s, f) in lane.iter().zip(found) {
        assert_eq!(s[0].as_str().filter(|x| !x.is_empty()), f.0.as_deref());
        assert!((s[1].as_f64().unwrap() - f.1).abs() < 1e-3);
        // Each stretch as wide as its share of the session (±1 px).
        let share = (f.2 - f.1) / (found.last().unwrap().2 - found[0].1);
        assert!(
            (s[2].as_f64().unwrap() - share * total).abs() < 1.5,
            "{s:?} vs {share}"
        );
    }
    let rows = b.exec("return document.querySelectorAll('tr.product').length");
    assert_eq!(
        rows.as_u64(),
        Some(6),
        "every catalogue product has its row"
    );
    let links = b.exec("return document.querySelectorAll('a.product-clip').length");
    let product_clips = manifest["clips"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "product")
        .count();
    assert_eq!(links.as_u64(), Some(product_clips as u64));
    let skipped = b.exec("return document.querySelectorAll('.not-clipped li').length");
    assert_eq!(skipped.as_u64(), Some(2));
    // A click on 面膜's stretch plays the source from its start.
    let (_, start, _) = found
        .iter()
        .find(|s| s.0.as_deref() == Some("SKU-MSK3"))
        .unwrap();
    b.wait_for(
        "return document.getElementById('source').readyState >= 1",
        "source metadata",
        20,
    );
    b.click(".product-lane .stretch[data-sku='SKU-MSK3']");
    let now = b.wait_for(
        "const v = document.getElementById('source'); \
         return !v.seeking && v.readyState >= 1 ? v.currentTime : null",
        "the seek",
        20,
    );
    let now = now.as_f64().unwrap();
    assert!(
        now >= start - 0.05 && now <= start + 3.0,
        "{now} vs {start}"
    );
    let errors: Vec<Value> = b
        .console()
        .into_iter()
        .filter(|e| e["level"] == "SEVERE")
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}
