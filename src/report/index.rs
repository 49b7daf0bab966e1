//! `DIR/index.html`: one line per recording of a batch (every `DIR/*/highlights.json`, in
//! one or several output folders): name, duration, highlights, best score, clips and a link
//! to its preview. Several shards' folders merge into one page. Escaped like the preview.

use std::path::{Path, PathBuf};

use minijinja::{context, Environment};
use serde::Serialize;

use super::preview::{hms, href};
use super::{ReportError, HIGHLIGHTS_FILE, MANIFEST_FILE, PREVIEW_FILE};

const TEMPLATE: &str = include_str!("index.html.j2");

/// One recording on the index page.
#[derive(Debug, Clone, Serialize)]
pub struct IndexEntry {
    /// The recording's file name (the folder's name when highlights.json is unreadable).
    pub name: String,
    /// The recording's output folder.
    pub dir: PathBuf,
    pub duration_s: Option<f64>,
    pub highlights: usize,
    pub best_score: Option<f64>,
    pub clips: usize,
    pub warnings: usize,
    pub has_preview: bool,
    /// Why highlights.json could not be read.
    pub error: Option<String>,
}

/// Find every `DIR/*/highlights.json` of `dirs` (sorted by folder), write the index page to
/// `out` (links relative to its folder) and return its entries.
pub fn write_index(dirs: &[PathBuf], out: &Path) -> Result<Vec<IndexEntry>, ReportError> {
    let mut entries = Vec::new();
    for dir in dirs {
        let listing = std::fs::read_dir(dir).map_err(|source| ReportError::Io {
            path: dir.clone(),
            source,
        })?;
        let mut subdirs: Vec<PathBuf> = listing
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join(HIGHLIGHTS_FILE).is_file())
            .collect();
        subdirs.sort();
        for sub in subdirs {
            entries.push(entry(&sub));
        }
    }
    let out_dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let rows: Vec<_> = entries
        .iter()
        .map(|e| {
            let target = if e.has_preview {
                e.dir.join(PREVIEW_FILE)
            } else {
                e.dir.join(HIGHLIGHTS_FILE)
            };
            let target = std::path::absolute(&target).unwrap_or(target);
            context! {
                name => e.name.clone(),
                folder => e.dir.display().to_string(),
                link => href(out_dir, &target),
                has_preview => e.has_preview,
                duration => e.duration_s.map(hms),
                highlights => e.highlights,
                best_score => e.best_score.map(|s| format!("{s:.2}")),
                best_pct => e.best_score.map(|s| format!("{:.1}", 100.0 * s.clamp(0.0, 1.0))),
                clips => e.clips,
                warnings => e.warnings,
                error => e.error.clone(),
            }
        })
        .collect();
    let total_s: f64 = entries.iter().filter_map(|e| e.duration_s).sum();
    let mut env = Environment::new();
    env.add_template("index.html", TEMPLATE)?;
    let html = env.get_template("index.html")?.render(context! {
        generator => super::generator(),
        folders => dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>(),
        rows,
        total => hms(total_s),
        highlights => entries.iter().map(|e| e.highlights).sum::<usize>(),
    })?;
    crate::fsutil::write_atomic(out, html.as_bytes()).map_err(|source| ReportError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    Ok(entries)
}

fn entry(dir: &Path) -> IndexEntry {
    let folder_name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let has_preview = dir.join(PREVIEW_FILE).is_file();
    match super::read_highlights(&dir.join(HIGHLIGHTS_FILE)) {
        Ok(h) => IndexEntry {
            name: h
                .source
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or(folder_name),
            dir: dir.to_path_buf(),
            duration_s: Some(h.source.duration_s),
            highlights: h.highlights.len(),
            best_score: h.highlights.iter().map(|x| x.score).reduce(f64::max),
            clips: super::read_manifest(&dir.join(MANIFEST_FILE)).map_or(0, |m| m.clips.len()),
            warnings: h.warnings.len(),
            has_preview,
            error: None,
        },
        Err(e) => IndexEntry {
            name: folder_name,
            dir: dir.to_path_buf(),
            duration_s: None,
            highlights: 0,
            best_score: None,
            clips: 0,
            warnings: 0,
            has_preview,
            error: Some(e.to_string()),
        },
    }
}
