//! What the CSV readers (comments, orders) share: finding columns by their many names, and
//! walking rows with their line numbers while skipping unreadable ones.

use std::io::Read;

use super::{ParseReport, TimelineError};

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
