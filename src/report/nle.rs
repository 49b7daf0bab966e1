//! Editor hand-off: the highlights as an edit of the source recording, in three interchange
//! formats that non-linear editors import.
//!
//! * `timeline.otio`: OpenTimelineIO JSON (a `Timeline.1` with a video track `V1` and, when
//!   the recording has sound, an audio track `A1`).
//! * `timeline.fcpxml`: FCPXML 1.9 (Final Cut Pro, DaVinci Resolve): one `<format>`, one
//!   `<asset>` for the recording, a project whose spine holds one `<asset-clip>` per
//!   highlight.
//! * `timeline.edl`: CMX 3600, one cut event per highlight (drop-frame timecode at 29.97 and
//!   59.94 fps).
//!
//! Every clip refers to the **source recording** (not to the rendered platform clips) so an
//! editor can widen a cut. Clips are in **rank order** (best first), back to back from the
//! timeline's start (the EDL's record timecode starts at 01:00:00:00, as is usual). A
//! clip's source range is the highlight's span with both ends moved to the nearest frame
//! of the recording, at the recording's real frame rate ([`FrameRate::from_fps`]: 29.97
//! is exactly 30000/1001). Source frame 0 (timecode 00:00:00:00) is the recording's first
//! presentation time, the origin of every time livecut reports.
//!
//! Everything here is a pure function of the highlights and the probe facts; `pipeline::cut`
//! writes the strings.

use std::path::Path;

use quick_xml::events::{BytesDecl, BytesStart, BytesText, Event};
use quick_xml::Writer;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::HighlightsFile;
use crate::classify::HighlightType;
use crate::media::MediaInfo;
use crate::time::Span;

pub const OTIO_FILE: &str = "timeline.otio";
pub const FCPXML_FILE: &str = "timeline.fcpxml";
pub const EDL_FILE: &str = "timeline.edl";

/// Frame rate assumed when the recording reports none (no video stream, or a rate of 0).
pub const FALLBACK_RATE: FrameRate = FrameRate { num: 25, den: 1 };

/// The editor timelines written beside `manifest.json` (paths relative to its folder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelinePaths {
    /// OpenTimelineIO JSON.
    pub otio: std::path::PathBuf,
    /// FCPXML 1.9.
    pub fcpxml: std::path::PathBuf,
    /// CMX 3600 EDL.
    pub edl: std::path::PathBuf,
}

impl Default for TimelinePaths {
    fn default() -> Self {
        Self {
            otio: OTIO_FILE.into(),
            fcpxml: FCPXML_FILE.into(),
            edl: EDL_FILE.into(),
        }
    }
}

/// An exact frame rate `num/den` frames per second (reduced).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRate {
    pub num: u32,
    pub den: u32,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl FrameRate {
    /// The exact rate behind a measured one: 24000/1001, 30000/1001 or 60000/1001 when
    /// within 0.01, else a whole number when within 0.01, else `fps` to the millisecond.
    /// `None` for a rate that is not positive and finite.
    pub fn from_fps(fps: f64) -> Option<Self> {
        if !fps.is_finite() || fps <= 0.0 || fps > 1000.0 {
            return None;
        }
        for num in [24000, 30000, 60000] {
            if (fps - f64::from(num) / 1001.0).abs() < 0.01 {
                return Some(Self { num, den: 1001 });
            }
        }
        if (fps - fps.round()).abs() < 0.01 {
            return Some(Self {
                num: fps.round() as u32,
                den: 1,
            });
        }
        let milli = (fps * 1000.0).round() as u64;
        let g = gcd(milli, 1000);
        Some(Self {
            num: (milli / g) as u32,
            den: (1000 / g) as u32,
        })
    }

    /// The rate of a probed recording ([`FALLBACK_RATE`] when it has none).
    pub fn of(info: &MediaInfo) -> Self {
        info.video
            .as_ref()
            .and_then(|v| Self::from_fps(v.fps))
            .unwrap_or(FALLBACK_RATE)
    }

    pub fn fps(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }

    /// Frames per timecode second: 30 for 29.97, 25 for 25.
    pub fn timebase(self) -> u32 {
        ((self.num + self.den / 2) / self.den).max(1)
    }

    /// Whether timecode at this rate is drop-frame (29.97 and 59.94).
    pub fn drop_frame(self) -> bool {
        self.den == 1001 && (self.num == 30000 || self.num == 60000)
    }

    /// The frame nearest to `secs` (never negative).
    pub fn frame_at(self, secs: f64) -> i64 {
        if !secs.is_finite() {
            return 0;
        }
        (secs * f64::from(self.num) / f64::from(self.den))
            .round()
            .max(0.0) as i64
    }

    /// Seconds at the start of `frames`.
    pub fn secs(self, frames: i64) -> f64 {
        frames as f64 * f64::from(self.den) / f64::from(self.num)
    }

    /// `frames` as FCPXML rational seconds, reduced: `0s`, `40s`, `1200199/30000s`.
    pub fn rational_secs(self, frames: i64) -> String {
        let sign = if frames < 0 { "-" } else { "" };
        let n = frames.unsigned_abs() * u64::from(self.den);
        let d = u64::from(self.num);
        let g = gcd(n, d).max(1);
        let (n, d) = (n / g, d / g);
        if n == 0 {
            "0s".into()
        } else if d == 1 {
            format!("{sign}{n}s")
        } else {
            format!("{sign}{n}/{d}s")
        }
    }
}

/// Frame `frame` (counted from 0) as SMPTE timecode: `hh:mm:ss:ff`, or `hh:mm:ss;ff` with
/// drop-frame counting at 29.97/59.94 (frame labels 00 and 01, or 00–03 at 59.94, are
/// skipped at the start of every minute except every tenth). Hours wrap at 24.
pub fn timecode(frame: i64, rate: FrameRate) -> String {
    let base = i64::from(rate.timebase());
    let frame = frame.max(0);
    let (label, sep) = if rate.drop_frame() {
        let drop = base / 15; // 2 at 29.97, 4 at 59.94
        let per_min = base * 60 - drop;
        let per_10min = base * 600 - drop * 9;
        let tens = frame / per_10min;
        let rest = frame % per_10min;
        let skipped = drop * 9 * tens
            + if rest < drop {
                0
            } else {
                drop * ((rest - drop) / per_min)
            };
        (frame + skipped, ';')
    } else {
        (frame, ':')
    };
    let ff = label % base;
    let total_s = label / base;
    format!(
        "{:02}:{:02}:{:02}{sep}{:02}",
        (total_s / 3600) % 24,
        (total_s / 60) % 60,
        total_s % 60,
        ff
    )
}

/// The frame a timecode written by [`timecode`] stands for (`;` or `:` before the frames;
/// drop-frame counting follows `rate`). `None` for text that is not `hh:mm:ss[:;]ff` or
/// a label drop-frame skips.
pub fn parse_timecode(tc: &str, rate: FrameRate) -> Option<i64> {
    let b = tc.as_bytes();
    if b.len() != 11 || b[2] != b':' || b[5] != b':' || !matches!(b[8], b':' | b';') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| tc.get(r)?.parse::<i64>().ok();
    let (hh, mm, ss, ff) = (num(0..2)?, num(3..5)?, num(6..8)?, num(9..11)?);
    let base = i64::from(rate.timebase());
    if mm > 59 || ss > 59 || ff >= base {
        return None;
    }
    let minutes = hh * 60 + mm;
    let mut frame = (minutes * 60 + ss) * base + ff;
    if rate.drop_frame() {
        let drop = base / 15;
        if ss == 0 && ff < drop && mm % 10 != 0 {
            return None;
        }
        frame -= drop * (minutes - minutes / 10);
    }
    Some(frame)
}

/// One highlight as a clip of the edit.
#[derive(Debug, Clone)]
pub struct Edit {
    pub rank: usize,
    pub kind: HighlightType,
    pub title: String,
    pub span: Span,
    pub peak_s: f64,
    pub score: f64,
    pub tags: Vec<String>,
}

impl Edit {
    /// The clip's name in every format: `#rank type title`.
    pub fn name(&self) -> String {
        clean(&format!(
            "#{} {} {}",
            self.rank,
            self.kind.as_str(),
            self.title
        ))
    }
}

/// The best `n` highlights of `file` as edits, in rank order, with their suggested titles.
pub fn edits(file: &HighlightsFile, n: usize) -> Vec<Edit> {
    file.highlights
        .iter()
        .take(n)
        .map(|h| Edit {
            rank: h.rank,
            kind: h.kind,
            title: crate::classify::suggested_title(h),
            span: h.span(),
            peak_s: h.peak_s,
            score: h.score,
            tags: h.tags.clone(),
        })
        .collect()
}

/// The three timelines as text.
#[derive(Debug, Clone)]
pub struct Timelines {
    pub otio: String,
    pub fcpxml: String,
    pub edl: String,
}

/// A clip in frames of the recording.
#[derive(Debug, Clone, Copy)]
struct Placed {
    /// First frame in the recording.
    start: i64,
    /// Length in frames (at least 1).
    len: i64,
    /// The peak, in frames of the recording, inside the clip.
    peak: i64,
    /// Where the clip starts in the timeline (frames from its start).
    offset: i64,
}

/// Each edit's span snapped to the nearest frames, inside the recording's `total` frames
/// (when known), at least one frame long, placed back to back.
fn place(edits: &[Edit], rate: FrameRate, total: i64) -> Vec<Placed> {
    let mut offset = 0;
    edits
        .iter()
        .map(|e| {
            let mut start = rate.frame_at(e.span.start_s);
            let mut end = rate.frame_at(e.span.end_s);
            if total > 0 {
                start = start.min(total - 1);
                end = end.min(total);
            }
            let end = end.max(start + 1);
            let peak = rate.frame_at(e.peak_s).clamp(start, end - 1);
            let p = Placed {
                start,
                len: end - start,
                peak,
                offset,
            };
            offset += p.len;
            p
        })
        .collect()
}

/// Text safe on one line of any of the formats: control characters (newlines, tabs,
/// NUL …, which XML 1.0 cannot carry and which would break an EDL line) become spaces.
fn clean(text: &str) -> String {
    let s: String = text
        .chars()
        .map(|c| {
            if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' {
                ' '
            } else {
                c
            }
        })
        .collect();
    s.trim().to_string()
}

/// `path` (absolute) as a `file://` URL, every byte but unreserved characters and `/`
/// percent-encoded (spaces, `#`, `%`, non-ASCII …).
pub fn file_url(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut url = String::from("file://");
    if !text.starts_with('/') {
        url.push('/');
    }
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

fn file_stem(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = clean(&stem);
    if stem.is_empty() {
        "recording".into()
    } else {
        stem
    }
}

/// All three timelines for `edits` of the recording at `source` (an absolute path; it
/// becomes the media reference) described by `info`.
pub fn build(source: &Path, info: &MediaInfo, edits: &[Edit]) -> Timelines {
    let rate = FrameRate::of(info);
    let total = rate.frame_at(info.duration_s);
    let placed = place(edits, rate, total);
    Timelines {
        otio: otio(source, info, rate, total, edits, &placed),
        fcpxml: fcpxml(source, info, rate, total, edits, &placed),
        edl: edl(source, info, rate, edits, &placed),
    }
}

// --------------------------------------------------------------------------------------
// OpenTimelineIO

fn rt(value: i64, rate: FrameRate) -> Value {
    json!({"OTIO_SCHEMA": "RationalTime.1", "rate": rate.fps(), "value": value as f64})
}

fn range(start: i64, len: i64, rate: FrameRate) -> Value {
    json!({
        "OTIO_SCHEMA": "TimeRange.1",
        "duration": rt(len, rate),
        "start_time": rt(start, rate),
    })
}

fn otio(
    source: &Path,
    info: &MediaInfo,
    rate: FrameRate,
    total: i64,
    edits: &[Edit],
    placed: &[Placed],
) -> String {
    let available = total.max(placed.iter().map(|p| p.start + p.len).max().unwrap_or(0));
    let url = file_url(source);
    let clips = |track: &str| -> Vec<Value> {
        edits
            .iter()
            .zip(placed)
            .map(|(e, p)| {
                json!({
                    "OTIO_SCHEMA": "Clip.2",
                    "metadata": {"livecut": {
                        "rank": e.rank,
                        "type": e.kind.as_str(),
                        "suggested_title": e.title,
                        "score": e.score,
                        "span_s": {"start_s": e.span.start_s, "end_s": e.span.end_s},
                        "peak_s": e.peak_s,
                        "tags": e.tags,
                        "track": track,
                    }},
                    "name": e.name(),
                    "source_range": range(p.start, p.len, rate),
                    "effects": [],
                    "markers": [{
                        "OTIO_SCHEMA": "Marker.2",
                        "metadata": {},
                        "name": "peak",
                        "color": "RED",
                        "marked_range": range(p.peak, 0, rate),
                        "comment": "",
                    }],
                    "enabled": true,
                    "media_references": {"DEFAULT_MEDIA": {
                        "OTIO_SCHEMA": "ExternalReference.1",
                        "metadata": {},
                        "name": file_stem(source),
                        "available_range": range(0, available, rate),
                        "available_image_bounds": null,
                        "target_url": url,
                    }},
                    "active_media_reference_key": "DEFAULT_MEDIA",
                })
            })
            .collect()
    };
    let track = |name: &str, kind: &str| {
        json!({
            "OTIO_SCHEMA": "Track.1",
            "metadata": {},
            "name": name,
            "source_range": null,
            "effects": [],
            "markers": [],
            "enabled": true,
            "children": clips(name),
            "kind": kind,
        })
    };
    let mut tracks = vec![track("V1", "Video")];
    if info.audio.is_some() {
        tracks.push(track("A1", "Audio"));
    }
    let doc = json!({
        "OTIO_SCHEMA": "Timeline.1",
        "metadata": {"livecut": {
            "generator": super::generator(),
            "order": "rank",
            "frame_rate": format!("{}/{}", rate.num, rate.den),
        }},
        "name": format!("{} highlights", file_stem(source)),
        "global_start_time": rt(0, rate),
        "tracks": {
            "OTIO_SCHEMA": "Stack.1",
            "metadata": {},
            "name": "tracks",
            "source_range": null,
            "effects": [],
            "markers": [],
            "enabled": true,
            "children": tracks,
        },
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

// --------------------------------------------------------------------------------------
// FCPXML

fn audio_rate_name(hz: u32) -> &'static str {
    match hz {
        32000 => "32k",
        44100 => "44.1k",
        88200 => "88.2k",
        96000 => "96k",
        176400 => "176.4k",
        192000 => "192k",
        _ => "48k",
    }
}

fn fcpxml(
    source: &Path,
    info: &MediaInfo,
    rate: FrameRate,
    total: i64,
    edits: &[Edit],
    placed: &[Placed],
) -> String {
    let t = |frames: i64| rate.rational_secs(frames);
    let frame = t(1);
    let tc_format = if rate.drop_frame() { "DF" } else { "NDF" };
    let (width, height) = info
        .video
        .as_ref()
        .map(|v| (v.width, v.height))
        .unwrap_or((1920, 1080));
    let available = total.max(placed.iter().map(|p| p.start + p.len).max().unwrap_or(0));
    let timeline_len: i64 = placed.iter().map(|p| p.len).sum();
    let stem = file_stem(source);
    let url = file_url(source);

    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let ok = (|| -> std::io::Result<()> {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.write_event(Event::DocType(BytesText::from_escaped("fcpxml")))?;
        w.write_event(Event::Start(
            BytesStart::new("fcpxml").with_attributes([("version", "1.9")]),
        ))?;
        w.write_event(Event::Start(BytesStart::new("resources")))?;
        let (width, height) = (width.to_string(), height.to_string());
        w.write_event(Event::Empty(BytesStart::new("format").with_attributes([
            ("id", "r1"),
            ("frameDuration", frame.as_str()),
            ("width", width.as_str()),
            ("height", height.as_str()),
        ])))?;
        let mut asset = BytesStart::new("asset");
        asset.push_attribute(("id", "r2"));
        asset.push_attribute(("name", stem.as_str()));
        asset.push_attribute(("start", "0s"));
        asset.push_attribute(("duration", t(available).as_str()));
        asset.push_attribute(("hasVideo", if info.video.is_some() { "1" } else { "0" }));
        asset.push_attribute(("format", "r1"));
        if info.video.is_some() {
            asset.push_attribute(("videoSources", "1"));
        }
        if let Some(a) = &info.audio {
            asset.push_attribute(("hasAudio", "1"));
            asset.push_attribute(("audioSources", "1"));
            asset.push_attribute(("audioChannels", a.channels.to_string().as_str()));
            asset.push_attribute(("audioRate", a.sample_rate.to_string().as_str()));
        }
        w.write_event(Event::Start(asset))?;
        w.write_event(Event::Empty(
            BytesStart::new("media-rep")
                .with_attributes([("kind", "original-media"), ("src", url.as_str())]),
        ))?;
        w.write_event(Event::End(BytesStart::new("asset").to_end()))?;
        w.write_event(Event::End(BytesStart::new("resources").to_end()))?;

        w.write_event(Event::Start(BytesStart::new("library")))?;
        w.write_event(Event::Start(
            BytesStart::new("event").with_attributes([("name", stem.as_str())]),
        ))?;
        let project = format!("{stem} highlights");
        w.write_event(Event::Start(
            BytesStart::new("project").with_attributes([("name", project.as_str())]),
        ))?;
        let mut seq = BytesStart::new("sequence");
        seq.push_attribute(("format", "r1"));
        seq.push_attribute(("duration", t(timeline_len).as_str()));
        seq.push_attribute(("tcStart", "0s"));
        seq.push_attribute(("tcFormat", tc_format));
        if let Some(a) = &info.audio {
            seq.push_attribute((
                "audioLayout",
                if a.channels == 1 { "mono" } else { "stereo" },
            ));
            seq.push_attribute(("audioRate", audio_rate_name(a.sample_rate)));
        }
        w.write_event(Event::Start(seq))?;
        w.write_event(Event::Start(BytesStart::new("spine")))?;
        for (e, p) in edits.iter().zip(placed) {
            let name = e.name();
            let mut clip = BytesStart::new("asset-clip");
            clip.push_attribute(("ref", "r2"));
            clip.push_attribute(("name", name.as_str()));
            clip.push_attribute(("offset", t(p.offset).as_str()));
            clip.push_attribute(("start", t(p.start).as_str()));
            clip.push_attribute(("duration", t(p.len).as_str()));
            clip.push_attribute(("format", "r1"));
            clip.push_attribute(("tcFormat", tc_format));
            w.write_event(Event::Start(clip))?;
            w.write_event(Event::Empty(BytesStart::new("marker").with_attributes([
                ("start", t(p.peak).as_str()),
                ("duration", frame.as_str()),
                ("value", "peak"),
            ])))?;
            w.write_event(Event::End(BytesStart::new("asset-clip").to_end()))?;
        }
        for tag in ["spine", "sequence", "project", "event", "library", "fcpxml"] {
            w.write_event(Event::End(BytesStart::new(tag).to_end()))?;
        }
        Ok(())
    })();
    debug_assert!(ok.is_ok(), "writing XML to memory cannot fail");
    let mut text = String::from_utf8(w.into_inner()).unwrap_or_default();
    text.push('\n');
    text
}

// --------------------------------------------------------------------------------------
// CMX 3600

/// The reel name: the recording's stem reduced to at most 8 ASCII letters, digits and
/// `_`; `AX` (auxiliary source) when nothing is left or it would read as a special source.
pub fn reel_name(source: &Path) -> String {
    let reel: String = source
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(8)
        .collect::<String>()
        .to_ascii_uppercase();
    if reel.is_empty() || matches!(reel.as_str(), "BL" | "BLACK" | "BARS" | "AX") {
        "AX".into()
    } else {
        reel
    }
}

/// Record timecode of the first event: 01:00:00:00 (01:00:00;00 drop-frame).
fn record_start(rate: FrameRate) -> i64 {
    parse_timecode(
        if rate.drop_frame() {
            "01:00:00;00"
        } else {
            "01:00:00:00"
        },
        rate,
    )
    .unwrap_or(0)
}

fn edl(
    source: &Path,
    info: &MediaInfo,
    rate: FrameRate,
    edits: &[Edit],
    placed: &[Placed],
) -> String {
    use std::fmt::Write as _;
    let reel = reel_name(source);
    let channels = match (info.video.is_some(), info.audio.is_some()) {
        (true, true) | (false, false) => "B",
        (true, false) => "V",
        (false, true) => "A",
    };
    let rec0 = record_start(rate);
    let mut out = String::new();
    let title: String = clean(&format!("{} highlights", file_stem(source)))
        .chars()
        .take(70)
        .collect();
    let _ = writeln!(out, "TITLE: {title}");
    let _ = writeln!(
        out,
        "FCM: {}",
        if rate.drop_frame() {
            "DROP FRAME"
        } else {
            "NON-DROP FRAME"
        }
    );
    let path = clean(&source.to_string_lossy());
    let file_name = clean(
        &source
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    // CMX 3600 numbers events 001–999.
    for (i, (e, p)) in edits.iter().zip(placed).take(999).enumerate() {
        let tc = |f| timecode(f, rate);
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:03}  {reel:<8} {channels:<5} C        {} {} {} {}",
            i + 1,
            tc(p.start),
            tc(p.start + p.len),
            tc(rec0 + p.offset),
            tc(rec0 + p.offset + p.len),
        );
        let _ = writeln!(out, "* FROM CLIP NAME: {}", e.name());
        let _ = writeln!(out, "* FROM CLIP: {path}");
        let _ = writeln!(out, "* SOURCE FILE: {file_name}");
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::media::{AudioInfo, VideoInfo};
    use crate::time::TimeBase;

    const NTSC: FrameRate = FrameRate {
        num: 30000,
        den: 1001,
    };
    const PAL: FrameRate = FrameRate { num: 25, den: 1 };

    #[test]
    fn exact_rates_from_measured_ones() {
        assert_eq!(FrameRate::from_fps(29.97002997), Some(NTSC));
        assert_eq!(FrameRate::from_fps(29.97), Some(NTSC));
        assert_eq!(FrameRate::from_fps(1798200.0 / 60001.0), Some(NTSC));
        assert_eq!(
            FrameRate::from_fps(23.976),
            Some(FrameRate {
                num: 24000,
                den: 1001
            })
        );
        assert_eq!(
            FrameRate::from_fps(59.94),
            Some(FrameRate {
                num: 60000,
                den: 1001
            })
        );
        assert_eq!(FrameRate::from_fps(25.0), Some(PAL));
        assert_eq!(FrameRate::from_fps(24.999), Some(PAL));
        assert_eq!(
            FrameRate::from_fps(30.0),
            Some(FrameRate { num: 30, den: 1 })
        );
        assert_eq!(
            FrameRate::from_fps(12.5),
            Some(FrameRate { num: 25, den: 2 })
        );
        assert_eq!(
            FrameRate::from_fps(14.9851),
            Some(FrameRate {
                num: 2997,
                den: 200
            })
        );
        assert_eq!(FrameRate::from_fps(0.0), None);
        assert_eq!(FrameRate::from_fps(f64::NAN), None);
        assert_eq!(NTSC.fps(), 30000.0 / 1001.0);
        assert!((NTSC.fps() - 29.970_029_97).abs() < 1e-8);
        assert_eq!(NTSC.timebase(), 30);
        assert!(NTSC.drop_frame());
        assert!(!FrameRate::from_fps(23.976).unwrap().drop_frame());
        assert!(!PAL.drop_frame());
    }

    #[test]
    fn rational_seconds_are_whole_frames() {
        assert_eq!(PAL.rational_secs(0), "0s");
        assert_eq!(PAL.rational_secs(1), "1/25s");
        assert_eq!(PAL.rational_secs(1000), "40s");
        assert_eq!(PAL.rational_secs(1001), "1001/25s");
        assert_eq!(NTSC.rational_secs(1), "1001/30000s");
        assert_eq!(NTSC.rational_secs(30), "1001/1000s");
        // 40.0 s at 29.97 is frame 1198.8: the nearest frame is 1199
        assert_eq!(NTSC.frame_at(40.0), 1199);
        assert_eq!(NTSC.rational_secs(1199), "1200199/30000s");
        assert_eq!(PAL.frame_at(40.0), 1000);
        assert_eq!(PAL.frame_at(40.019), 1000);
        assert_eq!(PAL.frame_at(40.021), 1001);
        assert_eq!(PAL.frame_at(-1.0), 0);
        // snapping moves a time by at most half a frame
        for i in 0..10_000 {
            let t = f64::from(i) * 0.0137;
            for r in [NTSC, PAL] {
                let snapped = r.secs(r.frame_at(t));
                assert!((snapped - t).abs() <= 0.5 / r.fps() + 1e-9, "{t} at {r:?}");
            }
        }
    }

    #[test]
    fn non_drop_timecode() {
        assert_eq!(timecode(0, PAL), "00:00:00:00");
        assert_eq!(timecode(24, PAL), "00:00:00:24");
        assert_eq!(timecode(25, PAL), "00:00:01:00");
        assert_eq!(timecode(1000, PAL), "00:00:40:00");
        assert_eq!(timecode(25 * 3600, PAL), "01:00:00:00");
        assert_eq!(timecode(25 * 3600 * 24 + 3, PAL), "00:00:00:03");
        let r24 = FrameRate::from_fps(23.976).unwrap();
        assert_eq!(timecode(24 * 60, r24), "00:01:00:00");
        for f in (0..25 * 7200).step_by(7) {
            assert_eq!(parse_timecode(&timecode(f, PAL), PAL), Some(f));
        }
    }

    #[test]
    fn drop_frame_timecode() {
        let tc = |f| timecode(f, NTSC);
        assert_eq!(tc(0), "00:00:00;00");
        assert_eq!(tc(29), "00:00:00;29");
        assert_eq!(tc(30), "00:00:01;00");
        assert_eq!(tc(1199), "00:00:39;29");
        // the first minute has all 1800 labels; then ;00 and ;01 are skipped
        assert_eq!(tc(1799), "00:00:59;29");
        assert_eq!(tc(1800), "00:01:00;02");
        assert_eq!(tc(1801), "00:01:00;03");
        assert_eq!(tc(3597), "00:01:59;29");
        assert_eq!(tc(3598), "00:02:00;02");
        // every tenth minute keeps them
        assert_eq!(tc(17981), "00:09:59;29");
        assert_eq!(tc(17982), "00:10:00;00");
        assert_eq!(tc(17983), "00:10:00;01");
        assert_eq!(tc(17982 + 1800), "00:11:00;02");
        // one hour of 29.97 is 107892 frames (3600 s × 29.97)
        assert_eq!(tc(107892), "01:00:00;00");
        assert_eq!(tc(107891), "00:59:59;29");
        assert_eq!(parse_timecode("01:00:00;00", NTSC), Some(107892));
        assert_eq!(parse_timecode("00:01:00;02", NTSC), Some(1800));
        assert_eq!(parse_timecode("00:10:00;00", NTSC), Some(17982));
        assert_eq!(parse_timecode("00:01:00;00", NTSC), None); // skipped label
        assert_eq!(parse_timecode("00:01:00;01", NTSC), None);
        assert_eq!(parse_timecode("00:00:00;30", NTSC), None);
        assert_eq!(parse_timecode("0:00:00;00", NTSC), None);
        // round trip over 3 hours; drop-frame labels stay within 0.004 s/hour of the
        // wall clock (00:10:00;00 is 600.0006 s)
        for f in (0..324_000).step_by(3) {
            let text = tc(f);
            assert_eq!(parse_timecode(&text, NTSC), Some(f), "{text}");
            let n: Vec<f64> = text.split([':', ';']).map(|x| x.parse().unwrap()).collect();
            let label_s = n[0] * 3600.0 + n[1] * 60.0 + n[2] + n[3] / 30.0;
            assert!(
                (label_s - NTSC.secs(f)).abs() < 0.07 + 0.004 * 3.0,
                "{text}"
            );
        }
        assert!((NTSC.secs(17982) - 600.0).abs() < 0.001); // 600.0006 s
                                                           // 59.94 drops four labels
        let r60 = FrameRate::from_fps(59.94).unwrap();
        assert_eq!(timecode(3599, r60), "00:00:59;59");
        assert_eq!(timecode(3600, r60), "00:01:00;04");
        assert_eq!(timecode(35964, r60), "00:10:00;00");
        for f in (0..500_000).step_by(11) {
            assert_eq!(parse_timecode(&timecode(f, r60), r60), Some(f));
        }
    }

    fn info(fps: f64, audio: bool) -> MediaInfo {
        MediaInfo {
            path: "/rec/live <&> \"1\".mp4".into(),
            size_bytes: 1,
            container: "mov,mp4,m4a,3gp,3g2,mj2".into(),
            duration_s: 75.0,
            start_time_s: 0.0,
            creation_time: None,
            start_source: None,
            audio_tracks: 1,
            parts: Vec::new(),
            timestamp_breaks: Vec::new(),
            repaired_from: None,
            video: Some(VideoInfo {
                index: 0,
                codec: "h264".into(),
                width: 320,
                height: 180,
                fps,
                time_base: TimeBase::new(1, 30000),
                rotation: 0,
                coded: None,
            }),
            audio: audio.then(|| AudioInfo {
                index: 1,
                codec: "aac".into(),
                sample_rate: 48000,
                channels: 2,
                time_base: TimeBase::new(1, 48000),
            }),
        }
    }

    fn edit(rank: usize, start_s: f64, end_s: f64, title: &str) -> Edit {
        Edit {
            rank,
            kind: HighlightType::Product,
            title: title.into(),
            span: Span::new(start_s, end_s),
            peak_s: (start_s + end_s) / 2.0,
            score: 0.5,
            tags: vec!["sku:A1".into()],
        }
    }

    const HOSTILE: &str = "<b>\"秒杀\" & 'deal'</b>\n\u{0}next";

    #[test]
    fn edl_events_in_drop_frame() {
        let src = Path::new("/rec/live session #1.mp4");
        let edits = [edit(1, 55.0, 70.0, HOSTILE), edit(2, 40.0, 50.0, "b")];
        let t = build(src, &info(29.97002997, true), &edits);
        let lines: Vec<&str> = t.edl.lines().collect();
        assert_eq!(lines[0], "TITLE: live session #1 highlights");
        assert_eq!(lines[1], "FCM: DROP FRAME");
        assert_eq!(
            lines[3],
            "001  LIVESESS B     C        00:00:54;28 00:01:10;00 01:00:00;00 01:00:15;00"
        );
        assert_eq!(
            lines[4],
            "* FROM CLIP NAME: #1 product <b>\"秒杀\" & 'deal'</b>  next"
        );
        assert_eq!(lines[5], "* FROM CLIP: /rec/live session #1.mp4");
        assert_eq!(lines[6], "* SOURCE FILE: live session #1.mp4");
        assert_eq!(
            lines[8],
            "002  LIVESESS B     C        00:00:39;29 00:00:49;29 01:00:15;00 01:00:25;00"
        );
        let pal = build(src, &info(25.0, false), &edits);
        assert!(pal.edl.contains("FCM: NON-DROP FRAME"));
        assert!(pal.edl.contains(
            "001  LIVESESS V     C        00:00:55:00 00:01:10:00 01:00:00:00 01:00:15:00"
        ));
        assert!(pal.edl.contains(
            "002  LIVESESS V     C        00:00:40:00 00:00:50:00 01:00:15:00 01:00:25:00"
        ));
    }

    #[test]
    fn reel_names() {
        assert_eq!(reel_name(Path::new("/a/demo.mp4")), "DEMO");
        assert_eq!(reel_name(Path::new("/a/直播 2024-09-03.flv")), "20240903");
        assert_eq!(reel_name(Path::new("/a/直播.flv")), "AX");
        assert_eq!(reel_name(Path::new("/a/bars.mp4")), "AX");
    }

    #[test]
    fn otio_json_ranges_and_reference() {
        let src = Path::new("/rec/live <&> \"1\".mp4");
        let edits = [edit(1, 55.0, 70.0, HOSTILE), edit(2, 40.0, 50.0, "b")];
        let t = build(src, &info(29.97002997, true), &edits);
        let v: Value = serde_json::from_str(&t.otio).unwrap();
        assert_eq!(v["OTIO_SCHEMA"], "Timeline.1");
        let tracks = v["tracks"]["children"].as_array().unwrap();
        assert_eq!(tracks.len(), 2);
        assert_eq!(tracks[0]["kind"], "Video");
        assert_eq!(tracks[1]["kind"], "Audio");
        let clip = &tracks[0]["children"][0];
        assert_eq!(clip["name"], "#1 product <b>\"秒杀\" & 'deal'</b>  next");
        let sr = &clip["source_range"];
        assert_eq!(sr["start_time"]["value"], 1648.0);
        assert_eq!(sr["duration"]["value"], 450.0);
        assert_eq!(sr["start_time"]["rate"], 30000.0 / 1001.0);
        let r = &clip["media_references"]["DEFAULT_MEDIA"];
        assert_eq!(
            r["target_url"],
            "file:///rec/live%20%3C%26%3E%20%221%22.mp4"
        );
        assert_eq!(r["available_range"]["duration"]["value"], 2248.0); // 75 s × 29.97
        assert_eq!(
            tracks[0]["children"][1]["source_range"]["start_time"]["value"],
            1199.0
        );
        let pal = build(src, &info(25.0, false), &edits);
        let v: Value = serde_json::from_str(&pal.otio).unwrap();
        let tracks = v["tracks"]["children"].as_array().unwrap();
        assert_eq!(tracks.len(), 1);
        let sr = &tracks[0]["children"][1]["source_range"];
        assert_eq!(sr["start_time"]["rate"], 25.0);
        assert_eq!(sr["start_time"]["value"], 1000.0);
        assert_eq!(sr["duration"]["value"], 250.0);
    }

    #[test]
    fn fcpxml_is_well_formed_with_hostile_names() {
        use quick_xml::events::Event;
        use quick_xml::Reader;

        let src = Path::new("/rec/live <&> \"1\" 'x'.mp4");
        let edits = [edit(1, 55.0, 70.0, HOSTILE), edit(2, 40.0, 50.0, "b")];
        let t = build(src, &info(29.97002997, true), &edits);
        assert!(t
            .fcpxml
            .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
        assert!(!t.fcpxml.contains('\0'));
        let mut reader = Reader::from_str(&t.fcpxml);
        let mut clips = Vec::new();
        let mut format = None;
        let mut src_url = None;
        loop {
            match reader.read_event().unwrap() {
                Event::Eof => break,
                Event::Start(e) | Event::Empty(e) => {
                    let attr = |k: &str| {
                        e.try_get_attribute(k).unwrap().map(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .unwrap()
                                .into_owned()
                        })
                    };
                    match e.name().as_ref() {
                        "asset-clip" => clips.push((
                            attr("name").unwrap(),
                            attr("offset").unwrap(),
                            attr("start").unwrap(),
                            attr("duration").unwrap(),
                        )),
                        "format" => format = attr("frameDuration"),
                        "media-rep" => src_url = attr("src"),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        assert_eq!(format.as_deref(), Some("1001/30000s"));
        assert_eq!(
            src_url.as_deref(),
            Some("file:///rec/live%20%3C%26%3E%20%221%22%20%27x%27.mp4")
        );
        assert_eq!(clips.len(), 2);
        assert_eq!(clips[0].0, "#1 product <b>\"秒杀\" & 'deal'</b>  next");
        assert_eq!(clips[0].1, "0s");
        assert_eq!(clips[0].2, NTSC.rational_secs(1648));
        assert_eq!(clips[0].2, "103103/1875s"); // 1648 × 1001/30000 s
        assert_eq!(clips[0].3, "3003/200s"); // 450 frames = 15.015 s
        assert_eq!(clips[1].1, "3003/200s");
        assert_eq!(clips[1].2, "1200199/30000s");
        let pal = build(src, &info(25.0, true), &edits);
        assert!(pal.fcpxml.contains("frameDuration=\"1/25s\""));
        assert!(pal.fcpxml.contains("start=\"55s\" duration=\"15s\""));
        assert!(pal.fcpxml.contains("tcFormat=\"NDF\""));
    }

    #[test]
    fn spans_are_clamped_to_the_recording() {
        let src = Path::new("/rec/a.mp4");
        let edits = [edit(1, 70.0, 80.0, "late"), edit(2, 74.99, 74.995, "tiny")];
        let t = build(src, &info(25.0, true), &edits);
        let v: Value = serde_json::from_str(&t.otio).unwrap();
        let clips = v["tracks"]["children"][0]["children"].as_array().unwrap();
        // 75 s × 25 = 1875 frames
        assert_eq!(clips[0]["source_range"]["start_time"]["value"], 1750.0);
        assert_eq!(clips[0]["source_range"]["duration"]["value"], 125.0);
        assert_eq!(clips[1]["source_range"]["start_time"]["value"], 1874.0);
        assert_eq!(clips[1]["source_range"]["duration"]["value"], 1.0);
    }
}
