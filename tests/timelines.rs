//! Comment and order exports through the real binary: every format, encodings, strict
//! mode, and the bot-flood discount.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use common::*;

fn track<'a>(v: &'a serde_json::Value, name: &str) -> &'a Vec<serde_json::Value> {
    v["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no track {name}"))["values"]
        .as_array()
        .unwrap()
}

#[test]
fn jsonl_comments_and_gbk_orders_with_naive_beijing_times() {
    let dir = scratch("tl_formats");
    let comments = dir.join("live.jsonl");
    std::fs::write(
        &comments,
        "{\"t\": 5.5, \"user\": \"a\", \"text\": \"哈哈哈哈\"}\r\n\
         {\"ts\": \"2024-09-03T19:13:00+08:00\", \"user\": \"b\", \"text\": \"上链接\"}\r\n\
         {\"ts\": 1725361991000, \"user\": \"c\", \"kind\": \"gift\", \"text\": \"小心心\", \"value\": 10}\r\n\
         {\"oops\": 1}\r\n",
    )
    .unwrap();
    let orders = dir.join("orders.csv");
    let (gbk, _, _) = encoding_rs::GB18030.encode(
        "订单号,支付时间,商品ID,实付金额,买家ID\r\n\
         1,2024-09-03 19:13:05,SKU-甲,¥99.00,b1\r\n\
         2,2024-09-03 19:12:00,SKU-甲,99,b2\r\n",
    );
    std::fs::write(&orders, &gbk).unwrap();
    let out = dir.join("tracks.json");
    let o = run(livecut()
        .arg("timelines")
        .arg("--comments")
        .arg(&comments)
        .arg("--orders")
        .arg(&orders)
        .args([
            "--duration",
            "60",
            "--start",
            "2024-09-03T11:12:50Z",
            "--out",
        ])
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("gb18030"), "{stdout}");
    assert!(
        stdout.contains(&format!("{}:4:", comments.display())),
        "{stdout}"
    );
    let v = read_json(&out);
    assert_eq!(v["reports"][0]["format"], "jsonl");
    assert_eq!(v["reports"][0]["rows_used"], 3);
    assert_eq!(v["reports"][0]["rows_skipped"], 1);
    assert_eq!(track(&v, "kw_laughter")[5], 1.0);
    assert_eq!(track(&v, "kw_purchase")[10], 1.0);
    assert_eq!(track(&v, "gifts")[21], 1.0); // epoch ms 1725361991000 = 11:13:11Z
    assert_eq!(v["reports"][1]["encoding"], "gb18030");
    assert_eq!(v["reports"][1]["naive_time_zone"], "Asia/Shanghai");
    assert_eq!(v["reports"][1]["before_start"], 1);
    assert_eq!(track(&v, "orders")[15], 1.0);
    assert_eq!(track(&v, "sku:SKU-甲")[15], 1.0);
}

#[test]
fn strict_mode_fails_on_the_first_bad_row_with_file_and_line() {
    let dir = scratch("tl_strict");
    let comments = dir.join("c.csv");
    std::fs::write(&comments, "t,user,text\n1,a,ok\nnot-a-time,b,bad\n").unwrap();
    let base = |strict: bool| {
        let mut cmd = livecut();
        cmd.arg("timelines")
            .arg("--comments")
            .arg(&comments)
            .args(["--duration", "60"]);
        if strict {
            cmd.arg("--strict");
        }
        run(&mut cmd)
    };
    assert_eq!(base(false).status.code(), Some(0));
    let o = base(true);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(&format!("{}:3:", comments.display())),
        "{stderr}"
    );
}

#[test]
fn bot_flood_beside_a_genuine_burst_through_the_binary() {
    // 2 accounts posting the same text 9/s for 20 s at 100–120 s; 200 accounts with
    // varied text 6/s at 200–220 s; light chatter throughout.
    let dir = scratch("tl_flood");
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<i>\n");
    let mut id = 0;
    let mut row = |t: f64, user: &str, text: &str| {
        id += 1;
        xml.push_str(&format!(
            "<d p=\"{t:.3},1,25,16777215,0,0,{user},{id}\">{text}</d>\n"
        ));
    };
    for s in (0..300).step_by(2) {
        row(
            s as f64 + 0.3,
            &format!("bg{}", s % 37),
            &format!("聊天{s}"),
        );
    }
    for k in 0..180 {
        row(
            100.0 + k as f64 / 9.0,
            if k % 2 == 0 { "bot1" } else { "bot2" },
            "关注主播领红包",
        );
    }
    let texts = [
        "太好看了",
        "多少钱",
        "买了买了",
        "链接在哪",
        "哈哈哈",
        "颜色绝了",
        "已拍",
        "冲冲冲",
    ];
    for k in 0..120 {
        row(
            200.0 + k as f64 / 6.0,
            &format!("fan{}", k * 7 % 200),
            &format!("{}{k}", texts[k % 8]),
        );
    }
    xml.push_str("</i>\n");
    let comments = dir.join("c.xml");
    std::fs::write(&comments, xml).unwrap();
    let out = dir.join("tracks.json");
    let o = run(livecut()
        .arg("timelines")
        .arg("--comments")
        .arg(&comments)
        .args(["--duration", "300", "--out"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("bot flood"));
    let v = read_json(&out);
    let spans = v["reports"][0]["spam_spans"].as_array().unwrap();
    assert_eq!(spans.len(), 1, "{spans:?}");
    let (s, e) = (
        spans[0]["start_s"].as_f64().unwrap(),
        spans[0]["end_s"].as_f64().unwrap(),
    );
    assert!(
        s <= 101.0 && e >= 119.0 && s >= 94.0 && e <= 126.0,
        "{s}–{e}"
    );
    let spam = track(&v, "spam");
    assert!(spam[195..226].iter().all(|x| x.as_f64().unwrap() == 0.0));
}
