//! `livecut platforms`: the preset table, and `[platforms.NAME]` overrides from a profile.

mod common;

use common::{livecut, run, scratch};

const NAMES: [&str; 10] = [
    "douyin",
    "kuaishou",
    "tiktok",
    "youtube-shorts",
    "instagram-reels",
    "wechat-channels",
    "xiaohongshu",
    "bilibili",
    "landscape",
    "source",
];

#[test]
fn platforms_lists_every_preset_with_its_sources() {
    let out = run(livecut().arg("platforms"));
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    for name in NAMES {
        let rows = stdout
            .lines()
            .filter(|l| l.starts_with(&format!("{name} ")))
            .count();
        assert_eq!(rows, 1, "{name} table row in:\n{stdout}");
        assert!(
            stdout.contains(&format!("  {name} (")),
            "{name} sources line in:\n{stdout}"
        );
    }
    assert!(stdout.contains("1080x1920") && stdout.contains("1920x1080"));
}

#[test]
fn profile_overrides_show_up_and_bad_keys_are_usage_errors() {
    let dir = scratch("platforms");
    let good = dir.join("good.toml");
    std::fs::write(&good, "[platforms.douyin]\nvideo_bitrate_kbps = 5500\n").unwrap();
    let out = run(livecut().args(["platforms", "--profile"]).arg(&good));
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let douyin = stdout
        .lines()
        .find(|l| l.starts_with("douyin "))
        .expect("douyin row");
    assert!(douyin.contains("5500"), "{douyin}");

    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[platforms.douyin]\nvideo_bitrat_kbps = 5500\n").unwrap();
    let out = run(livecut().args(["platforms", "--profile"]).arg(&bad));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("douyin") && stderr.contains("video_bitrat_kbps"),
        "{stderr}"
    );
}
