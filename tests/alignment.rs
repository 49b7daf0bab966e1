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
    let values = order_values(&out.join("rec"));
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
    assert_eq!(
        order_values(&out.join("rec"))[17],
        1.0,
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

/// The per-second `orders` track in an analysis folder's signals.json.
fn order_values(out_dir: &std::path::Path) -> Vec<f64> {
    let signals = read_json(&out_dir.join("signals.json"));
    let tracks = signals["timelines"]["tracks"].as_array().unwrap();
    let track = tracks.iter().find(|t| t["name"] == "orders").unwrap();
    let values = track["values"].as_array().unwrap();
    values.iter().map(|v| v.as_f64().unwrap()).collect()
}

/// The seconds where the `orders` track is non-zero.
fn order_seconds(out_dir: &std::path::Path) -> Vec<usize> {
    let values = order_values(out_dir);
    (0..values.len()).filter(|&i| values[i] > 0.0).collect()
}

#[test]
fn recorder_flv_takes_its_start_from_the_danmaku_header_or_the_file_name() {
    // BililiveRecorder's FLV has no creation_time; its danmaku XML says when it started,
    // and so does its file name. Orders in Beijing time land 10 s and 20 s in.
    let dir = scratch("recorder_start");
    let rec = dir.join("录制-23058-20240903-191250-000-今晚好物.flv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100",
        "-t",
        "30",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "50",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-f",
        "flv",
        rec.to_str().unwrap(),
    ]);
    assert!(ffprobe(&rec)["format"]["tags"]["creation_time"].is_null());
    let xml = dir.join("rec.xml");
    std::fs::write(
        &xml,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<i><chatserver>chat.bilibili.com</chatserver>\
         <BililiveRecorderRecordInfo roomid=\"23058\" shortid=\"0\" name=\"n\" title=\"t\" \
         start_time=\"2024-09-03T19:12:55.0000000+08:00\" />\n\
         <d p=\"12.5,1,25,16777215,1725362000,0,abc123,1\">上链接</d>\n</i>\n",
    )
    .unwrap();
    let orders = dir.join("orders.csv");
    std::fs::write(
        &orders,
        "order_id,paid_at,sku,quantity,amount_cny\n\
         1,2024-09-03T19:13:05+08:00,SKU-A,1,99\n\
         2,2024-09-03T19:13:15+08:00,SKU-A,1,99\n",
    )
    .unwrap();
    let analyze = |name: &str, comments: Option<&std::path::Path>| {
        let out = dir.join(name);
        let mut cmd = livecut();
        cmd.arg("analyze").arg(&rec).arg("--orders").arg(&orders);
        if let Some(c) = comments {
            cmd.arg("--comments").arg(c);
        }
        let o = run(cmd
            .args(["--no-models", "--transcribe", "off", "--out"])
            .arg(&out));
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::fs::read_dir(&out)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
    };
    // The header (19:12:55) wins over the file name (19:12:50).
    let with_xml = analyze("out_xml", Some(&xml));
    let h = read_json(&with_xml.join("highlights.json"));
    let source = h["source"]["start_source"].as_str().unwrap();
    assert!(
        source.starts_with("BililiveRecorderRecordInfo start_time in "),
        "{source}"
    );
    assert_eq!(h["source"]["creation_time"], "2024-09-03T11:12:55Z");
    assert_eq!(order_seconds(&with_xml), vec![10, 20]);
    // Without the XML: the file name's 19:12:50 Beijing time.
    let by_name = analyze("out_name", None);
    let h = read_json(&by_name.join("highlights.json"));
    let source = h["source"]["start_source"].as_str().unwrap();
    assert!(
        source.starts_with("file name 录制-23058-") && source.contains("Asia/Shanghai"),
        "{source}"
    );
    assert_eq!(order_seconds(&by_name), vec![15, 25]);
}
