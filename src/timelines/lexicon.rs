//! Keyword classes and a lexicon sentiment score for comment text. The default lexicon is
//! `lexicon.toml` beside this file (embedded in the binary); `--lexicon FILE` replaces it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::TimelineError;

const DEFAULT: &str = include_str!("lexicon.toml");

#[derive(Debug, Clone, Deserialize)]
struct LexiconFile {
    classes: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    sentiment: SentimentWords,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct SentimentWords {
    #[serde(default)]
    positive: Vec<String>,
    #[serde(default)]
    negative: Vec<String>,
}

/// A compiled lexicon.
#[derive(Debug, Clone)]
pub struct Lexicon {
    /// Class names in a stable order; [`Lexicon::classify`] returns flags in this order.
    pub classes: Vec<String>,
    words: Vec<Vec<String>>,
    positive: Vec<String>,
    negative: Vec<String>,
}

impl Default for Lexicon {
    fn default() -> Self {
        // The embedded lexicon is checked by a unit test; it always parses.
        Self::parse(DEFAULT).unwrap_or_else(|_| Self {
            classes: Vec::new(),
            words: Vec::new(),
            positive: Vec::new(),
            negative: Vec::new(),
        })
    }
}

impl Lexicon {
    pub fn load(path: &Path) -> Result<Self, TimelineError> {
        let text = std::fs::read_to_string(path).map_err(|source| TimelineError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|e| TimelineError::Format {
            path: path.to_path_buf(),
            line: e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() as u64 + 1)
                .unwrap_or(1),
            message: format!("not a lexicon file: {}", e.message()),
        })
    }

    fn parse(text: &str) -> Result<Self, toml::de::Error> {
        let file: LexiconFile = toml::from_str(text)?;
        let fold_all = |v: Vec<String>| {
            v.into_iter()
                .map(|w| fold(&w))
                .filter(|w| !w.is_empty())
                .collect()
        };
        let (classes, words) = file
            .classes
            .into_iter()
            .map(|(k, v)| (k, fold_all(v)))
            .unzip();
        Ok(Self {
            classes,
            words,
            positive: fold_all(file.sentiment.positive),
            negative: fold_all(file.sentiment.negative),
        })
    }

    /// Which classes `text` belongs to (one flag per class, in `classes` order) and its
    /// sentiment in -1..1.
    pub fn classify(&self, text: &str) -> (Vec<bool>, f32) {
        let t = fold(text);
        let flags = self
            .words
            .iter()
            .map(|ws| ws.iter().any(|w| t.contains(w.as_str())))
            .collect();
        let pos = self
            .positive
            .iter()
            .filter(|w| t.contains(w.as_str()))
            .count() as f32;
        let neg = self
            .negative
            .iter()
            .filter(|w| t.contains(w.as_str()))
            .count() as f32;
        (flags, (pos - neg).clamp(-1.0, 1.0))
    }
}

/// Lower-case and fold full-width ASCII (Ｈ, ！, １) to half-width.
pub fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_lexicon_parses_and_classifies() {
        let lex = Lexicon::default();
        assert_eq!(
            lex.classes,
            ["laughter", "lottery", "negative", "purchase", "question"]
        );
        let idx = |name: &str| lex.classes.iter().position(|c| c == name).unwrap();
        let (f, s) = lex.classify("哈哈哈哈 笑死我了");
        assert!(f[idx("laughter")] && !f[idx("purchase")]);
        assert_eq!(s, 0.0);
        let (f, _) = lex.classify("扣１扣１");
        assert!(f[idx("lottery")], "full-width digits fold");
        let (f, _) = lex.classify("ＨＨＨ");
        assert!(f[idx("laughter")]);
        let (f, s) = lex.classify("这个多少钱？太贵了");
        assert!(f[idx("question")] && f[idx("negative")]);
        assert!(s < 0.0);
        let (_, s) = lex.classify("好看 爱了");
        assert_eq!(s, 1.0);
    }

    #[test]
    fn bad_lexicon_file_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lex.toml");
        std::fs::write(&p, "[classes]\nlaughter = [\"哈哈\"\nbroken").unwrap();
        let err = Lexicon::load(&p).unwrap_err().to_string();
        assert!(err.contains(&p.display().to_string()), "{err}");
    }
}
