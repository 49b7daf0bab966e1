//! Time alignment: orders in Beijing time against a UTC creation_time, non-zero container
//! start times, and truncated recordings.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use common::*;

#[test]
fn beijing_orders_align_with_utc_creation_time() {
    // creation_time 2024-09-03T11:12:50Z; an order paid 19:13:00+08:00 is 10 s in.
    let dir = scratch("align");
    let rec = dir.join("rec.mp4");
    synth_recording(&rec, 30, &[]);
    assert_eq!(
        ffprobe(&rec)["format"]["tags"]["creation_time"],
        "2024-09-03T11:12:50.000000Z"
    );
    let orders = dir.join("orders.csv");
    std::fs::write(
        &orders,
        "order_id,paid_at,sku,quantity,amount_cny\n\
         1,2024-09-03T19:13:00+08:00,SKU-A,1,99\n\
         2,2024-09-03T11:13:05Z,SKU-B,1,10\n\
         3,2024-09-03T19:12:00+08:00,SKU-A,1,99\n\
         4,2024-09-04T03:13:00+08:00,SKU-A,1,99\n",
    )
    .unwrap();
    let out = dir.join("out");
    let o = run(livecut()
        .arg("analyze")
        .arg(&rec)
        .arg("--orders")
        .arg(&orders)
        .arg("--out")
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let signals = read_json(&out.join("rec/signals.json"));
    let tracks = signals["timelines"]["tracks"].as_array().unwrap();
    let orders_track = tracks.iter().find(|t| t["name"] == "orders").unwrap();
    let values: Vec<f64> = orders_track["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let nonzero: Vec<usize> = (0..values.len()).filter(|&i| values[i] > 0.0).collect();
    assert_eq!(nonzero, vec![10, 15], "orders at t = 10 s and 15 s");
    let h = read_json(&out.join("rec/highlights.json"));
    assert_eq!(h["timelines"][0]["before_start"], 1);
    assert_eq!(
        h["timelines"][0]["after_end"], 1,
        "the naive +8 h mistake lands here"
    );
    assert_eq!(h["timelines"][0]["rows_used"], 2);
    // 19:12:00+08:00 is 50 s before the start; 03:13:00+08:00 next day is 8 h later.
    assert_eq!(
        h["timelines"][0]["outside_range_s"],
        serde_json::json!([-50.0, 28810.0])
    );
}

#[test]
fn start_flag_overrides_creation_time() {
    let dir = scratch("startflag");
    let rec = dir.join("rec.mp4");
    synth_recording(&rec, 30, &["-metadata", "creation_time="]);
    let orders = dir.join("orders.csv");
    std::fs::write(&orders, "paid_at,amount\n2024-09-03 19:13:07,5\n").unwrap();
    let out = dir.join("out");
    let o = run(livecut()
        .arg("analyze")
        .arg(&rec)
        .arg("--orders")
        .arg(&orders)
        .args(["--start", "2024-09-03T19:12:50+08:00", "--out"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let signals = read_json(&out.join("rec/signals.json"));
    let track = signals["timelines"]["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "orders")
        .unwrap()
        .clone();
    assert_eq!(
        track["values"][17], 1.0,
        "naive Beijing time 17 s after the start"
    );
    let h = read_json(&out.join("rec/highlights.json"));
    assert_eq!(h["timelines"][0]["naive_time_zone"], "Asia/Shanghai");
}

#[test]
fn times_are_relative_to_the_first_presentation_time() {
    // An MPEG-TS recording whose clock starts at 100 s; a loud, busy moment at 40–50 s of
    // the recording must be reported at 40–50 s, not 140–150 s.
    let dir = scratch("tsoffset");
    let rec = dir.join("offset.ts");
    ffmpeg(&[
        "-f", "lavfi", "-i", "color=c=gray:size=320x180:rate=25,drawgrid=w=40:h=40:t=2:c=white,noise=alls=3:allf=t",
        "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000",
        "-filter_complex",
        "[0:v]drawbox=x='mod(t*400,300)':y=40:w=80:h=80:color=red:t=fill:enable='between(t,40,50)'[v];\
         [1:a]volume='if(between(t,40,50),1.0,0.03)':eval=frame[a]",
        "-map", "[v]", "-map", "[a]", "-t", "90",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac",
        "-output_ts_offset", "100",
        rec.to_str().unwrap(),
    ]);
    let start: f64 = ffprobe(&rec)["format"]["start_time"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(start >= 100.0, "fixture starts at {start}");
    let out = dir.join("out");
    let o = run(livecut().arg("run").arg(&rec).arg("--out").arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let h = read_json(&out.join("offset/highlights.json"));
    assert!((h["source"]["start_time_s"].as_f64().unwrap() - start).abs() < 0.01);
    let first = &h["highlights"][0];
    let peak = first["peak_s"].as_f64().unwrap();
    assert!((38.0..=52.0).contains(&peak), "peak at {peak}");
    // The clip cut from a TS source is an MP4 that starts at the highlight.
    let m = validate_manifest(&out.join("offset/manifest.json"));
    let clip = out
        .join("offset")
        .join(m["clips"][0]["path"].as_str().unwrap());
    let p = ffprobe(&clip);
    let dur = probe_duration(&p);
    let want = first["end_s"].as_f64().unwrap() - first["start_s"].as_f64().unwrap();
    assert!(
        (dur - want).abs() <= 1.1,
        "clip {dur} s for a {want} s span (GOP 1 s)"
    );
}

#[test]
fn truncated_recording_with_index_first_uses_the_readable_part() {
    // A faststart MP4 cut in half: the index survives, the second half of the data does not.
    let dir = scratch("truncated_faststart");
    let whole = dir.join("whole.mp4");
    synth_recording(&whole, 60, &["-movflags", "+faststart"]);
    let bytes = std::fs::read(&whole).unwrap();
    let rec = dir.join("half.mp4");
    std::fs::write(&rec, &bytes[..bytes.len() / 2]).unwrap();
    let out = dir.join("out");
    let o = run(livecut().arg("analyze").arg(&rec).arg("--out").arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("truncated") && stderr.contains(&rec.display().to_string()),
        "{stderr}"
    );
    let h = read_json(&out.join("half/highlights.json"));
    let until = h["analysed_until_s"].as_f64().unwrap();
    assert!(until > 10.0 && until < 50.0, "analysed until {until}");
    for hl in h["highlights"].as_array().unwrap() {
        assert!(hl["end_s"].as_f64().unwrap() <= until + 1e-6);
    }
}
