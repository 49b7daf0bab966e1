//! Pure post-processing of generated tokens: splitting on timestamp pairs (as faster-whisper
//! does), the zlib compression ratio, Traditional → Simplified Chinese.

use std::io::Write;

use super::decode::Specials;

/// A stretch of generated tokens between timestamps, before detokenisation.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSegment {
    /// Seconds from the window start.
    pub start_s: f64,
    pub end_s: f64,
    /// Every token of the stretch (timestamps included).
    pub tokens: Vec<u32>,
    /// Mean log-probability of those tokens.
    pub avg_logprob: f32,
    /// Estimated time of each token (see `Generated::token_times`); empty when unknown.
    pub token_times: Vec<f64>,
}

/// Split generated tokens (EOT excluded) into segments on timestamp pairs, as faster-whisper's
/// `generate_segments`: a new segment starts at every pair of consecutive timestamps; a
/// final lone timestamp closes the last segment. Where faster-whisper would re-decode the
/// tokens after the last pair (an unterminated segment) from a later seek, this keeps them as
/// a last segment ending at `window_s`. Without any pair: one segment from 0 to the last
/// timestamp (or `window_s` when there is none past 0).
pub fn split_segments(
    tokens: &[u32],
    logprobs: &[f32],
    token_times: &[f64],
    sp: &Specials,
    window_s: f64,
) -> Vec<TokenSegment> {
    let ts = |t: u32| f64::from(t - sp.timestamp_begin) / Specials::TIMESTAMPS_PER_SECOND;
    let make = |from: usize, to: usize, start_s: f64, end_s: f64| {
        let lp = &logprobs[from.min(logprobs.len())..to.min(logprobs.len())];
        TokenSegment {
            start_s,
            end_s,
            tokens: tokens[from..to].to_vec(),
            token_times: token_times
                .get(from..to)
                .map(<[f64]>::to_vec)
                .unwrap_or_default(),
            avg_logprob: if lp.is_empty() {
                0.0
            } else {
                lp.iter().sum::<f32>() / lp.len() as f32
            },
        }
    };
    let n = tokens.len();
    let single_ending = n >= 2 && !sp.is_timestamp(tokens[n - 2]) && sp.is_timestamp(tokens[n - 1]);
    let pairs: Vec<usize> = (1..n)
        .filter(|&i| sp.is_timestamp(tokens[i]) && sp.is_timestamp(tokens[i - 1]))
        .collect();
    let mut out = Vec::new();
    if pairs.is_empty() {
        let end = match tokens.iter().rev().find(|&&t| sp.is_timestamp(t)) {
            Some(&t) if t != sp.timestamp_begin => ts(t),
            _ => window_s,
        };
        if n > 0 {
            out.push(make(0, n, 0.0, end));
        }
        return out;
    }
    let mut slices = pairs;
    if single_ending {
        slices.push(n);
    }
    let mut last = 0;
    for &cut in &slices {
        let (a, b) = (tokens[last], tokens[cut - 1]);
        let start = if sp.is_timestamp(a) { ts(a) } else { 0.0 };
        let end = if sp.is_timestamp(b) { ts(b) } else { start };
        out.push(make(last, cut, start, end));
        last = cut;
    }
    if last < n && tokens[last..].iter().any(|&t| t < sp.eot) {
        let a = tokens[last];
        let start = if sp.is_timestamp(a) { ts(a) } else { 0.0 };
        out.push(make(last, n, start, window_s.max(start)));
    }
    out
}

/// The text tokens of a sequence (below EOT), as faster-whisper's `Tokenizer.decode` keeps.
pub fn text_tokens(tokens: &[u32], sp: &Specials) -> Vec<u32> {
    tokens.iter().copied().filter(|&t| t < sp.eot).collect()
}

/// `len(text bytes) / len(zlib.compress(text bytes))` (faster-whisper's
/// `get_compression_ratio`; zlib level 6). Repetitive hallucinations score above ~2.4.
pub fn compression_ratio(text: &str) -> f32 {
    let bytes = text.as_bytes();
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    let compressed = enc
        .write_all(bytes)
        .and_then(|()| enc.finish())
        .map_or(0, |v| v.len());
    if compressed == 0 {
        return 0.0;
    }
    bytes.len() as f32 / compressed as f32
}

/// Traditional → Simplified Chinese (fast2s: character table with context rules).
pub fn to_simplified(text: &str) -> String {
    fast2s::convert(text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sp() -> Specials {
        Specials {
            eot: 10,
            sot: 11,
            translate: 12,
            transcribe: 13,
            no_speech: 14,
            no_timestamps: 15,
            timestamp_begin: 16,
            timestamp_end: 1516,
        }
    }

    const T: u32 = 16; // <|0.00|>; T + 50 = 1.00 s

    #[test]
    fn segments_split_on_timestamp_pairs() {
        // <0.00> a b <1.00><1.00> c <2.50>  (single timestamp ending)
        let toks = [T, 1, 2, T + 50, T + 50, 3, T + 125];
        let lps = [-0.1, -0.2, -0.3, -0.4, -0.5, -0.6, -0.7];
        let s = split_segments(&toks, &lps, &[], &sp(), 30.0);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].start_s, s[0].end_s), (0.0, 1.0));
        assert_eq!(s[0].tokens, vec![T, 1, 2, T + 50]);
        assert!((s[0].avg_logprob + 0.25).abs() < 1e-6);
        assert_eq!((s[1].start_s, s[1].end_s), (1.0, 2.5));
        assert_eq!(s[1].tokens, vec![T + 50, 3, T + 125]);
        // Pairs all the way: <0.00> a <1.00><1.00> b <2.00><2.00> (ends in a pair)
        let toks = [T, 1, T + 50, T + 50, 2, T + 100, T + 100];
        let s = split_segments(&toks, &[0.0; 7], &[], &sp(), 30.0);
        assert_eq!(s.len(), 2);
        assert_eq!((s[1].start_s, s[1].end_s), (1.0, 2.0));
        // An unterminated last segment runs to the end of the window.
        let toks = [T, 1, T + 50, T + 50, 2, 3];
        let s = split_segments(&toks, &[0.0; 6], &[], &sp(), 12.5);
        assert_eq!(s.len(), 2);
        assert_eq!((s[1].start_s, s[1].end_s), (1.0, 12.5));
        assert_eq!(text_tokens(&s[1].tokens, &sp()), vec![2, 3]);
    }

    #[test]
    fn segments_without_pairs() {
        // <0.00> a b <1.40>: one segment 0–1.4.
        let s = split_segments(&[T, 1, 2, T + 70], &[0.0; 4], &[], &sp(), 30.0);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].start_s, s[0].end_s), (0.0, 1.4));
        // No timestamps at all (no-timestamps mode): the whole window.
        let s = split_segments(&[1, 2, 3], &[-1.0, -2.0, -3.0], &[], &sp(), 7.0);
        assert_eq!((s[0].start_s, s[0].end_s), (0.0, 7.0));
        assert!((s[0].avg_logprob + 2.0).abs() < 1e-6);
        // Only <0.00>: the window.
        let s = split_segments(&[T, 1], &[0.0; 2], &[], &sp(), 9.0);
        assert_eq!(s[0].end_s, 9.0);
        assert!(split_segments(&[], &[], &[], &sp(), 9.0).is_empty());
    }

    #[test]
    fn compression_ratio_like_python_zlib() {
        // Python: len(b) / len(zlib.compress(b)).
        assert!((compression_ratio("Front, center.") - 14.0 / 22.0).abs() < 1e-6);
        assert!((compression_ratio("大家好!歡迎來到直播片!") - 32.0 / 43.0).abs() < 1e-6);
        assert_eq!(compression_ratio(""), 0.0);
        let r = compression_ratio(&"the cat sat on the mat. ".repeat(20));
        assert!(r > 10.0, "{r}"); // Python: 14.1
    }

    #[test]
    fn traditional_to_simplified() {
        assert_eq!(to_simplified("歡迎來到直播間"), "欢迎来到直播间");
        assert_eq!(
            to_simplified("大家好!歡迎來到直播片!"),
            "大家好!欢迎来到直播片!"
        );
        assert_eq!(to_simplified("Front, center."), "Front, center.");
    }
}
