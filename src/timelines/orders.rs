//! Order exports (CSV with a header). Column names differ between platforms; the usual
//! English and Chinese names are recognised case-insensitively. Times may be ISO-8601 with
//! an offset, naive local times (interpreted in `tz`), or epoch seconds/milliseconds.

use std::path::Path;

use jiff::{civil, tz::TimeZone, Timestamp};

use super::{Order, ParseReport, TimelineError};

const TIME_COLUMNS: &[&str] = &[
    "paid_at",
    "pay_time",
    "payment_time",
    "paid_time",
    "支付时间",
    "付款时间",
    "下单时间",
    "created_at",
    "order_time",
    "time",
    "timestamp",
    "时间",
];
const AMOUNT_COLUMNS: &[&str] = &[
    "amount_cny",
    "amount",
    "实付金额",
    "支付金额",
    "paid_amount",
    "金额",
    "price",
    "gmv",
];
const SKU_COLUMNS: &[&str] = &[
    "sku",
    "sku_id",
    "商品id",
    "商品ID",
    "product_id",
    "商品",
    "item_id",
];
const QTY_COLUMNS: &[&str] = &["quantity", "qty", "数量", "购买数量", "count"];

/// Parse an orders CSV and align it to the recording: `start` is the instant of the
/// recording's first presentation time.
pub fn parse_orders(
    path: &Path,
    start: Option<Timestamp>,
    tz: &TimeZone,
    duration_s: f64,
) -> Result<(Vec<Order>, ParseReport), TimelineError> {
    let bytes = std::fs::read(path).map_err(|source| TimelineError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim_start_matches('\u{feff}');
    let format_err = |line: u64, message: String| TimelineError::Format {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| format_err(1, format!("cannot read the header row: {e}")))?
        .clone();
    let find = |names: &[&str]| {
        headers.iter().position(|h| {
            let h = h.trim().to_lowercase();
            names.iter().any(|n| n.to_lowercase() == h)
        })
    };
    let time_col = find(TIME_COLUMNS).ok_or_else(|| {
        format_err(
            1,
            format!(
                "no order time column among {:?} (known names: {})",
                headers.iter().collect::<Vec<_>>(),
                TIME_COLUMNS.join(", ")
            ),
        )
    })?;
    let amount_col = find(AMOUNT_COLUMNS);
    let sku_col = find(SKU_COLUMNS);
    let qty_col = find(QTY_COLUMNS);

    let mut report = ParseReport::new(path.to_path_buf(), "orders-csv");
    let mut orders = Vec::new();
    for record in rdr.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                report.skip(line, format!("unreadable CSV row: {e}"));
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(|f| f.is_empty()) {
            continue;
        }
        let Some(raw_time) = record.get(time_col) else {
            report.skip(line, "missing time field");
            continue;
        };
        let instant = match parse_instant(raw_time, tz) {
            Ok((ts, naive)) => {
                if naive && report.naive_time_zone.is_none() {
                    report.naive_time_zone =
                        Some(tz.iana_name().unwrap_or("fixed offset").to_string());
                }
                ts
            }
            Err(reason) => {
                report.skip(line, reason);
                continue;
            }
        };
        let Some(start) = start else {
            return Err(TimelineError::NoRecordingStart {
                path: path.to_path_buf(),
            });
        };
        let amount = match amount_col.and_then(|c| record.get(c)) {
            None | Some("") => 0.0,
            Some(a) => match parse_amount(a) {
                Some(v) => v,
                None => {
                    report.skip(line, format!("bad amount {a:?}"));
                    continue;
                }
            },
        };
        let quantity = qty_col
            .and_then(|c| record.get(c))
            .and_then(|q| q.parse::<u32>().ok())
            .unwrap_or(1);
        let sku = sku_col
            .and_then(|c| record.get(c))
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let t = instant.duration_since(start).as_secs_f64();
        if report.place(t, duration_s) {
            orders.push(Order {
                t,
                sku,
                quantity,
                amount,
            });
        }
    }
    orders.sort_by(|a, b| a.t.total_cmp(&b.t));
    Ok((orders, report))
}

fn parse_amount(s: &str) -> Option<f64> {
    let cleaned: String = s
        .chars()
        .filter(|c| !matches!(c, '¥' | '￥' | ',' | ' ' | '$'))
        .collect();
    let cleaned = cleaned.trim_end_matches('元');
    cleaned.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Parse an absolute time. Returns the instant and whether it was a naive local time.
pub fn parse_instant(raw: &str, tz: &TimeZone) -> Result<(Timestamp, bool), String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("empty time".into());
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let v: f64 = s.parse().map_err(|_| format!("bad epoch time {s:?}"))?;
        // Epoch milliseconds are 13 digits for any date after 2001.
        let secs = if v > 1e11 { v / 1000.0 } else { v };
        let ts = Timestamp::from_duration(jiff::SignedDuration::from_secs_f64(secs))
            .map_err(|e| format!("bad epoch time {s:?}: {e}"))?;
        return Ok((ts, false));
    }
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Ok((ts, false));
    }
    let normalized = s.replace('/', "-");
    match normalized.parse::<civil::DateTime>() {
        Ok(dt) => tz
            .to_timestamp(dt)
            .map(|ts| (ts, true))
            .map_err(|e| format!("bad local time {s:?}: {e}")),
        Err(_) => Err(format!(
            "unrecognised time {s:?} (expected ISO-8601, local 'YYYY-MM-DD HH:MM:SS' or epoch)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(content: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(content.as_bytes()).unwrap();
        f
    }

    fn shanghai() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }

    #[test]
    fn beijing_offset_aligns_with_utc_creation_time() {
        // creation_time 11:12:50Z; an order 10 s later in Beijing time is at t = 10 s.
        let start: Timestamp = "2024-09-03T11:12:50Z".parse().unwrap();
        let f = write(
            "order_id,paid_at,sku,quantity,amount_cny\n\
             1,2024-09-03T19:13:00+08:00,SKU-A,1,99.00\n\
             2,2024-09-03T19:12:40+08:00,SKU-A,1,99.00\n\
             3,not a time,SKU-A,1,99\n\
             4,2024-09-03T23:00:00+08:00,SKU-B,2,10\n\
             5,2024-09-03 19:13:05,SKU-B,2,\"¥1,000.50\"\n",
        );
        let (orders, report) = parse_orders(f.path(), Some(start), &shanghai(), 300.0).unwrap();
        assert_eq!(orders.len(), 1 + 1, "{report:?}");
        assert!((orders[0].t - 10.0).abs() < 1e-9);
        assert_eq!(orders[0].sku.as_deref(), Some("SKU-A"));
        assert!((orders[1].t - 15.0).abs() < 1e-9);
        assert_eq!(orders[1].amount, 1000.5);
        assert_eq!(orders[1].quantity, 2);
        assert_eq!(report.before_start, 1);
        assert_eq!(report.after_end, 1);
        assert_eq!(report.rows_skipped, 1);
        assert_eq!(report.skipped_examples[0].line, 4);
    }

    #[test]
    fn chinese_headers_naive_and_epoch_times() {
        let start: Timestamp = "2024-09-03T11:12:50Z".parse().unwrap();
        let f = write("订单号,支付时间,商品ID,实付金额\na,2024/09/03 19:13:20,X,¥9.9\nb,1725362000000,Y,5\nc,1725362001,Y,5\n");
        let (orders, report) = parse_orders(f.path(), Some(start), &shanghai(), 300.0).unwrap();
        assert_eq!(report.rows_skipped, 0, "{report:?}");
        let ts: Vec<f64> = orders.iter().map(|o| o.t).collect();
        assert_eq!(ts, vec![30.0, 30.0, 31.0]);
        assert!((orders.iter().map(|o| o.amount).sum::<f64>() - 19.9).abs() < 1e-9);
        assert_eq!(report.naive_time_zone.as_deref(), Some("Asia/Shanghai"));
    }

    #[test]
    fn absolute_times_without_a_start_are_refused() {
        let f = write("paid_at,amount\n2024-09-03T19:13:00+08:00,1\n");
        let err = parse_orders(f.path(), None, &shanghai(), 300.0).unwrap_err();
        assert!(matches!(err, TimelineError::NoRecordingStart { .. }));
        assert!(err.to_string().contains("--start"));
    }

    #[test]
    fn missing_time_column_names_file_and_line() {
        let f = write("a,b\n1,2\n");
        let err = parse_orders(f.path(), None, &shanghai(), 300.0)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("{}:1:", f.path().display())), "{err}");
    }
}
