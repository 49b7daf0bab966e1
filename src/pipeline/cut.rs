//! The cut stage: clips of the best highlights of an earlier analysis for each platform,
//! editor timelines, `manifest.json`, and the preview again with the clips.

use std::path::{Path, PathBuf};

use super::{PipelineError, Progress, ProgressSink};
use crate::media::{self, MediaInfo};
use crate::report::{self, Manifest, ManifestClip};

/// What `cut` renders: the best `top` highlights, for each of `platforms`.
#[derive(Debug, Clone)]
pub struct CutSettings {
    pub top: Option<usize>,
    pub platforms: Vec<crate::render::presets::Preset>,
    pub render: crate::render::RenderOptions,
    /// The ad-law lexicon (`--claims-lexicon`; built in by default).
    pub claims: crate::claims::ClaimsLexicon,
    /// Move a clip's boundary to leave out a flagged sentence at its edge, as long as it
    /// keeps its peak and `min_clip_s` (`--avoid-claims`).
    pub avoid_claims: bool,
    /// Shortest clip `--avoid-claims` may leave (the profile's shortest highlight; the
    /// platforms' own minimum when longer).
    pub min_clip_s: f64,
    /// Render exactly what the editors approved in `review.json` (trimmed spans, chosen
    /// titles) and the moments they added, instead of the best `top` highlights.
    pub approved: bool,
    /// Also render one clip per product of `products.json` (its best explanation, and its
    /// closing moment when apart), `--product-clips`.
    pub product_clips: bool,
}

impl Default for CutSettings {
    fn default() -> Self {
        Self {
            top: None,
            platforms: crate::render::presets::Presets::builtin()
                .get("source")
                .cloned()
                .into_iter()
                .collect(),
            render: Default::default(),
            claims: Default::default(),
            avoid_claims: false,
            min_clip_s: crate::select::SelectSettings::default().min_len_s,
            approved: false,
            product_clips: false,
        }
    }
}

/// Cut clips for the best highlights of an earlier analysis, for every platform asked
/// for; writes `manifest.json` and `preview.html` beside `highlights.json`.
pub fn cut(
    highlights_path: &Path,
    settings: &CutSettings,
    progress: ProgressSink<'_>,
) -> Result<Manifest, PipelineError> {
    let file = report::read_highlights(highlights_path)?;
    let dir = highlights_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let info = media::probe(&file.source.path)?;
    // Times in highlights.json are relative to the first presentation time recorded then.
    let info = MediaInfo {
        start_time_s: file.source.start_time_s,
        creation_time: file.source.creation_time,
        start_source: file.source.start_source.clone(),
        // The audio track the analysis used (`--audio-track`), by its stream index.
        audio: file.source.audio.clone().or(info.audio),
        audio_tracks: file.source.audio_tracks,
        parts: file.source.parts.clone(),
        timestamp_breaks: file.source.timestamp_breaks.clone(),
        repaired_from: file.source.repaired_from.clone(),
        ..info
    };
    // The host's face track (for 9:16 reframing), from the analysis' signal tracks.
    let signals_file = report::read_signals(&dir.join(report::SIGNALS_FILE));
    let faces = signals_file
        .as_ref()
        .map(|s| crate::render::reframe::observations_from_tracks(&s.media.tracks))
        .unwrap_or_default();
    // What was on screen (OCR), for titles and ad-law warnings.
    let screen = signals_file
        .as_ref()
        .map(|s| s.media.screen_text.as_slice())
        .unwrap_or_default();
    let platforms: Vec<&crate::render::presets::Preset> = settings.platforms.iter().collect();
    let needs_encoder = platforms
        .iter()
        .any(|p| p.mode == crate::render::presets::Mode::Encode);
    let engine = if needs_encoder {
        let (engine, why) = crate::render::choose_engine(settings.render.device)?;
        tracing::info!("encoder: {why}");
        engine
    } else {
        crate::render::encode::Engine::Cpu
    };
    // The transcript (as the editors left it) gives the subtitles.
    let transcript = crate::speech::read_transcript(&dir.join(crate::speech::TRANSCRIPT_FILE))?;
    let segments = transcript
        .as_ref()
        .map(|t| t.segments.as_slice())
        .unwrap_or_default();
    let clips_dir = dir.join("clips");
    crate::fsutil::remove_stale_parts(&clips_dir);
    // The editors' decisions: what `--approved` renders, and each clip's `approved` mark.
    let review = match crate::review::load(&dir) {
        Ok(r) => r,
        Err(e) if settings.approved => return Err(e.into()),
        Err(e) => {
            tracing::warn!("{e}; clips are marked not approved");
            crate::review::ReviewFile::default()
        }
    };
    let (to_cut, chosen_titles) = if settings.approved {
        crate::review::approved_highlights(&file.highlights, &review)
    } else {
        let n = settings
            .top
            .unwrap_or(usize::MAX)
            .min(file.highlights.len());
        (file.highlights[..n].to_vec(), Vec::new())
    };
    if settings.approved && to_cut.is_empty() {
        tracing::warn!(
            "{}: no highlight is approved and none was added: no clips",
            dir.join(crate::review::REVIEW_FILE).display()
        );
    }
    let mut clips = Vec::new();
    let claims = &settings.claims;
    let min_clip_s = platforms
        .iter()
        .map(|p| p.min_duration_s)
        .fold(settings.min_clip_s, f64::max);
    for h in &to_cut {
        progress(Progress::Stage("cut"));
        let ingredients = crate::titles::ingredients(h, segments, screen, claims);
        let mut candidates = crate::titles::candidates(h, &ingredients, claims);
        // The editor's title comes first (their choice, even past the claims filter: the
        // warnings below still name it).
        let chosen = chosen_titles
            .iter()
            .find(|(rank, _)| *rank == h.rank)
            .map(|(_, t)| t.clone());
        if let Some(t) = &chosen {
            candidates.retain(|c| c != t);
            candidates.insert(0, t.clone());
        }
        // Ad-law: flagged sentences at the clip's edges left out when asked and possible.
        let mut span = h.span();
        let mut left_out = Vec::new();
        if settings.avoid_claims {
            let flagged: Vec<&crate::speech::Segment> = segments
                .iter()
                .filter(|s| s.end_s > span.start_s && s.start_s < span.end_s)
                .filter(|s| claims.flags(&s.text))
                .collect();
            let (moved, out) =
                crate::claims::avoid(span, h.peak_s, min_clip_s.min(span.duration()), &flagged);
            if moved != span {
                tracing::info!(
                    "clip #{}: {:.2}–{:.2} s → {:.2}–{:.2} s to leave out {} flagged sentence(s)",
                    h.rank,
                    span.start_s,
                    span.end_s,
                    moved.start_s,
                    moved.end_s,
                    out.len()
                );
            }
            left_out = out.iter().map(|&i| flagged[i].clone()).collect();
            span = moved;
        }
        let mut warnings = claims.warnings(span, segments, screen, chosen.as_deref());
        for s in &left_out {
            for w in claims.warnings(
                crate::time::Span::new(s.start_s, s.end_s),
                std::slice::from_ref(s),
                &[],
                None,
            ) {
                warnings.push(crate::claims::Warning {
                    left_out: true,
                    ..w
                });
            }
        }
        warnings.sort_by(|a, b| {
            a.at_s
                .unwrap_or(f64::INFINITY)
                .total_cmp(&b.at_s.unwrap_or(f64::INFINITY))
        });
        for w in warnings.iter().filter(|w| !w.left_out) {
            tracing::warn!(
                "clip #{}: {} claim {:?} in {:?} ({}{})",
                h.rank,
                w.kind,
                w.word,
                w.text,
                match w.place {
                    crate::claims::Place::Speech => "said",
                    crate::claims::Place::Screen => "on screen",
                    crate::claims::Place::Title => "title",
                },
                w.at_s.map(|t| format!(" at {t:.1} s")).unwrap_or_default()
            );
        }
        let stem = h.rank.to_string();
        let req = crate::render::ClipRequest {
            stem: &stem,
            span,
            peak_s: h.peak_s,
            titles: &candidates,
            faces: &faces,
            segments,
        };
        let rendered = crate::render::render_highlight(
            &info,
            &req,
            &platforms,
            &settings.render,
            engine,
            &clips_dir,
        )?;
        for clip in &rendered {
            tracing::info!(
                "clip #{} {}: {:.2}–{:.2} s → {}",
                h.rank,
                clip.platform,
                clip.span.start_s,
                clip.span.end_s,
                clip.path.display()
            );
            let preset = platforms.iter().find(|p| p.name == clip.platform);
            let titles = crate::titles::fit(
                &candidates,
                preset.map_or(usize::MAX, |p| p.title_max_chars),
            );
            let mut entry = ManifestClip::new(h, clip, &titles, &dir);
            entry.warnings = warnings.clone();
            entry.approved = settings.approved || crate::review::is_approved(&review, h.rank);
            clips.push(entry);
        }
    }
    // The product timeline: the preview's lane, and the product clips.
    let products = match read_products(&dir) {
        Ok(p) => p,
        Err(e) if settings.product_clips => return Err(e),
        Err(e) => {
            tracing::warn!("{e}; the preview goes without the product lane");
            None
        }
    };
    let mut products_not_clipped = Vec::new();
    if settings.product_clips {
        let ctx = ProductCut {
            dir: &dir,
            info: &info,
            platforms: &platforms,
            settings,
            engine,
            clips_dir: &clips_dir,
            segments,
            screen,
            faces: &faces,
            timelines: signals_file.as_ref().map(|s| &s.timelines),
            products: products.as_ref(),
        };
        let (entries, skipped) = product_clips(&ctx, &progress)?;
        clips.extend(entries);
        products_not_clipped = skipped;
    }
    // Editor timelines of the same highlights, referring to the recording itself.
    let source = std::fs::canonicalize(&file.source.path).unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|d| d.join(&file.source.path))
            .unwrap_or_else(|_| file.source.path.clone())
    });
    let cut_file = report::HighlightsFile {
        highlights: to_cut.clone(),
        ..file.clone()
    };
    let edits = report::nle::edits(&cut_file, to_cut.len());
    let timelines = report::nle::build(&source, &info, &edits);
    let paths = report::nle::TimelinePaths::default();
    for (name, text) in [
        (&paths.otio, &timelines.otio),
        (&paths.fcpxml, &timelines.fcpxml),
        (&paths.edl, &timelines.edl),
    ] {
        let path = dir.join(name);
        crate::fsutil::write_atomic(&path, text.as_bytes()).map_err(|source| {
            PipelineError::Report(report::ReportError::Io {
                path: path.clone(),
                source,
            })
        })?;
    }
    let manifest = Manifest {
        schema_version: report::SCHEMA_VERSION,
        generator: report::generator(),
        source: file.source.clone(),
        highlights_file: PathBuf::from(report::HIGHLIGHTS_FILE),
        clips,
        products_not_clipped,
        timelines: Some(paths),
    };
    report::write_json(&dir.join(report::MANIFEST_FILE), &manifest)?;
    let curve = report::read_curve(&dir.join(report::CURVE_FILE));
    report::write_preview(&report::Preview {
        dir: &dir,
        highlights: &file,
        manifest: Some(&manifest),
        signals: signals_file.as_ref(),
        curve: curve.as_ref(),
        transcript: transcript.as_ref(),
        products: products.as_ref(),
    })?;
    Ok(manifest)
}

/// What a product cut needs from [`cut`].
struct ProductCut<'a> {
    dir: &'a Path,
    info: &'a MediaInfo,
    platforms: &'a [&'a crate::render::presets::Preset],
    settings: &'a CutSettings,
    engine: crate::render::encode::Engine,
    clips_dir: &'a Path,
    segments: &'a [crate::speech::Segment],
    screen: &'a [crate::signals::ScreenText],
    faces: &'a [crate::render::reframe::Observation],
    timelines: Option<&'a crate::signals::SignalSet>,
    products: Option<&'a crate::products::ProductsFile>,
}

/// `products.json` of the analysis in `dir`: `None` when there is none (no catalogue and
/// no SKUs in the orders), an error naming the file when it cannot be read.
fn read_products(dir: &Path) -> Result<Option<crate::products::ProductsFile>, PipelineError> {
    let path = dir.join(crate::products::PRODUCTS_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| PipelineError::Input {
                path,
                message: format!("not a product timeline: {e}"),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PipelineError::Report(report::ReportError::Io {
            path,
            source,
        })),
    }
}

/// The product clips (`--product-clips`): per product of `products.json`, its best
/// explanation and its closing moment ([`crate::products::clips`]) for every platform,
/// and the products that get none.
fn product_clips(
    ctx: &ProductCut<'_>,
    progress: &ProgressSink<'_>,
) -> Result<(Vec<ManifestClip>, Vec<crate::products::clips::NotClipped>), PipelineError> {
    use crate::products::clips::{self, Lengths};
    let Some(file) = ctx.products else {
        tracing::warn!(
            "{}: no product timeline (analyse with --products FILE, or with an order export \
             that names SKUs): no product clips",
            ctx.dir.join(crate::products::PRODUCTS_FILE).display()
        );
        return Ok((Vec::new(), Vec::new()));
    };
    let empty = crate::signals::SignalSet::default();
    let curve = report::read_curve(&ctx.dir.join(report::CURVE_FILE));
    let n = ctx.info.duration_s.ceil().max(0.0) as usize;
    let per_second: Vec<f64> = curve
        .as_ref()
        .filter(|c| c.curve.step_s > 0.0)
        .map(|c| {
            (0..n)
                .map(|i| {
                    let k = ((i as f64 + 0.5) / c.curve.step_s) as usize;
                    c.curve.score.get(k).copied().unwrap_or(0.0)
                })
                .collect()
        })
        .unwrap_or_default();
    let inputs = clips::PlanInputs {
        file,
        speech: ctx.segments,
        screen: ctx.screen,
        tracks: ctx.timelines.unwrap_or(&empty),
        curve: &per_second,
        duration_s: ctx.info.duration_s,
    };
    // Platforms with the same lengths share one plan (and one decode per clip).
    let mut groups: Vec<(Lengths, Vec<&crate::render::presets::Preset>)> = Vec::new();
    for p in ctx.platforms {
        let len = Lengths {
            target_s: p.product_clip_s.min(p.max_duration_s),
            min_s: clips::MIN_PRODUCT_CLIP_S.max(p.min_duration_s),
        };
        match groups.iter_mut().find(|(l, _)| *l == len) {
            Some((_, list)) => list.push(p),
            None => groups.push((len, vec![p])),
        }
    }
    let claims = &ctx.settings.claims;
    let mut entries = Vec::new();
    let mut not_clipped = Vec::new();
    for (k, (len, platforms)) in groups.iter().enumerate() {
        let (planned, skipped) = clips::plan(&inputs, *len);
        if k == 0 {
            for s in &skipped {
                tracing::info!("product {} ({}): no clip: {}", s.sku, s.name, s.reason);
            }
            not_clipped = skipped;
        }
        for plan in &planned {
            progress(Progress::Stage("product clips"));
            let candidates: Vec<String> = plan
                .titles()
                .into_iter()
                .filter(|t| !claims.flags(t))
                .collect();
            let stem = plan.stem();
            let req = crate::render::ClipRequest {
                stem: &stem,
                span: plan.span,
                peak_s: plan.peak_s,
                titles: &candidates,
                faces: ctx.faces,
                segments: ctx.segments,
            };
            let rendered = crate::render::render_highlight(
                ctx.info,
                &req,
                platforms,
                &ctx.settings.render,
                ctx.engine,
                ctx.clips_dir,
            )?;
            // The product clip as a highlight of its own (rank 0: not one of
            // highlights.json's).
            let as_highlight = crate::select::Highlight {
                rank: 0,
                start_s: plan.span.start_s,
                end_s: plan.span.end_s,
                peak_s: plan.peak_s,
                score: mean(&per_second, plan.span),
                kind: crate::classify::HighlightType::Product,
                tags: vec![
                    format!("sku:{}", plan.sku),
                    format!("product:{}", plan.part.as_str()),
                ],
                ..Default::default()
            };
            for clip in &rendered {
                tracing::info!(
                    "product clip {} ({}) {}: {:.2}–{:.2} s → {}",
                    plan.sku,
                    plan.part.as_str(),
                    clip.platform,
                    clip.span.start_s,
                    clip.span.end_s,
                    clip.path.display()
                );
                let preset = platforms.iter().find(|p| p.name == clip.platform);
                let mut titles = crate::titles::fit(
                    &candidates,
                    preset.map_or(usize::MAX, |p| p.title_max_chars),
                );
                if titles.is_empty() {
                    titles.push(crate::classify::suggested_title(&as_highlight));
                }
                let mut entry = ManifestClip::new(&as_highlight, clip, &titles, ctx.dir);
                entry.clip_kind = report::ClipKind::Product;
                entry.product = Some(plan.reference());
                entry.warnings = claims.warnings(plan.span, ctx.segments, ctx.screen, None);
                entries.push(entry);
            }
        }
    }
    Ok((entries, not_clipped))
}

/// Mean of the per-second `curve` over `span` (0 without one).
fn mean(curve: &[f64], span: crate::time::Span) -> f64 {
    let a = span.start_s.max(0.0) as usize;
    let b = (span.end_s.ceil().max(0.0) as usize).min(curve.len());
    if b <= a {
        return 0.0;
    }
    curve[a..b].iter().sum::<f64>() / (b - a) as f64
}
