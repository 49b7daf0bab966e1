//! Spans derived from several tracks, which fusion refuses as highlights:
//! - **glitch**: broken frames (black, white, flat, torn), widened by 1 s;
//!   Also a frozen picture: static for at least 2 s while the host keeps talking.
//! - **intermission**: a static picture for at least 5 s with no speech and sound (music,
//!   or anything louder than −40 LUFS when the models did not run) — a "be right back" card.

use serde::{Deserialize, Serialize};

use super::{SignalSet, Track};

/// Shortest static run that counts as an intermission, seconds.
pub const INTERMISSION_MIN_S: usize = 5;
/// Shortest static picture under continuing speech that counts as a frozen picture.
pub const FROZEN_MIN_S: usize = 2;

/// A span fusion refuses, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlaggedSpan {
    pub kind: String,
    pub start_s: f64,
    pub end_s: f64,
}

/// Per-second `glitch` and `intermission` tracks (0/1) and their spans.
pub fn derive(set: &SignalSet, duration_s: f64) -> (Vec<Track>, Vec<FlaggedSpan>) {
    let n = duration_s.ceil().max(1.0) as usize;
    let per_second = |name: &str, fill: f32| set.get(name).map(|t| t.resample_mean(1.0, n, fill));
    let mut glitch = vec![0f32; n];
    if let Some(broken) = per_second("picture_broken", 0.0) {
        for (i, &b) in broken.iter().enumerate() {
            if b > 0.0 {
                for g in glitch
                    .iter_mut()
                    .take((i + 2).min(n))
                    .skip(i.saturating_sub(1))
                {
                    *g = 1.0;
                }
            }
        }
    }
    let mut intermission = vec![0f32; n];
    if let Some(still) = per_second("picture_static", 0.0) {
        let speech = per_second("speech", 0.0);
        let music = per_second("audio_music", 0.0);
        let loud = per_second("loudness_momentary", -70.0);
        let empty_but_loud = |i: usize| match (&speech, &music) {
            (Some(s), Some(m)) => {
                s[i] < 0.2 && (m[i] > 0.3 || loud.as_ref().is_some_and(|l| l[i] > -40.0))
            }
            _ => loud.as_ref().is_some_and(|l| l[i] > -40.0),
        };
        let mut i = 0;
        while i < n {
            if still[i] < 0.99 {
                i += 1;
                continue;
            }
            let start = i;
            while i < n && still[i] >= 0.99 {
                i += 1;
            }
            let len = i - start;
            let quiet_speech = (start..i).filter(|&k| empty_but_loud(k)).count();
            let talking = speech
                .as_ref()
                .map_or(0, |s| (start..i).filter(|&k| s[k] > 0.5).count());
            if len >= INTERMISSION_MIN_S && quiet_speech * 10 >= len * 8 {
                for v in &mut intermission[start..i] {
                    *v = 1.0;
                }
            } else if len >= FROZEN_MIN_S && talking * 2 >= len {
                // The picture stopped while the host kept talking: a frozen decode/encoder.
                for v in &mut glitch[start..i] {
                    *v = 1.0;
                }
            }
        }
    }
    // Music playing while nobody speaks (a filler, or a song between sales).
    let music_no_speech = match (per_second("audio_music", 0.0), per_second("speech", 0.0)) {
        (Some(m), Some(s)) => Some(
            m.iter()
                .zip(&s)
                .map(|(m, s)| m * (1.0 - s))
                .collect::<Vec<f32>>(),
        ),
        _ => None,
    };
    let mut spans = spans_of("glitch", &glitch);
    spans.extend(spans_of("intermission", &intermission));
    let track = |name: &str, desc: &str, values: Vec<f32>| Track {
        name: name.into(),
        unit: "0/1".into(),
        description: desc.into(),
        times_s: (0..values.len()).map(|i| i as f64).collect(),
        values,
    };
    let mut tracks = vec![
        track(
            "glitch",
            "seconds with broken frames (±1 s); never a highlight",
            glitch,
        ),
        track(
            "intermission",
            "static picture ≥ 5 s with no speech and music or loud sound; never a highlight",
            intermission,
        ),
    ];
    if let Some(values) = music_no_speech {
        tracks.push(Track {
            unit: "probability".into(),
            ..track(
                "music_no_speech",
                "music probability × (1 − speech probability), per second: music with nobody talking",
                values,
            )
        });
    }
    (tracks, spans)
}

fn spans_of(kind: &str, flags: &[f32]) -> Vec<FlaggedSpan> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < flags.len() {
        if flags[i] <= 0.0 {
            i += 1;
            continue;
        }
        let start = i;
        while i < flags.len() && flags[i] > 0.0 {
            i += 1;
        }
        out.push(FlaggedSpan {
            kind: kind.into(),
            start_s: start as f64,
            end_s: i as f64,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(name: &str, values: Vec<f32>) -> Track {
        Track {
            name: name.into(),
            unit: String::new(),
            description: String::new(),
            times_s: (0..values.len()).map(|i| i as f64).collect(),
            values,
        }
    }

    #[test]
    fn static_card_with_music_is_an_intermission_and_a_frozen_talking_picture_a_glitch() {
        let mut still = vec![0.0; 60];
        let mut speech = vec![0.9; 60];
        let music = vec![0.6; 60];
        for i in 10..25 {
            still[i] = 1.0; // card, music, no speech
            speech[i] = 0.05;
        }
        for s in still.iter_mut().take(50).skip(40) {
            *s = 1.0; // the picture froze while the host talks
        }
        let mut broken = vec![0.0; 60];
        broken[30] = 1.0;
        let set = SignalSet {
            tracks: vec![
                track("picture_static", still),
                track("speech", speech),
                track("audio_music", music),
                track("picture_broken", broken),
            ],
            ..Default::default()
        };
        let (tracks, spans) = derive(&set, 60.0);
        assert_eq!(
            spans,
            vec![
                FlaggedSpan {
                    kind: "glitch".into(),
                    start_s: 29.0,
                    end_s: 32.0
                },
                FlaggedSpan {
                    kind: "glitch".into(),
                    start_s: 40.0,
                    end_s: 50.0
                },
                FlaggedSpan {
                    kind: "intermission".into(),
                    start_s: 10.0,
                    end_s: 25.0
                },
            ]
        );
        assert_eq!(tracks[1].values[45], 0.0, "not an intermission");
    }
}
