//! The recording's start: the instant its first frame was live, which exports with
//! absolute times (orders, comment exports) are placed against. Taken from the first
//! source that has it, in this order:
//!
//! 1. `--start` (the user knows best);
//! 2. the container's `creation_time`;
//! 3. a live recorder's header in the danmaku XML given with `--comments`
//!    (BililiveRecorder's `BililiveRecorderRecordInfo start_time`, blrec's
//!    `<metadata><record_start_time>`);
//! 4. a timestamp in the recording's file name, read in the `--tz` zone (the recorders
//!    name files in local time): BililiveRecorder's `录制-ROOM-20240903-191250-123-TITLE.flv`
//!    (date, time, milliseconds), and any `20240903-191250`, `20240903_191250`,
//!    `20240903T191250`, `2024-09-03-191250`, `2024-09-03 19-12-50`, `2024-09-03_19.12.50`
//!    (blrec, biliLive-tools, OBS `2024-09-03 19-12-50.mkv`).

use std::path::Path;
use std::sync::OnceLock;

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use regex::Regex;

use super::danmaku;
use super::TimelineError;

/// The recording's start and which source gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingStart {
    pub at: Timestamp,
    /// In words, e.g. `creation_time`, `BililiveRecorderRecordInfo start_time in rec.xml`.
    pub source: String,
}

/// The recording's start from the first source that has it (see the module
/// documentation); `None` when none does.
pub fn resolve(
    flag: Option<Timestamp>,
    creation_time: Option<Timestamp>,
    comments: Option<&Path>,
    recording: &Path,
    tz: &TimeZone,
) -> Result<Option<RecordingStart>, TimelineError> {
    if let Some(at) = flag {
        return Ok(Some(RecordingStart {
            at,
            source: "--start".into(),
        }));
    }
    if let Some(at) = creation_time {
        return Ok(Some(RecordingStart {
            at,
            source: "creation_time".into(),
        }));
    }
    if let Some(path) = comments.filter(|p| looks_like_xml(p)) {
        if let Some(h) = danmaku::recorder_start(path)? {
            return Ok(Some(RecordingStart {
                at: h.at,
                source: format!("{} in {}", h.header, path.display()),
            }));
        }
    }
    Ok(file_name_start(recording, tz).map(|at| RecordingStart {
        at,
        source: format!(
            "file name {} ({})",
            recording
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            tz.iana_name().unwrap_or("the --tz zone")
        ),
    }))
}

/// Whether the file starts (after a byte-order mark and blanks) with `<`.
fn looks_like_xml(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    let head = &head[..n];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    head.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'<')
        || head.starts_with(b"\xFF\xFE")
        || head.starts_with(b"\xFE\xFF")
}

/// A timestamp in the file name (local time in `tz`), see the module documentation.
pub fn file_name_start(recording: &Path, tz: &TimeZone) -> Option<Timestamp> {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    let re = PATTERN.get_or_init(|| {
        // Date (compact or dashed), a separator, time (compact or with - : . between the
        // parts), and BililiveRecorder's milliseconds after another dash. (The `regex`
        // crate has no back-references: the two date forms are two alternatives.)
        Regex::new(
            r"(?x)
            (?:^|[^0-9])
            (?: (?P<y>20[0-9]{2})(?P<mo>[01][0-9])(?P<d>[0-3][0-9])
              | (?P<y2>20[0-9]{2})-(?P<mo2>[01][0-9])-(?P<d2>[0-3][0-9]) )
            [-_T\ ]
            (?P<h>[0-2][0-9]) [-:.]? (?P<mi>[0-5][0-9]) [-:.]? (?P<s>[0-5][0-9])
            (?: - (?P<ms>[0-9]{3}) )?
            (?:$|[^0-9])",
        )
        .expect("a valid pattern")
    });
    let name = recording.file_stem()?.to_string_lossy();
    let c = re.captures(&name)?;
    let num = |k: &str| {
        c.name(k)
            .or_else(|| c.name(&format!("{k}2")))
            .and_then(|m| m.as_str().parse::<i32>().ok())
    };
    let dt = DateTime::new(
        i16::try_from(num("y")?).ok()?,
        i8::try_from(num("mo")?).ok()?,
        i8::try_from(num("d")?).ok()?,
        i8::try_from(num("h")?).ok()?,
        i8::try_from(num("mi")?).ok()?,
        i8::try_from(num("s")?).ok()?,
        num("ms").unwrap_or(0) * 1_000_000,
    )
    .ok()?;
    tz.to_ambiguous_timestamp(dt).compatible().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn shanghai() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }

    #[test]
    fn recorder_file_names_give_the_start_in_local_time() {
        let at = |name: &str| file_name_start(Path::new(name), &shanghai()).map(|t| t.to_string());
        let want = Some("2024-09-03T11:12:50Z".to_string());
        assert_eq!(
            at("/rec/录制-23058-20240903-191250-123-今晚好物.flv"),
            Some("2024-09-03T11:12:50.123Z".to_string())
        );
        assert_eq!(at("blive_23058_2024-09-03-191250.flv"), want);
        assert_eq!(at("2024-09-03 19-12-50.mkv"), want);
        assert_eq!(at("room_20240903_191250.ts"), want);
        assert_eq!(at("live-2024-09-03_19.12.50.mp4"), want);
        assert_eq!(at("20240903T191250.flv"), want);
        // Not a timestamp: a mismatched date, a bare number, an impossible time.
        assert_eq!(at("2024-0903-191250.flv"), None);
        assert_eq!(at("clip_123456789012345.mp4"), None);
        assert_eq!(at("20241340-191250.flv"), None);
        assert_eq!(at("session.mp4"), None);
    }

    #[test]
    fn sources_in_order() {
        let tz = shanghai();
        let flag: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        let ct: Timestamp = "2024-02-01T00:00:00Z".parse().unwrap();
        let mut xml = tempfile::Builder::new().suffix(".xml").tempfile().unwrap();
        write!(
            xml,
            "\u{feff}<?xml version=\"1.0\"?><i><BililiveRecorderRecordInfo start_time=\"2024-09-03T19:12:50+08:00\"/></i>"
        )
        .unwrap();
        let rec = Path::new("录制-1-20240905-080000-000-x.flv");
        let r = |f, c, x: Option<&Path>| resolve(f, c, x, rec, &tz).unwrap().unwrap();
        assert_eq!(r(Some(flag), Some(ct), Some(xml.path())).source, "--start");
        assert_eq!(r(None, Some(ct), Some(xml.path())).at, ct);
        let h = r(None, None, Some(xml.path()));
        assert_eq!(h.at.to_string(), "2024-09-03T11:12:50Z");
        assert!(h
            .source
            .starts_with("BililiveRecorderRecordInfo start_time in "));
        let f = r(None, None, None);
        assert_eq!(f.at.to_string(), "2024-09-05T00:00:00Z");
        assert!(f.source.contains("file name") && f.source.contains("Asia/Shanghai"));
        // A CSV comment export is not read for a header.
        let csv = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(csv.path(), "time,user,text\n1,a,b\n").unwrap();
        assert!(r(None, None, Some(csv.path())).source.contains("file name"));
        assert_eq!(
            resolve(None, None, None, Path::new("x.mp4"), &tz).unwrap(),
            None
        );
    }
}
