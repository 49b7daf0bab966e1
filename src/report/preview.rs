//! The editor's preview page, `DIR/<stem>/preview.html`: one self-contained file that opens
//! from disk (no server, no network). It shows the excitement curve with each signal's
//! contribution stacked, the aligned tracks (comments with bot floods shaded, orders/GMV,
//! loudness, speech, audio events, motion), the highlights and anomalies on that timeline,
//! and per highlight its cover, type, tags, score, reasons, top comments, a player for each
//! rendered clip and a button that plays the source recording from the highlight's span.
//!
//! Charts are drawn by uPlot (vendored in `assets/uplot/`, inlined). All user text (file
//! names, comments, tags, titles) goes through the template engine's HTML auto-escaping;
//! the chart data goes to the script as a `<script type="application/json">` block whose
//! `<`, `>`, `&`, U+2028 and U+2029 are `\u`-escaped, never pasted into code. A
//! Content-Security-Policy allows only the page's own two scripts (by hash), no network,
//! and media and images from files.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use minijinja::{context, Environment, Value};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::anomalies::{self, Anomaly};
use super::{CurveFile, HighlightsFile, Manifest, ReportError, SignalsFile};
use crate::signals::Track;

/// uPlot, vendored from npm (see `assets/uplot/README.md`).
pub const UPLOT_VERSION: &str = "1.6.32";
const UPLOT_JS: &str = include_str!("../../assets/uplot/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../../assets/uplot/uPlot.min.css");
const PAGE_JS: &str = include_str!("preview.js");
const PAGE_CSS: &str = include_str!("preview.css");
const TEMPLATE: &str = include_str!("preview.html.j2");

/// Most points per series on the page; longer recordings are averaged into wider bins.
const MAX_POINTS: usize = 20_000;

/// What the preview page is made from.
#[derive(Debug, Clone, Copy)]
pub struct Preview<'a> {
    /// The recording's output folder (`DIR/<stem>/`); links are relative to it.
    pub dir: &'a Path,
    pub highlights: &'a HighlightsFile,
    /// The rendered clips (`None` before `cut`).
    pub manifest: Option<&'a Manifest>,
    /// The signal tracks (`None`: the page goes without the aligned tracks).
    pub signals: Option<&'a SignalsFile>,
    /// The fused curve (`None`: the page goes without the stacked curve).
    pub curve: Option<&'a CurveFile>,
    /// What was said (`None`: speech was not transcribed).
    pub transcript: Option<&'a crate::speech::Transcript>,
    /// The product timeline (`None`: no catalogue and no SKUs in the orders).
    pub products: Option<&'a crate::products::ProductsFile>,
}

/// A track on a chart: track name, legend label, on the right-hand axis.
type TrackSpec = (&'static str, &'static str, bool);

/// The aligned track charts: id, title, unit, tracks.
const CHARTS: &[(&str, &str, &str, &[TrackSpec])] = &[
    (
        "comments",
        "Comments",
        "per second",
        &[
            ("comments", "comments/s", false),
            ("comment_users", "accounts/s", false),
        ],
    ),
    (
        "orders",
        "Orders and GMV",
        "orders/s · CNY/s",
        &[("orders", "orders/s", false), ("gmv", "GMV CNY/s", true)],
    ),
    (
        "loudness",
        "Loudness",
        "LUFS",
        &[
            ("loudness_momentary", "momentary", false),
            ("loudness_short_term", "short-term", false),
        ],
    ),
    (
        "speech",
        "Speech",
        "probability",
        &[("speech", "speech (VAD)", false)],
    ),
    (
        "audio",
        "Audio events",
        "probability",
        &[
            ("audio_excitement", "excitement", false),
            ("audio_laughter", "laughter", false),
            ("audio_cheering", "cheering", false),
            ("audio_applause", "applause", false),
            ("audio_shout", "shout", false),
            ("audio_music", "music", false),
        ],
    ),
    (
        "motion",
        "Motion",
        "fraction",
        &[("motion", "picture", false), ("host_motion", "host", false)],
    ),
];

#[derive(Debug, Serialize)]
struct PageData {
    duration_s: f64,
    /// Bin width of every series, seconds.
    step_s: f64,
    /// Bin start times, seconds.
    t: Vec<f64>,
    curve: Option<CurveData>,
    charts: Vec<Chart>,
    highlights: Vec<SpanMark>,
    anomalies: Vec<Anomaly>,
}

#[derive(Debug, Serialize)]
struct CurveData {
    score: Vec<Option<f32>>,
    /// Each signal's contribution, in the order they are stacked (bottom first).
    parts: Vec<Series>,
}

#[derive(Debug, Serialize)]
struct Chart {
    id: &'static str,
    title: &'static str,
    unit: &'static str,
    series: Vec<Series>,
    /// Spans shaded on this chart only (bot floods on the comments chart).
    shade: Vec<SpanMark>,
}

#[derive(Debug, Serialize)]
struct Series {
    label: String,
    values: Vec<Option<f32>>,
    right: bool,
}

#[derive(Debug, Serialize)]
struct SpanMark {
    start_s: f64,
    end_s: f64,
    label: String,
}

/// Render the preview page.
pub fn render_preview(p: &Preview<'_>) -> Result<String, ReportError> {
    let h = p.highlights;
    let anomalies = anomalies::detect(h, p.signals);
    let data = page_data(p, &anomalies);
    let json = script_json(&data);

    let name = h
        .source
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let source_href = href(p.dir, &h.source.path);
    let transcript_lang = p
        .transcript
        .map(|t| t.language.clone())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "zh".into());
    let items: Vec<_> = h
        .highlights
        .iter()
        .map(|hl| {
            let clips: Vec<_> = p
                .manifest
                .map(|m| m.clips.iter().filter(|c| c.rank == hl.rank).collect())
                .unwrap_or_default();
            let cover = clips.iter().find_map(|c| c.cover.as_deref());
            let title = clips
                .first()
                .map(|c| c.title.clone())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| crate::classify::suggested_title(hl));
            // The longest platform's candidates (every shorter list is a subset of them).
            let titles = clips
                .iter()
                .map(|c| &c.titles)
                .max_by_key(|t| t.len())
                .cloned()
                .unwrap_or_default();
            let warnings: Vec<_> = clips
                .first()
                .map(|c| c.warnings.as_slice())
                .unwrap_or_default()
                .iter()
                .map(|w| {
                    context! {
                        kind => w.kind.clone(),
                        word => w.word.clone(),
                        text => w.text.clone(),
                        place => Value::from(minijinja::value::Serde(w.place)),
                        at => w.at_s.map(hms),
                        left_out => w.left_out,
                    }
                })
                .collect();
            let max_reason = hl
                .reasons
                .iter()
                .map(|r| r.contribution)
                .fold(f64::EPSILON, f64::max);
            context! {
                rank => hl.rank,
                start_s => format!("{:.3}", hl.start_s),
                end_s => format!("{:.3}", hl.end_s),
                start => hms(hl.start_s),
                end => hms(hl.end_s),
                peak => hms(hl.peak_s),
                length => format!("{:.1}", hl.end_s - hl.start_s),
                score => format!("{:.2}", hl.score),
                score_pct => format!("{:.1}", 100.0 * hl.score.clamp(0.0, 1.0)),
                kind => Value::from(minijinja::value::Serde(hl.kind)),
                tags => hl.tags.clone(),
                evidence => hl.type_evidence.clone(),
                title,
                titles,
                warnings,
                reasons => hl.reasons.iter().map(|r| context! {
                    signal => r.signal.clone(),
                    contribution => format!("{:.3}", r.contribution),
                    pct => format!("{:.1}", 100.0 * (r.contribution / max_reason).clamp(0.0, 1.0)),
                }).collect::<Vec<_>>(),
                top_comments => Value::from(minijinja::value::Serde(&hl.top_comments)),
                transcript => hl.transcript.clone().filter(|t| !t.is_empty()),
                cover => cover.map(|c| href(p.dir, c)),
                clips => clips.iter().map(|c| context! {
                    platform => c.platform.clone(),
                    href => href(p.dir, &c.path),
                    path => c.path.display().to_string(),
                    size => format!("{}×{}", c.width, c.height),
                    span => format!("{}–{}", hms(c.span.start_s), hms(c.span.end_s)),
                    duration => format!("{:.1}", c.duration_s),
                    framing => c.framing.clone(),
                    srt => c.subtitles.as_ref().map(|s| href(p.dir, &s.srt)),
                    vtt => c.subtitles.as_ref().map(|s| href(p.dir, &s.vtt)),
                    burned => c.subtitles.as_ref().is_some_and(|s| s.burned),
                    lang => transcript_lang.clone(),
                }).collect::<Vec<_>>(),
            }
        })
        .collect();
    let anomaly_rows: Vec<_> = anomalies
        .iter()
        .map(|a| {
            context! {
                kind => a.kind.clone(),
                start_s => format!("{:.3}", a.start_s),
                start => hms(a.start_s),
                end => hms(a.end_s),
                what => a.what.clone(),
            }
        })
        .collect();
    let lags: Vec<String> = h
        .lags
        .iter()
        .map(|l| {
            format!(
                "{} shifted back {:.0} s ({})",
                l.signal,
                l.lag_s,
                if l.estimated { "measured" } else { "prior" }
            )
        })
        .collect();
    let transcript_rows: Vec<_> = p
        .transcript
        .map(|t| {
            t.segments
                .iter()
                .map(|s| {
                    let inside = h
                        .highlights
                        .iter()
                        .find(|hl| hl.start_s <= s.start_s && s.start_s < hl.end_s)
                        .map(|hl| hl.rank);
                    context! {
                        start_s => format!("{:.3}", s.start_s),
                        start => hms(s.start_s),
                        end => hms(s.end_s),
                        text => s.text.clone(),
                        lang => s.lang.clone(),
                        confidence => format!("{:.2}", s.confidence),
                        rank => inside,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let transcript_summary = p.transcript.map(|t| {
        let heard: f64 = t.heard().iter().map(|s| s.duration()).sum();
        format!(
            "{} · language {} · {} sentences · {:.0} s of {:.0} s listened to",
            t.model.split("==").next().unwrap_or_default(),
            if t.language.is_empty() {
                "–"
            } else {
                &t.language
            },
            t.segments.len(),
            heard,
            h.source.duration_s
        )
    });
    let products = p.products.map(|f| products_section(p, f));
    let uplot_css = Value::from_safe_string(UPLOT_CSS.to_string());
    let page_css = Value::from_safe_string(PAGE_CSS.to_string());
    let csp = format!(
        "default-src 'none'; script-src '{}' '{}'; style-src 'unsafe-inline'; \
         img-src 'self' file: data:; media-src 'self' file: blob:; connect-src 'none'; \
         object-src 'none'; base-uri 'none'; form-action 'none'",
        csp_hash(UPLOT_JS),
        csp_hash(PAGE_JS)
    );
    let mut env = Environment::new();
    env.add_template("preview.html", TEMPLATE)?;
    let html = env.get_template("preview.html")?.render(context! {
        name,
        csp,
        uplot_version => UPLOT_VERSION,
        uplot_css,
        page_css,
        uplot_js => Value::from_safe_string(UPLOT_JS.to_string()),
        page_js => Value::from_safe_string(PAGE_JS.to_string()),
        data_json => Value::from_safe_string(json),
        duration => hms(h.source.duration_s),
        analysed_until => hms(h.analysed_until_s),
        truncated => h.analysed_until_s + 1.0 < h.source.duration_s,
        generator => h.generator.clone(),
        models => h.models.enabled,
        source_href,
        source_path => h.source.path.display().to_string(),
        warnings => h.warnings.clone(),
        timelines => h.timelines.iter().map(|t| t.summary()).collect::<Vec<_>>(),
        lags,
        has_curve => p.curve.is_some(),
        has_signals => p.signals.is_some(),
        has_clips => p.manifest.is_some(),
        highlights => items,
        anomalies => anomaly_rows,
        transcript_rows,
        transcript_summary,
        products,
    })?;
    Ok(html)
}

/// The products section: the lane (which product is on air when, each stretch placed by
/// its share of the recording), each product's figures and clips, and the products that
/// got no clip.
fn products_section(p: &Preview<'_>, f: &crate::products::ProductsFile) -> Value {
    let total = p.highlights.source.duration_s.max(
        f.stretches
            .last()
            .map_or(0.0, |s| s.end_s)
            .max(f64::EPSILON),
    );
    let pct = |t: f64| format!("{:.3}", 100.0 * (t / total).clamp(0.0, 1.0));
    // One colour per product, in catalogue order (the lane and the table agree).
    let colour = |sku: &str| {
        let k = f.products.iter().position(|x| x.sku == sku).unwrap_or(0);
        format!("hsl({}, 55%, 62%)", (k * 67) % 360)
    };
    let lane: Vec<Value> = f
        .stretches
        .iter()
        .map(|s| {
            let label = s
                .name
                .clone()
                .or_else(|| s.sku.clone())
                .unwrap_or_else(|| "no product".into());
            context! {
                sku => s.sku.clone(),
                label,
                left => pct(s.start_s),
                width => pct(s.end_s - s.start_s + s.start_s.min(0.0)),
                colour => s.sku.as_deref().map(colour),
                start_s => format!("{:.3}", s.start_s),
                start => hms(s.start_s),
                end => hms(s.end_s),
                confidence => format!("{:.2}", s.confidence),
                evidence => s.evidence.join("; "),
            }
        })
        .collect();
    let product_clips: Vec<&crate::report::ManifestClip> = p
        .manifest
        .map(|m| {
            m.clips
                .iter()
                .filter(|c| c.clip_kind == crate::report::ClipKind::Product)
                .collect()
        })
        .unwrap_or_default();
    let money = |v: Option<f64>| v.map(|x| format!("{x:.2}"));
    let rows: Vec<Value> = f
        .products
        .iter()
        .map(|x| {
            let first = f
                .stretches
                .iter()
                .find(|s| s.sku.as_deref() == Some(x.sku.as_str()));
            let clips: Vec<Value> = product_clips
                .iter()
                .filter(|c| c.product.as_ref().is_some_and(|r| r.sku == x.sku))
                .map(|c| {
                    context! {
                        platform => c.platform.clone(),
                        part => c.product.as_ref().map(|r| r.part.as_str()),
                        href => href(p.dir, &c.path),
                        span => format!("{}–{}", hms(c.span.start_s), hms(c.span.end_s)),
                        duration => format!("{:.1}", c.duration_s),
                        title => c.title.clone(),
                        why => c.product.as_ref().map(|r| r.why.clone()),
                    }
                })
                .collect();
            context! {
                sku => x.sku.clone(),
                name => x.name.clone(),
                colour => colour(&x.sku),
                price => x.price.map(|v| format!("{v}")),
                air => format!("{:.0}", x.air_time_s),
                stretches => x.stretches,
                items_during => format!("{}", x.items_during),
                items_after => format!("{}", x.items_after),
                gmv_during => money(x.gmv_during),
                gmv_after => money(x.gmv_after),
                comments => format!("{:.1}", x.comments_per_min),
                questions => format!("{:.1}", x.questions_per_min),
                first_s => first.map(|s| format!("{:.3}", s.start_s)),
                clips,
            }
        })
        .collect();
    let not_clipped: Vec<Value> = p
        .manifest
        .map(|m| {
            m.products_not_clipped
                .iter()
                .map(|n| context! { sku => n.sku.clone(), name => n.name.clone(), reason => n.reason.clone() })
                .collect()
        })
        .unwrap_or_default();
    context! {
        source => f.source.clone(),
        lane,
        rows,
        not_clipped,
        unknown => f.unknown_skus.clone(),
        unsold => f.unsold_skus.clone(),
        has_clips => !product_clips.is_empty(),
    }
}

/// Render the page and write it to `DIR/<stem>/preview.html` (atomically).
pub fn write_preview(p: &Preview<'_>) -> Result<PathBuf, ReportError> {
    let html = render_preview(p)?;
    let path = p.dir.join(super::PREVIEW_FILE);
    crate::fsutil::write_atomic(&path, html.as_bytes()).map_err(|source| ReportError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

fn page_data(p: &Preview<'_>, anomalies: &[Anomaly]) -> PageData {
    let h = p.highlights;
    let n1 = h.analysed_until_s.max(h.source.duration_s).ceil().max(1.0) as usize;
    let step = n1.div_ceil(MAX_POINTS).max(1);
    let bins = n1.div_ceil(step);
    let t: Vec<f64> = (0..bins).map(|i| (i * step) as f64).collect();

    let curve = p.curve.map(|c| {
        let per_bin = |v: &[f64]| -> Vec<Option<f32>> {
            (0..bins)
                .map(|i| {
                    let lo = i * step;
                    let hi = ((i + 1) * step).min(v.len());
                    (lo < hi).then(|| round3(v[lo..hi].iter().sum::<f64>() / (hi - lo) as f64))
                })
                .collect()
        };
        CurveData {
            score: per_bin(&c.curve.score),
            parts: c
                .curve
                .contributions
                .iter()
                .map(|(name, v)| Series {
                    label: name.clone(),
                    values: per_bin(v),
                    right: false,
                })
                .collect(),
        }
    });

    let mut charts = Vec::new();
    if let Some(s) = p.signals {
        let find = |name: &str| -> Option<&Track> {
            s.timelines
                .get(name)
                .or_else(|| s.media.get(name))
                .filter(|t| !t.is_empty())
        };
        for &(id, title, unit, tracks) in CHARTS {
            let series: Vec<Series> = tracks
                .iter()
                .filter_map(|&(name, label, right)| {
                    let track = find(name)?;
                    let values = track
                        .resample_mean(step as f64, bins, f32::NAN)
                        .into_iter()
                        .map(|v| v.is_finite().then(|| round3(f64::from(v))))
                        .collect();
                    Some(Series {
                        label: label.into(),
                        values,
                        right,
                    })
                })
                .collect();
            if series.is_empty() {
                continue;
            }
            let shade = if id == "comments" {
                anomalies
                    .iter()
                    .filter(|a| a.kind == "bot_flood")
                    .map(|a| SpanMark {
                        start_s: a.start_s,
                        end_s: a.end_s,
                        label: "bot flood".into(),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            charts.push(Chart {
                id,
                title,
                unit,
                series,
                shade,
            });
        }
    }
    PageData {
        duration_s: h.source.duration_s,
        step_s: step as f64,
        t,
        curve,
        charts,
        highlights: h
            .highlights
            .iter()
            .map(|hl| SpanMark {
                start_s: hl.start_s,
                end_s: hl.end_s,
                label: format!("#{}", hl.rank),
            })
            .collect(),
        anomalies: anomalies.to_vec(),
    }
}

fn round3(x: f64) -> f32 {
    ((x * 1000.0).round() / 1000.0) as f32
}

/// `value` as JSON that is safe inside a `<script>` element: `<`, `>` and `&` (no `</script>`
/// or `<!--` can appear) and U+2028/U+2029 are written as `\u` escapes, which JSON.parse
/// reads back as the same characters.
pub fn script_json<T: Serialize>(value: &T) -> String {
    let json = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// `'sha256-…'` source expression of an inline script, for the Content-Security-Policy.
fn csp_hash(script: &str) -> String {
    let digest = Sha256::digest(script.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// `H:MM:SS` (or `M:SS` under an hour).
pub fn hms(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// A relative URL from the folder `from` to `target` (relative targets are taken as
/// relative to `from`), every path segment percent-encoded (so a name with `#`, `?`, `:`,
/// spaces or CJK characters is one path segment, never a scheme, query or fragment).
pub fn href(from: &Path, target: &Path) -> String {
    use std::path::Component;
    let segments: Vec<Vec<u8>> = if target.is_absolute() {
        let from_abs = std::fs::canonicalize(from).unwrap_or_else(|_| absolute(from));
        let target_abs = std::fs::canonicalize(target).unwrap_or_else(|_| absolute(target));
        let f: Vec<Component> = from_abs.components().collect();
        let t: Vec<Component> = target_abs.components().collect();
        let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
        std::iter::repeat_n(b"..".to_vec(), f.len() - common)
            .chain(t[common..].iter().map(|c| os_bytes(c.as_os_str())))
            .collect()
    } else {
        target
            .components()
            .filter(|c| !matches!(c, Component::CurDir))
            .map(|c| os_bytes(c.as_os_str()))
            .collect()
    };
    let encoded: Vec<String> = segments.iter().map(|s| percent_encode(s)).collect();
    let joined = encoded.join("/");
    if joined.starts_with("..") {
        joined
    } else {
        format!("./{joined}")
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

#[cfg(unix)]
fn os_bytes(s: &std::ffi::OsStr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    s.as_bytes().to_vec()
}

#[cfg(not(unix))]
fn os_bytes(s: &std::ffi::OsStr) -> Vec<u8> {
    s.to_string_lossy().as_bytes().to_vec()
}

fn percent_encode(segment: &[u8]) -> String {
    if segment == b".." {
        return "..".into();
    }
    let mut out = String::with_capacity(segment.len());
    for &b in segment {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_the_script_element() {
        let v = serde_json::json!({"text": "</script><script>alert(1)</script> & <!-- \u{2028}\u{2029}"});
        let s = script_json(&v);
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        assert!(!s.contains('\u{2028}') && !s.contains('\u{2029}'));
        let back: serde_json::Value = serde_json::from_str(&s).unwrap_or_default();
        assert_eq!(back, v);
    }

    #[test]
    fn hrefs_are_relative_and_encoded() {
        let dir = Path::new("/out/rec");
        assert_eq!(
            href(dir, Path::new("clips/1_source.mp4")),
            "./clips/1_source.mp4"
        );
        assert_eq!(
            href(dir, Path::new("/media/直播 #1?.mp4")),
            "../../media/%E7%9B%B4%E6%92%AD%20%231%3F.mp4"
        );
        // A name that looks like a scheme stays a path.
        assert_eq!(
            href(dir, Path::new("javascript:alert(1).mp4")),
            "./javascript%3Aalert%281%29.mp4"
        );
        assert_eq!(
            href(dir, Path::new("/out/rec/clips/a.jpg")),
            "./clips/a.jpg"
        );
    }

    #[test]
    fn hms_formats() {
        assert_eq!(hms(59.6), "1:00");
        assert_eq!(hms(3725.0), "1:02:05");
    }

    #[test]
    fn vendored_uplot_is_safe_to_inline() {
        assert!(!UPLOT_JS.contains("</script") && !UPLOT_JS.contains("<!--"));
        assert!(!PAGE_JS.contains("</script") && !PAGE_JS.contains("<!--"));
        assert!(UPLOT_JS.contains("uPlot"));
    }
}
