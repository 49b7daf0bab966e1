//! Ad-law warnings: the claims Chinese advertising law and the platforms' rules forbid
//! (absolute words, false urgency, price comparisons, efficacy and medical claims), found
//! in what a clip says, shows and is titled.
//!
//! The lexicon is TOML (`claims.toml`, built in; `--claims-lexicon FILE` replaces it).
//! Text is matched folded (lower case, half-width) and without spaces or punctuation;
//! overlapping matches keep the longest word, and a match inside one of its group's
//! `allow` phrases (第一次, 最好看) is no claim.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::signals::ScreenText;
use crate::speech::Segment;
use crate::time::Span;

const DEFAULT: &str = include_str!("claims.toml");

#[derive(Debug, thiserror::Error)]
pub enum ClaimsError {
    #[error("cannot read the claims lexicon {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("claims lexicon {path}: {message}")]
    Parse { path: PathBuf, message: String },
}

/// One group of forbidden words.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// `absolute`, `urgency`, `price`, `efficacy` (or the lexicon's own).
    pub kind: String,
    /// Which rule forbids them, in words.
    #[serde(default)]
    pub label: String,
    pub words: Vec<String>,
    /// Phrases containing a word that make no claim.
    #[serde(default)]
    pub allow: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LexiconFile {
    group: Vec<Group>,
}

/// The claims to look for, words folded for matching.
#[derive(Debug, Clone)]
pub struct ClaimsLexicon {
    groups: Vec<Group>,
    /// (group index, folded word, the word as written), longest first.
    words: Vec<(usize, Vec<char>, String)>,
    /// Per group, its folded allow phrases.
    allow: Vec<Vec<Vec<char>>>,
}

impl Default for ClaimsLexicon {
    fn default() -> Self {
        Self::parse(DEFAULT, Path::new("claims.toml (built in)"))
            .unwrap_or_else(|e| unreachable!("the built-in claims lexicon parses: {e}"))
    }
}

/// Where a claim was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    /// Said (the transcript).
    Speech,
    /// Shown (on-screen text read by OCR).
    Screen,
    /// In the clip's title.
    Title,
}

/// One forbidden claim in a clip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// The lexicon group: absolute, urgency, price, efficacy.
    pub kind: String,
    /// The lexicon word matched.
    pub word: String,
    /// The sentence, screen line or title that contains it, as written.
    pub text: String,
    #[serde(rename = "where")]
    pub place: Place,
    /// When the sentence starts or the line was read (recording seconds); absent for a
    /// title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_s: Option<f64>,
    /// The clip's boundary was moved to leave the sentence out (`--avoid-claims`): kept
    /// here so the editor sees what was cut.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub left_out: bool,
}

/// Text as matched: folded, letters, digits and `%` only (so "100%" is not "100").
fn fold(text: &str) -> Vec<char> {
    crate::timelines::fold(text)
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '%')
        .collect()
}

fn find_all(text: &[char], pattern: &[char]) -> Vec<usize> {
    if pattern.is_empty() || pattern.len() > text.len() {
        return Vec::new();
    }
    (0..=text.len() - pattern.len())
        .filter(|&i| text[i..i + pattern.len()] == *pattern)
        .collect()
}

impl ClaimsLexicon {
    /// The lexicon in `path` (`--claims-lexicon`).
    pub fn load(path: &Path) -> Result<Self, ClaimsError> {
        let text = std::fs::read_to_string(path).map_err(|source| ClaimsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self, ClaimsError> {
        let err = |message: String| ClaimsError::Parse {
            path: path.to_path_buf(),
            message,
        };
        let file: LexiconFile = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let mut words = Vec::new();
        let mut allow = Vec::new();
        for (g, group) in file.group.iter().enumerate() {
            if group.kind.trim().is_empty() {
                return Err(err(format!("group {} has no kind", g + 1)));
            }
            for w in &group.words {
                let f = fold(w);
                if f.is_empty() {
                    return Err(err(format!(
                        "word {w:?} in group {:?} has no letters or digits",
                        group.kind
                    )));
                }
                words.push((g, f, w.clone()));
            }
            allow.push(group.allow.iter().map(|a| fold(a)).collect());
        }
        words.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        Ok(Self {
            groups: file.group,
            words,
            allow,
        })
    }

    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// The claims in `text`: (group kind, word as written), in the order they occur;
    /// overlapping matches keep the longest word.
    pub fn find(&self, text: &str) -> Vec<(String, String)> {
        let t = fold(text);
        let mut taken: Vec<(usize, usize, usize)> = Vec::new(); // (start, end, word index)
        for (k, (g, w, _)) in self.words.iter().enumerate() {
            for start in find_all(&t, w) {
                let end = start + w.len();
                if taken.iter().any(|&(a, b, _)| start < b && a < end) {
                    continue;
                }
                let allowed = self.allow[*g].iter().any(|phrase| {
                    find_all(&t, phrase)
                        .into_iter()
                        .any(|a| a <= start && end <= a + phrase.len())
                });
                if !allowed {
                    taken.push((start, end, k));
                }
            }
        }
        taken.sort_unstable();
        let mut out: Vec<(String, String)> = Vec::new();
        for (_, _, k) in taken {
            let (g, _, word) = &self.words[k];
            let hit = (self.groups[*g].kind.clone(), word.clone());
            if !out.contains(&hit) {
                out.push(hit);
            }
        }
        out
    }

    /// Whether `text` makes any claim.
    pub fn flags(&self, text: &str) -> bool {
        !self.find(text).is_empty()
    }

    /// The claims a clip of `span` makes: in the transcript's sentences that overlap it,
    /// the screen lines read inside it (each line and word once, at its first reading) and
    /// its `title`.
    pub fn warnings(
        &self,
        span: Span,
        segments: &[Segment],
        screen: &[ScreenText],
        title: Option<&str>,
    ) -> Vec<Warning> {
        let mut out = Vec::new();
        for s in segments
            .iter()
            .filter(|s| s.end_s > span.start_s && s.start_s < span.end_s)
        {
            for (kind, word) in self.find(&s.text) {
                out.push(Warning {
                    kind,
                    word,
                    text: s.text.clone(),
                    place: Place::Speech,
                    at_s: Some(round3(s.start_s)),
                    left_out: false,
                });
            }
        }
        let mut seen: Vec<(String, Vec<char>)> = Vec::new();
        for line in screen
            .iter()
            .filter(|l| l.t >= span.start_s && l.t < span.end_s)
        {
            for (kind, word) in self.find(&line.text) {
                let key = (word.clone(), fold(&line.text));
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key);
                out.push(Warning {
                    kind,
                    word,
                    text: line.text.clone(),
                    place: Place::Screen,
                    at_s: Some(round3(line.t)),
                    left_out: false,
                });
            }
        }
        if let Some(title) = title {
            for (kind, word) in self.find(title) {
                out.push(Warning {
                    kind,
                    word,
                    text: title.to_string(),
                    place: Place::Title,
                    at_s: None,
                    left_out: false,
                });
            }
        }
        out
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Where `--avoid-claims` moves a clip so that the flagged sentences at its edges are
/// left out: the start to the end of a flagged sentence near the start, the end to the
/// start of one near the end — as long as the clip keeps `peak_s` and at least `min_s`.
/// Flagged sentences that cannot be left out stay (and stay warnings). Returns the new
/// span and the flagged sentences left out.
pub fn avoid(span: Span, peak_s: f64, min_s: f64, flagged: &[&Segment]) -> (Span, Vec<usize>) {
    let mut cur = span;
    let mut left_out = Vec::new();
    let mut order: Vec<usize> = (0..flagged.len()).collect();
    order.sort_by(|&a, &b| flagged[a].start_s.total_cmp(&flagged[b].start_s));
    // From the start: sentences before the peak, earliest first.
    for &i in &order {
        let s = flagged[i];
        if s.end_s <= cur.start_s || s.start_s >= cur.end_s {
            left_out.push(i);
            continue;
        }
        if s.end_s <= peak_s && cur.end_s - s.end_s >= min_s {
            cur.start_s = s.end_s;
            left_out.push(i);
        }
    }
    // From the end: sentences after the peak, latest first.
    for &i in order.iter().rev() {
        if left_out.contains(&i) {
            continue;
        }
        let s = flagged[i];
        if s.start_s >= cur.end_s {
            left_out.push(i);
            continue;
        }
        if s.start_s >= peak_s && s.start_s - cur.start_s >= min_s {
            cur.end_s = s.start_s;
            left_out.push(i);
        }
    }
    left_out.sort_unstable();
    (cur, left_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(a: f64, b: f64, text: &str) -> Segment {
        Segment::said(a, b, text)
    }

    #[test]
    fn the_built_in_lexicon_has_the_four_groups() {
        let lex = ClaimsLexicon::default();
        let kinds: Vec<&str> = lex.groups().iter().map(|g| g.kind.as_str()).collect();
        assert_eq!(kinds, ["absolute", "urgency", "price", "efficacy"]);
    }

    #[test]
    fn claims_are_found_across_spacing_and_width_and_the_longest_word_wins() {
        let lex = ClaimsLexicon::default();
        assert_eq!(
            lex.find("家人们 全网 最低价！只要99元"),
            [("price".to_string(), "全网最低".to_string())]
        );
        assert_eq!(
            lex.find("ＴＯＰ１的销量，效果最好"),
            [
                ("absolute".to_string(), "top1".to_string()),
                ("absolute".to_string(), "最好".to_string())
            ]
        );
        assert!(lex.find("到手价99元 iPhone 15 同款").is_empty());
        assert!(lex.find("满100元减20").is_empty());
        assert!(lex.find("100%纯棉").is_empty());
        assert_eq!(
            lex.find("100%有效")[0],
            ("efficacy".to_string(), "100%有效".to_string())
        );
    }

    #[test]
    fn allowed_phrases_make_no_claim() {
        let lex = ClaimsLexicon::default();
        assert!(lex.find("第一次来直播间的宝宝").is_empty());
        assert!(lex.find("这个颜色最好看").is_empty());
        assert_eq!(lex.find("销量第一")[0].1, "第一");
        // The allow phrase covers only its own occurrence.
        assert_eq!(lex.find("第一次见，品质第一").len(), 1);
    }

    #[test]
    fn warnings_name_where_and_when() {
        let lex = ClaimsLexicon::default();
        let span = Span::new(10.0, 40.0);
        let segments = [
            seg(5.0, 9.0, "全网最低"), // before the clip
            seg(12.0, 15.0, "家人们全网最低"),
            seg(20.0, 24.0, "这款很好"),
        ];
        let line = |t: f64, text: &str| ScreenText {
            t,
            text: text.into(),
            confidence: 0.9,
            x: 0.1,
            y: 0.1,
            w: 0.3,
            h: 0.1,
        };
        let screen = [
            line(11.0, "销量第一"),
            line(14.0, "销量第一"),
            line(45.0, "国家级"),
        ];
        let w = lex.warnings(span, &segments, &screen, Some("最好的面膜"));
        let got: Vec<(Place, &str, Option<f64>)> = w
            .iter()
            .map(|w| (w.place, w.word.as_str(), w.at_s))
            .collect();
        assert_eq!(
            got,
            [
                (Place::Speech, "全网最低", Some(12.0)),
                (Place::Screen, "第一", Some(11.0)),
                (Place::Title, "最好", None),
            ]
        );
        let json = serde_json::to_value(&w[0]).unwrap();
        assert_eq!(json["where"], "speech");
        assert_eq!(json["kind"], "price");
    }

    #[test]
    fn a_broken_lexicon_names_its_file() {
        let e = ClaimsLexicon::parse(
            "[[group]]\nkind = \"x\"\nwords = [\"!!\"]\n",
            Path::new("my.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("my.toml") && e.contains("no letters"), "{e}");
        let e = ClaimsLexicon::parse("[[group]]\nkind = 3\n", Path::new("my.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("my.toml") && e.contains("line 2"), "{e}");
    }

    #[test]
    fn avoiding_moves_a_boundary_only_while_the_clip_stays_long_enough() {
        let span = Span::new(100.0, 140.0);
        let head = seg(100.5, 104.0, "全网最低");
        let tail = seg(135.0, 139.0, "最后一波");
        let middle = seg(118.0, 122.0, "史上最低");
        // Head and tail go; the clip keeps its peak at 120.
        let (s, out) = avoid(span, 120.0, 20.0, &[&head, &tail]);
        assert_eq!((s.start_s, s.end_s), (104.0, 135.0));
        assert_eq!(out, [0, 1]);
        // A sentence across the peak stays.
        let (s, out) = avoid(span, 120.0, 20.0, &[&middle]);
        assert_eq!((s.start_s, s.end_s), (100.0, 140.0));
        assert!(out.is_empty());
        // Too short afterwards: the tail stays.
        let (s, out) = avoid(span, 120.0, 33.0, &[&head, &tail]);
        assert_eq!((s.start_s, s.end_s), (104.0, 140.0));
        assert_eq!(out, [0]);
    }
}
