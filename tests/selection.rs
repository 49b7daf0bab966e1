//! Fusion and selection on labelled sessions (fixtures/make_session.py): decoys alone never
//! yield a highlight, a quiet product demonstration with a small order bump does, a calm
//! session yields at most two, a lottery stays an interaction when the host moves and
//! orders trickle in, and `livecut eval` scores a random session.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use common::*;
use serde_json::Value;

/// `livecut analyze` with comments and orders; returns highlights.json.
fn analyze(s: &Session, name: &str) -> Value {
    let out = scratch(name);
    let o = run(livecut()
        .arg("analyze")
        .arg(&s.mp4)
        .arg("--comments")
        .arg(&s.comments)
        .arg("--orders")
        .arg(&s.orders)
        .arg("--out")
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    read_json(&out.join("session/highlights.json"))
}

fn highlights(h: &Value) -> &Vec<Value> {
    h["highlights"].as_array().unwrap()
}

#[test]
fn a_bot_flood_alone_yields_no_highlight() {
    let s = session(11, 120, "bot_flood@50");
    let h = analyze(&s, "sel_bot_flood");
    assert!(highlights(&h).is_empty(), "{:#}", h["highlights"]);
    // The flood was seen and discounted, not missed.
    let spans = h["timelines"][0]["spam_spans"].as_array().unwrap();
    assert!(!spans.is_empty(), "no spam span reported");
}

#[test]
fn a_loud_intermission_card_yields_no_highlight() {
    let s = session(12, 120, "brb@45");
    let h = analyze(&s, "sel_brb");
    assert!(highlights(&h).is_empty(), "{:#}", h["highlights"]);
    let flagged = h["flagged"].as_array().unwrap();
    assert!(
        flagged.iter().any(|f| f["kind"] == "intermission"),
        "{flagged:?}"
    );
}

#[test]
fn a_glitch_yields_no_highlight() {
    let s = session(13, 120, "glitch@60");
    let h = analyze(&s, "sel_glitch");
    assert!(highlights(&h).is_empty(), "{:#}", h["highlights"]);
    let flagged = h["flagged"].as_array().unwrap();
    assert!(flagged.iter().any(|f| f["kind"] == "glitch"), "{flagged:?}");
}

#[test]
fn a_quiet_demo_with_an_order_bump_is_a_product_highlight() {
    let s = session(14, 120, "calm_demo@45");
    let h = analyze(&s, "sel_calm_demo");
    let m = &s.truth["moments"][0];
    let (ms, me) = (m["start_s"].as_f64().unwrap(), m["end_s"].as_f64().unwrap());
    let hs = highlights(&h);
    assert!(!hs.is_empty(), "the calm demo was not picked");
    let top = &hs[0];
    let (s0, e0) = (
        top["start_s"].as_f64().unwrap(),
        top["end_s"].as_f64().unwrap(),
    );
    assert!(
        e0.min(me) - s0.max(ms) >= 0.5 * (me - ms),
        "top highlight {s0}–{e0} misses the demo {ms}–{me}"
    );
    assert_eq!(top["type"], "product", "{top:#}");
    let sku = format!("sku:{}", m["sku"].as_str().unwrap());
    assert!(
        top["tags"].as_array().unwrap().iter().any(|t| t == &sku),
        "{top:#}"
    );
    // Host motion is among the reasons: it is not a loud-only pick.
    assert!(
        top["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["signal"] == "host_motion"),
        "{top:#}"
    );
}

#[test]
fn a_calm_session_yields_at_most_two_highlights() {
    // No true moment: the host talks, chatter and the usual orders, and whatever decoys
    // the calm style draws for this seed.
    let s = session_with(16, 240, "", &["--style", "calm"]);
    assert!(s.truth["moments"].as_array().unwrap().is_empty());
    let h = analyze(&s, "sel_calm");
    assert!(highlights(&h).len() <= 2, "{:#}", h["highlights"]);
}

#[test]
fn a_lottery_with_a_waving_host_and_trickling_orders_is_an_interaction() {
    // The widened lottery: 抽我/选我/求中... from mostly new viewers, the host waving far
    // beyond the idle sway, a few orders of random SKUs coming in.
    let s = session_with(15, 120, "lottery@40", &["--style", "varied"]);
    let h = analyze(&s, "sel_varied_lottery");
    let hs = highlights(&h);
    assert_eq!(hs.len(), 1, "{:#}", h["highlights"]);
    assert_eq!(hs[0]["type"], "interaction", "{:#}", hs[0]);
}

#[test]
fn eval_scores_a_random_session_against_the_baseline() {
    let s = session(21, 240, "");
    let out = scratch("sel_eval");
    let o = run(livecut()
        .arg("eval")
        .arg(s.dir.join("session.truth.json"))
        .arg("--out")
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("| livecut |") && table.contains("| baseline |"));
    let r = read_json(&out.join("eval.json"));
    let l = &r["livecut"];
    let n = |v: &Value| v.as_u64().unwrap();
    let moments = n(&l["moments"]);
    assert_eq!(moments, s.truth["moments"].as_array().unwrap().len() as u64);
    assert!(moments >= 2, "{:#}", s.truth);
    assert_eq!(n(&l["matched"]), moments, "{l:#}");
    assert_eq!(n(&l["decoy_hits"]), 0, "{l:#}");
    assert_eq!(n(&l["boundaries_in_speech"]), 0, "{l:#}");
    assert_eq!(n(&l["type_correct"]), n(&l["typed"]), "{l:#}");
    // As many picks as stand out: here, the true moments and nothing else.
    assert_eq!(n(&l["picks"]), moments, "{l:#}");
    // The baseline ran on the same tracks and returned its fixed K windows, K = the
    // session's true moments.
    let b = &r["baseline"];
    assert_eq!(n(&b["picks"]), moments);
    assert_eq!(n(&r["k"]), 0, "K per session");
    for p in r["sessions"][0]["baseline_picks"].as_array().unwrap() {
        let len = p["end_s"].as_f64().unwrap() - p["start_s"].as_f64().unwrap();
        assert!((len - 30.0).abs() < 1e-9);
    }
}
