use super::*;
use crate::timelines::Lexicon;

/// A recogniser that is never called: the guards are tested on given results.
#[derive(Debug)]
struct Never;

impl Recognizer for Never {
    fn model(&self) -> String {
        "fake==0".into()
    }
    fn recognize(&mut self, _: &[f32], _: &WindowRequest<'_>) -> Result<WindowResult, ModelError> {
        Err(ModelError::inference("fake", "not expected to run"))
    }
}

fn info() -> MediaInfo {
    MediaInfo {
        path: "rec.mp4".into(),
        size_bytes: 0,
        container: "mp4".into(),
        duration_s: 300.0,
        start_time_s: 0.0,
        creation_time: None,
        start_source: None,
        audio_tracks: 1,
        parts: Vec::new(),
        timestamp_breaks: Vec::new(),
        repaired_from: None,
        video: None,
        audio: None,
    }
}

fn seg(a: f64, b: f64, text: &str) -> RawSegment {
    RawSegment {
        start_s: a,
        end_s: b,
        text: text.into(),
        avg_logprob: -0.3,
        pieces: Vec::new(),
    }
}

fn result(segments: Vec<RawSegment>) -> WindowResult {
    WindowResult {
        language: "zh".into(),
        language_prob: 0.9,
        no_speech_prob: 0.05,
        avg_logprob: -0.4,
        compression_ratio: 1.3,
        segments,
        keyword_logprob: vec![-5.0; 6],
        keyword_at: vec![(1.0, 6.0); 6],
        cost_seconds: vec![("decode", 0.5)],
    }
}

fn vad(talking: &[(f64, f64)], secs: f64) -> Track {
    let mut t = Track::new("speech", "probability", "");
    let mut x = 0.016;
    while x < secs {
        let p = if talking.iter().any(|(a, b)| (*a..*b).contains(&x)) {
            0.9
        } else {
            0.02
        };
        t.push(x, p);
        x += 0.032;
    }
    t
}

#[test]
fn guards_drop_silence_loops_repeats_and_text_the_vad_did_not_hear() {
    let (info, settings, lexicon) = (info(), SpeechSettings::default(), Lexicon::default());
    let mut never = Never;
    let mut l = Listener::new(&mut never, &info, &settings, &lexicon.speech);
    let v = vad(&[(100.0, 110.0)], 300.0);
    // Kept: speech the VAD heard; a repeat of it and a segment over silence are dropped.
    l.accept(
        &Span::new(100.0, 130.0),
        result(vec![
            seg(0.0, 4.0, "家人们，秒杀开始了！"),
            seg(4.0, 8.0, "家人们，秒杀开始了！"),
            seg(15.0, 25.0, "谢谢观看"),
            seg(8.0, 9.5, "请点赞 订阅 小铃铛"),
        ]),
        Some(&v),
    );
    // A no-speech window and a repetition loop keep nothing.
    l.accept(
        &Span::new(200.0, 230.0),
        WindowResult {
            no_speech_prob: 0.9,
            avg_logprob: -1.5,
            ..result(vec![seg(0.0, 30.0, "字幕由Amara.org社区提供")])
        },
        None,
    );
    l.accept(
        &Span::new(240.0, 270.0),
        WindowResult {
            compression_ratio: 3.1,
            ..result(vec![seg(0.0, 30.0, "好好好好好好好好好好好好好好好好")])
        },
        None,
    );
    l.transcript.transcribed = vec![[100.0, 130.0], [200.0, 270.0]];
    let t = l.transcript();
    assert_eq!(t.segments.len(), 1, "{:?}", t.segments);
    assert_eq!(t.segments[0].text, "家人们，秒杀开始了！");
    assert_eq!((t.segments[0].start_s, t.segments[0].end_s), (100.0, 104.0));
    assert_eq!(t.language, "zh");
    let dropped: Vec<&String> = t.windows.iter().flat_map(|w| &w.dropped).collect();
    assert_eq!(dropped.len(), 5, "{dropped:?}");
    assert!(dropped.iter().any(|d| d.contains("invents")));
    assert!(dropped.iter().any(|d| d.contains("no speech")));
    assert!(dropped.iter().any(|d| d.contains("repetition loop")));
    assert!(dropped.iter().any(|d| d.contains("repeats the previous")));
    assert!(dropped.iter().any(|d| d.contains("VAD hears no speech")));
    // The transcript's keywords: 秒杀 said at 100-104 s.
    assert!(t
        .keywords
        .iter()
        .any(|k| k.word == "秒杀" && k.class == "purchase" && k.source == HitSource::Transcript));
    let tracks = t.keyword_tracks(&lexicon.speech, 300.0);
    let purchase = tracks
        .iter()
        .find(|x| x.name == "speech_kw_purchase")
        .expect("purchase track");
    assert!(purchase
        .times_s
        .iter()
        .zip(&purchase.values)
        .any(|(&x, &v)| (100.0..104.0).contains(&x) && v >= 1.0));
}

#[test]
fn text_in_a_span_joins_its_sentences() {
    let t = Transcript {
        segments: vec![
            Segment {
                start_s: 10.0,
                end_s: 12.0,
                text: "Front, center.".into(),
                lang: "en".into(),
                confidence: 0.9,
                edited: false,
            },
            Segment {
                start_s: 20.0,
                end_s: 22.0,
                text: "Rear, left.".into(),
                lang: "en".into(),
                confidence: 0.9,
                edited: false,
            },
        ],
        ..Transcript::default()
    };
    assert_eq!(
        t.text_in(&Span::new(9.0, 30.0)),
        "Front, center. Rear, left."
    );
    assert_eq!(t.text_in(&Span::new(11.5, 30.0)), "Rear, left.");
}

#[test]
fn auto_spans_cover_candidates_and_highlights_with_margins() {
    let s = SpeechSettings::default();
    let spans = auto_spans(&[100.0], &[Span::new(200.0, 240.0)], &s);
    assert_eq!(spans[0], Span::new(88.0, 112.0));
    assert_eq!(spans[1], Span::new(195.0, 245.0));
}

#[test]
fn a_long_segment_is_split_at_the_pauses_inside_it() {
    let (info, settings, lexicon) = (info(), SpeechSettings::default(), Lexicon::default());
    let mut never = Never;
    let mut l = Listener::new(&mut never, &info, &settings, &lexicon.speech);
    // Whisper heard 100-122 s as one segment; the VAD hears three sentences with pauses
    // at 107.0-107.6 and 114.0-114.9 s (and a short breath at 110.0-110.1 s).
    let v = vad(
        &[
            (100.0, 107.0),
            (107.6, 110.0),
            (110.1, 114.0),
            (114.9, 122.0),
        ],
        200.0,
    );
    let pieces = |words: &[(f64, &str)]| words.iter().map(|(t, w)| (*t, w.to_string())).collect();
    let long = RawSegment {
        pieces: pieces(&[
            (0.0, "家人们"),
            (3.0, "好，"),
            (7.7, "今天"),
            (11.0, "秒杀"),
            (15.0, "上链接"),
            (19.0, "了"),
        ]),
        ..seg(0.0, 22.0, "家人们好，今天秒杀上链接了")
    };
    // A short segment stays whole whatever its pauses.
    let short = RawSegment {
        pieces: pieces(&[(23.0, "谢谢"), (24.0, "大家")]),
        ..seg(23.0, 26.0, "谢谢大家")
    };
    let v2 = {
        let mut v = v;
        v.values.iter_mut().zip(&v.times_s).for_each(|(p, &t)| {
            if (123.0..126.0).contains(&t) && !(124.0..124.5).contains(&t) {
                *p = 0.9;
            }
        });
        v
    };
    l.accept(
        &Span::new(100.0, 130.0),
        result(vec![long, short]),
        Some(&v2),
    );
    let t = l.transcript();
    let got: Vec<(f64, f64, &str)> = t
        .segments
        .iter()
        .map(|s| (s.start_s, s.end_s, s.text.as_str()))
        .collect();
    let want = [
        (100.0, 107.0, "家人们好，"),
        (107.6, 114.0, "今天秒杀"),
        (114.9, 122.0, "上链接了"),
        (123.0, 126.0, "谢谢大家"),
    ];
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (g, w) in got.iter().zip(&want) {
        assert!(
            (g.0 - w.0).abs() < 0.05 && (g.1 - w.1).abs() < 0.05 && g.2 == w.2,
            "{got:?}"
        );
    }
}

#[test]
fn a_long_segment_whose_time_guesses_are_useless_is_split_by_the_pace_of_speech() {
    let (info, settings, lexicon) = (info(), SpeechSettings::default(), Lexicon::default());
    let mut never = Never;
    let mut l = Listener::new(&mut never, &info, &settings, &lexicon.speech);
    // 100-116 s heard as one segment, a pause at 108.0-108.8 s; every piece "at" 0 s.
    let v = vad(&[(100.0, 108.0), (108.8, 116.0)], 200.0);
    let long = RawSegment {
        pieces: ["一", "二", "三", "四", "五", "六", "七", "八"]
            .iter()
            .map(|w| (0.0, w.to_string()))
            .collect(),
        ..seg(0.0, 16.0, "一二三四五六七八")
    };
    l.accept(&Span::new(100.0, 130.0), result(vec![long]), Some(&v));
    let t = l.transcript();
    let got: Vec<&str> = t.segments.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(got, ["一二三四", "五六七八"]);
    assert!(
        (t.segments[0].end_s - 108.0).abs() < 0.05 && (t.segments[1].start_s - 108.8).abs() < 0.05
    );
}

#[test]
fn an_edited_segment_survives_a_new_transcript() {
    let seg = |a: f64, b: f64, text: &str, edited: bool| Segment {
        start_s: a,
        end_s: b,
        text: text.into(),
        lang: "zh".into(),
        confidence: 0.8,
        edited,
    };
    let old = Transcript {
        segments: vec![
            seg(10.0, 14.0, "改过的", true),
            seg(20.0, 22.0, "旧的", false),
        ],
        ..Transcript::default()
    };
    let mut new = Transcript {
        segments: vec![
            seg(9.5, 12.0, "识别的一", false),
            seg(12.5, 15.0, "识别的二", false),
            seg(20.0, 22.0, "新的", false),
        ],
        ..Transcript::default()
    };
    new.keep_edits(&old);
    let texts: Vec<&str> = new.segments.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(texts, ["改过的", "新的"]);
    assert!(new.has_edits());
    let json = serde_json::to_string(&new.segments[1]).unwrap();
    assert!(!json.contains("edited"), "{json}");
}
