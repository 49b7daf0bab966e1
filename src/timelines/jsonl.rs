//! livecut's JSON Lines comment format, the target for Douyin/Kuaishou/TikTok/Taobao
//! exporters. One object per line:
//!
//! ```text
//! {"t": 12.5, "user": "u1", "text": "上链接", "kind": "comment"}
//! {"ts": "2024-09-03T19:13:00+08:00", "user": "u2", "kind": "gift", "text": "小心心", "value": 10}
//! {"ts": 1725361980000, "user": "u3", "kind": "like", "value": 30}
//! ```
//!
//! `t` is seconds from the video start; `ts` an absolute time (ISO-8601, naive local time
//! read in `--tz`, or epoch seconds/milliseconds). `kind` is one of comment (default),
//! gift, like, follow, enter, super_chat, membership; `value` is optional (money or count).

use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::times::{offset_s, parse_row_time, RowTime};
use super::{Comment, CommentKind, Emit, ParseReport, ReadContext, TextReader, TimelineError};

#[derive(Debug, Deserialize)]
struct Row {
    t: Option<f64>,
    ts: Option<Value>,
    user: Option<Value>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    value: Option<f64>,
}

pub(super) fn read(
    path: &Path,
    mut text: TextReader,
    ctx: &ReadContext,
    emit: &mut Emit<'_>,
) -> Result<ParseReport, TimelineError> {
    let mut report = ParseReport::new(path, "jsonl", text.encoding, ctx.strict);
    let mut line = String::new();
    loop {
        line.clear();
        let line_no = text.line();
        let n = text
            .read_line(&mut line)
            .map_err(|source| TimelineError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        if n == 0 {
            break;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let row: Row = match serde_json::from_str(trimmed) {
            Ok(r) => r,
            Err(e) => {
                report.skip(line_no, format!("not a JSON object: {e}"))?;
                continue;
            }
        };
        let time = match (&row.t, &row.ts) {
            (Some(t), _) if t.is_finite() => RowTime::Relative(*t),
            (_, Some(Value::String(s))) => match parse_row_time(s, &ctx.tz) {
                Ok(rt) => rt,
                Err(e) => {
                    report.skip(line_no, e)?;
                    continue;
                }
            },
            (_, Some(Value::Number(n))) => match parse_row_time(&n.to_string(), &ctx.tz) {
                Ok(rt) => rt,
                Err(e) => {
                    report.skip(line_no, e)?;
                    continue;
                }
            },
            _ => {
                report.skip(line_no, "no \"t\" or \"ts\" time")?;
                continue;
            }
        };
        let kind = match row.kind.as_deref().map(CommentKind::parse) {
            None => CommentKind::Comment,
            Some(Some(k)) => k,
            Some(None) => {
                report.skip(
                    line_no,
                    format!("unknown kind {:?}", row.kind.unwrap_or_default()),
                )?;
                continue;
            }
        };
        let t = offset_s(time, ctx.start, &ctx.tz, path, &mut report)?;
        let user = match row.user {
            Some(Value::String(s)) => s,
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        emit(
            &mut report,
            Comment {
                t,
                user,
                text: row.text.unwrap_or_default(),
                kind,
                value: row.value.filter(|v| v.is_finite()),
            },
        );
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::{collect, ctx, write};
    use super::*;

    #[test]
    fn relative_absolute_kinds_and_bad_lines() {
        let f = write(
            "{\"t\": 12.5, \"user\": \"u1\", \"text\": \"上链接\"}\r\n\
             \n\
             {\"ts\": \"2024-09-03T19:13:00+08:00\", \"user\": 7, \"kind\": \"gift\", \"text\": \"小心心\", \"value\": 10}\n\
             {\"ts\": 1725361985000, \"user\": \"u3\", \"kind\": \"like\", \"value\": 30}\n\
             {\"ts\": \"2024-09-03 19:13:20\", \"user\": \"u4\", \"text\": \"naive\"}\n\
             not json\n\
             {\"user\": \"u5\", \"text\": \"no time\"}\n\
             {\"t\": 1, \"kind\": \"dance\"}\n",
        );
        let (c, r) = collect(f.path(), &ctx(100.0)).unwrap();
        assert_eq!(c.len(), 4, "{r:?}");
        assert_eq!(c[0].t, 10.0);
        assert_eq!(c[0].kind, CommentKind::Gift);
        assert_eq!(c[0].user, "7");
        assert_eq!(c[1].t, 12.5);
        assert_eq!(c[2].t, 15.0);
        assert_eq!(c[2].kind, CommentKind::Like);
        assert_eq!(c[3].t, 30.0);
        assert_eq!(r.naive_time_zone.as_deref(), Some("Asia/Shanghai"));
        let lines: Vec<u64> = r.skipped_examples.iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![6, 7, 8]);
        assert_eq!(r.format, "jsonl");
    }
}
