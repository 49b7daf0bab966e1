//! Whisper as the speech stage's recogniser: one encoder pass per window, shared by the
//! transcription and the keyword scores.

use crate::models::whisper::{Encoded, TranscribeOptions, Whisper};
use crate::models::ModelError;

use super::{RawSegment, Recognizer, WindowRequest, WindowResult};

/// Whether `word` is written in CJK characters (scored with the `<|zh|>` prompt).
fn is_cjk(word: &str) -> bool {
    word.chars()
        .any(|c| matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF))
}

/// How well `word` (in the written form to score) fits the window: the log-probability of
/// its tokens forced after the transcription prompt, per written character (tokenisations
/// of one word differ in length between written forms). Chinese words are scored with the
/// `<|zh|>` prompt whatever language the window was detected as (accented or synthetic
/// Mandarin is often taken for another language), other words in `language`.
pub fn keyword_score(
    whisper: &mut Whisper,
    encoded: &Encoded,
    word: &str,
    language: &str,
) -> Result<f32, ModelError> {
    let lang = if is_cjk(word) { "zh" } else { language };
    let mean = whisper.keyword_logprob(encoded, lang, word)?;
    let tokens = whisper.encode_text(word)?.len() as f32;
    let chars = word.chars().filter(|c| !c.is_whitespace()).count().max(1) as f32;
    Ok(mean * tokens / chars)
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
        let encoded = self.encode(samples)?;
        let opts = TranscribeOptions {
            language: request.language.map(str::to_string),
            timestamps: true,
            simplified_chinese: request.simplified_chinese,
            max_tokens: 224,
        };
        let t = self.transcribe(&encoded, &opts)?;
        // Chinese words are scored with the <|zh|> prompt whatever language the window was
        // detected as (accented or synthetic Mandarin is often taken for another language),
        // other words in the window's language.
        let mut keyword_logprob = Vec::with_capacity(request.keywords.len());
        for word in request.keywords {
            keyword_logprob.push(keyword_score(self, &encoded, word, &t.language)?);
        }
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
                })
                .collect(),
            keyword_logprob,
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
