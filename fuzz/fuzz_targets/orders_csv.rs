#![no_main]
//! Fuzz the order CSV reader: any bytes must parse or fail cleanly.

use libfuzzer_sys::fuzz_target;
use livecut::timelines::{read_orders_from, ReadContext, TextReader, TimeZone};

fuzz_target!(|data: &[u8]| {
    let ctx = ReadContext {
        start: "2024-09-03T11:12:50Z".parse().ok(),
        tz: TimeZone::get("Asia/Shanghai").unwrap_or(TimeZone::UTC),
        duration_s: 3600.0,
        strict: false,
    };
    let text = TextReader::from_bytes(data.to_vec());
    let _ = read_orders_from(std::path::Path::new("fuzz-input"), text, &ctx, &mut |_| {});
});
