//! Spoken keywords: the lexicon's `[speech]` classes found in what the host says, by
//! reading the transcript and by scoring chosen words against the audio itself (robust
//! where the transcript is wrong), as per-second `speech_kw_<class>` tracks.

use serde::{Deserialize, Serialize};

use crate::signals::Track;
use crate::timelines::SpeechLexicon;

/// Prefix of the per-class tracks.
pub const TRACK_PREFIX: &str = "speech_kw_";

/// Where a keyword was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HitSource {
    /// In the transcript's text.
    Transcript,
    /// By forced decoding against the window's audio.
    Audio,
}

/// One spoken keyword.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeywordHit {
    pub class: String,
    /// The lexicon entry (a pattern, `?` = any one character).
    pub word: String,
    /// Where it was said: the transcript segment, or the whole window for audio hits.
    pub start_s: f64,
    pub end_s: f64,
    pub source: HitSource,
    /// 1 for a transcript hit; for an audio hit how far the score stood above the
    /// recording's typical score for the word (0–1).
    pub strength: f32,
}

/// Text as matched: lower case, half-width, without spaces or punctuation.
pub fn normalise(text: &str) -> String {
    crate::timelines::fold(text)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Whether `pattern` (`?` = any one character) occurs in `text` (both normalised).
pub fn contains(text: &str, pattern: &str) -> bool {
    find(text, pattern).is_some()
}

/// Char offset of the first match of `pattern` in `text`.
fn find(text: &str, pattern: &str) -> Option<usize> {
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    if p.is_empty() || p.len() > t.len() {
        return None;
    }
    (0..=t.len() - p.len()).find(|&i| p.iter().zip(&t[i..]).all(|(pc, tc)| *pc == '?' || pc == tc))
}

/// The class of each lexicon word found in `text` (each class and word once).
pub fn classes_in(text: &str, lexicon: &SpeechLexicon) -> Vec<(String, String)> {
    let t = normalise(text);
    let mut out = Vec::new();
    for (class, words) in &lexicon.classes {
        for w in words {
            if contains(&t, &normalise_pattern(w)) {
                out.push((class.clone(), w.clone()));
            }
        }
    }
    out
}

/// A lexicon pattern normalised like text, keeping its `?` wildcards.
fn normalise_pattern(w: &str) -> String {
    w.split('?').map(normalise).collect::<Vec<_>>().join("?")
}

/// Prices in `text`: digits followed by 元/块 (`99元`, `199块`) or after ¥ (`¥99`), as
/// `<digits>元`.
pub fn prices_in(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            // `¥99` / `￥99` (as cards write it), maybe with a space.
            let yen = chars[..start]
                .iter()
                .rev()
                .find(|c| **c != ' ')
                .is_some_and(|c| matches!(c, '¥' | '￥'));
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if yen || matches!(chars.get(i), Some('元' | '块')) {
                let digits: String = chars[start..i].iter().collect();
                let price = format!("{}元", digits.trim_end_matches('.'));
                if !out.contains(&price) {
                    out.push(price);
                }
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Per-second tracks, one per class of the lexicon, over `[0, duration_s)`: the sum of the
/// strengths of the hits said in each second (a hit counts over its segment or window),
/// 0 where nothing was heard.
pub fn tracks(hits: &[KeywordHit], lexicon: &SpeechLexicon, duration_s: f64) -> Vec<Track> {
    let n = duration_s.ceil().max(0.0) as usize;
    lexicon
        .classes
        .iter()
        .map(|(class, _)| {
            let mut per_s = vec![0f32; n];
            for h in hits.iter().filter(|h| &h.class == class) {
                let a = h.start_s.floor().max(0.0) as usize;
                let b = (h.end_s.ceil().max(0.0) as usize).min(n);
                for v in per_s.iter_mut().take(b).skip(a) {
                    *v += h.strength;
                }
            }
            let mut t = Track::new(
                &format!("{TRACK_PREFIX}{class}"),
                "hits",
                &format!("spoken '{class}' keywords per second (transcript and audio scoring)"),
            );
            for (i, v) in per_s.iter().enumerate() {
                t.push(i as f64 + 0.5, v.min(3.0));
            }
            t
        })
        .collect()
}

/// Audio-scored keyword results of one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowScores {
    pub start_s: f64,
    pub end_s: f64,
    /// Log-probability per character of each `scored` word (same order as the lexicon's list);
    /// `None` where it was not scored (a Chinese word in speech of another language).
    pub logprob: Vec<Option<f32>>,
    /// Where in the window each word fits best, `[start_s, end_s]` (same order; empty:
    /// the whole window).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub at: Vec<[f64; 2]>,
}

/// Audio hits: a word whose forced score in a window stands `margin` nats above its
/// typical score over the recording's windows (the median, or `floor` when fewer than
/// three windows were scored) and above `floor`.
pub fn audio_hits(
    scores: &[WindowScores],
    lexicon: &SpeechLexicon,
    margin: f32,
    floor: f32,
) -> Vec<KeywordHit> {
    let mut hits = Vec::new();
    for (k, (word, class)) in lexicon.scored.iter().enumerate() {
        let mut all: Vec<f32> = scores
            .iter()
            .filter_map(|w| w.logprob.get(k).copied().flatten())
            .filter(|x| x.is_finite())
            .collect();
        if all.is_empty() {
            continue;
        }
        all.sort_by(f32::total_cmp);
        let typical = if all.len() >= 3 {
            all[all.len() / 2].max(floor - margin)
        } else {
            floor - margin
        };
        for w in scores {
            let Some(lp) = w.logprob.get(k).copied().flatten() else {
                continue;
            };
            let above = lp - typical;
            if lp >= floor && above >= margin {
                let [start_s, end_s] = w.at.get(k).copied().unwrap_or([w.start_s, w.end_s]);
                hits.push(KeywordHit {
                    class: class.clone(),
                    word: word.clone(),
                    start_s,
                    end_s,
                    source: HitSource::Audio,
                    strength: (above / (2.0 * margin)).clamp(0.5, 1.0),
                });
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexicon() -> SpeechLexicon {
        SpeechLexicon {
            classes: vec![
                (
                    "purchase".into(),
                    vec!["上链接".into(), "秒杀".into(), "最后?单".into()],
                ),
                ("lottery".into(), vec!["抽奖".into()]),
            ],
            scored: vec![
                ("上链接".into(), "purchase".into()),
                ("秒杀".into(), "purchase".into()),
            ],
            scored_forms: vec!["上鏈接".into(), "秒殺".into()],
        }
    }

    #[test]
    fn transcript_words_match_across_punctuation_and_wildcards() {
        let lex = lexicon();
        let found = classes_in("三、二、一，上 链接！最后3单，最后三单", &lex);
        assert!(
            found.contains(&("purchase".into(), "上链接".into())),
            "{found:?}"
        );
        assert!(found.contains(&("purchase".into(), "最后?单".into())));
        assert!(!found.iter().any(|(c, _)| c == "lottery"));
        assert!(contains("最后一单", "最后?单"));
        assert!(!contains("最后单", "最后?单"));
    }

    #[test]
    fn prices_are_read_from_digits_and_yuan() {
        assert_eq!(prices_in("到手价99元，原价199块。"), ["99元", "199元"]);
        assert!(prices_in("三二一上链接").is_empty());
        assert_eq!(prices_in("¥199 限量 ￥ 59 第3件"), ["199元", "59元"]);
    }

    #[test]
    fn audio_hits_stand_out_from_the_recordings_typical_score() {
        let lex = lexicon();
        // The first word fits best 12–17 s into each window; the second word's place is
        // not known (the hit then covers the window).
        let w = |s: f64, a: f32, b: f32| WindowScores {
            start_s: s,
            end_s: s + 30.0,
            logprob: vec![Some(a), Some(b)],
            at: vec![[s + 12.0, s + 17.0]],
        };
        let scores = [
            w(0.0, -5.0, -5.2),
            w(30.0, -2.9, -5.0),
            w(60.0, -4.7, -4.9),
            w(90.0, -5.3, -5.1),
        ];
        let hits = audio_hits(&scores, &lex, 1.0, -4.0);
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(
            (hits[0].word.as_str(), hits[0].start_s, hits[0].end_s),
            ("上链接", 42.0, 47.0)
        );
        assert_eq!(hits[0].source, HitSource::Audio);
    }

    #[test]
    fn tracks_count_hits_per_second() {
        let lex = lexicon();
        let hits = vec![KeywordHit {
            class: "purchase".into(),
            word: "秒杀".into(),
            start_s: 10.2,
            end_s: 12.5,
            source: HitSource::Transcript,
            strength: 1.0,
        }];
        let t = tracks(&hits, &lex, 60.0);
        assert_eq!(t[0].name, "speech_kw_purchase");
        assert_eq!(t[0].len(), 60);
        let at = |x: f64| {
            t[0].times_s
                .iter()
                .position(|&y| y == x)
                .map(|i| t[0].values[i])
        };
        assert_eq!(at(11.5), Some(1.0));
        assert_eq!(at(9.5), Some(0.0));
        assert_eq!(at(30.5), Some(0.0));
        assert!(t[1].values.iter().all(|&v| v == 0.0));
    }
}
