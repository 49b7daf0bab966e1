//! Order exports (CSV with a header, UTF-8 or GBK). Column names differ between platforms;
//! the usual English and Chinese names are recognised case-insensitively. Times may be
//! ISO-8601 with an offset, naive local times (read in the context's zone), or epoch
//! seconds/milliseconds; they are aligned through the recording's start instant.

use std::path::Path;

use super::csvrows::{column, missing_column, next_row, with_headers};
use super::times::{offset_s, parse_instant, RowTime};
use super::{Order, ParseReport, ReadContext, TextReader, TimelineError};

const TIME_COLUMNS: &[&str] = &[
    "paid_at",
    "pay_time",
    "payment_time",
    "paid_time",
    "支付时间",
    "付款时间",
    "下单时间",
    "创建时间",
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
    "实付款",
    "paid_amount",
    "金额",
    "price",
    "gmv",
];
const SKU_COLUMNS: &[&str] = &[
    "sku",
    "sku_id",
    "skuid",
    "商品id",
    "product_id",
    "商品编码",
    "商品",
    "item_id",
    "商品名称",
];
const QTY_COLUMNS: &[&str] = &["quantity", "qty", "数量", "购买数量", "商品数量", "count"];
const BUYER_COLUMNS: &[&str] = &[
    "buyer",
    "buyer_id",
    "user_id",
    "uid",
    "customer_id",
    "买家",
    "买家id",
    "用户id",
    "买家昵称",
];

/// Read an orders CSV into `sink`, row by row.
pub fn read_orders(
    path: &Path,
    ctx: &ReadContext,
    sink: &mut dyn FnMut(Order),
) -> Result<ParseReport, TimelineError> {
    read_orders_from(path, TextReader::open(path)?, ctx, sink)
}

/// Read orders from `text` (named `path` in messages).
pub fn read_orders_from(
    path: &Path,
    text: TextReader,
    ctx: &ReadContext,
    sink: &mut dyn FnMut(Order),
) -> Result<ParseReport, TimelineError> {
    let mut report = ParseReport::new(path, "orders-csv", text.encoding, ctx.strict);
    let (mut rdr, headers) = with_headers(path, text)?;
    let find = |names: &[&str]| column(&headers, names);
    let time_col = find(TIME_COLUMNS)
        .ok_or_else(|| missing_column(path, &headers, "order time", TIME_COLUMNS))?;
    let amount_col = find(AMOUNT_COLUMNS);
    let sku_col = find(SKU_COLUMNS);
    let qty_col = find(QTY_COLUMNS);
    let buyer_col = find(BUYER_COLUMNS);

    let mut record = csv::StringRecord::new();
    while let Some(line) = next_row(&mut rdr, &mut record, &mut report)? {
        let raw_time = record.get(time_col).unwrap_or("");
        let time = match parse_instant(raw_time, &ctx.tz) {
            Ok((at, naive)) => RowTime::Absolute { at, naive },
            Err(reason) => {
                report.skip(line, reason)?;
                continue;
            }
        };
        let amount = match amount_col.and_then(|c| record.get(c)) {
            None | Some("") => 0.0,
            Some(a) => match parse_amount(a) {
                Some(v) => v,
                None => {
                    report.skip(line, format!("bad amount {a:?}"))?;
                    continue;
                }
            },
        };
        let quantity = qty_col
            .and_then(|c| record.get(c))
            .and_then(|q| q.parse::<u32>().ok())
            .unwrap_or(1);
        let field = |c: Option<usize>| {
            c.and_then(|c| record.get(c))
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let t = offset_s(time, ctx.start, &ctx.tz, path, &mut report)?;
        if report.place(t, ctx.duration_s) {
            sink(Order {
                t,
                sku: field(sku_col),
                buyer: field(buyer_col),
                quantity,
                amount,
            });
        }
    }
    Ok(report)
}

pub(super) fn parse_amount(s: &str) -> Option<f64> {
    let cleaned: String = s
        .chars()
        .filter(|c| !matches!(c, '¥' | '￥' | ',' | ' ' | '$'))
        .collect();
    let cleaned = cleaned.trim_end_matches('元');
    cleaned.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::{ctx, write};
    use super::*;

    fn collect(path: &Path, ctx: &ReadContext) -> Result<(Vec<Order>, ParseReport), TimelineError> {
        let mut out = Vec::new();
        let report = read_orders(path, ctx, &mut |o| out.push(o))?;
        out.sort_by(|a, b| a.t.total_cmp(&b.t));
        Ok((out, report))
    }

    #[test]
    fn beijing_offset_aligns_with_utc_creation_time() {
        // creation_time 11:12:50Z; an order 10 s later in Beijing time is at t = 10 s.
        let f = write(
            "order_id,paid_at,sku,quantity,amount_cny,buyer_id\r\n\
             1,2024-09-03T19:13:00+08:00,SKU-A,1,99.00,b1\r\n\
             2,2024-09-03T19:12:40+08:00,SKU-A,1,99.00,b2\r\n\
             3,not a time,SKU-A,1,99,b3\r\n\
             4,2024-09-03T23:00:00+08:00,SKU-B,2,10,b4\r\n\
             5,2024-09-03 19:13:05,SKU-B,2,\"¥1,000.50\",b5\r\n",
        );
        let (orders, report) = collect(f.path(), &ctx(300.0)).unwrap();
        assert_eq!(orders.len(), 2, "{report:?}");
        assert!((orders[0].t - 10.0).abs() < 1e-9);
        assert_eq!(orders[0].sku.as_deref(), Some("SKU-A"));
        assert_eq!(orders[0].buyer.as_deref(), Some("b1"));
        assert!((orders[1].t - 15.0).abs() < 1e-9);
        assert_eq!(orders[1].amount, 1000.5);
        assert_eq!(orders[1].quantity, 2);
        assert_eq!(report.before_start, 1);
        assert_eq!(report.after_end, 1);
        assert_eq!(report.rows_skipped, 1);
        assert_eq!(report.skipped_examples[0].line, 4);
    }

    #[test]
    fn gbk_chinese_headers_naive_and_epoch_times() {
        let csv = "订单号,支付时间,商品ID,实付金额\na,2024/09/03 19:13:20,X,¥9.9\nb,1725362000000,Y,5\nc,1725362001,Y,5\n";
        let (gbk, _, _) = encoding_rs::GB18030.encode(csv);
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), &gbk).unwrap();
        let (orders, report) = collect(f.path(), &ctx(300.0)).unwrap();
        assert_eq!(report.rows_skipped, 0, "{report:?}");
        assert_eq!(report.encoding, "gb18030");
        let ts: Vec<f64> = orders.iter().map(|o| o.t).collect();
        assert_eq!(ts, vec![30.0, 30.0, 31.0]);
        assert!((orders.iter().map(|o| o.amount).sum::<f64>() - 19.9).abs() < 1e-9);
        assert_eq!(report.naive_time_zone.as_deref(), Some("Asia/Shanghai"));
    }

    #[test]
    fn absolute_times_without_a_start_are_refused() {
        let f = write("paid_at,amount\n2024-09-03T19:13:00+08:00,1\n");
        let mut c = ctx(300.0);
        c.start = None;
        let err = collect(f.path(), &c).unwrap_err();
        assert!(matches!(err, TimelineError::NoRecordingStart { .. }));
        assert!(err.to_string().contains("--start"));
    }

    #[test]
    fn missing_time_column_and_empty_file_name_file_and_line() {
        let f = write("a,b\n1,2\n");
        let err = collect(f.path(), &ctx(300.0)).unwrap_err().to_string();
        assert!(err.contains(&format!("{}:1:", f.path().display())), "{err}");
        let f = write("");
        let err = collect(f.path(), &ctx(300.0)).unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn strict_mode() {
        let f = write("paid_at,amount\n2024-09-03T19:13:00+08:00,1\nbad,1\n");
        let mut c = ctx(300.0);
        c.strict = true;
        let err = collect(f.path(), &c).unwrap_err().to_string();
        assert!(err.contains(":3:") && err.contains("--strict"), "{err}");
    }
}
