//! Greedy decoding rules, as CTranslate2's `Whisper.generate(beam_size=1, suppress_blank=True,
//! suppress_tokens=[-1], max_initial_timestamp_index=50)` applies them to each step's logits
//! (CTranslate2 `src/decoding.cc`, `src/decoding_utils.cc`, `src/models/whisper.cc`):
//!
//! 1. `suppress_ids` (config.json) at every step;
//! 2. `suppress_ids_begin` (config.json: blank and EOT) at the first generated step;
//! 3. with timestamps (the prompt does not end in `<|notimestamps|>`), `ApplyTimestampRules`:
//!    `<|notimestamps|>` never; the first token must be a timestamp ≤ 50 (1.00 s);
//!    timestamps come in pairs (after two timestamps: text or EOT; after text then one
//!    timestamp: another timestamp ≥ it, or EOT); timestamps never decrease; and when the
//!    summed probability of all timestamps beats every single text token, a timestamp is
//!    forced.
//!
//! Disabled logits are set to `f32::MIN` (CTranslate2's `DisableTokens` value), then the
//! token with the highest logit is taken and its log-softmax added to the score.

/// The value CTranslate2 writes into disabled logits.
pub const DISABLED: f32 = f32::MIN;

/// Token ids the rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Specials {
    pub eot: u32,
    pub sot: u32,
    pub translate: u32,
    pub transcribe: u32,
    pub no_speech: u32,
    pub no_timestamps: u32,
    /// `<|0.00|>` = `no_timestamps + 1`.
    pub timestamp_begin: u32,
    /// The last timestamp token: vocabulary size − 1.
    pub timestamp_end: u32,
}

impl Specials {
    /// Timestamp tokens per second (one every 0.02 s).
    pub const TIMESTAMPS_PER_SECOND: f64 = 50.0;

    pub fn is_timestamp(&self, token: u32) -> bool {
        token >= self.timestamp_begin
    }
}

/// CTranslate2's `max_initial_timestamp_index` default.
pub const MAX_INITIAL_TIMESTAMP_INDEX: u32 = 50;

/// What to apply at every step.
#[derive(Debug, Clone)]
pub struct Rules<'a> {
    pub suppress: &'a [u32],
    pub suppress_begin: &'a [u32],
    /// `Some` when timestamps are predicted.
    pub timestamps: Option<&'a Specials>,
}

fn disable(logits: &mut [f32], ids: impl IntoIterator<Item = usize>) {
    for i in ids {
        if let Some(v) = logits.get_mut(i) {
            *v = DISABLED;
        }
    }
}

/// Apply the rules to one step's logits in place. `step` counts generated tokens (0 = the
/// first); `generated` holds the tokens chosen so far (without the prompt). Returns
/// [`log_sum_exp`] of the logits as they are left when the rules already computed it (the
/// timestamp check), for [`best_with`].
pub fn process(
    logits: &mut [f32],
    step: usize,
    generated: &[u32],
    rules: &Rules<'_>,
) -> Option<f64> {
    // DisableTokens collects indices and writes them before any processor reads the
    // logits, so writing them at once is equivalent.
    disable(logits, rules.suppress.iter().map(|&i| i as usize));
    if step == 0 {
        disable(logits, rules.suppress_begin.iter().map(|&i| i as usize));
    }
    rules
        .timestamps
        .and_then(|sp| timestamp_rules(logits, step, generated, sp))
}

fn timestamp_rules(logits: &mut [f32], step: usize, seq: &[u32], sp: &Specials) -> Option<f64> {
    let begin = sp.timestamp_begin as usize;
    let end = sp.timestamp_end as usize;
    disable(logits, [sp.no_timestamps as usize]);
    let mut check = false;
    if step == 0 {
        disable(logits, 0..begin);
        let max_initial = begin + MAX_INITIAL_TIMESTAMP_INDEX as usize;
        disable(logits, max_initial + 1..=end);
    } else {
        let last = seq[step - 1] as usize;
        if last >= begin {
            let penultimate = if step > 1 {
                seq[step - 2] as usize
            } else {
                last
            };
            if penultimate >= begin {
                // Two timestamps in a row: text (or EOT) next.
                disable(logits, begin..=end);
            } else {
                // Text then a timestamp: the closing timestamp (≥ it) or EOT.
                disable(logits, 0..sp.eot as usize);
                disable(logits, begin..last);
                check = true;
            }
        } else {
            check = true;
            // Timestamps must increase: forbid those up to the last one.
            if let Some(&t) = seq[..step].iter().rev().find(|&&t| t as usize >= begin) {
                disable(logits, begin..=t as usize);
            }
        }
    }
    if !check {
        return None;
    }
    let lse = log_sum_exp(logits);
    if timestamp_beats_text(logits, begin, lse) {
        disable(logits, 0..begin);
        return None;
    }
    Some(lse)
}

/// The time (seconds from the window's start) of the most likely timestamp token in raw
/// `logits`: where the decoder is in the audio at this step.
pub fn likeliest_time(logits: &[f32], sp: &Specials) -> f64 {
    let begin = sp.timestamp_begin as usize;
    let end = (sp.timestamp_end as usize).min(logits.len().saturating_sub(1));
    let best = (begin..=end)
        .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
        .unwrap_or(begin);
    (best - begin) as f64 / Specials::TIMESTAMPS_PER_SECOND
}

/// Whether the log-sum-exp of the timestamp log-probabilities exceeds the best text token's
/// (`lse`: [`log_sum_exp`] of `logits`).
fn timestamp_beats_text(logits: &[f32], begin: usize, lse: f64) -> bool {
    let text = &logits[..begin.min(logits.len())];
    let stamps = &logits[begin.min(logits.len())..];
    let max_text = text.iter().copied().fold(f32::MIN, f32::max) as f64 - lse;
    let shifted = stamps.iter().map(|&x| f64::from(x) - lse);
    let m = shifted.clone().fold(f64::MIN, f64::max);
    let stamp_lse = m + shifted.map(|x| (x - m).exp()).sum::<f64>().ln();
    stamp_lse > max_text
}

/// Whether the text tokens (those below `timestamp_begin`) end in a repetition loop: the
/// same 2–12 tokens four times in a row, or one token eight times.
pub fn looping(tokens: &[u32], timestamp_begin: u32) -> bool {
    let tail: Vec<u32> = tokens
        .iter()
        .rev()
        .filter(|&&t| t < timestamp_begin)
        .take(48)
        .copied()
        .collect();
    (1..=12).any(|n| {
        let times = if n == 1 { 8 } else { 4 };
        tail.len() >= n * times && (1..times).all(|k| tail[..n] == tail[k * n..(k + 1) * n])
    })
}

/// ln Σ exp(x), in f64. Disabled logits ([`DISABLED`]) are skipped when something else is
/// larger: their exp(x − max) is exactly 0 (x − max < −2^100), so the sum is the same, bit
/// for bit, without the exp calls (most of the vocabulary when timestamps are forced).
pub fn log_sum_exp(x: &[f32]) -> f64 {
    let max = x.iter().copied().fold(f32::MIN, f32::max);
    let m = max as f64;
    let skip = max > DISABLED;
    m + x
        .iter()
        .filter(|&&v| !(skip && v == DISABLED))
        .map(|&v| (f64::from(v) - m).exp())
        .sum::<f64>()
        .ln()
}

/// The greedy choice: the highest logit (the first on ties) and its log-probability.
pub fn best(logits: &[f32]) -> (u32, f32) {
    best_with(logits, None)
}

/// [`best`] with the logits' [`log_sum_exp`] when it is already known (from [`process`]).
pub fn best_with(logits: &[f32], lse: Option<f64>) -> (u32, f32) {
    let mut idx = 0;
    let mut max = f32::MIN;
    for (i, &v) in logits.iter().enumerate() {
        if v > max || i == 0 {
            max = v;
            idx = i;
        }
    }
    let lp = f64::from(max) - lse.unwrap_or_else(|| log_sum_exp(logits));
    (idx as u32, lp as f32)
}

/// Softmax probability of `id` in raw logits.
pub fn prob(logits: &[f32], id: u32) -> f32 {
    logits
        .get(id as usize)
        .map_or(0.0, |&v| (f64::from(v) - log_sum_exp(logits)).exp() as f32)
}

/// Softmax over a subset of the logits (CTranslate2's language detection), in input order.
pub fn softmax_of(logits: &[f32], ids: &[u32]) -> Vec<f32> {
    let picked: Vec<f32> = ids
        .iter()
        .map(|&i| logits.get(i as usize).copied().unwrap_or(DISABLED))
        .collect();
    let lse = log_sum_exp(&picked);
    picked
        .iter()
        .map(|&v| (f64::from(v) - lse).exp() as f32)
        .collect()
}

#[cfg(test)]
mod loop_tests {
    use super::looping;

    #[test]
    fn repetition_loops_are_seen_and_speech_is_not() {
        let ts = 50364;
        assert!(looping(&[1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3], ts));
        assert!(looping(&[9, 9, 9, 9, 9, 9, 9, 9], ts));
        // Timestamps between the repeats do not hide a loop.
        assert!(looping(&[1, 2, 50400, 1, 2, 50410, 1, 2, 50420, 1, 2], ts));
        assert!(!looping(&[1, 2, 3, 4, 1, 2, 3, 5, 1, 2, 3, 6], ts));
        assert!(!looping(&[7, 7, 7, 7, 7, 7, 7], ts));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A toy vocabulary: text 0..10, EOT 10, SOT 11, translate 12, transcribe 13,
    /// no-speech 14, no-timestamps 15, timestamps 16..=115 (0.00 .. 1.98 s).
    fn sp() -> Specials {
        Specials {
            eot: 10,
            sot: 11,
            translate: 12,
            transcribe: 13,
            no_speech: 14,
            no_timestamps: 15,
            timestamp_begin: 16,
            timestamp_end: 115,
        }
    }

    fn flat(v: f32) -> Vec<f32> {
        vec![v; 116]
    }

    fn allowed(l: &[f32]) -> Vec<usize> {
        (0..l.len()).filter(|&i| l[i] > DISABLED).collect()
    }

    #[test]
    fn suppress_everywhere_and_blank_at_begin() {
        let rules = Rules {
            suppress: &[1, 2],
            suppress_begin: &[3, 10],
            timestamps: None,
        };
        let mut l = flat(0.0);
        process(&mut l, 0, &[], &rules);
        assert_eq!(l[1], DISABLED);
        assert_eq!(l[3], DISABLED);
        assert_eq!(l[10], DISABLED);
        let mut l = flat(0.0);
        process(&mut l, 1, &[5], &rules);
        assert_eq!(l[2], DISABLED);
        assert!(l[3] == 0.0 && l[10] == 0.0);
    }

    #[test]
    fn first_token_is_an_early_timestamp() {
        let s = sp();
        let rules = Rules {
            suppress: &[],
            suppress_begin: &[],
            timestamps: Some(&s),
        };
        let mut l = flat(0.0);
        l[4] = 50.0; // a very likely text token is still not allowed first
        process(&mut l, 0, &[], &rules);
        // Only <|0.00|> .. <|1.00|> (indices 16..=66).
        assert_eq!(allowed(&l), (16..=66).collect::<Vec<_>>());
        let (tok, lp) = best(&l);
        assert_eq!(tok, 16);
        assert!((lp - (1.0f32 / 51.0).ln()).abs() < 1e-5);
    }

    #[test]
    fn timestamps_pair_up_and_never_decrease() {
        let s = sp();
        let rules = Rules {
            suppress: &[],
            suppress_begin: &[],
            timestamps: Some(&s),
        };
        // After <|0.00|> alone (penultimate = itself): text or EOT, no timestamps.
        let mut l = flat(0.0);
        process(&mut l, 1, &[16], &rules);
        assert_eq!(allowed(&l), (0..15).collect::<Vec<_>>());
        // After text then <|0.40|> (36): another timestamp ≥ 36 or EOT, no text.
        let mut l = flat(-10.0);
        l[10] = 3.0;
        process(&mut l, 3, &[16, 5, 36], &rules);
        let a = allowed(&l);
        assert!(a.contains(&10) && a.contains(&36) && a.contains(&115));
        assert!(!a.contains(&35) && !a.contains(&5) && !a.contains(&15));
        assert_eq!(best(&l).0, 10);
        // After a pair <|0.40|><|0.40|>: text, not a timestamp.
        let mut l = flat(0.0);
        process(&mut l, 4, &[16, 5, 36, 36], &rules);
        assert!(allowed(&l).iter().all(|&i| i < 16 && i != 15));
        // After text: timestamps must exceed the last one (36).
        let mut l = flat(-10.0);
        l[5] = 5.0; // text clearly wins: the timestamp mass does not force a timestamp
        process(&mut l, 5, &[16, 5, 36, 36, 7], &rules);
        let a = allowed(&l);
        assert!(a.contains(&5) && !a.contains(&36) && a.contains(&37));
        assert_eq!(best(&l).0, 5);
    }

    #[test]
    fn timestamp_mass_forces_a_timestamp() {
        let s = sp();
        let rules = Rules {
            suppress: &[],
            suppress_begin: &[],
            timestamps: Some(&s),
        };
        // The best text token (logit 2) beats every single timestamp (logit 0), but 100
        // timestamps together (ln 100 ≈ 4.6 > 2) win: text is disabled.
        let mut l = flat(0.0);
        l[5] = 2.0;
        process(&mut l, 2, &[16, 7], &rules);
        assert!(allowed(&l).iter().all(|&i| i > 16));
        assert_eq!(best(&l).0, 17);
        // With text at 5.0 the mass (≈ 4.6 over the 99 allowed stamps) loses.
        let mut l = flat(0.0);
        l[5] = 5.0;
        process(&mut l, 2, &[16, 7], &rules);
        assert_eq!(best(&l).0, 5);
    }

    /// log_sum_exp as it was, with every exp computed.
    fn log_sum_exp_naive(x: &[f32]) -> f64 {
        let m = x.iter().copied().fold(f32::MIN, f32::max) as f64;
        m + x
            .iter()
            .map(|&v| (f64::from(v) - m).exp())
            .sum::<f64>()
            .ln()
    }

    #[test]
    fn skipping_disabled_logits_keeps_log_sum_exp_exact() {
        let mut x: Vec<f32> = (0..5000)
            .map(|i| ((i * 7919) % 1000) as f32 * 0.013 - 6.0)
            .collect();
        for i in (0..5000).step_by(3) {
            x[i] = DISABLED;
        }
        assert_eq!(log_sum_exp(&x).to_bits(), log_sum_exp_naive(&x).to_bits());
        x[4999] = -1e30; // very negative but enabled: kept
        assert_eq!(log_sum_exp(&x).to_bits(), log_sum_exp_naive(&x).to_bits());
        let all = vec![DISABLED; 7]; // nothing enabled: every entry counts
        assert_eq!(
            log_sum_exp(&all).to_bits(),
            log_sum_exp_naive(&all).to_bits()
        );
    }

    #[test]
    fn process_hands_back_the_log_sum_exp_of_what_it_leaves() {
        let s = sp();
        let rules = Rules {
            suppress: &[1],
            suppress_begin: &[],
            timestamps: Some(&s),
        };
        // Text wins the check: the logits stay, and their log-sum-exp comes back.
        let mut l = flat(0.0);
        l[5] = 5.0;
        let lse = process(&mut l, 2, &[16, 7], &rules);
        assert_eq!(lse.map(f64::to_bits), Some(log_sum_exp(&l).to_bits()));
        assert_eq!(best_with(&l, lse), best(&l));
        // The timestamps win: text is disabled afterwards, so nothing comes back.
        let mut l = flat(0.0);
        l[5] = 2.0;
        assert_eq!(process(&mut l, 2, &[16, 7], &rules), None);
        // No check (first step, or no timestamps): nothing comes back.
        assert_eq!(process(&mut flat(0.0), 0, &[], &rules), None);
        let plain = Rules {
            timestamps: None,
            ..rules
        };
        assert_eq!(process(&mut flat(0.0), 3, &[4, 5, 6], &plain), None);
    }

    #[test]
    fn probabilities() {
        let l = vec![0.0f32, 0.0, (2.0f32).ln()];
        assert!((prob(&l, 2) - 0.5).abs() < 1e-6);
        let p = softmax_of(&l, &[2, 0]);
        assert!((p[0] - 2.0 / 3.0).abs() < 1e-6 && (p[1] - 1.0 / 3.0).abs() < 1e-6);
        let mut d = vec![1.0f32, 3.0, 3.0, DISABLED];
        assert_eq!(best(&d).0, 1);
        d[0] = DISABLED;
        assert!((best(&d).1 - 0.5f32.ln()).abs() < 1e-6);
    }
}
