//! `livecut tune` with simulated editors: a sales team that publishes product demos and
//! flash sales and rejects lotteries and laughter. Four labelled sessions (each with two
//! of each) are analysed with the built-in profile, the editors' decisions are made from
//! the sessions' truth (approve the sale moments livecut found, reject the others, add the
//! sale moments it missed), and `livecut tune` must beat the built-in profile on held-out
//! recordings (leave-one-recording-out) and write a profile `analyze` accepts.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use common::*;
use serde_json::{json, Value};

const LAYOUTS: [&str; 4] = [
    "flash_sale@30,lottery@80,calm_demo@130,laughter@185",
    "laughter@30,product_demo@80,lottery@130,flash_sale@185",
    "lottery@30,flash_sale@80,laughter@130,calm_demo@185",
    "calm_demo@30,laughter@80,flash_sale@130,lottery@185",
];

fn wanted(kind: &str) -> bool {
    matches!(kind, "flash_sale" | "calm_demo" | "product_demo")
}

fn overlap(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.1.min(b.1) - a.0.max(b.0)).max(0.0)
}

#[test]
fn a_sales_teams_decisions_tune_a_profile_that_beats_the_built_in_one_held_out() {
    let out = scratch("tune");
    let mut dirs = Vec::new();
    for (i, layout) in LAYOUTS.iter().enumerate() {
        let s = session(60 + i as u32, 240, layout);
        let dir = out.join(format!("s{i}"));
        let o = run(livecut()
            .arg("analyze")
            .arg(&s.mp4)
            .arg("--comments")
            .arg(&s.comments)
            .arg("--orders")
            .arg(&s.orders)
            .arg("--out")
            .arg(&dir));
        assert_eq!(o.status.code(), Some(0));
        let stem = dir.join("session");
        let h = read_json(&stem.join("highlights.json"));
        let moments: Vec<(String, (f64, f64))> = s.truth["moments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["kind"].as_str().unwrap().to_string(),
                    (m["start_s"].as_f64().unwrap(), m["end_s"].as_f64().unwrap()),
                )
            })
            .collect();
        let mut decisions = Vec::new();
        let mut found = vec![false; moments.len()];
        for hl in h["highlights"].as_array().unwrap() {
            let span = (
                hl["start_s"].as_f64().unwrap(),
                hl["end_s"].as_f64().unwrap(),
            );
            let hit = moments.iter().position(|(_, m)| overlap(span, *m) > 0.0);
            let approve = hit.is_some_and(|k| wanted(&moments[k].0));
            if let Some(k) = hit {
                found[k] = true;
            }
            decisions.push(json!({
                "rank": hl["rank"], "decision": if approve { "approve" } else { "reject" },
                "reason": if approve { Value::Null } else { json!("not a sales moment") },
                "editor": "sim", "at": "2026-12-05T00:00:00Z",
            }));
        }
        let added: Vec<Value> = moments
            .iter()
            .zip(&found)
            .filter(|((kind, _), f)| wanted(kind) && !**f)
            .enumerate()
            .map(|(k, ((_, (a, b)), _))| json!({"id": k + 1, "start_s": a, "end_s": b, "editor": "sim", "at": "2026-12-05T00:00:00Z"}))
            .collect();
        for d in decisions.iter_mut() {
            if d["reason"].is_null() {
                d.as_object_mut().unwrap().remove("reason");
            }
        }
        let review = json!({"schema_version": 1, "version": 1, "highlights": decisions, "added": added, "subtitles": []});
        assert!(validate_json(&review, &root().join("schema/review.schema.json")).is_empty());
        std::fs::write(
            stem.join("review.json"),
            serde_json::to_vec_pretty(&review).unwrap(),
        )
        .unwrap();
        dirs.push(dir);
    }

    let profile = out.join("team.toml");
    let o = run(livecut().arg("tune").args(&dirs).arg("--out").arg(&profile));
    let table = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(0), "{table}");
    // The held-out totals: tuned precision above the built-in one, recall not below.
    let all = table.lines().find(|l| l.starts_with("| all ")).unwrap();
    let cells: Vec<f64> = all
        .split('|')
        .skip(2)
        .take(4)
        .map(|c| c.trim().split(' ').next().unwrap().parse().unwrap())
        .collect();
    let (b_recall, b_precision, t_recall, t_precision) = (cells[0], cells[1], cells[2], cells[3]);
    assert!(t_recall >= b_recall, "{table}");
    assert!(t_precision > b_precision, "{table}");
    // The profile is one `analyze` takes.
    let s = session(60, 240, LAYOUTS[0]);
    let o = run(livecut()
        .arg("analyze")
        .arg(&s.mp4)
        .arg("--comments")
        .arg(&s.comments)
        .arg("--orders")
        .arg(&s.orders)
        .arg("--profile")
        .arg(&profile)
        .arg("--out")
        .arg(out.join("with-profile")));
    assert_eq!(o.status.code(), Some(0));
}
