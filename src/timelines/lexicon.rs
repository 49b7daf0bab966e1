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
    /// Spoken keywords (absent: the built-in ones).
    #[serde(default)]
    speech: Option<SpeechWords>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpeechWords {
    classes: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    scored: Vec<String>,
}

/// Spoken keyword classes (the lexicon's `[speech.classes]`), and the words also scored
/// against the audio (`[speech] scored`), each with its class.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpeechLexicon {
    /// (class, patterns); `?` in a pattern stands for any one character.
    pub classes: Vec<(String, Vec<String>)>,
    /// (word, class) in the file's order.
    pub scored: Vec<(String, String)>,
    /// The form each scored word is scored in against the audio (`word=form` in the file,
    /// e.g. the Traditional characters Whisper prefers to write: `上链接=上鏈接`; else the
    /// word itself). Same order as `scored`.
    pub scored_forms: Vec<String>,
}

impl SpeechLexicon {
    fn from_words(w: SpeechWords) -> Result<Self, String> {
        let classes: Vec<(String, Vec<String>)> = w.classes.into_iter().collect();
        let (words, scored_forms): (Vec<String>, Vec<String>) = w
            .scored
            .into_iter()
            .map(|entry| match entry.split_once('=') {
                Some((word, form)) => (word.trim().to_string(), form.trim().to_string()),
                None => (entry.trim().to_string(), entry.trim().to_string()),
            })
            .unzip();
        let scored = words
            .into_iter()
            .map(|word| {
                let class = classes
                    .iter()
                    .find(|(_, ps)| {
                        ps.iter().any(|p| {
                            crate::speech::keywords::contains(
                                &crate::speech::keywords::normalise(&word),
                                &p.split('?')
                                    .map(crate::speech::keywords::normalise)
                                    .collect::<Vec<_>>()
                                    .join("?"),
                            )
                        })
                    })
                    .map(|(c, _)| c.clone())
                    .ok_or_else(|| {
                        format!("[speech] scored word {word:?} matches no [speech.classes] entry")
                    })?;
                Ok((word, class))
            })
            .collect::<Result<_, String>>()?;
        Ok(Self {
            classes,
            scored,
            scored_forms,
        })
    }
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
    /// Spoken keywords, for the speech stage.
    pub speech: SpeechLexicon,
}

impl Default for Lexicon {
    fn default() -> Self {
        // The embedded lexicon is checked by a unit test; it always parses.
        Self::parse(DEFAULT).unwrap_or_else(|_| Self {
            classes: Vec::new(),
            words: Vec::new(),
            positive: Vec::new(),
            negative: Vec::new(),
            speech: SpeechLexicon::default(),
        })
    }
}

impl Lexicon {
    pub fn load(path: &Path) -> Result<Self, TimelineError> {
        let text = std::fs::read_to_string(path).map_err(|source| TimelineError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|(line, message)| TimelineError::Format {
            path: path.to_path_buf(),
            line,
            message,
        })
    }

    /// Parse a lexicon file; errors are (line, message).
    fn parse(text: &str) -> Result<Self, (u64, String)> {
        let file: LexiconFile = toml::from_str(text).map_err(|e| {
            (
                e.span()
                    .map(|s| text[..s.start.min(text.len())].matches('\n').count() as u64 + 1)
                    .unwrap_or(1),
                format!("not a lexicon file: {}", e.message()),
            )
        })?;
        let speech = match file.speech {
            Some(w) => SpeechLexicon::from_words(w),
            None => match toml::from_str::<LexiconFile>(DEFAULT) {
                Ok(LexiconFile {
                    speech: Some(w), ..
                }) => SpeechLexicon::from_words(w),
                _ => Ok(SpeechLexicon::default()),
            },
        }
        .map_err(|m| {
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with("scored"))
                .map_or(1, |i| i as u64 + 1);
            (line, m)
        })?;
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
            speech,
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
        // Spoken classes, and the scored words each with its class.
        let sp = &lex.speech;
        assert!(sp.classes.iter().any(|(c, _)| c == "purchase"));
        for w in ["上链接", "秒杀", "最后三单"] {
            assert!(
                sp.scored.iter().any(|(x, c)| x == w && c == "purchase"),
                "{w}: {:?}",
                sp.scored
            );
        }
    }

    #[test]
    fn a_team_lexicon_without_speech_words_keeps_the_built_in_ones() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lex.toml");
        std::fs::write(&p, "[classes]\nlaughter = [\"哈哈\"]\n").unwrap();
        let lex = Lexicon::load(&p).unwrap();
        assert_eq!(lex.speech, Lexicon::default().speech);
        std::fs::write(
            &p,
            "[classes]\nx = [\"y\"]\n[speech]\nscored = [\"开抢\"]\n[speech.classes]\nsale = [\"开抢\"]\n",
        )
        .unwrap();
        let lex = Lexicon::load(&p).unwrap();
        assert_eq!(
            lex.speech.scored,
            [("开抢".to_string(), "sale".to_string())]
        );
        std::fs::write(
            &p,
            "[classes]\nx = [\"y\"]\n[speech]\nscored = [\"开抢\"]\n[speech.classes]\nsale = [\"秒杀\"]\n",
        )
        .unwrap();
        let err = Lexicon::load(&p).unwrap_err().to_string();
        assert!(err.contains("开抢") && err.contains(":4:"), "{err}");
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
