#![no_main]
//! Fuzz the comment reader in the Csv format: any bytes must parse or fail cleanly.

use libfuzzer_sys::fuzz_target;
use livecut::timelines::{read_comments_from, CommentFormat, ReadContext, TextReader, TimeZone};

fuzz_target!(|data: &[u8]| {
    let ctx = ReadContext {
        start: "2024-09-03T11:12:50Z".parse().ok(),
        tz: TimeZone::get("Asia/Shanghai").unwrap_or(TimeZone::UTC),
        duration_s: 3600.0,
        strict: false,
    };
    let text = TextReader::from_bytes(data.to_vec());
    let path = std::path::Path::new("fuzz-input");
    let _ = read_comments_from(path, text, Some(CommentFormat::Csv), &ctx, &mut |_| {});
});
