//! Audience and sales timelines: comment (danmaku) and order exports aligned to the video,
//! turned into per-second tracks.
//!
//! Readers stream (a multi-million-row export is never held in memory): each parsed row
//! goes straight into an aggregator of per-second bins. Malformed rows are skipped,
//! counted and reported with `file:line` (`--strict` makes the first one an error); rows
//! outside the recording are counted, not used.

pub mod catalogue;
mod comments_csv;
mod csvrows;
mod danmaku;
mod features;
mod jsonl;
mod lexicon;
mod orders;
pub mod start;
mod text;
mod times;

pub use features::{CommentAggregator, CommentLog, OrderAggregator, SpamSpan, TopComments};
pub use jiff::tz::TimeZone;
pub use lexicon::{fold, Lexicon, SpeechLexicon};
pub use orders::{read_orders, read_orders_from};
pub use text::TextReader;
pub use times::parse_instant;

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Format {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error(
        "{path}: rows carry absolute times, but the recording's start is unknown (no \
         creation_time in the container, no recorder header in the comment XML, no \
         timestamp in the file name); pass --start 2024-09-03T19:12:50+08:00"
    )]
    NoRecordingStart { path: PathBuf },
}

/// What kind of audience event a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommentKind {
    Comment,
    SuperChat,
    Gift,
    Membership,
    Like,
    Follow,
    Enter,
}

impl CommentKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_lowercase().as_str() {
            "" | "comment" | "danmaku" | "chat" | "message" | "弹幕" | "评论" => Self::Comment,
            "superchat" | "super_chat" | "sc" | "醒目留言" => Self::SuperChat,
            "gift" | "礼物" => Self::Gift,
            "guard" | "membership" | "member" | "舰长" => Self::Membership,
            "like" | "likes" | "点赞" => Self::Like,
            "follow" | "关注" => Self::Follow,
            "enter" | "join" | "进场" | "进入直播间" => Self::Enter,
            _ => return None,
        })
    }
}

/// One audience event at `t` seconds from the recording's first presentation time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub t: f64,
    pub user: String,
    pub text: String,
    pub kind: CommentKind,
    /// Money value (super chat price, gift value) or a count (likes), where given.
    pub value: Option<f64>,
}

/// One paid order at `t` seconds from the recording's first presentation time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub t: f64,
    pub sku: Option<String>,
    pub buyer: Option<String>,
    pub quantity: u32,
    pub amount: f64,
}

/// How to read exports of one recording.
#[derive(Debug, Clone)]
pub struct ReadContext {
    /// Instant of the recording's first presentation time (for absolute row times).
    pub start: Option<Timestamp>,
    /// Zone for naive local times.
    pub tz: TimeZone,
    pub duration_s: f64,
    /// Make the first malformed row an error.
    pub strict: bool,
}

/// A row that could not be used.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SkippedRow {
    pub line: u64,
    pub reason: String,
}

/// What a reader read, skipped and left out.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ParseReport {
    pub path: PathBuf,
    pub format: String,
    pub encoding: String,
    pub rows_used: usize,
    pub rows_skipped: usize,
    /// The first skipped rows (at most [`MAX_EXAMPLES`]) with their reasons.
    pub skipped_examples: Vec<SkippedRow>,
    pub before_start: usize,
    pub after_end: usize,
    /// Earliest and latest time (seconds from the recording start) of the rows left out
    /// as outside the recording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside_range_s: Option<[f64; 2]>,
    /// Time zone used for naive local times, when any were seen.
    pub naive_time_zone: Option<String>,
    /// Spans where the comment stream looked like a bot flood (comments only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spam_spans: Vec<SpamSpan>,
    #[serde(skip)]
    strict: bool,
}

pub const MAX_EXAMPLES: usize = 20;

impl ParseReport {
    fn new(path: &Path, format: &str, encoding: &str, strict: bool) -> Self {
        Self {
            path: path.to_path_buf(),
            format: format.into(),
            encoding: encoding.into(),
            strict,
            ..Default::default()
        }
    }

    /// Record a malformed row; in strict mode it is an error instead.
    fn skip(&mut self, line: u64, reason: impl Into<String>) -> Result<(), TimelineError> {
        let reason = reason.into();
        if self.strict {
            return Err(TimelineError::Format {
                path: self.path.clone(),
                line,
                message: format!("{reason} (--strict)"),
            });
        }
        self.rows_skipped += 1;
        if self.skipped_examples.len() < MAX_EXAMPLES {
            self.skipped_examples.push(SkippedRow { line, reason });
        }
        Ok(())
    }

    /// Count a row at `t` against the recording `[0, duration]`; true when it is inside.
    fn place(&mut self, t: f64, duration_s: f64) -> bool {
        if !(0.0..=duration_s).contains(&t) {
            let [lo, hi] = self.outside_range_s.get_or_insert([t, t]);
            *lo = lo.min(t);
            *hi = hi.max(t);
        }
        if t < 0.0 {
            self.before_start += 1;
            false
        } else if t > duration_s {
            self.after_end += 1;
            false
        } else {
            self.rows_used += 1;
            true
        }
    }

    fn note_naive(&mut self, tz: &TimeZone) {
        if self.naive_time_zone.is_none() {
            self.naive_time_zone = Some(tz.iana_name().unwrap_or("fixed offset").to_string());
        }
    }

    /// One line for logs.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{}: {} rows used ({}, {})",
            self.path.display(),
            self.rows_used,
            self.format,
            self.encoding
        );
        if self.rows_skipped > 0 {
            s += &format!(", {} malformed rows skipped", self.rows_skipped);
            if let Some(first) = self.skipped_examples.first() {
                s += &format!(" (first at line {}: {})", first.line, first.reason);
            }
        }
        if self.before_start + self.after_end > 0 {
            s += &format!(
                ", {} before the recording started and {} after it ended (ignored",
                self.before_start, self.after_end
            );
            if let Some([lo, hi]) = self.outside_range_s {
                s += &format!("; from {lo:.0} s to {hi:.0} s");
            }
            s += ")";
        }
        if let Some(tz) = &self.naive_time_zone {
            s += &format!(", local times read in {tz}");
        }
        if !self.spam_spans.is_empty() {
            s += &format!(", {} bot-flood spans discounted", self.spam_spans.len());
        }
        s
    }
}

/// Comment export formats, detected from the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentFormat {
    DanmakuXml,
    JsonLines,
    Csv,
}

/// Read a comment export (any supported format) into `sink`, row by row.
pub fn read_comments(
    path: &Path,
    ctx: &ReadContext,
    sink: &mut dyn FnMut(Comment),
) -> Result<ParseReport, TimelineError> {
    read_comments_from(path, TextReader::open(path)?, None, ctx, sink)
}

/// Read comments from `reader` (named `path` in messages), in `format` or the format
/// detected from the content.
pub fn read_comments_from(
    path: &Path,
    mut reader: TextReader,
    format: Option<CommentFormat>,
    ctx: &ReadContext,
    sink: &mut dyn FnMut(Comment),
) -> Result<ParseReport, TimelineError> {
    let first = reader
        .peek_first_byte()
        .map_err(|source| TimelineError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let format = match (format, first) {
        (_, None) => {
            return Err(TimelineError::Format {
                path: path.to_path_buf(),
                line: 1,
                message: "the file is empty".into(),
            })
        }
        (Some(f), _) => f,
        (None, Some(b'<')) => CommentFormat::DanmakuXml,
        (None, Some(b'{')) => CommentFormat::JsonLines,
        (None, Some(_)) => CommentFormat::Csv,
    };
    let mut emit = |report: &mut ParseReport, c: Comment| {
        if report.place(c.t, ctx.duration_s) {
            sink(c);
        }
    };
    match format {
        CommentFormat::DanmakuXml => danmaku::read(path, reader, ctx, &mut emit),
        CommentFormat::JsonLines => jsonl::read(path, reader, ctx, &mut emit),
        CommentFormat::Csv => comments_csv::read(path, reader, ctx, &mut emit),
    }
}

/// Sink type the format readers call for each row that parsed.
pub(crate) type Emit<'a> = dyn FnMut(&mut ParseReport, Comment) + 'a;

/// Background chatter with a bot flood at 100–120 s and a genuine burst at 200–220 s.
#[cfg(test)]
pub(crate) fn tests_flood_and_burst() -> Vec<Comment> {
    features::tests::flood_and_burst()
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;
    use std::io::Write;

    pub fn write(content: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(content.as_bytes()).unwrap();
        f
    }

    /// A context for a recording that started 2024-09-03T11:12:50Z.
    pub fn ctx(duration_s: f64) -> ReadContext {
        ReadContext {
            start: Some("2024-09-03T11:12:50Z".parse().unwrap()),
            tz: TimeZone::get("Asia/Shanghai").unwrap(),
            duration_s,
            strict: false,
        }
    }

    /// Read comments, sorted by time.
    pub fn collect(
        path: &Path,
        ctx: &ReadContext,
    ) -> Result<(Vec<Comment>, ParseReport), TimelineError> {
        let mut out = Vec::new();
        let report = read_comments(path, ctx, &mut |c| out.push(c))?;
        out.sort_by(|a, b| a.t.total_cmp(&b.t));
        Ok((out, report))
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::*;
    use super::*;

    /// A tiny fuzz smoke run inside the normal suite: thousands of mutated exports of each
    /// format must parse or fail cleanly, never panic (the real fuzzing is `fuzz/`).
    #[test]
    fn mutated_exports_never_panic() {
        let seeds: [(&str, Option<CommentFormat>); 4] = [
            (
                "<?xml version=\"1.0\"?><i><d p=\"1.5,1,25,16777215,0,0,ab,1\">上链接 &amp; &#21704;</d>\n<sc ts=\"3\" price=\"30\" uid=\"1\">sc</sc><gift ts=\"4\" giftcount=\"2\" price=\"5\"/></i>",
                Some(CommentFormat::DanmakuXml),
            ),
            (
                "{\"t\": 1.5, \"user\": \"a\", \"text\": \"买\"}\n{\"ts\": \"2024-09-03T19:13:00+08:00\", \"kind\": \"gift\", \"value\": 3}\n",
                Some(CommentFormat::JsonLines),
            ),
            ("时间,用户,内容\n00:00:01,a,\"哈哈, 233\"\n1725361990,b,x\n", Some(CommentFormat::Csv)),
            ("paid_at,amount,sku,buyer_id\n2024-09-03T19:13:00+08:00,¥9.9,A,b\n1725361990000,5,B,c\n", None),
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let c = ctx(100.0);
        let mut runs = 0;
        for (seed, format) in seeds {
            for _ in 0..1500 {
                let mut bytes = seed.as_bytes().to_vec();
                for _ in 0..(1 + next() % 6) {
                    let at = (next() as usize) % bytes.len().max(1);
                    match next() % 4 {
                        0 => bytes.truncate(at),
                        1 if at < bytes.len() => bytes[at] = next() as u8,
                        2 => bytes.insert(
                            at.min(bytes.len()),
                            b"<>&\",\n{}\r\xff"[(next() % 10) as usize],
                        ),
                        _ if at < bytes.len() => {
                            bytes.remove(at);
                        }
                        _ => {}
                    }
                }
                let text = TextReader::from_bytes(bytes);
                let path = Path::new("fuzz");
                let _ = match format {
                    Some(f) => read_comments_from(path, text, Some(f), &c, &mut |_| {}),
                    None => read_orders_from(path, text, &c, &mut |_| {}),
                };
                runs += 1;
            }
        }
        assert_eq!(runs, 6000);
    }

    #[test]
    fn format_is_detected_from_content_not_extension() {
        let xml = write("\n  <?xml version=\"1.0\"?><i><d p=\"1,1,25,1,0,0,a,1\">x</d></i>");
        let json = write("{\"t\": 1, \"user\": \"a\", \"text\": \"x\"}\n");
        let csv = write("t,user,text\n1,a,x\n");
        for (f, want) in [
            (xml, "bilibili-danmaku-xml"),
            (json, "jsonl"),
            (csv, "comments-csv"),
        ] {
            let (c, r) = collect(f.path(), &ctx(10.0)).unwrap();
            assert_eq!(r.format, want);
            assert_eq!(c.len(), 1);
        }
        let empty = write("  \n");
        let err = collect(empty.path(), &ctx(10.0)).unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
    }
}
