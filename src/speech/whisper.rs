//! Whisper as the speech stage's recogniser: one encoder pass per window, shared by the
//! transcription and the keyword scores.

use crate::models::whisper::{Encoded, Spot, TranscribeOptions, Whisper};
use crate::models::ModelError;

use super::{RawSegment, Recognizer, WindowRequest, WindowResult};

/// Whether `word` is written in CJK characters (scored with the `<|zh|>` prompt).
fn is_cjk(word: &str) -> bool {
    word.chars()
        .any(|c| matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF))
}

/// Where each of `words` (in the written form to score) fits best in the window, as
/// [`Whisper::spot_keywords`] scores it: log-probability per written character at the best
/// 5-s block, and that block. Chinese words are scored with the `<|zh|>` prompt whatever
/// language the window was detected as (accented or synthetic Mandarin is often taken for
/// another language), other words in `language`.
pub fn keyword_spots(
    whisper: &mut Whisper,
    encoded: &Encoded,
    words: &[String],
    language: &str,
) -> Result<Vec<Spot>, ModelError> {
    let spot_words = words
        .iter()
        .map(|w| whisper.spot_word(w, if is_cjk(w) { "zh" } else { language }))
        .collect::<Result<Vec<_>, _>>()?;
    whisper.spot_keywords(encoded, &spot_words)
}

impl Recognizer for Whisper {
    fn model(&self) -> String {
        format!("{}=={}", self.name(), self.sha256())
    }

    fn recognize(
        &mut self,
        samples: &[f32],
        request: &WindowRequest<'_>,
    ) -> Result<WindowResult, ModelError> {
        // What the last window freed in small blocks goes back first: without this the
        // speech stage's resident memory creeps up window after window (4-hour benchmark:
        // +50 MB over 60 windows).
        crate::models::runtime::trim_freed_memory();
        let t0 = std::time::Instant::now();
        if !request.keywords.is_empty() {
            self.prepare_spotting()?;
        }
        let encoded = self.encode(samples)?;
        let t1 = std::time::Instant::now();
        let opts = TranscribeOptions {
            language: request.language.map(str::to_string),
            timestamps: true,
            simplified_chinese: request.simplified_chinese,
            max_tokens: 224,
        };
        let t = self.transcribe(&encoded, &opts)?;
        let t2 = std::time::Instant::now();
        let spots = keyword_spots(self, &encoded, request.keywords, &t.language)?;
        let cost_seconds = vec![
            ("encode", (t1 - t0).as_secs_f64()),
            ("decode", (t2 - t1).as_secs_f64()),
            ("keywords", t2.elapsed().as_secs_f64()),
        ];
        Ok(WindowResult {
            language: t.language,
            language_prob: t.language_prob,
            no_speech_prob: t.no_speech_prob,
            avg_logprob: t.avg_logprob,
            compression_ratio: t.compression_ratio,
            segments: t
                .segments
                .into_iter()
                .map(|s| RawSegment {
                    start_s: s.start_s,
                    end_s: s.end_s,
                    text: s.text,
                    avg_logprob: s.avg_logprob,
                    pieces: s.pieces,
                })
                .collect(),
            keyword_logprob: spots.iter().map(|s| s.logprob).collect(),
            keyword_at: spots.iter().map(|s| (s.start_s, s.end_s)).collect(),
            cost_seconds,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cjk_words_are_told_apart() {
        assert!(super::is_cjk("上链接"));
        assert!(!super::is_cjk("sale"));
    }
}
