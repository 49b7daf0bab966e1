//! Bilibili danmaku XML, including live-recorder extensions (BililiveRecorder, blrec):
//! `<d p="TIME_S,MODE,SIZE,COLOR,UNIX_TS,POOL,USER_HASH,DMID" user=".." uid="..">text</d>`,
//! super chats `<sc ts price user uid>text</sc>`, gifts `<gift ts giftname giftcount price
//! user uid/>`, memberships `<guard ts level user uid/>`. Namespaced roots and unknown
//! elements are tolerated. Streams: memory does not grow with the file.

use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::{Comment, CommentKind, Emit, ParseReport, ReadContext, TextReader, TimelineError};

pub(super) fn read(
    path: &Path,
    text: TextReader,
    ctx: &ReadContext,
    emit: &mut Emit<'_>,
) -> Result<ParseReport, TimelineError> {
    let mut report = ParseReport::new(path, "bilibili-danmaku-xml", text.encoding, ctx.strict);
    let mut reader = Reader::from_reader(text);
    let mut buf = Vec::new();
    // The element being read (name, start tag, line) and its text so far.
    let mut open: Option<(String, BytesStart<'static>, u64)> = None;
    let mut body = String::new();
    let mut saw_root = false;
    let mut rows = 0usize;
    loop {
        buf.clear();
        let line = reader.get_ref().line();
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                let line = reader.get_ref().line();
                if rows == 0 && !saw_root {
                    return Err(TimelineError::Format {
                        path: path.to_path_buf(),
                        line,
                        message: format!("not a danmaku XML file: {e}"),
                    });
                }
                // Keep what was read; report where the file broke.
                report.skip(line, format!("XML error, rest of file ignored: {e}"))?;
                break;
            }
        };
        match event {
            Event::Start(e) => {
                let name = local(&e);
                if name == "i" {
                    saw_root = true;
                } else if matches!(name.as_str(), "d" | "sc") {
                    open = Some((name, e.into_owned(), line));
                    body.clear();
                }
            }
            Event::Empty(e) => {
                let name = local(&e);
                if matches!(name.as_str(), "d" | "sc" | "gift" | "guard") {
                    rows += 1;
                    accept(&name, &e, "", line, &mut report, emit)?;
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
                if let Some((open_name, start, start_line)) = open.take() {
                    if open_name == name {
                        rows += 1;
                        accept(&name, &start, &body, start_line, &mut report, emit)?;
                    } else {
                        open = Some((open_name, start, start_line));
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root && rows == 0 {
        return Err(TimelineError::Format {
            path: path.to_path_buf(),
            line: 1,
            message: "no <i> root element: not a Bilibili danmaku XML file".into(),
        });
    }
    Ok(report)
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
    report: &mut ParseReport,
    emit: &mut Emit<'_>,
) -> Result<(), TimelineError> {
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
                // The unit price as the recorder wrote it, times the count.
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
        _ => return Ok(()),
    };
    match parsed {
        Ok(c) => {
            emit(report, c);
            Ok(())
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
    use super::super::tests_support::{collect, ctx, write};
    use super::*;

    #[test]
    fn parses_escapes_extensions_and_counts() {
        let f = write(
            r#"<?xml version="1.0" encoding="UTF-8"?><i xmlns:x="urn:x"><chatserver>chat.bilibili.com</chatserver><chatid>1</chatid>
<d p="12.5,1,25,16777215,1725362000,0,abc123,2">second &amp; &lt;b&gt; &#21704;</d>
<d p="3.25,1,25,16777215,1725361990,0,def456,1">first</d>
<d p="oops,1,25">broken</d>
<d p="999,1,25,16777215,1725362999,0,abc123,3">too late</d>
	<d p="20,1,25,16777215,0,0,x,4" user="name" uid="42">with uid</d>
<sc ts="30.5" uid="7" user="u" price="30">thanks</sc>
<gift ts="40" user="g" uid="8" giftname="小心心" giftcount="10" price="100"/>
<gift user="g" giftname="no time"/>
<guard ts="70" user="m" uid="9" level="3"/>
<realname>0</realname>
</i>"#,
        );
        let (c, r) = collect(f.path(), &ctx(100.0)).unwrap();
        let texts: Vec<_> = c.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "first",
                "second & <b> 哈",
                "with uid",
                "thanks",
                "小心心",
                "guard level 3"
            ]
        );
        assert_eq!(c[0].t, 3.25);
        assert_eq!(c[0].user, "def456");
        assert_eq!(c[2].user, "42");
        assert_eq!(c[3].kind, CommentKind::SuperChat);
        assert_eq!(c[3].value, Some(30.0));
        assert_eq!(c[4].value, Some(1000.0));
        assert_eq!(c[5].kind, CommentKind::Membership);
        assert_eq!(r.rows_used, 6);
        assert_eq!(r.rows_skipped, 2);
        assert_eq!(r.skipped_examples[0].line, 4);
        assert_eq!(r.skipped_examples[1].line, 9);
        assert_eq!(r.after_end, 1);
        assert_eq!(r.format, "bilibili-danmaku-xml");
    }

    #[test]
    fn truncated_file_keeps_what_was_read() {
        let f = write("<i>\n<d p=\"1,1,25,1,0,0,a,1\">ok</d>\n<d p=\"2,1,25,1,0,0,b,2\">cut <b");
        let (c, r) = collect(f.path(), &ctx(100.0)).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(r.rows_skipped, 1);
        assert_eq!(r.skipped_examples[0].line, 3);
    }

    #[test]
    fn strict_mode_stops_at_the_first_bad_row() {
        let f = write("<i>\n<d p=\"1,1,25,1,0,0,a,1\">ok</d>\n<d p=\"x\">bad</d>\n</i>");
        let mut c = ctx(100.0);
        c.strict = true;
        let err = collect(f.path(), &c).unwrap_err().to_string();
        assert!(err.contains(&format!("{}:3:", f.path().display())), "{err}");
    }

    #[test]
    fn gbk_xml_with_crlf() {
        let xml = "<?xml version=\"1.0\" encoding=\"GBK\"?>\r\n<i>\r\n<d p=\"1,1,25,1,0,0,a,1\">上链接</d>\r\n<d p=\"bad\">x</d>\r\n</i>\r\n";
        let (gbk, _, _) = encoding_rs::GB18030.encode(xml);
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), &gbk).unwrap();
        let (c, r) = collect(f.path(), &ctx(100.0)).unwrap();
        assert_eq!(c[0].text, "上链接");
        assert_eq!(r.encoding, "gb18030");
        assert_eq!(r.skipped_examples[0].line, 4);
    }
}
