//! A clip's subtitles from the transcript: cues in the clip's own time, lines broken the way
//! CJK and Latin text break (between ideographs, at spaces, never inside a Latin word or a
//! number: Unicode's line-breaking rules, UAX #14, through `textwrap`), at most two lines a
//! cue (a longer sentence becomes several cues, its time shared by length), written as SRT
//! and WebVTT beside the clip, and as an ASS script that FFmpeg's `ass` filter (libass)
//! burns into the picture.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::speech::Segment;
use crate::time::Span;

/// Where the subtitles of a rendered clip go (`--subtitles`, or the preset's `subtitles`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SubtitleMode {
    /// Burned into the picture, and the `.srt`/`.vtt` files beside the clip.
    Burn,
    /// Only the `.srt`/`.vtt` files beside the clip.
    Srt,
    /// None.
    Off,
}

/// How burned subtitles look, relative to the frame (the preset's `[subtitles]` table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubtitleStyle {
    /// Font family (fontconfig name; Noto Sans CJK is installed by set-up).
    pub font: String,
    /// Glyph height as a fraction of the frame's shorter side.
    pub size: f64,
    /// Most lines on screen at once.
    pub max_lines: usize,
    /// Distance from the frame's bottom edge to the text's last line, fraction of the
    /// height: the platform's own interface (caption, buttons) sits below it.
    pub bottom: f64,
    /// Free space on the left and the right, fraction of the width.
    pub side: f64,
    /// Outline and shadow widths as fractions of the glyph height.
    pub outline: f64,
    pub shadow: f64,
}

impl Default for SubtitleStyle {
    fn default() -> Self {
        Self {
            font: "Noto Sans CJK SC".into(),
            size: 0.055,
            max_lines: 2,
            bottom: 0.08,
            side: 0.05,
            outline: 0.06,
            shadow: 0.03,
        }
    }
}

/// Pixel figures of a style on one frame size.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub width: u32,
    pub height: u32,
    pub font_px: f64,
    /// Longest line in display columns (a CJK character is 2, a Latin letter 1).
    pub max_columns: usize,
    pub max_lines: usize,
    pub bottom_px: u32,
    pub side_px: u32,
    pub outline_px: f64,
    pub shadow_px: f64,
}

impl Layout {
    pub fn new(width: u32, height: u32, style: &SubtitleStyle) -> Self {
        let font_px = (f64::from(width.min(height)) * style.size).max(8.0);
        let side_px = (f64::from(width) * style.side).round() as u32;
        let usable = f64::from(width.saturating_sub(2 * side_px));
        // A CJK glyph is about one glyph height wide: two columns of half that.
        let max_columns = ((usable / (font_px / 2.0)).floor() as usize).max(4);
        Self {
            width,
            height,
            font_px,
            max_columns,
            max_lines: style.max_lines.max(1),
            bottom_px: (f64::from(height) * style.bottom).round() as u32,
            side_px,
            outline_px: font_px * style.outline,
            shadow_px: font_px * style.shadow,
        }
    }

    /// Height of the text block at its tallest (all lines), pixels.
    pub fn block_px(&self) -> f64 {
        self.font_px * 1.25 * self.max_lines as f64
    }
}

/// A clip's subtitle files (paths as written; the manifest makes them relative).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipSubtitles {
    pub srt: std::path::PathBuf,
    pub vtt: std::path::PathBuf,
    /// Whether the text is also burned into the picture.
    pub burned: bool,
    pub cues: usize,
    /// Characters of the burned text that the subtitle font lacks (libass draws them
    /// from another font, or as boxes): fix the text, or install a font that has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_glyphs: Vec<String>,
}

/// The characters of `cues` that the font `family` in the font file `data` (a TTF, OTF or
/// a collection) has no glyph for, each once, in order of appearance; `None` when the file
/// holds no face of that family. Spaces and control characters are not glyphs.
pub fn missing_glyphs(data: &[u8], family: &str, cues: &[Cue]) -> Option<Vec<char>> {
    let faces = ttf_parser::fonts_in_collection(data).unwrap_or(1);
    let face = (0..faces)
        .filter_map(|i| ttf_parser::Face::parse(data, i).ok())
        .find(|f| {
            f.names().into_iter().any(|n| {
                (n.name_id == ttf_parser::name_id::FAMILY
                    || n.name_id == ttf_parser::name_id::TYPOGRAPHIC_FAMILY)
                    && n.to_string().is_some_and(|s| s == family)
            })
        })?;
    let mut missing: Vec<char> = Vec::new();
    for c in cues
        .iter()
        .flat_map(|c| c.lines.iter())
        .flat_map(|l| l.chars())
    {
        if c.is_whitespace() || c.is_control() || missing.contains(&c) {
            continue;
        }
        if face.glyph_index(c).is_none() {
            missing.push(c);
        }
    }
    Some(missing)
}

/// One subtitle on screen: clip-relative seconds and its lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cue {
    pub start_s: f64,
    pub end_s: f64,
    pub lines: Vec<String>,
}

impl Cue {
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

/// Shortest cue kept, seconds (a sliver of a sentence at a clip's edge is not shown).
const MIN_CUE_S: f64 = 0.3;

/// Display columns of `s` (East Asian wide characters count 2).
pub fn columns(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// `text` in lines of at most `max_columns`, broken only where Unicode allows (between
/// ideographs, at spaces; never inside a Latin word or a number) and balanced (the
/// narrowest width that needs no more lines); a word longer than a line is broken
/// inside as a last resort.
pub fn wrap(text: &str, max_columns: usize) -> Vec<String> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return Vec::new();
    }
    let at = |width: usize| -> Vec<String> {
        let options = textwrap::Options::new(width.max(2))
            .word_separator(textwrap::WordSeparator::UnicodeBreakProperties)
            .wrap_algorithm(textwrap::WrapAlgorithm::new_optimal_fit());
        textwrap::wrap(&text, options)
            .into_iter()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    };
    // The narrowest width that needs no more lines than the widest balances them.
    let mut best = at(max_columns);
    for width in (2..max_columns).rev() {
        let lines = at(width);
        if lines.len() > best.len() {
            break;
        }
        best = lines;
    }
    best
}

/// The cues of `clip` (recording seconds) from the transcript `segments`: each segment that
/// overlaps the clip, cut to it and shifted to the clip's time, wrapped to the layout; a
/// segment needing more than `max_lines` lines becomes several cues in a row, each taking
/// a share of the segment's time proportional to its length.
pub fn cues(segments: &[Segment], clip: Span, layout: &Layout) -> Vec<Cue> {
    let mut out = Vec::new();
    for seg in segments {
        let start = seg.start_s.max(clip.start_s);
        let end = seg.end_s.min(clip.end_s);
        if end - start < MIN_CUE_S || seg.text.trim().is_empty() {
            continue;
        }
        let lines = wrap(&seg.text, layout.max_columns);
        let chunks: Vec<&[String]> = lines.chunks(layout.max_lines).collect();
        let weights: Vec<f64> = chunks
            .iter()
            .map(|c| c.iter().map(|l| columns(l).max(1) as f64).sum())
            .collect();
        let total: f64 = weights.iter().sum();
        // Shares of the whole segment's time, then cut to the clip.
        let mut at = seg.start_s;
        for (chunk, w) in chunks.iter().zip(&weights) {
            let next = at + (seg.end_s - seg.start_s) * w / total;
            let (a, b) = (at.max(clip.start_s), next.min(clip.end_s));
            at = next;
            if b - a < MIN_CUE_S {
                continue;
            }
            out.push(Cue {
                start_s: round3(a - clip.start_s),
                end_s: round3(b - clip.start_s),
                lines: chunk.to_vec(),
            });
        }
    }
    // Never two cues on screen at once: a cue ends where the next begins.
    for i in 1..out.len() {
        let next = out[i].start_s;
        if out[i - 1].end_s > next {
            out[i - 1].end_s = next;
        }
    }
    out.retain(|c| c.end_s - c.start_s >= MIN_CUE_S / 2.0);
    out
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `H:MM:SS` parts of `s` seconds with `sep` and milliseconds.
fn clock(s: f64, sep: char) -> String {
    let ms = (s.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{sep}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// SubRip text of `cues`.
pub fn srt(cues: &[Cue]) -> String {
    let mut s = String::new();
    for (i, c) in cues.iter().enumerate() {
        let _ = write!(
            s,
            "{}\n{} --> {}\n{}\n\n",
            i + 1,
            clock(c.start_s, ','),
            clock(c.end_s, ','),
            c.text()
        );
    }
    s
}

/// WebVTT text of `cues` (`<`, `>` and `&` escaped).
pub fn vtt(cues: &[Cue]) -> String {
    let mut s = String::from("WEBVTT\n\n");
    for c in cues {
        let text = c
            .text()
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let _ = write!(
            s,
            "{} --> {}\n{text}\n\n",
            clock(c.start_s, '.'),
            clock(c.end_s, '.')
        );
    }
    s
}

/// An ASS script of `cues` for a `layout`-sized frame: white text with a dark outline and
/// shadow, centred at the bottom above `bottom_px`, lines as given (no wrapping by libass).
pub fn ass(cues: &[Cue], layout: &Layout, style: &SubtitleStyle) -> String {
    let centis = |s: f64| {
        let cs = (s.max(0.0) * 100.0).round() as u64;
        format!(
            "{}:{:02}:{:02}.{:02}",
            cs / 360_000,
            cs / 6000 % 60,
            cs / 100 % 60,
            cs % 100
        )
    };
    let mut s = format!(
        "[Script Info]\nScriptType: v4.00+\nPlayResX: {w}\nPlayResY: {h}\nWrapStyle: 2\n\
         ScaledBorderAndShadow: yes\n\n[V4+ Styles]\n\
         Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, \
         BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, \
         BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n\
         Style: Default,{font},{size:.0},&H00FFFFFF,&H000000FF,&H00101010,&H80000000,-1,0,0,0,\
         100,100,0,0,1,{outline:.1},{shadow:.1},2,{side},{side},{bottom},1\n\n[Events]\n\
         Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n",
        w = layout.width,
        h = layout.height,
        font = style.font.replace(',', " "),
        size = layout.font_px,
        outline = layout.outline_px,
        shadow = layout.shadow_px,
        side = layout.side_px,
        bottom = layout.bottom_px,
    );
    for c in cues {
        let text: Vec<String> = c.lines.iter().map(|l| ass_escape(l)).collect();
        let _ = writeln!(
            s,
            "Dialogue: 0,{},{},Default,,0,0,0,,{}",
            centis(c.start_s),
            centis(c.end_s),
            text.join("\\N")
        );
    }
    s
}

/// Text as ASS shows it literally: override braces and backslashes become their
/// full-width forms (ASS has no escape for them).
fn ass_escape(s: &str) -> String {
    s.replace('\\', "＼")
        .replace('{', "｛")
        .replace('}', "｝")
        .replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(a: f64, b: f64, text: &str) -> Segment {
        Segment::said(a, b, text)
    }

    #[test]
    fn mixed_cjk_latin_and_digits_break_between_words_only() {
        let text = "到手价99元 iPhone 15 同款";
        for width in 8..=40 {
            let lines = wrap(text, width);
            let joined: String = lines.concat();
            assert_eq!(
                joined.replace(' ', ""),
                text.replace(' ', ""),
                "{width}: {lines:?}"
            );
            for l in &lines {
                assert!(columns(l) <= width, "{width}: {lines:?}");
            }
            // "iPhone" and "99" stay whole on one line.
            assert!(
                lines.iter().any(|l| l.contains("iPhone")),
                "{width}: {lines:?}"
            );
            assert!(lines.iter().any(|l| l.contains("99")), "{width}: {lines:?}");
        }
        // 16 columns: two lines.
        assert_eq!(wrap(text, 16).len(), 2, "{:?}", wrap(text, 16));
        // Plain Chinese breaks between any two characters, balanced.
        let lines = wrap("今天直播间所有商品全部八折包邮到家", 20);
        assert_eq!(lines.len(), 2);
        assert!(
            columns(&lines[0]).abs_diff(columns(&lines[1])) <= 2,
            "{lines:?}"
        );
    }

    #[test]
    fn cues_are_in_clip_time_cut_to_the_clip_and_at_most_two_lines() {
        let layout = Layout::new(1080, 1920, &SubtitleStyle::default());
        assert_eq!(layout.max_columns, 32, "{layout:?}");
        let segs = [
            seg(95.0, 102.0, "大家好欢迎来到直播间"),
            seg(102.5, 110.0, &"今天的福利特别多".repeat(6)),
            seg(140.0, 150.0, "after the clip"),
        ];
        let c = cues(&segs, Span::new(100.0, 130.0), &layout);
        assert_eq!(c[0].start_s, 0.0);
        assert_eq!(c[0].end_s, 2.0);
        assert!(c.len() >= 3, "{c:?}");
        for w in c.windows(2) {
            assert!(w[0].end_s <= w[1].start_s);
        }
        for x in &c {
            assert!(x.lines.len() <= 2 && x.end_s <= 30.0, "{x:?}");
        }
        // The long sentence's cues share its 7.5 s.
        let long: f64 = c[1..].iter().map(|x| x.end_s - x.start_s).sum();
        assert!((long - 7.5).abs() < 0.01, "{c:?}");
        assert!(layout.block_px() < 1920.0 / 3.0);
    }

    #[test]
    fn characters_the_font_lacks_are_named() {
        let Some(font) = crate::render::TITLE_FONTS
            .iter()
            .find_map(|p| std::fs::read(p).ok())
        else {
            eprintln!("no Noto CJK font installed: skipped (set-up installs fonts-noto-cjk)");
            return;
        };
        let cue = |text: &str| Cue {
            start_s: 0.0,
            end_s: 1.0,
            lines: vec![text.into()],
        };
        let cues = [cue("到手价99元 iPhone 15 同款"), cue("好物𓀀推荐𓀀")];
        let missing = missing_glyphs(&font, "Noto Sans CJK SC", &cues).unwrap();
        assert_eq!(missing, vec!['𓀀'], "{missing:?}");
        assert!(missing_glyphs(&font, "No Such Family", &cues).is_none());
    }

    #[test]
    fn srt_vtt_and_ass_are_well_formed() {
        let c = vec![
            Cue {
                start_s: 0.0,
                end_s: 1.5,
                lines: vec!["第一行".into(), "second <line>".into()],
            },
            Cue {
                start_s: 61.25,
                end_s: 3725.007,
                lines: vec!["{\\b1}x".into()],
            },
        ];
        let s = srt(&c);
        assert!(s.starts_with("1\n00:00:00,000 --> 00:00:01,500\n第一行\nsecond <line>\n\n2\n"));
        assert!(s.contains("00:01:01,250 --> 01:02:05,007"));
        let v = vtt(&c);
        assert!(v.starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n"));
        assert!(v.contains("second &lt;line&gt;"));
        let layout = Layout::new(1080, 1920, &SubtitleStyle::default());
        let a = ass(&c, &layout, &SubtitleStyle::default());
        assert!(a.contains("PlayResX: 1080\nPlayResY: 1920"));
        assert!(
            a.contains("Dialogue: 0,0:00:00.00,0:00:01.50,Default,,0,0,0,,第一行\\Nsecond <line>")
        );
        assert!(a.contains("1:02:05.01,Default,,0,0,0,,｛＼b1｝x"));
    }
}
