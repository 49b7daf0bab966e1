//! Bilibili danmaku XML, including live-recorder extensions (BililiveRecorder, blrec):
//! `<d p="TIME_S,MODE,SIZE,COLOR,UNIX_TS,POOL,USER_HASH,DMID" user=".." uid="..">text</d>`,
//! super chats `<sc ts price user uid>text</sc>`, gifts `<gift ts giftname giftcount price
//! user uid/>`, memberships `<guard ts level user uid/>`.

use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::{Comment, CommentKind, LineIndex, ParseReport, TimelineError};

/// Parse a danmaku XML file. Times are already relative to the video start; rows outside
/// `[0, duration_s]` are counted and dropped. Result is sorted by time.
pub fn parse_danmaku(
    path: &Path,
    duration_s: f64,
) -> Result<(Vec<Comment>, ParseReport), TimelineError> {
    let bytes = std::fs::read(path).map_err(|source| TimelineError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim_start_matches('\u{feff}');
    let lines = LineIndex::new(text);
    let mut report = ParseReport::new(path.to_path_buf(), "bilibili-danmaku-xml");
    let mut comments = Vec::new();

    let mut reader = Reader::from_str(text);
    // The element being read (name, attributes, line) and its text so far.
    let mut open: Option<(String, BytesStart<'_>, u64)> = None;
    let mut body = String::new();
    let mut saw_root = false;
    loop {
        let pos = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let line = lines.line(reader.error_position() as usize);
                if comments.is_empty() && !saw_root {
                    return Err(TimelineError::Format {
                        path: path.to_path_buf(),
                        line,
                        message: format!("not a danmaku XML file: {e}"),
                    });
                }
                // Keep what was read; report where the file broke.
                report.skip(line, format!("XML error, rest of file ignored: {e}"));
                break;
            }
        };
        match event {
            Event::Start(e) => {
                let name = local(&e);
                if name == "i" {
                    saw_root = true;
                } else if matches!(name.as_str(), "d" | "sc") {
                    open = Some((name, e.into_owned(), lines.line(pos + 1)));
                    body.clear();
                }
            }
            Event::Empty(e) => {
                let name = local(&e);
                let line = lines.line(pos + 1);
                if matches!(name.as_str(), "d" | "sc" | "gift" | "guard") {
                    accept(&name, &e, "", line, duration_s, &mut comments, &mut report);
                }
            }
            Event::Text(t) if open.is_some() => body.push_str(&t.xml10_content()),
            Event::CData(t) if open.is_some() => body.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if open.is_some() => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    body.push(c);
                } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(&r) {
                    body.push_str(s);
                } else {
                    body.push('&');
                    body.push_str(&r);
                    body.push(';');
                }
            }
            Event::End(e) => {
                let name = e.local_name().as_ref().to_string();
                if let Some((open_name, start, line)) = open.take() {
                    if open_name == name {
                        accept(
                            &name,
                            &start,
                            &body,
                            line,
                            duration_s,
                            &mut comments,
                            &mut report,
                        );
                    } else {
                        open = Some((open_name, start, line));
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root && comments.is_empty() {
        return Err(TimelineError::Format {
            path: path.to_path_buf(),
            line: 1,
            message: "no <i> root element: not a Bilibili danmaku XML file".into(),
        });
    }
    comments.sort_by(|a, b| a.t.total_cmp(&b.t));
    Ok((comments, report))
}

fn local(e: &BytesStart<'_>) -> String {
    e.local_name().as_ref().to_string()
}

fn attr(e: &BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.local_name().as_ref() == key)
        .and_then(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

fn parse_time(s: Option<String>) -> Result<f64, String> {
    let s = s.ok_or("missing time")?;
    let t: f64 = s.trim().parse().map_err(|_| format!("bad time {s:?}"))?;
    if t.is_finite() {
        Ok(t)
    } else {
        Err(format!("bad time {s:?}"))
    }
}

fn accept(
    name: &str,
    e: &BytesStart<'_>,
    body: &str,
    line: u64,
    duration_s: f64,
    out: &mut Vec<Comment>,
    report: &mut ParseReport,
) {
    let parsed = match name {
        "d" => parse_d(e, body),
        "sc" => parse_time(attr(e, "ts")).map(|t| Comment {
            t,
            user: user_of(e),
            text: body.trim().to_string(),
            kind: CommentKind::SuperChat,
            value: attr(e, "price").and_then(|p| p.parse().ok()),
        }),
        "gift" => parse_time(attr(e, "ts")).map(|t| {
            let count: f64 = attr(e, "giftcount")
                .and_then(|c| c.parse().ok())
                .unwrap_or(1.0);
            Comment {
                t,
                user: user_of(e),
                text: attr(e, "giftname").unwrap_or_default(),
                kind: CommentKind::Gift,
                // Recorders write the unit price in 1/1000 CNY (gold seeds); keep it as given.
                value: attr(e, "price")
                    .and_then(|p| p.parse::<f64>().ok())
                    .map(|p| p * count),
            }
        }),
        "guard" => parse_time(attr(e, "ts")).map(|t| Comment {
            t,
            user: user_of(e),
            text: format!("guard level {}", attr(e, "level").unwrap_or_default()),
            kind: CommentKind::Membership,
            value: None,
        }),
        _ => return,
    };
    match parsed {
        Ok(c) => {
            if report.place(c.t, duration_s) {
                out.push(c);
            }
        }
        Err(reason) => report.skip(line, format!("<{name}>: {reason}")),
    }
}

fn user_of(e: &BytesStart<'_>) -> String {
    attr(e, "uid")
        .or_else(|| attr(e, "user"))
        .unwrap_or_default()
}

fn parse_d(e: &BytesStart<'_>, body: &str) -> Result<Comment, String> {
    let p = attr(e, "p").ok_or("missing p attribute")?;
    let fields: Vec<&str> = p.split(',').collect();
    if fields.len() < 7 {
        return Err(format!("p has {} fields, expected 8", fields.len()));
    }
    let t = parse_time(Some(fields[0].to_string()))?;
    let user = attr(e, "uid").unwrap_or_else(|| fields[6].trim().to_string());
    Ok(Comment {
        t,
        user,
        text: body.to_string(),
        kind: CommentKind::Comment,
        value: None,
    })
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

    #[test]
    fn parses_sorts_unescapes_and_counts() {
        let f = write(
            r#"<?xml version="1.0" encoding="UTF-8"?><i><chatserver>chat.bilibili.com</chatserver><chatid>1</chatid>
<d p="12.5,1,25,16777215,1725362000,0,abc123,2">second &amp; &lt;b&gt; &#21704;</d>
<d p="3.25,1,25,16777215,1725361990,0,def456,1">first</d>
<d p="oops,1,25">broken</d>
<d p="999,1,25,16777215,1725362999,0,abc123,3">too late</d>
<d p="20,1,25,16777215,0,0,x,4" user="name" uid="42">with uid</d>
<sc ts="30.5" uid="7" user="u" price="30">thanks</sc>
<gift ts="40" user="g" uid="8" giftname="小心心" giftcount="10" price="100"/>
<gift user="g" giftname="no time"/>
</i>"#,
        );
        let (c, r) = parse_danmaku(f.path(), 100.0).unwrap();
        let texts: Vec<_> = c.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            ["first", "second & <b> 哈", "with uid", "thanks", "小心心"]
        );
        assert_eq!(c[0].t, 3.25);
        assert_eq!(c[0].user, "def456");
        assert_eq!(c[2].user, "42");
        assert_eq!(c[3].kind, CommentKind::SuperChat);
        assert_eq!(c[3].value, Some(30.0));
        assert_eq!(c[4].value, Some(1000.0));
        assert_eq!(r.rows_used, 5);
        assert_eq!(r.rows_skipped, 2);
        assert_eq!(r.skipped_examples[0].line, 4);
        assert_eq!(r.skipped_examples[1].line, 9);
        assert_eq!(r.after_end, 1);
    }

    #[test]
    fn truncated_file_keeps_what_was_read() {
        let f = write("<i>\n<d p=\"1,1,25,1,0,0,a,1\">ok</d>\n<d p=\"2,1,25,1,0,0,b,2\">cut <b");
        let (c, r) = parse_danmaku(f.path(), 100.0).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(r.rows_skipped, 1);
        assert_eq!(r.skipped_examples[0].line, 3);
    }

    #[test]
    fn not_xml_is_an_error_naming_the_file() {
        let f = write("order_id,paid_at\n1,2024\n");
        let err = parse_danmaku(f.path(), 100.0).unwrap_err().to_string();
        assert!(err.contains(&f.path().display().to_string()), "{err}");
    }
}
