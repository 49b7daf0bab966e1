//! The score stage (fusion and selection, run before and after speech) and the speech
//! stage that runs between the two.

use super::{AnalyzeOptions, PipelineError};
use crate::fuse::fuse;
use crate::media::MediaInfo;
use crate::select::select;
use crate::signals::{self, SignalSet};
use crate::speech::TranscribeMode;

type Result<T, E = PipelineError> = std::result::Result<T, E>;

/// Fusion and selection of one recording, run before and after the speech stage.
pub(super) struct Scoring<'a> {
    pub duration_s: f64,
    pub flagged: &'a [signals::FlaggedSpan],
    pub unexamined: &'a [crate::time::Span],
    pub opts: &'a AnalyzeOptions,
}

/// The curve and the moments chosen on it.
pub(super) struct Scored {
    pub curve: crate::fuse::Curve,
    pub highlights: Vec<crate::select::Highlight>,
    /// Peaks of the wider candidate list (where speech is worth hearing).
    pub candidate_peaks: Vec<f64>,
}

impl Scoring<'_> {
    /// Fuse `all` and select; `sentences` (transcribed speech) are boundaries a clip may
    /// not cut through.
    pub(super) fn run(&self, all: &SignalSet, sentences: Option<Vec<crate::time::Span>>) -> Scored {
        let curve = fuse(all, self.duration_s, &self.opts.fuse);
        let mut bounds = crate::boundaries::Boundaries::from_signals(all);
        bounds.avoid = self
            .flagged
            .iter()
            .map(|f| crate::time::Span::new(f.start_s - 0.5, f.end_s + 0.5))
            .collect();
        bounds.unexamined = self.unexamined.to_vec();
        if let Some(s) = sentences {
            bounds.sentences = s;
        }
        let highlights = select(&curve, self.duration_s, &self.opts.select, &bounds);
        // Where the spoken words may change the picks: the moments that stand out and the
        // next best (the cascade's candidate rule on the final curve).
        let count = self
            .opts
            .cascade
            .candidate_count(&curve, self.duration_s, &self.opts.select, &bounds)
            .max(highlights.len() + self.opts.cascade.extra_candidates);
        let wide = self.opts.select.candidates(count);
        let candidate_peaks = select(&curve, self.duration_s, &wide, &bounds)
            .iter()
            .map(|h| h.peak_s)
            .collect();
        Scored {
            curve,
            highlights,
            candidate_peaks,
        }
    }
}

/// The speech stage: transcribe where it matters, add the spoken-keyword tracks to `all`
/// and score again (`scored` is replaced); a second round hears what the final
/// highlights hold beyond the first round's stretches.
pub(super) fn listen(
    recognizer: &mut dyn crate::speech::Recognizer,
    info: &MediaInfo,
    scoring: &Scoring<'_>,
    all: &mut SignalSet,
    scored: &mut Scored,
    mode: TranscribeMode,
) -> Result<crate::speech::Transcript> {
    let settings = &scoring.opts.speech;
    let lexicon = &scoring.opts.lexicon.speech;
    let vad = crate::speech::vad_track(all).cloned();
    let mut listener = crate::speech::Listener::new(recognizer, info, settings, lexicon);
    let first: Vec<crate::time::Span> = match mode {
        TranscribeMode::All => vec![crate::time::Span::new(0.0, scoring.duration_s)],
        _ => {
            let spans: Vec<_> = scored.highlights.iter().map(|h| h.span()).collect();
            crate::speech::auto_spans(&scored.candidate_peaks, &spans, settings)
        }
    };
    let heard = listener.listen(&first, vad.as_ref())?;
    tracing::info!("speech: {heard:.0} s of audio transcribed");
    for round in 0..2 {
        let t = listener.transcript();
        for track in t.keyword_tracks(lexicon, scoring.duration_s) {
            all.insert(track);
        }
        *scored = scoring.run(all, Some(t.sentences()));
        if round == 1 {
            break;
        }
        // Whatever the final highlights reach beyond what was heard.
        let spans: Vec<_> = scored.highlights.iter().map(|h| h.span()).collect();
        let more = listener.listen(
            &crate::speech::auto_spans(&[], &spans, settings),
            vad.as_ref(),
        )?;
        if more <= 0.0 {
            break;
        }
        tracing::info!("speech: {more:.0} s more for the final highlights");
    }
    Ok(listener.transcript())
}
