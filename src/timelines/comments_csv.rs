//! Comments as CSV with a header. Column names are matched case-insensitively; common
//! Chinese headers (时间/用户/内容) are recognised. Times may be relative seconds, clock
//! offsets (`00:12:03`) or absolute (see `times.rs`).

use std::path::Path;

use super::csvrows::{column, next_row};
use super::times::{offset_s, parse_row_time};
use super::{Comment, CommentKind, Emit, ParseReport, ReadContext, TextReader, TimelineError};

const TIME: &[&str] = &[
    "t",
    "time",
    "time_s",
    "offset",
    "timestamp",
    "ts",
    "时间",
    "发送时间",
    "弹幕时间",
    "created_at",
];
const USER: &[&str] = &[
    "user",
    "uid",
    "user_id",
    "username",
    "nickname",
    "用户",
    "用户名",
    "昵称",
    "用户id",
];
const TEXT: &[&str] = &[
    "text",
    "content",
    "comment",
    "message",
    "msg",
    "内容",
    "弹幕",
    "评论",
    "弹幕内容",
];
const KIND: &[&str] = &["kind", "type", "类型", "event"];
const VALUE: &[&str] = &["value", "price", "amount", "金额", "价值", "count"];

pub(super) fn read(
    path: &Path,
    text: TextReader,
    ctx: &ReadContext,
    emit: &mut Emit<'_>,
) -> Result<ParseReport, TimelineError> {
    let mut report = ParseReport::new(path, "comments-csv", text.encoding, ctx.strict);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text);
    let headers = rdr
        .headers()
        .map_err(|e| format_err(path, 1, format!("cannot read the header row: {e}")))?
        .clone();
    let find = |names: &[&str]| column(&headers, names);
    let Some(time_col) = find(TIME) else {
        return Err(format_err(
            path,
            1,
            format!(
                "no time column among {:?} (known names: {})",
                headers.iter().collect::<Vec<_>>(),
                TIME.join(", ")
            ),
        ));
    };
    let (user_col, text_col, kind_col, value_col) =
        (find(USER), find(TEXT), find(KIND), find(VALUE));
    let mut record = csv::StringRecord::new();
    while let Some(line) = next_row(&mut rdr, &mut record, &mut report)? {
        let raw_time = record.get(time_col).unwrap_or("");
        let time = match parse_row_time(raw_time, &ctx.tz) {
            Ok(t) => t,
            Err(e) => {
                report.skip(line, e)?;
                continue;
            }
        };
        let kind = match kind_col.and_then(|c| record.get(c)).map(CommentKind::parse) {
            None => CommentKind::Comment,
            Some(Some(k)) => k,
            Some(None) => {
                report.skip(line, "unknown kind")?;
                continue;
            }
        };
        let t = offset_s(time, ctx.start, &ctx.tz, path, &mut report)?;
        let get = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("").to_string();
        emit(
            &mut report,
            Comment {
                t,
                user: get(user_col),
                text: get(text_col),
                kind,
                value: value_col
                    .and_then(|c| record.get(c))
                    .and_then(|v| v.parse::<f64>().ok())
                    .filter(|v| v.is_finite()),
            },
        );
    }
    Ok(report)
}

fn format_err(path: &Path, line: u64, message: String) -> TimelineError {
    TimelineError::Format {
        path: path.to_path_buf(),
        line,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::{collect, ctx, write};
    use super::*;

    #[test]
    fn chinese_headers_relative_and_absolute_times() {
        let f = write(
            "时间,用户,内容,类型\r\n\
             00:00:12.5,小明,\"上链接, 快\",弹幕\r\n\
             2024-09-03 19:13:00,小红,哈哈哈,\r\n\
             garbage,x,y,\r\n\
             1725361990,u,礼物来了,gift\r\n",
        );
        let (c, r) = collect(f.path(), &ctx(100.0)).unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!((c[0].t, c[0].text.as_str()), (10.0, "哈哈哈"));
        assert_eq!(
            (c[1].t, c[1].text.as_str(), c[1].user.as_str()),
            (12.5, "上链接, 快", "小明")
        );
        assert_eq!((c[2].t, c[2].kind), (20.0, CommentKind::Gift));
        assert_eq!(r.skipped_examples[0].line, 4);
        assert_eq!(r.format, "comments-csv");
    }

    #[test]
    fn gbk_csv() {
        let (gbk, _, _) = encoding_rs::GB18030.encode("时间,内容\n5,买了买了\n");
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), &gbk).unwrap();
        let (c, r) = collect(f.path(), &ctx(100.0)).unwrap();
        assert_eq!(c[0].text, "买了买了");
        assert_eq!(r.encoding, "gb18030");
    }
}
