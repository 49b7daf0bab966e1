//! Audience and sales timelines: comment (danmaku) and order exports aligned to the video.
//!
//! Parsers never stop at a bad row: malformed rows are skipped, counted and reported with
//! their line numbers; rows outside the recording are counted, not used.

mod danmaku;
mod orders;

pub use danmaku::parse_danmaku;
pub use orders::parse_orders;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::signals::Track;

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
         creation_time in the container); pass --start 2024-09-03T19:12:50+08:00"
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
}

/// One audience event at `t` seconds from the recording's first presentation time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub t: f64,
    pub user: String,
    pub text: String,
    pub kind: CommentKind,
    /// Money value where the export gives one (super chat price, gift price).
    pub value: Option<f64>,
}

/// One paid order at `t` seconds from the recording's first presentation time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub t: f64,
    pub sku: Option<String>,
    pub quantity: u32,
    pub amount: f64,
}

/// A row that could not be used.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SkippedRow {
    pub line: u64,
    pub reason: String,
}

/// What a parser read, skipped and left out.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ParseReport {
    pub path: PathBuf,
    pub format: String,
    pub rows_used: usize,
    pub rows_skipped: usize,
    /// The first skipped rows (at most [`MAX_EXAMPLES`]) with their reasons.
    pub skipped_examples: Vec<SkippedRow>,
    pub before_start: usize,
    pub after_end: usize,
    /// Time zone used for naive local times, when any were seen.
    pub naive_time_zone: Option<String>,
}

pub const MAX_EXAMPLES: usize = 20;

impl ParseReport {
    fn new(path: PathBuf, format: &str) -> Self {
        Self {
            path,
            format: format.into(),
            ..Default::default()
        }
    }

    fn skip(&mut self, line: u64, reason: impl Into<String>) {
        self.rows_skipped += 1;
        if self.skipped_examples.len() < MAX_EXAMPLES {
            self.skipped_examples.push(SkippedRow {
                line,
                reason: reason.into(),
            });
        }
    }

    /// Count a row at `t` against the recording `[0, duration]`; true when it is inside.
    fn place(&mut self, t: f64, duration_s: f64) -> bool {
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

    /// One line for logs.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{}: {} rows used ({})",
            self.path.display(),
            self.rows_used,
            self.format
        );
        if self.rows_skipped > 0 {
            s += &format!(", {} malformed rows skipped", self.rows_skipped);
            if let Some(first) = self.skipped_examples.first() {
                s += &format!(" (first at line {}: {})", first.line, first.reason);
            }
        }
        if self.before_start + self.after_end > 0 {
            s += &format!(
                ", {} before the recording started and {} after it ended (ignored)",
                self.before_start, self.after_end
            );
        }
        s
    }
}

/// Per-second audience tracks: comments/s, distinct users/s, paid interactions/s.
pub fn comment_tracks(comments: &[Comment], duration_s: f64) -> Vec<Track> {
    let n = duration_s.ceil().max(1.0) as usize;
    let mut count = vec![0f32; n];
    let mut paid = vec![0f32; n];
    let mut users: Vec<std::collections::HashSet<&str>> = vec![Default::default(); n];
    for c in comments {
        let i = (c.t.max(0.0) as usize).min(n - 1);
        match c.kind {
            CommentKind::Comment => {
                count[i] += 1.0;
                users[i].insert(&c.user);
            }
            _ => paid[i] += c.value.unwrap_or(1.0) as f32,
        }
    }
    let times: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let mk = |name: &str, unit: &str, desc: &str, values: Vec<f32>| Track {
        name: name.into(),
        unit: unit.into(),
        description: desc.into(),
        times_s: times.clone(),
        values,
    };
    vec![
        mk(
            "comments",
            "1/s",
            "comments per second (bin starts at t)",
            count,
        ),
        mk(
            "comment_users",
            "1/s",
            "distinct commenting users per second: one account flooding counts once",
            users.iter().map(|u| u.len() as f32).collect(),
        ),
        mk(
            "paid_interactions",
            "CNY/s",
            "super chat, gift and membership value per second (1 per event without a price)",
            paid,
        ),
    ]
}

/// Per-second sales tracks: orders/s and GMV/s.
pub fn order_tracks(orders: &[Order], duration_s: f64) -> Vec<Track> {
    let n = duration_s.ceil().max(1.0) as usize;
    let mut count = vec![0f32; n];
    let mut gmv = vec![0f32; n];
    for o in orders {
        let i = (o.t.max(0.0) as usize).min(n - 1);
        count[i] += 1.0;
        gmv[i] += o.amount as f32;
    }
    let times: Vec<f64> = (0..n).map(|i| i as f64).collect();
    vec![
        Track {
            name: "orders".into(),
            unit: "1/s".into(),
            description: "paid orders per second (bin starts at t)".into(),
            times_s: times.clone(),
            values: count,
        },
        Track {
            name: "gmv".into(),
            unit: "CNY/s".into(),
            description: "paid amount per second".into(),
            times_s: times,
            values: gmv,
        },
    ]
}

/// Byte offset → 1-based line number.
pub(crate) struct LineIndex(Vec<usize>);

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        Self(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }

    pub(crate) fn line(&self, offset: usize) -> u64 {
        (self.0.partition_point(|&nl| nl < offset) + 1) as u64
    }
}
