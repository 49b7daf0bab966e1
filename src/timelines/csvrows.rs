//! What the CSV readers (comments, orders) share: finding columns by their many names, and
//! walking rows with their line numbers while skipping unreadable ones.

use std::io::Read;
use std::path::Path;

use super::text::TextReader;
use super::{ParseReport, TimelineError};

/// A CSV reader over `text` (flexible rows, trimmed fields) and its header row. An
/// unreadable or empty header row is an error naming `path`, line 1.
pub(super) fn with_headers(
    path: &Path,
    text: TextReader,
) -> Result<(csv::Reader<TextReader>, csv::StringRecord), TimelineError> {
    let err = |message: String| TimelineError::Format {
        path: path.to_path_buf(),
        line: 1,
        message,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text);
    let headers = rdr
        .headers()
        .map_err(|e| err(format!("cannot read the header row: {e}")))?
        .clone();
    if headers.is_empty() || headers.iter().all(str::is_empty) {
        return Err(err("the file is empty (no header row)".into()));
    }
    Ok((rdr, headers))
}

/// The error for a required column none of whose `names` is among `headers`.
pub(super) fn missing_column(
    path: &Path,
    headers: &csv::StringRecord,
    what: &str,
    names: &[&str],
) -> TimelineError {
    TimelineError::Format {
        path: path.to_path_buf(),
        line: 1,
        message: format!(
            "no {what} column among {:?} (known names: {})",
            headers.iter().collect::<Vec<_>>(),
            names.join(", ")
        ),
    }
}

/// Index of the first header that matches one of `names` (case-insensitive).
pub(super) fn column(headers: &csv::StringRecord, names: &[&str]) -> Option<usize> {
    headers.iter().position(|h| {
        let h = h.trim().to_lowercase();
        names.iter().any(|n| n.to_lowercase() == h)
    })
}

/// Read the next non-empty row into `record` and return its line; unreadable rows are
/// skipped and counted (an error in strict mode); `None` at the end.
pub(super) fn next_row<R: Read>(
    rdr: &mut csv::Reader<R>,
    record: &mut csv::StringRecord,
    report: &mut ParseReport,
) -> Result<Option<u64>, TimelineError> {
    loop {
        match rdr.read_record(record) {
            Ok(true) => {}
            Ok(false) => return Ok(None),
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                report.skip(line, format!("unreadable CSV row: {e}"))?;
                continue;
            }
        }
        if record.iter().all(str::is_empty) {
            continue;
        }
        return Ok(Some(record.position().map(|p| p.line()).unwrap_or(0)));
    }
}
