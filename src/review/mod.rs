//! The editors' review: their decisions as data (`DIR/<stem>/review.json`) and the local
//! web app that records them ([`server`]).
//!
//! `review.json` holds, per highlight, the decision (approve/reject), its reason, the
//! trimmed span and the chosen title; the moments editors added; the subtitle segments
//! they corrected; each with the editor and the time. It carries a `version` that every
//! save increments: a write based on an older version is refused ([`ReviewError::Stale`],
//! HTTP 409), so two browsers never silently overwrite each other. Saves are atomic
//! (temporary file + rename). `livecut cut --approved` renders exactly the approved and
//! added spans with the edited titles ([`approved_highlights`]).

pub mod server;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::select::Highlight;

/// `DIR/<stem>/review.json`.
pub const REVIEW_FILE: &str = "review.json";
pub const SCHEMA_VERSION: u32 = 1;

/// Longest texts accepted (characters).
const MAX_TITLE: usize = 200;
const MAX_REASON: usize = 1000;
const MAX_EDITOR: usize = 100;
const MAX_SUBTITLE: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("{path}:{line}:{column}: not a livecut review file: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The change was based on `given`, the file is at `current`.
    #[error("stale write: based on version {given}, the review is at version {current}")]
    Stale { given: u64, current: u64 },
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
}

/// What an editor decided about a highlight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    #[default]
    Pending,
    Approve,
    Reject,
}

/// An editor's decision and edits for one highlight of `highlights.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HighlightReview {
    pub rank: usize,
    pub decision: Decision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The trimmed span (recording seconds); absent: the suggested one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_s: Option<f64>,
    /// The chosen title (a candidate or free text); absent: the suggested one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editor: Option<String>,
    /// When it was last changed (RFC 3339, UTC).
    pub at: String,
}

/// A moment livecut missed, added by an editor (approved by adding it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddedMoment {
    /// 1, 2, … in the order they were added.
    pub id: usize,
    pub start_s: f64,
    pub end_s: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editor: Option<String>,
    pub at: String,
}

/// A transcript segment an editor corrected (also written to `transcript.json`, marked
/// `edited`, where subtitles are made from).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubtitleEdit {
    /// The segment's index in `transcript.json`.
    pub index: usize,
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
    /// The text before the edit.
    pub was: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editor: Option<String>,
    pub at: String,
}

/// `review.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewFile {
    pub schema_version: u32,
    /// Incremented by every save; a change must name the version it was based on.
    pub version: u64,
    #[serde(default)]
    pub highlights: Vec<HighlightReview>,
    #[serde(default)]
    pub added: Vec<AddedMoment>,
    #[serde(default)]
    pub subtitles: Vec<SubtitleEdit>,
}

impl Default for ReviewFile {
    fn default() -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            version: 0,
            highlights: Vec::new(),
            added: Vec::new(),
            subtitles: Vec::new(),
        }
    }
}

/// A change to one highlight (the API's body). Absent fields stay as they are; `version`
/// (recommended) makes the change fail with a conflict when someone saved in between.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HighlightChange {
    pub version: Option<u64>,
    pub decision: Option<Decision>,
    pub reason: Option<String>,
    pub start_s: Option<f64>,
    pub end_s: Option<f64>,
    pub title: Option<String>,
    pub editor: Option<String>,
}

/// A moment to add.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MomentChange {
    pub version: Option<u64>,
    pub start_s: f64,
    pub end_s: f64,
    pub title: Option<String>,
    pub reason: Option<String>,
    pub editor: Option<String>,
}

/// A corrected subtitle segment.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubtitleChange {
    pub version: Option<u64>,
    pub text: String,
    pub editor: Option<String>,
}

pub fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string())
}

/// `review.json` of `dir`; a missing file is an empty review (version 0).
pub fn load(dir: &Path) -> Result<ReviewFile, ReviewError> {
    let path = dir.join(REVIEW_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ReviewFile::default()),
        Err(source) => return Err(ReviewError::Io { path, source }),
    };
    let review: ReviewFile = serde_json::from_slice(&bytes).map_err(|e| {
        let message = e.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.clone(), |(m, _)| m.to_string());
        ReviewError::Parse {
            path: path.clone(),
            line: e.line(),
            column: e.column(),
            message,
        }
    })?;
    if review.schema_version > SCHEMA_VERSION {
        return Err(ReviewError::Parse {
            path,
            line: 1,
            column: 1,
            message: format!(
                "schema_version {} is newer than this livecut's {SCHEMA_VERSION}",
                review.schema_version
            ),
        });
    }
    Ok(review)
}

/// Write `review` to `dir/review.json` atomically.
pub fn save(dir: &Path, review: &ReviewFile) -> Result<(), ReviewError> {
    let path = dir.join(REVIEW_FILE);
    let mut bytes = serde_json::to_vec_pretty(review).map_err(|e| ReviewError::Io {
        path: path.clone(),
        source: std::io::Error::other(e),
    })?;
    bytes.push(b'\n');
    crate::fsutil::write_atomic(&path, &bytes).map_err(|source| ReviewError::Io { path, source })
}

fn check_version(review: &ReviewFile, given: Option<u64>) -> Result<(), ReviewError> {
    match given {
        Some(v) if v != review.version => Err(ReviewError::Stale {
            given: v,
            current: review.version,
        }),
        _ => Ok(()),
    }
}

fn check_text(what: &str, text: &Option<String>, max: usize) -> Result<(), ReviewError> {
    match text {
        Some(t) if t.chars().count() > max => Err(ReviewError::Invalid(format!(
            "{what} is longer than {max} characters"
        ))),
        Some(t) if t.chars().any(|c| c.is_control() && c != '\n') => Err(ReviewError::Invalid(
            format!("{what} contains control characters"),
        )),
        _ => Ok(()),
    }
}

fn check_span(start_s: f64, end_s: f64, duration_s: f64) -> Result<(), ReviewError> {
    if !(start_s.is_finite() && end_s.is_finite()) || start_s < 0.0 || end_s <= start_s {
        return Err(ReviewError::Invalid(format!(
            "span {start_s}–{end_s} s: start must be ≥ 0 and before the end"
        )));
    }
    if end_s > duration_s + 0.5 {
        return Err(ReviewError::Invalid(format!(
            "span ends at {end_s} s, after the recording's end ({duration_s:.1} s)"
        )));
    }
    Ok(())
}

/// Apply `change` to the highlight of `h` (rank) in `review`; `duration_s` bounds spans.
/// Increments the version.
pub fn apply_highlight(
    review: &mut ReviewFile,
    h: &Highlight,
    change: &HighlightChange,
    duration_s: f64,
) -> Result<(), ReviewError> {
    check_version(review, change.version)?;
    check_text("reason", &change.reason, MAX_REASON)?;
    check_text("title", &change.title, MAX_TITLE)?;
    check_text("editor", &change.editor, MAX_EDITOR)?;
    if change.title.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return Err(ReviewError::Invalid("title is empty".into()));
    }
    let existing = review.highlights.iter().position(|r| r.rank == h.rank);
    let mut entry = existing
        .map(|i| review.highlights[i].clone())
        .unwrap_or(HighlightReview {
            rank: h.rank,
            decision: Decision::Pending,
            reason: None,
            start_s: None,
            end_s: None,
            title: None,
            editor: None,
            at: String::new(),
        });
    if let Some(d) = change.decision {
        entry.decision = d;
    }
    if change.reason.is_some() {
        entry.reason = change.reason.clone().filter(|r| !r.trim().is_empty());
    }
    if change.start_s.is_some() {
        entry.start_s = change.start_s;
    }
    if change.end_s.is_some() {
        entry.end_s = change.end_s;
    }
    check_span(
        entry.start_s.unwrap_or(h.start_s),
        entry.end_s.unwrap_or(h.end_s),
        duration_s,
    )?;
    if change.title.is_some() {
        entry.title = change.title.as_ref().map(|t| t.trim().to_string());
    }
    if change.editor.is_some() {
        entry.editor = change.editor.clone();
    }
    entry.at = now();
    match existing {
        Some(i) => review.highlights[i] = entry,
        None => {
            review.highlights.push(entry);
            review.highlights.sort_by_key(|r| r.rank);
        }
    }
    review.version += 1;
    Ok(())
}

/// Add a moment; returns its id. Increments the version.
pub fn add_moment(
    review: &mut ReviewFile,
    change: &MomentChange,
    duration_s: f64,
) -> Result<usize, ReviewError> {
    check_version(review, change.version)?;
    check_span(change.start_s, change.end_s, duration_s)?;
    check_text("reason", &change.reason, MAX_REASON)?;
    check_text("title", &change.title, MAX_TITLE)?;
    check_text("editor", &change.editor, MAX_EDITOR)?;
    let id = review.added.iter().map(|a| a.id).max().unwrap_or(0) + 1;
    review.added.push(AddedMoment {
        id,
        start_s: change.start_s,
        end_s: change.end_s,
        title: change.title.clone().filter(|t| !t.trim().is_empty()),
        reason: change.reason.clone().filter(|r| !r.trim().is_empty()),
        editor: change.editor.clone(),
        at: now(),
    });
    review.version += 1;
    Ok(id)
}

/// Correct segment `index` of `transcript` to `change.text` (marked edited) and record it
/// in `review`. Increments the version.
pub fn edit_subtitle(
    review: &mut ReviewFile,
    transcript: &mut crate::speech::Transcript,
    index: usize,
    change: &SubtitleChange,
) -> Result<(), ReviewError> {
    check_version(review, change.version)?;
    check_text("text", &Some(change.text.clone()), MAX_SUBTITLE)?;
    check_text("editor", &change.editor, MAX_EDITOR)?;
    let text = change.text.trim().to_string();
    if text.is_empty() {
        return Err(ReviewError::Invalid("subtitle text is empty".into()));
    }
    let seg = transcript
        .segments
        .get_mut(index)
        .ok_or_else(|| ReviewError::NotFound(format!("no transcript segment {index}")))?;
    let was = review
        .subtitles
        .iter()
        .find(|s| s.index == index)
        .map_or_else(|| seg.text.clone(), |s| s.was.clone());
    seg.text = text.clone();
    seg.edited = true;
    let edit = SubtitleEdit {
        index,
        start_s: seg.start_s,
        end_s: seg.end_s,
        text,
        was,
        editor: change.editor.clone(),
        at: now(),
    };
    review.subtitles.retain(|s| s.index != index);
    review.subtitles.push(edit);
    review.subtitles.sort_by_key(|s| s.index);
    review.version += 1;
    Ok(())
}

/// Whether highlight `rank` is approved in `review`.
pub fn is_approved(review: &ReviewFile, rank: usize) -> bool {
    review
        .highlights
        .iter()
        .any(|r| r.rank == rank && r.decision == Decision::Approve)
}

/// The highlights `cut --approved` renders: the approved ones with their trimmed spans
/// (peak kept inside), then the added moments (ranked after the last highlight), and the
/// titles the editors chose (by rank).
pub fn approved_highlights(
    highlights: &[Highlight],
    review: &ReviewFile,
) -> (Vec<Highlight>, Vec<(usize, String)>) {
    let mut out = Vec::new();
    let mut titles = Vec::new();
    for h in highlights {
        let Some(r) = review
            .highlights
            .iter()
            .find(|r| r.rank == h.rank && r.decision == Decision::Approve)
        else {
            continue;
        };
        let mut h = h.clone();
        h.start_s = r.start_s.unwrap_or(h.start_s);
        h.end_s = r.end_s.unwrap_or(h.end_s);
        h.peak_s = h.peak_s.clamp(h.start_s, h.end_s);
        if let Some(t) = &r.title {
            titles.push((h.rank, t.clone()));
        }
        out.push(h);
    }
    let last = highlights.iter().map(|h| h.rank).max().unwrap_or(0);
    for a in &review.added {
        let rank = last + a.id;
        out.push(Highlight {
            rank,
            start_s: a.start_s,
            end_s: a.end_s,
            peak_s: 0.5 * (a.start_s + a.end_s),
            type_evidence: vec!["added by an editor".into()],
            ..Default::default()
        });
        if let Some(t) = &a.title {
            titles.push((rank, t.clone()));
        }
    }
    (out, titles)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn highlight(rank: usize, a: f64, b: f64) -> Highlight {
        Highlight {
            rank,
            start_s: a,
            end_s: b,
            peak_s: 0.5 * (a + b),
            ..Default::default()
        }
    }

    #[test]
    fn changes_merge_and_bump_the_version_and_stale_ones_are_refused() {
        let mut r = ReviewFile::default();
        let h = highlight(1, 10.0, 40.0);
        let approve = HighlightChange {
            version: Some(0),
            decision: Some(Decision::Approve),
            ..Default::default()
        };
        apply_highlight(&mut r, &h, &approve, 100.0).unwrap();
        assert_eq!(r.version, 1);
        let trim = HighlightChange {
            version: Some(1),
            end_s: Some(43.0),
            title: Some(" 新标题 ".into()),
            ..Default::default()
        };
        apply_highlight(&mut r, &h, &trim, 100.0).unwrap();
        let e = &r.highlights[0];
        assert_eq!(
            (e.decision, e.end_s, e.title.as_deref()),
            (Decision::Approve, Some(43.0), Some("新标题"))
        );
        // Based on version 0 again: refused, nothing changed.
        let before = r.clone();
        let err = apply_highlight(&mut r, &h, &approve, 100.0).unwrap_err();
        assert!(
            matches!(
                err,
                ReviewError::Stale {
                    given: 0,
                    current: 2
                }
            ),
            "{err}"
        );
        assert_eq!(r, before);
    }

    #[test]
    fn bad_spans_and_texts_are_refused() {
        let mut r = ReviewFile::default();
        let h = highlight(1, 10.0, 40.0);
        for change in [
            HighlightChange {
                start_s: Some(50.0),
                ..Default::default()
            },
            HighlightChange {
                end_s: Some(f64::NAN),
                ..Default::default()
            },
            HighlightChange {
                end_s: Some(500.0),
                ..Default::default()
            },
            HighlightChange {
                title: Some("  ".into()),
                ..Default::default()
            },
            HighlightChange {
                reason: Some("x".repeat(1001)),
                ..Default::default()
            },
        ] {
            assert!(matches!(
                apply_highlight(&mut r, &h, &change, 100.0),
                Err(ReviewError::Invalid(_))
            ));
        }
        assert_eq!(r.version, 0);
    }

    #[test]
    fn approved_spans_titles_and_added_moments_are_what_cut_renders() {
        let hs = [
            highlight(1, 10.0, 40.0),
            highlight(2, 50.0, 80.0),
            highlight(3, 90.0, 99.0),
        ];
        let mut r = ReviewFile::default();
        let change = |d, end: Option<f64>, title: Option<&str>| HighlightChange {
            decision: Some(d),
            end_s: end,
            title: title.map(str::to_string),
            ..Default::default()
        };
        apply_highlight(
            &mut r,
            &hs[0],
            &change(Decision::Approve, Some(43.0), Some("T1")),
            100.0,
        )
        .unwrap();
        apply_highlight(&mut r, &hs[1], &change(Decision::Reject, None, None), 100.0).unwrap();
        add_moment(
            &mut r,
            &MomentChange {
                start_s: 60.0,
                end_s: 75.0,
                title: Some("加的".into()),
                ..Default::default()
            },
            100.0,
        )
        .unwrap();
        let (out, titles) = approved_highlights(&hs, &r);
        let spans: Vec<(usize, f64, f64)> =
            out.iter().map(|h| (h.rank, h.start_s, h.end_s)).collect();
        assert_eq!(spans, [(1, 10.0, 43.0), (4, 60.0, 75.0)]);
        assert_eq!(titles, [(1, "T1".to_string()), (4, "加的".to_string())]);
        assert!(is_approved(&r, 1) && !is_approved(&r, 2) && !is_approved(&r, 3));
    }

    #[test]
    fn a_broken_file_names_its_line_and_a_missing_one_is_empty() {
        let dir = std::env::temp_dir().join(format!("livecut-review-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(load(&dir).unwrap(), ReviewFile::default());
        std::fs::write(
            dir.join(REVIEW_FILE),
            "{\n  \"schema_version\": 1,\n  \"version\": \"x\"\n}",
        )
        .unwrap();
        let e = load(&dir).unwrap_err().to_string();
        assert!(e.contains("review.json:3:"), "{e}");
        let mut r = ReviewFile::default();
        add_moment(
            &mut r,
            &MomentChange {
                start_s: 1.0,
                end_s: 2.0,
                ..Default::default()
            },
            10.0,
        )
        .unwrap();
        save(&dir, &r).unwrap();
        assert_eq!(load(&dir).unwrap(), r);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
