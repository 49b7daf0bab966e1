//! Atomic output: every file livecut writes goes to a temporary name in the same folder
//! and is renamed into place, so an interrupted run never leaves a half-written file.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Write `bytes` to `path` atomically (temp file in the same directory + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// [`write_atomic`] for a writer function: the content streams into the temporary file
/// through a buffer (no copy of it in memory), then the file is renamed into place.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = parent_dir(path);
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::Builder::new()
        .prefix(".livecut-")
        .suffix(".part")
        .tempfile_in(dir)?;
    set_public(tmp.path())?;
    let mut out = std::io::BufWriter::new(tmp);
    write(&mut out)?;
    let tmp = out.into_inner().map_err(|e| e.into_error())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Whether `dir` can be made and written, checked before hours of work whose results
/// would have nowhere to go. Creates nothing: the nearest existing folder on the way must
/// take a file (a temporary one, removed at once), and nothing on the way may be a file.
pub fn check_writable_dir(dir: &Path) -> std::io::Result<()> {
    let mut at = dir;
    loop {
        match std::fs::metadata(at) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => {
                return Err(std::io::Error::other(format!(
                    "{} is a file, not a folder",
                    at.display()
                )))
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                at = match at.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
            }
            Err(e) => return Err(e),
        }
    }
    tempfile::Builder::new()
        .prefix(".livecut-probe-")
        .tempfile_in(at)
        .map(drop)
}

/// A temporary path next to `path` for writers that open files themselves (libavformat).
/// The file is deleted on drop unless [`PendingFile::commit`] renames it into place.
#[derive(Debug)]
pub struct PendingFile {
    tmp: tempfile::TempPath,
    dest: PathBuf,
}

impl PendingFile {
    pub fn new(dest: &Path) -> std::io::Result<Self> {
        let dir = parent_dir(dest);
        std::fs::create_dir_all(dir)?;
        let tmp = tempfile::Builder::new()
            .prefix(".livecut-")
            .suffix(".part")
            .tempfile_in(dir)?
            .into_temp_path();
        set_public(&tmp)?;
        Ok(Self {
            tmp,
            dest: dest.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.tmp
    }

    pub fn commit(self) -> std::io::Result<PathBuf> {
        self.tmp.persist(&self.dest).map_err(|e| e.error)?;
        Ok(self.dest)
    }
}

/// Remove temp files left behind by a run that was killed (`.livecut-*.part`).
pub fn remove_stale_parts(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(".livecut-") && name.ends_with(".part") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Temp files are created 0600; outputs should be readable like any other file (0644).
fn set_public(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))?;
    }
    let _ = path;
    Ok(())
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Hex sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = std::io::Read::read(&mut file, &mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_folder_that_cannot_be_made_is_found_before_any_work() {
        let d = tempfile::tempdir().unwrap();
        assert!(check_writable_dir(&d.path().join("a/b/c")).is_ok());
        assert!(!d.path().join("a").exists(), "nothing created");
        let file = d.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        let err = check_writable_dir(&file.join("out"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("is a file"), "{err}");
    }

    #[test]
    fn atomic_write_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b.json");
        write_atomic(&p, b"{}").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"{}");
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn pending_file_is_removed_unless_committed() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("clip.mp4");
        let pending = PendingFile::new(&dest).unwrap();
        std::fs::write(pending.path(), b"partial").unwrap();
        drop(pending);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let pending = PendingFile::new(&dest).unwrap();
        std::fs::write(pending.path(), b"whole").unwrap();
        pending.commit().unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"whole");
    }
}
