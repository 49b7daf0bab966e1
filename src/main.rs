//! The `livecut` binary: parse flags, draw progress, map results to exit codes.

use std::process::ExitCode;

use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use livecut::cli::{Cli, Command, UsageError};
use livecut::pipeline::{self, Progress};

fn main() -> ExitCode {
    livecut::models::runtime::release_freed_memory_promptly();
    let cli = Cli::parse(); // usage errors exit with code 2
    init_logging(&cli);
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_usage(&e) => {
            eprintln!("error: {}", livecut::cli::error_text(&e));
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {}", livecut::cli::error_text(&e));
            ExitCode::from(1)
        }
    }
}

fn is_usage(e: &anyhow::Error) -> bool {
    e.is::<UsageError>()
        || e.is::<livecut::profile::ProfileError>()
        || e.is::<livecut::render::presets::PresetError>()
        || e.downcast_ref::<livecut::batch::BatchError>()
            .is_some_and(|b| b.is_usage())
        || e.downcast_ref::<livecut::cli::CliError>()
            .is_some_and(|c| c.is_usage())
}

fn init_logging(cli: &Cli) {
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("LIVECUT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("livecut={level}")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Fatal);
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    let bar = progress_bar(cli.quiet);
    let on_progress = |p: Progress<'_>| match p {
        Progress::Stage(stage) => bar.set_message(stage.to_string()),
        Progress::Media { done_s, total_s } => {
            bar.set_length(total_s.max(1.0) as u64);
            bar.set_position(done_s.min(total_s).max(0.0) as u64);
        }
    };
    match &cli.command {
        Command::Analyze(args) => {
            let mut opts = args.to_options()?;
            let recording =
                pipeline::prepare_recording(&args.recording, &args.comments, &mut opts)?;
            let analysis = pipeline::analyze(&recording, &opts, &on_progress)?;
            bar.finish_and_clear();
            report_analysis(cli, &analysis);
            if !cli.quiet {
                println!(
                    "preview:    {}",
                    analysis.dir.join(livecut::report::PREVIEW_FILE).display()
                );
            }
        }
        Command::Tune(args) => {
            let base = match &args.profile {
                Some(p) => livecut::profile::Profile::load(p)?,
                None => livecut::profile::Profile::default(),
            };
            let report = livecut::tune::tune(&args.dirs, &base)?;
            // A closed pipe (`| head`) is not an error worth a panic.
            use std::io::Write as _;
            let _ = write!(std::io::stdout(), "{}", livecut::tune::table(&report));
            match &report.profile {
                Some(p) => {
                    livecut::tune::write_profile(&args.out, &report, p)?;
                    let _ = writeln!(std::io::stdout(), "profile: {}", args.out.display());
                }
                None => anyhow::bail!("{}: {}", args.out.display(), report.verdict),
            }
        }
        Command::Review(args) => {
            let cut = args
                .render
                .to_settings(args.device, args.profile.as_deref())?;
            let opts = livecut::review::server::ReviewOptions {
                dirs: args.dirs.clone(),
                bind: args.bind,
                port: args.port,
                cut,
            };
            livecut::review::server::serve(opts, |addr, token| {
                use std::io::Write as _;
                let mut out = std::io::stdout();
                match token {
                    Some(t) => {
                        let _ = writeln!(out, "review: http://{addr}/?token={t}");
                        let _ = writeln!(out, "token:  {t} (required on every request)");
                    }
                    None => {
                        let _ = writeln!(out, "review: http://{addr}/");
                    }
                }
                let _ = out.flush();
            })?;
        }
        Command::Cut(args) => {
            let mut settings = args
                .render
                .to_settings(args.device, args.profile.as_deref())?;
            settings.approved = args.approved;
            let manifest = pipeline::cut(&args.highlights, &settings, &on_progress)?;
            bar.finish_and_clear();
            if !cli.quiet {
                let dir = args
                    .highlights
                    .parent()
                    .unwrap_or(std::path::Path::new("."));
                println!(
                    "{} clips ({}), manifest {}",
                    manifest.clips.len(),
                    encoders(&manifest),
                    dir.join("manifest.json").display()
                );
            }
        }
        Command::Run(args) => {
            let mut opts = args.analyze.to_options()?;
            let flags = &args.analyze.settings;
            let settings = args
                .render
                .to_settings(flags.device, flags.profile.as_deref())?;
            let recording = pipeline::prepare_recording(
                &args.analyze.recording,
                &args.analyze.comments,
                &mut opts,
            )?;
            let analysis = pipeline::analyze(&recording, &opts, &on_progress)?;
            let manifest = pipeline::cut(&analysis.highlights_path, &settings, &on_progress)?;
            bar.finish_and_clear();
            report_analysis(cli, &analysis);
            if !cli.quiet {
                println!(
                    "clips:      {} in {} ({})",
                    manifest.clips.len(),
                    analysis.dir.join("clips").display(),
                    encoders(&manifest)
                );
                println!(
                    "manifest:   {}",
                    analysis.dir.join("manifest.json").display()
                );
                println!(
                    "preview:    {}",
                    analysis.dir.join("preview.html").display()
                );
                println!(
                    "timelines:  {} (also .fcpxml, .edl)",
                    analysis.dir.join("timeline.otio").display()
                );
            }
        }
        Command::Eval(args) => {
            let sessions = livecut::eval::discover(&args.sessions)?;
            let opts = args.settings.to_options(None, None, args.out.clone())?;
            let report = livecut::eval::run(&sessions, &opts, &args.label, &on_progress)?;
            bar.finish_and_clear();
            livecut::report::write_json(&args.out.join("eval.json"), &report)?;
            if !cli.quiet {
                print!("{}", report.table());
                println!("\neval: {}", args.out.join("eval.json").display());
            }
            if let Some(s) = report.sessions.iter().find(|s| s.error.is_some()) {
                anyhow::bail!(
                    "{}: analysis failed: {}",
                    s.stem,
                    s.error.as_deref().unwrap_or_default()
                );
            }
        }
        Command::Batch(args) => {
            bar.finish_and_clear();
            run_batch(cli, args)?;
        }
        Command::Index(args) => {
            bar.finish_and_clear();
            let out = args.out_path()?;
            let entries = livecut::report::write_index(&args.dirs, &out)?;
            for e in entries.iter().filter(|e| e.error.is_some()) {
                tracing::warn!(
                    "{}: {}",
                    e.dir.display(),
                    e.error.as_deref().unwrap_or_default()
                );
            }
            if !cli.quiet {
                println!("{} recordings, index {}", entries.len(), out.display());
            }
        }
        Command::Profile => {
            bar.finish_and_clear();
            print!("{}", livecut::profile::Profile::default().to_toml());
        }
        Command::Platforms(args) => {
            bar.finish_and_clear();
            print_platforms(&args.presets()?);
        }
        Command::Models(args) => {
            bar.finish_and_clear();
            let ok = livecut::models::status::print_status(
                args.models.as_deref(),
                args.ort_lib.as_deref(),
                args.device,
            );
            if !ok {
                anyhow::bail!("some models or the runtime are not usable (see above)");
            }
        }
        Command::Timelines(args) => {
            let (ctx, lexicon) = args.to_context()?;
            let (tracks, reports) = pipeline::read_timelines(
                args.comments.as_deref(),
                args.orders.as_deref(),
                &ctx,
                &lexicon,
            )?;
            bar.finish_and_clear();
            if !cli.quiet {
                for r in &reports {
                    println!("{}", r.summary());
                    for s in &r.spam_spans {
                        println!(
                            "  bot flood {:.0}–{:.0} s: {} comments, top two accounts {:.0} %, repeated text {:.0} %",
                            s.start_s,
                            s.end_s,
                            s.comments,
                            100.0 * s.top_user_share,
                            100.0 * s.duplicate_share
                        );
                    }
                    for k in &r.skipped_examples {
                        println!("  {}:{}: {}", r.path.display(), k.line, k.reason);
                    }
                }
            }
            if let Some(out) = &args.out {
                let value = serde_json::json!({ "reports": reports, "tracks": tracks.tracks });
                livecut::report::write_json(out, &value)?;
            }
        }
    }
    Ok(())
}

fn report_analysis(cli: &Cli, analysis: &pipeline::Analysis) {
    if cli.quiet {
        return;
    }
    // Warnings were already logged by the pipeline (tracing, stderr).
    let h = &analysis.highlights;
    println!(
        "{} highlights in {}",
        h.highlights.len(),
        h.source.path.display()
    );
    for hl in &h.highlights {
        let why: Vec<String> = hl
            .reasons
            .iter()
            .map(|r| format!("{} {:.2}", r.signal, r.contribution))
            .collect();
        println!(
            "  #{:<2} {:>8.1}–{:<8.1} peak {:>8.1}  score {:.2}  {}",
            hl.rank,
            hl.start_s,
            hl.end_s,
            hl.peak_s,
            hl.score,
            why.join(", ")
        );
    }
    if analysis.reused_cache {
        println!("signal tracks: reused from the cache (same recording and settings)");
    }
    println!("highlights: {}", analysis.highlights_path.display());
}

/// The presets as an aligned table, then one line of sources per preset.
fn print_platforms(presets: &livecut::render::presets::Presets) {
    use livecut::render::presets::Mode;
    println!(
        "{:<16} {:<6} {:<9} {:>7} {:>10} {:>18} {:>13} {:>9} {:>7}  framing",
        "name",
        "aspect",
        "size",
        "fps cap",
        "length s",
        "video kbps",
        "audio",
        "LUFS/dBTP",
        "cap MiB"
    );
    for p in presets.iter() {
        let copy = p.mode == Mode::Copy;
        let (size, fps, video, audio, loudness) = if copy {
            let src = "source".to_string();
            (
                src.clone(),
                src,
                "copy".to_string(),
                "copy".to_string(),
                "-".to_string(),
            )
        } else {
            (
                format!("{}x{}", p.width, p.height),
                format!("{}", p.max_fps),
                format!("{} (max {})", p.video_bitrate_kbps, p.video_maxrate_kbps),
                format!(
                    "{}k {}kHz",
                    p.audio_bitrate_kbps,
                    f64::from(p.audio_sample_rate) / 1000.0
                ),
                format!("{}/{}", p.loudness_lufs, p.true_peak_dbtp),
            )
        };
        println!(
            "{:<16} {:<6} {:<9} {:>7} {:>10} {:>18} {:>13} {:>9} {:>7.0}  {}",
            p.name,
            p.aspect,
            size,
            fps,
            format!("{}-{}", p.min_duration_s, p.max_duration_s),
            video,
            audio,
            loudness,
            p.max_bytes as f64 / (1024.0 * 1024.0),
            p.framing
        );
    }
    println!("\nsources:");
    for p in presets.iter() {
        println!("  {} ({}): {}", p.name, p.title, p.sources.join("; "));
    }
}

/// `livecut batch`: discovery table, workers with one overall bar and one per active
/// recording, the summary table; an error (exit 1) when any recording failed.
fn run_batch(cli: &Cli, args: &livecut::cli::BatchArgs) -> anyhow::Result<()> {
    use livecut::batch::{self, BatchEvent, Status};
    use std::collections::HashMap;
    use std::sync::Mutex;

    let shard = args.shard.as_deref().map(batch::parse_shard).transpose()?;
    let all = batch::discover(&args.inputs, args.map.as_deref())?;
    let total = all.len();
    let recordings: Vec<batch::Recording> = match shard {
        Some((i, n)) => all
            .into_iter()
            .filter(|r| batch::shard_of(r, n) == i)
            .collect(),
        None => all,
    };
    if !cli.quiet || args.dry_run {
        let shard_note = shard.map_or(String::new(), |(i, n)| {
            format!(" (shard {i}/{n} of {total} discovered)")
        });
        println!("{} recordings{shard_note}:", recordings.len());
        println!("| name | recording | comments | orders | products |\n|---|---|---|---|---|");
        let show = |p: &Option<std::path::PathBuf>| {
            p.as_ref()
                .map_or("–".to_string(), |p| p.display().to_string())
        };
        for r in &recordings {
            println!(
                "| {} | {} | {} | {} | {} |",
                r.name,
                match r.more_parts.len() {
                    0 => r.path.display().to_string(),
                    n => format!("{} (+{n} parts of the session)", r.path.display()),
                },
                show(&r.comments),
                show(&r.orders),
                match (&r.products, &args.settings.products) {
                    (Some(p), _) => p.display().to_string(),
                    (None, Some(p)) => format!("{} (--products)", p.display()),
                    (None, None) => "–".into(),
                }
            );
        }
    }
    if args.dry_run {
        return Ok(());
    }
    let analyze = args.settings.to_options(None, None, args.out.clone())?;
    let cut = args
        .render
        .to_settings(args.settings.device, args.settings.profile.as_deref())?;
    let settings = batch::BatchSettings {
        analyze,
        cut,
        jobs: args.jobs(),
        shard,
    };
    let multi = indicatif::MultiProgress::new();
    if cli.quiet {
        multi.set_draw_target(ProgressDrawTarget::hidden());
    }
    let overall = multi.add(ProgressBar::new(recordings.len() as u64));
    overall.set_style(
        ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} recordings ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    overall.set_prefix("batch");
    let bars: Mutex<HashMap<usize, ProgressBar>> = Mutex::new(HashMap::new());
    let style = ProgressStyle::with_template("{prefix:>10} {msg:8} [{bar:30}] {pos}/{len} s")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let on_event = |e: BatchEvent<'_>| {
        let Ok(mut bars) = bars.lock() else { return };
        match e {
            BatchEvent::Started { index, name } => {
                let b = multi.add(ProgressBar::new(1));
                b.set_style(style.clone());
                b.set_prefix(name.chars().take(10).collect::<String>());
                bars.insert(index, b);
            }
            BatchEvent::Step { index, progress } => {
                if let Some(b) = bars.get(&index) {
                    match progress {
                        Progress::Stage(s) => b.set_message(s.to_string()),
                        Progress::Media { done_s, total_s } => {
                            b.set_length(total_s.max(1.0) as u64);
                            b.set_position(done_s.min(total_s).max(0.0) as u64);
                        }
                    }
                }
            }
            BatchEvent::Finished { index, result } => {
                if let Some(b) = bars.remove(&index) {
                    b.finish_and_clear();
                    multi.remove(&b);
                }
                overall.inc(1);
                if result.status == Status::Failed {
                    let _ = multi.println(format!(
                        "failed: {}: {}",
                        result.name,
                        result.error.as_deref().unwrap_or("")
                    ));
                }
            }
        }
    };
    let report = batch::run(&recordings, &settings, &on_event)?;
    overall.finish_and_clear();
    if !cli.quiet {
        print!("{}", report.table());
        println!(
            "report: {}",
            args.out.join(batch::report_name(shard)).display()
        );
    }
    let failed = report.count(Status::Failed);
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} recordings failed (see {})",
            report.recordings.len(),
            args.out.join(batch::report_name(shard)).display()
        );
    }
    Ok(())
}

/// "encoder: libx264, copy": what wrote the clips (`--device auto` says what it chose).
fn encoders(manifest: &livecut::report::Manifest) -> String {
    let mut names: Vec<&str> = manifest.clips.iter().map(|c| c.encoder.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    format!("encoder: {}", names.join(", "))
}

fn progress_bar(quiet: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(1), ProgressDrawTarget::stderr());
    if quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:10} [{bar:30}] {pos}/{len} s ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}
