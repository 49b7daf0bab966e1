//! Model spec files (`models/<name>.toml`) and the folder that holds the models.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ModelError;

/// Where the models live: `--models DIR`, `LIVECUT_MODELS`, `models/` next to the
/// repository the binary was built in, or `./models`.
#[derive(Debug, Clone)]
pub struct ModelDir(pub PathBuf);

impl ModelDir {
    pub fn locate(explicit: Option<&Path>) -> Self {
        if let Some(p) = explicit {
            return Self(p.to_path_buf());
        }
        if let Some(p) = std::env::var_os("LIVECUT_MODELS") {
            return Self(PathBuf::from(p));
        }
        let candidates = [
            std::env::current_exe().ok().and_then(|exe| {
                exe.parent()?
                    .parent()?
                    .parent()
                    .map(|root| root.join("models"))
            }),
            Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")),
            Some(PathBuf::from("models")),
        ];
        for c in candidates.into_iter().flatten() {
            if c.join("silero_vad.toml").is_file() {
                return Self(c);
            }
        }
        Self(PathBuf::from("models"))
    }

    pub fn spec(&self, name: &str) -> Result<ModelSpec, ModelError> {
        ModelSpec::load(&self.0.join(format!("{name}.toml")))
    }

    /// The spec and the verified path of the model file it describes.
    pub fn verified(&self, name: &str) -> Result<(ModelSpec, PathBuf), ModelError> {
        let spec = self.spec(name)?;
        let path = self.0.join(&spec.file);
        verify_sha256(&path, &spec.sha256)?;
        Ok((spec, path))
    }

    /// A file that ships beside a model (labels, dictionary), verified when a checksum is given.
    pub fn companion(&self, file: &str, sha256: Option<&str>) -> Result<PathBuf, ModelError> {
        let path = self.0.join(file);
        match sha256 {
            Some(s) => verify_sha256(&path, s)?,
            None if !path.is_file() => {
                return Err(ModelError::Missing {
                    path,
                    expected: "(any)".into(),
                })
            }
            None => {}
        }
        Ok(path)
    }
}

/// What livecut needs from a spec file; the rest of the file documents the model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelSpec {
    pub name: String,
    pub file: String,
    pub sha256: String,
    pub licence: String,
    #[serde(default)]
    pub task: String,
    pub source: Source,
    #[serde(default)]
    pub labels: Option<String>,
    #[serde(default)]
    pub dictionary: Option<String>,
    #[serde(default)]
    pub dictionary_sha256: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    pub package: String,
    pub version: String,
    #[serde(default)]
    pub member: String,
}

impl ModelSpec {
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::Spec {
            path: path.to_path_buf(),
            message: format!("cannot read model spec: {e}"),
        })?;
        toml::from_str(&text).map_err(|e| ModelError::Spec {
            path: path.to_path_buf(),
            message: format!("not a model spec: {}", e.message()),
        })
    }
}

/// Check a file's sha256 (hex).
pub fn verify_sha256(path: &Path, expected: &str) -> Result<(), ModelError> {
    if !path.is_file() {
        return Err(ModelError::Missing {
            path: path.to_path_buf(),
            expected: expected.to_string(),
        });
    }
    let found = crate::fsutil::sha256_file(path).map_err(|e| ModelError::Spec {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if !found.eq_ignore_ascii_case(expected) {
        return Err(ModelError::Checksum {
            path: path.to_path_buf(),
            expected: expected.to_string(),
            found,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_corrupt_files_name_the_file_and_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.onnx");
        let err = verify_sha256(&p, "abc").unwrap_err().to_string();
        assert!(err.contains("m.onnx") && err.contains("abc"), "{err}");
        std::fs::write(&p, b"not a model").unwrap();
        let err = verify_sha256(&p, "abc").unwrap_err().to_string();
        assert!(err.contains("expected abc"), "{err}");
        let good = crate::fsutil::sha256_file(&p).unwrap();
        verify_sha256(&p, &good).unwrap();
    }
}
