//! Bilibili danmaku XML, including live-recorder extensions (BililiveRecorder, blrec):
//! `<d p="TIME_S,MODE,SIZE,COLOR,UNIX_TS,POOL,USER_HASH,DMID" user=".." uid="..">text</d>`,
//! super chats `<sc ts price user uid>text</sc>`, gifts `<gift ts giftname giftcount price
//! user uid/>`, memberships `<guard ts level user uid/>`. Namespaced roots and unknown
//! elements are tolerated. Streams: memory does not grow with the file.
//!
//! Two layouts of `<d p=…>`, told apart by the file's structure (never by the size of the
//! numbers): the classic one above (its root holds `<chatid>`), and the one written from
//! Bilibili's segmented danmaku API, whose root holds an `<oid>` element:
//! `p="DMID,ATTR,PROGRESS_MS,MODE,SIZE,COLOR,CTIME,POOL,USER_HASH"` (time in
//! milliseconds). Mode-7 ("advanced") rows carry a JSON array whose fifth item is the text.

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
    let mut layout = Layout::Classic;
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
                } else if name == "oid" {
                    layout = Layout::Segmented;
                } else if matches!(name.as_str(), "d" | "sc") {
                    open = Some((name, e.into_owned(), line));
                    body.clear();
                }
            }
            Event::Empty(e) => {
                let name = local(&e);
                if name == "oid" {
                    layout = Layout::Segmented;
                } else if matches!(name.as_str(), "d" | "sc" | "gift" | "guard") {
                    rows += 1;
                    accept(&name, &e, "", line, layout, &mut report, emit)?;
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
                        accept(&name, &start, &body, start_line, layout, &mut report, emit)?;
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

/// Where a live recorder says the recording started, from a danmaku XML's header.
#[derive(Debug, Clone, PartialEq)]
pub struct RecorderStart {
    pub at: jiff::Timestamp,
    /// Which header said so, e.g. `BililiveRecorderRecordInfo start_time`.
    pub header: String,
}

/// The recording's start from a live recorder's header in a danmaku XML file:
/// BililiveRecorder's `<BililiveRecorderRecordInfo start_time="2024-09-03T19:12:50.1234567+08:00" …/>`
/// or blrec's `<metadata><record_start_time>UNIX_SECONDS</record_start_time>…</metadata>`.
/// Reads the header only (it stops at the first comment row); `None` when there is none.
pub fn recorder_start(path: &Path) -> Result<Option<RecorderStart>, TimelineError> {
    let mut reader = Reader::from_reader(TextReader::open(path)?);
    let mut buf = Vec::new();
    let mut in_record_start = false;
    let bad = |line: u64, message: String| TimelineError::Format {
        path: path.to_path_buf(),
        line,
        message,
    };
    loop {
        buf.clear();
        let line = reader.get_ref().line();
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(_) => return Ok(None), // not XML or broken: the comment reader says why
        };
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let name = local(&e);
                match name.as_str() {
                    "BililiveRecorderRecordInfo" => {
                        if let Some(v) = attr(&e, "start_time") {
                            let at = parse_instant(&v).ok_or_else(|| {
                                bad(line, format!("BililiveRecorderRecordInfo start_time {v:?} is not an ISO-8601 time with an offset"))
                            })?;
                            return Ok(Some(RecorderStart {
                                at,
                                header: "BililiveRecorderRecordInfo start_time".into(),
                            }));
                        }
                    }
                    "record_start_time" => in_record_start = true,
                    "d" | "sc" | "gift" | "guard" => return Ok(None),
                    _ => {}
                }
            }
            Event::Text(t) if in_record_start => {
                let v = t.xml10_content().trim().to_string();
                let secs: i64 = v.parse().map_err(|_| {
                    bad(
                        line,
                        format!("<record_start_time> {v:?} is not a Unix time in seconds"),
                    )
                })?;
                let at = jiff::Timestamp::from_second(secs)
                    .map_err(|e| bad(line, format!("<record_start_time> {v:?}: {e}")))?;
                return Ok(Some(RecorderStart {
                    at,
                    header: "metadata record_start_time".into(),
                }));
            }
            Event::End(_) => in_record_start = false,
            Event::Eof => return Ok(None),
            _ => {}
        }
    }
}

/// An ISO-8601 instant with an offset; recorders write up to 7 fractional digits.
fn parse_instant(v: &str) -> Option<jiff::Timestamp> {
    v.trim().parse::<jiff::Timestamp>().ok()
}

/// Which `<d p=…>` layout the file uses (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `p="TIME_S,MODE,SIZE,COLOR,UNIX_TS,POOL,USER_HASH,DMID"`.
    Classic,
    /// `p="DMID,ATTR,PROGRESS_MS,MODE,SIZE,COLOR,CTIME,POOL,USER_HASH"` (root has `<oid>`).
    Segmented,
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
    layout: Layout,
    report: &mut ParseReport,
    emit: &mut Emit<'_>,
) -> Result<(), TimelineError> {
    let parsed = match name {
        "d" => parse_d(e, body, layout),
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

fn parse_d(e: &BytesStart<'_>, body: &str, layout: Layout) -> Result<Comment, String> {
    let p = attr(e, "p").ok_or("missing p attribute")?;
    let fields: Vec<&str> = p.split(',').map(str::trim).collect();
    let (t, mode, hash) = match layout {
        Layout::Classic => {
            if fields.len() < 7 {
                return Err(format!("p has {} fields, expected 8", fields.len()));
            }
            (
                parse_time(Some(fields[0].to_string()))?,
                fields[1],
                fields[6],
            )
        }
        Layout::Segmented => {
            if fields.len() < 9 {
                return Err(format!(
                    "p has {} fields, expected 9 (the layout with <oid>: \
                     dmid,attr,progress_ms,mode,size,color,ctime,pool,hash)",
                    fields.len()
                ));
            }
            let ms = parse_time(Some(fields[2].to_string()))?;
            (ms / 1000.0, fields[3], fields[8])
        }
    };
    let text = if mode == "7" {
        advanced_text(body)?
    } else {
        body.to_string()
    };
    let user = attr(e, "uid").unwrap_or_else(|| hash.to_string());
    Ok(Comment {
        t,
        user,
        text,
        kind: CommentKind::Comment,
        value: None,
    })
}

/// The text of a mode-7 ("advanced") row: a JSON array `[x, y, "alpha", duration, text,
/// …]`. A body that is not such an array is taken as it is (some exporters write plain
/// text in mode 7).
fn advanced_text(body: &str) -> Result<String, String> {
    let trimmed = body.trim();
    if !trimmed.starts_with('[') {
        return Ok(body.to_string());
    }
    let v: serde_json::Value = serde_json::from_str(trimmed)
        .map_err(|e| format!("mode-7 row: its JSON payload does not parse ({e})"))?;
    match v.get(4) {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        _ => Err("mode-7 row: its JSON payload has no text (fifth item)".into()),
    }
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
    fn the_layout_with_oid_has_millisecond_times_and_mode_7_json() {
        let f = write(
            r#"<?xml version="1.0" encoding="UTF-8"?><i><oid>1176840</oid><chatserver>chat.bilibili.com</chatserver>
<d p="1497839101243893248,0,12500,1,25,16777215,1725362000,0,abc123">hello</d>
<d p="1497839101243893249,2,61000,7,25,16777215,1725362001,2,def456">[0,0,"1-1",4.5,"上链接",0,0,0,0,500,0,true,"黑体",1]</d>
<d p="1497839101243893250,0,70000,7,25,16777215,1725362002,2,aaa">[0,0,"1-1"]</d>
<d p="1497839101243893251,0,80000,1,25">short</d>
</i>"#,
        );
        let (c, r) = collect(f.path(), &ctx(100.0)).unwrap();
        let got: Vec<_> = c
            .iter()
            .map(|c| (c.t, c.text.as_str(), c.user.as_str()))
            .collect();
        assert_eq!(got, [(12.5, "hello", "abc123"), (61.0, "上链接", "def456")]);
        assert_eq!(r.rows_skipped, 2);
        assert!(r.skipped_examples[0].reason.contains("no text"), "{r:?}");
        assert!(r.skipped_examples[1].reason.contains("expected 9"), "{r:?}");
        assert_eq!(r.after_end, 0);
    }

    #[test]
    fn recorder_headers_give_the_start() {
        let f = write(
            r#"<?xml version="1.0" encoding="utf-8"?><i><chatserver>chat.bilibili.com</chatserver>
<BililiveRecorderRecordInfo roomid="123" shortid="0" name="n" title="t" areanameparent="a" areanamechild="b" start_time="2024-09-03T19:12:50.1234567+08:00" />
<d p="1,1,25,1,0,0,a,1">ok</d></i>"#,
        );
        let s = recorder_start(f.path()).unwrap().unwrap();
        assert_eq!(s.at.to_string(), "2024-09-03T11:12:50.1234567Z");
        assert!(s.header.contains("BililiveRecorderRecordInfo"));
        let f = write(
            "<?xml version=\"1.0\"?>\n<i>\n<metadata>\n<room_id>1</room_id>\n<record_start_time>1725361970</record_start_time>\n</metadata>\n<d p=\"1,1,25,1,0,0,a,1\">ok</d></i>",
        );
        let s = recorder_start(f.path()).unwrap().unwrap();
        assert_eq!(s.at.to_string(), "2024-09-03T11:12:50Z");
        // No header: none; a header that is not a time: an error naming the line.
        let f = write(
            "<i><d p=\"1,1,25,1,0,0,a,1\">ok</d><BililiveRecorderRecordInfo start_time=\"x\"/></i>",
        );
        assert_eq!(recorder_start(f.path()).unwrap(), None);
        let f = write("<i>\n<BililiveRecorderRecordInfo start_time=\"yesterday\"/></i>");
        let err = recorder_start(f.path()).unwrap_err().to_string();
        assert!(err.contains(":2:") && err.contains("yesterday"), "{err}");
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
