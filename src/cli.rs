//! Command-line flags (clap derive) and their validation into pipeline options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use jiff::{tz::TimeZone, Timestamp};

use crate::media::DecodeOptions;
use crate::models::Device;
use crate::pipeline::{AnalyzeOptions, ModelOptions};
use crate::profile::Profile;
use crate::speech::{SpeechSettings, TranscribeMode};
use crate::timelines::{Lexicon, ReadContext};

const EXAMPLES: &str = "\
Examples:
  # The whole job: analyse, cut the best clips, write manifest and preview
  livecut run rec.mp4 --comments rec.comments.xml --orders rec.orders.csv --out out/

  # Analyse only (writes out/rec/highlights.json and the cached signal tracks)
  livecut analyze rec.mp4 --comments rec.comments.xml --out out/

  # Cut the three best highlights of an earlier analysis
  livecut cut out/rec/highlights.json --top 3

Exit codes: 0 ok, 1 processing failed, 2 usage error.";

#[derive(Debug, Parser)]
#[command(name = "livecut", version, about = "Turn long recorded livestreams into ready-to-publish short clips", after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// More log output (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find highlights: writes DIR/<stem>/highlights.json and signals.json, no clips.
    Analyze(AnalyzeArgs),
    /// Cut clips from an earlier analysis (DIR/<stem>/highlights.json).
    Cut(CutArgs),
    /// Analyse, then cut clips and write manifest.json and preview.html (the main job).
    Run(RunArgs),
    /// Read comment/order exports alone: what was read, skipped, left out, flagged as spam.
    Timelines(TimelinesArgs),
    /// List the pretrained models: file, provenance, licence, checksum status, runtime.
    Models(ModelsArgs),
    /// Print the built-in fusion and selection profile (TOML) to edit for --profile.
    Profile,
    /// List the platform presets: size, frame rate, length, bitrate, loudness, size cap.
    Platforms(PlatformsArgs),
    /// The daily job: every recording in folders/list files, in parallel, resumable, with
    /// a summary and DIR/batch.json.
    Batch(BatchArgs),
    /// Score livecut against labelled sessions (and a plain baseline): recall@K,
    /// precision@K, decoy hits, temporal IoU, type accuracy, boundaries inside speech.
    Eval(EvalArgs),
    /// Write DIR/index.html listing every DIR/*/highlights.json (name, duration,
    /// highlights, best score, clips, link to its preview); several DIRs make one page.
    Index(IndexArgs),
    /// The editors' review app on http://127.0.0.1:8765/: approve, reject, trim, retitle,
    /// fix subtitles, add missed moments, render the approved clips; decisions go to
    /// DIR/<stem>/review.json (JSON API documented in README).
    Review(ReviewArgs),
    /// Fit the fusion weights and the selection bar to the editors' decisions
    /// (DIR/<stem>/review.json) and write a profile for --profile, if it beats the built-in
    /// one on held-out recordings.
    Tune(TuneArgs),
}

#[derive(Debug, Args)]
pub struct TuneArgs {
    /// Output folders whose recordings were reviewed (each <stem>/ with review.json,
    /// highlights.json and curve.json).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Where the tuned profile goes (TOML, for --profile).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The profile the recordings were analysed with (default: the built-in one).
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Output folders of `livecut analyze`/`run` (each holds <stem>/highlights.json).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Where the page goes (default: index.html in the first DIR).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl IndexArgs {
    /// The page's path; every DIR must be a folder.
    pub fn out_path(&self) -> Result<PathBuf, UsageError> {
        if let Some(d) = self.dirs.iter().find(|d| !d.is_dir()) {
            return Err(UsageError(format!("{}: not a folder", d.display())));
        }
        Ok(self
            .out
            .clone()
            .unwrap_or_else(|| self.dirs[0].join(crate::report::INDEX_FILE)))
    }
}

#[derive(Debug, Args)]
pub struct PlatformsArgs {
    /// Profile whose `[platforms.NAME]` tables override the built-in presets.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
}

impl PlatformsArgs {
    /// The built-in presets with the profile's overrides applied.
    pub fn presets(&self) -> Result<crate::render::presets::Presets, CliError> {
        let presets = crate::render::presets::Presets::builtin();
        match &self.profile {
            Some(path) => Ok(presets.with_overrides(&Profile::load(path)?.platforms)?),
            None => Ok(presets),
        }
    }
}

#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// Folder with the model files and their spec files (default: models/).
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
    /// ONNX Runtime library to check (default: $ORT_DYLIB_PATH, then .local/onnxruntime/).
    #[arg(long, value_name = "FILE")]
    pub ort_lib: Option<PathBuf>,
    /// Device to check.
    #[arg(long, value_enum, default_value_t = Device::Auto)]
    pub device: Device,
}

#[derive(Debug, Args)]
pub struct TimelinesArgs {
    /// Comment export (danmaku XML, JSON Lines or CSV; detected from the content).
    #[arg(long, value_name = "FILE")]
    pub comments: Option<PathBuf>,
    /// Order export (CSV).
    #[arg(long, value_name = "FILE")]
    pub orders: Option<PathBuf>,
    /// Length of the recording the exports belong to, seconds.
    #[arg(long)]
    pub duration: f64,
    #[command(flatten)]
    pub exports: ExportArgs,
    /// Write the reports and per-second tracks as JSON here.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl TimelinesArgs {
    pub fn to_context(&self) -> Result<(ReadContext, Lexicon), CliError> {
        if !(self.duration > 0.0 && self.duration.is_finite()) {
            return Err(
                UsageError("--duration must be a positive number of seconds".into()).into(),
            );
        }
        let (start, tz, lexicon) = self.exports.settle()?;
        Ok((
            ReadContext {
                start,
                tz,
                duration_s: self.duration,
                strict: self.exports.strict,
            },
            lexicon,
        ))
    }
}

fn parse_start(s: Option<&str>) -> Result<Option<Timestamp>, UsageError> {
    s.map(|s| {
        s.parse::<Timestamp>().map_err(|e| {
            UsageError(format!(
                "--start {s:?}: {e} (expected ISO-8601 with an offset, e.g. 2024-09-03T19:12:50+08:00)"
            ))
        })
    })
    .transpose()
}

fn parse_tz(name: &str) -> Result<TimeZone, UsageError> {
    TimeZone::get(name).map_err(|e| UsageError(format!("--tz {name:?}: {e}")))
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The recording (MP4, MKV, FLV, … anything FFmpeg reads); several: the parts of one
    /// session a recorder split (by size, time or a reconnect), analysed as one on one
    /// timeline, in the order of their starts (creation_time, recorder XML, file name).
    #[arg(required = true, num_args = 1..)]
    pub recording: Vec<PathBuf>,
    /// Comment export: danmaku XML (Bilibili, live recorders with sc/gift/guard), JSON Lines
    /// or CSV; the format is detected from the content. With several parts: once for the
    /// whole session, or once per part in the order of the parts (`--comments a.xml
    /// b.xml`).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub comments: Vec<PathBuf>,
    /// Order export: CSV with a header (paid_at/支付时间, amount/实付金额, sku, quantity).
    #[arg(long, value_name = "FILE")]
    pub orders: Option<PathBuf>,
    /// Output folder; results go to DIR/<recording stem>/ (DIR/<NAME>/ with --name; a
    /// split session: the first part's stem).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Name of the output folder instead of the recording's stem.
    #[arg(long, value_name = "NAME", value_parser = parse_name)]
    pub name: Option<String>,
    #[command(flatten)]
    pub settings: AnalysisFlags,
}

/// An output folder name: one path component.
fn parse_name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', '\0']);
    ok.then(|| s.to_string())
        .ok_or_else(|| format!("{s:?} is not a folder name"))
}

/// How recordings are analysed (shared by `analyze`, `run` and `eval`).
#[derive(Debug, Args)]
pub struct AnalysisFlags {
    #[command(flatten)]
    pub exports: ExportArgs,
    /// Product catalogue: CSV with a header (sku/商品ID, name/商品名称, optional
    /// price/价格, aliases/别名 separated by |, category/类目), UTF-8 or GBK. Without it the
    /// products are the SKUs seen in the orders. Gives products.json (the product timeline).
    #[arg(long, value_name = "FILE")]
    pub products: Option<PathBuf>,
    /// Let a highlight span a change of product (by default, with `--products`, each
    /// highlight is cut to the product on air at its peak: platforms penalise clips that
    /// pile several products together).
    #[arg(long)]
    pub mixed_products: bool,
    /// Skip the pretrained models (speech, audio events, faces): cheap signals only.
    #[arg(long)]
    pub no_models: bool,
    /// Where the models run. `cuda` that cannot be used is an error, never a CPU fallback.
    #[arg(long, value_enum, default_value_t = Device::Auto)]
    pub device: Device,
    /// ONNX Runtime library (default: $ORT_DYLIB_PATH, then .local/onnxruntime/ from set-up).
    #[arg(long, value_name = "FILE")]
    pub ort_lib: Option<PathBuf>,
    /// Folder with the model files and their spec files (default: models/).
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
    /// Frames per second given to the face model.
    #[arg(long, default_value_t = 0.5)]
    pub face_fps: f64,
    /// Analysis frames per second (upper bound).
    #[arg(long, default_value_t = 2.0)]
    pub sample_fps: f64,
    /// Decode only key frames (faster; motion is then sampled at the key-frame rate).
    #[arg(long)]
    pub keyframes_only: bool,
    /// Which audio track to analyse and cut, numbered from 1 in stream order, for
    /// recordings with several (OBS writes microphone and desktop sound as two) [default:
    /// the first; livecut says which it used].
    #[arg(long, value_name = "N")]
    pub audio_track: Option<usize>,
    /// No cascade: decode every frame and run every model over the whole recording
    /// (default: a key-frame and audio survey of the whole recording, then the full
    /// analysis only in windows around the candidate moments; see README "Speed").
    #[arg(long)]
    pub full: bool,
    /// Fusion and selection profile (TOML; `livecut profile` prints the default).
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Most highlights to return [default: as many as stand out from the session's own
    /// scores (the profile's `[selection]` significance rule and `max_per_hour`), or the
    /// profile's `top`].
    #[arg(long)]
    pub highlights: Option<usize>,
    /// Shortest highlight, seconds [default: 20, or the profile's].
    #[arg(long)]
    pub min_len: Option<f64>,
    /// Longest highlight, seconds [default: 60, or the profile's].
    #[arg(long)]
    pub max_len: Option<f64>,
    /// Where speech is transcribed (Whisper): around the candidate moments and the chosen
    /// highlights (`auto`), everywhere the VAD hears speech (`all`), or not at all (`off`,
    /// which needs no speech model).
    #[arg(long, value_enum, default_value_t = TranscribeMode::Auto, env = "LIVECUT_TRANSCRIBE")]
    pub transcribe: TranscribeMode,
    /// Spoken language: `auto` (detected per window) or a Whisper code (`zh`, `en`, `ja`,
    /// ...) [default: the profile's, auto].
    #[arg(long, value_name = "CODE")]
    pub language: Option<String>,
    /// Speech model: a spec name in the models folder (`whisper_base`, fetched by set-up;
    /// `scripts/whisper_convert.py` turns any faster-whisper model into one).
    #[arg(long, value_name = "NAME", default_value = "whisper_base")]
    pub speech_model: String,
    /// The speech model's weights: `auto` (8-bit on the CPU when the model has them: a
    /// quarter of the memory, ~3× faster decoding; float32 on CUDA), `float32` (the exact
    /// graphs) or `int8`.
    #[arg(long, value_enum, default_value_t = crate::models::whisper::Weights::Auto)]
    pub speech_weights: crate::models::whisper::Weights,
}

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Folders (searched one level deep for recordings), recordings, or list files (one
    /// path per line, relative to the list; `#` comments).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output folder: DIR/<recording>/ per recording, DIR/batch.json.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// CSV `recording,comments,orders` giving the exports of recordings whose sidecars are
    /// not named by stem (paths relative to the mapping file).
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Print the discovery table and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Recordings processed at once [default: from cores and memory].
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Only the I-th of N deterministic, disjoint shards (0-based): `--shard 0/3`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    #[command(flatten)]
    pub settings: AnalysisFlags,
    #[command(flatten)]
    pub render: RenderFlags,
}

impl BatchArgs {
    /// Default parallelism: one recording per core, at most one per 1.5 GiB available.
    pub fn jobs(&self) -> usize {
        if let Some(j) = self.jobs {
            return j.max(1);
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let avail_gib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find(|l| l.starts_with("MemAvailable:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
            .map_or(4.0, |kb| kb / (1024.0 * 1024.0));
        cores
            .min((avail_gib / 1.5).floor().max(1.0) as usize)
            .max(1)
    }
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Folders of labelled sessions (`STEM.truth.json` beside `STEM.mp4` and its exports,
    /// as written by fixtures/make_session.py), or truth files.
    #[arg(required = true)]
    pub sessions: Vec<PathBuf>,
    /// Where the analyses and `eval.json` go.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Label printed above the table (e.g. "held-out seeds").
    #[arg(long, default_value = "")]
    pub label: String,
    #[command(flatten)]
    pub settings: AnalysisFlags,
}

#[derive(Debug, Args)]
pub struct CutArgs {
    /// highlights.json written by `livecut analyze`.
    pub highlights: PathBuf,
    #[command(flatten)]
    pub render: RenderFlags,
    /// Where clips are encoded: `cuda` = NVDEC + NVENC, an error where it cannot work;
    /// `auto` uses NVENC when an NVIDIA GPU is present and says so.
    #[arg(long, value_enum, default_value_t = Device::Auto)]
    pub device: Device,
    /// Profile whose `[platforms.NAME]` tables override the presets.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Render exactly what the editors approved in review.json (`livecut review`): the
    /// approved highlights with their trimmed spans and chosen titles, and the moments
    /// they added (`--top` does not apply).
    #[arg(long)]
    pub approved: bool,
}

/// `livecut review`: the editors' web app.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Output folders of `livecut analyze`/`run`/`batch` (each holds <stem>/highlights.json).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Address to listen on; anything but loopback requires the token printed at start.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Port (0: any free one; the address is printed).
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
    /// How "render approved" cuts (platforms, subtitles, …), as for `livecut cut`.
    #[command(flatten)]
    pub render: RenderFlags,
    #[arg(long, value_enum, default_value_t = Device::Auto)]
    pub device: Device,
    /// Profile whose `[platforms.NAME]` tables override the presets.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub analyze: AnalyzeArgs,
    #[command(flatten)]
    pub render: RenderFlags,
}

/// How clips are cut (shared by `cut` and `run`).
#[derive(Debug, Args)]
pub struct RenderFlags {
    /// Cut only the N best highlights.
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Platforms to render for, comma-separated, or `all` (`livecut platforms` lists
    /// them); `source` is a stream copy of the recording.
    #[arg(long, default_value = "source", value_name = "LIST")]
    pub platforms: String,
    /// Vertical framing: `follow` (a 9:16 crop that follows the host) or `pad` (the
    /// whole picture over a blurred background) [default: the preset's].
    #[arg(long, value_enum)]
    pub framing: Option<FramingArg>,
    /// Burn each clip's suggested title into the picture (Noto CJK).
    #[arg(long)]
    pub titles: bool,
    /// Subtitles from the transcript: `burn` (into the picture, and `.srt`/`.vtt` files
    /// beside the clip), `srt` (the files only) or `off` [default: the preset's: burned
    /// on vertical platforms, files on the others].
    #[arg(long, value_enum, value_name = "MODE")]
    pub subtitles: Option<crate::subtitles::SubtitleMode>,
    /// libx264 speed preset (ultrafast … veryslow).
    #[arg(long, default_value = "veryfast")]
    pub x264_preset: String,
    /// Ad-law lexicon (TOML, the layout of the built-in src/claims/claims.toml) replacing
    /// the built-in one: its words are warned about and kept out of suggested titles.
    #[arg(long, value_name = "FILE")]
    pub claims_lexicon: Option<PathBuf>,
    /// Move a clip's start or end to leave out a sentence with a forbidden claim at its
    /// edge, when the clip keeps its peak and its shortest length; otherwise keep it and
    /// warn.
    #[arg(long)]
    pub avoid_claims: bool,
    /// Also cut one clip per product of the product timeline (products.json: from
    /// `--products`, or the SKUs of the orders): its best explanation
    /// (`product_<sku>_<platform>.mp4`, the preset's `product_clip_s` long at most) and
    /// its closing moment when apart (`product_<sku>_closing_<platform>.mp4`); products
    /// with too little evidence are listed in the manifest, not clipped.
    #[arg(long)]
    pub product_clips: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FramingArg {
    Follow,
    Pad,
}

impl RenderFlags {
    /// The presets to render (built in, with the profile's overrides) and the options.
    pub fn to_settings(
        &self,
        device: Device,
        profile: Option<&std::path::Path>,
    ) -> Result<crate::pipeline::CutSettings, CliError> {
        use crate::render::presets::{Framing, Presets};
        let profile = match profile {
            Some(path) => Profile::load(path)?,
            None => Profile::default(),
        };
        let presets = Presets::builtin().with_overrides(&profile.platforms)?;
        let platforms = presets
            .parse_list(&self.platforms)?
            .into_iter()
            .cloned()
            .collect();
        let claims = match &self.claims_lexicon {
            Some(path) => crate::claims::ClaimsLexicon::load(path)?,
            None => Default::default(),
        };
        Ok(crate::pipeline::CutSettings {
            top: self.top,
            claims,
            avoid_claims: self.avoid_claims,
            min_clip_s: profile.selection.min_len_s,
            approved: false,
            product_clips: self.product_clips,
            platforms,
            render: crate::render::RenderOptions {
                device,
                framing: self.framing.map(|f| match f {
                    FramingArg::Follow => Framing::Follow,
                    FramingArg::Pad => Framing::Pad,
                }),
                titles: self.titles,
                x264_preset: self.x264_preset.clone(),
                subtitles: self.subtitles,
                ..Default::default()
            },
        })
    }
}

/// How to read the comment and order exports (shared by `analyze`, `run`, `timelines`).
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Instant of the recording's first frame (ISO-8601 with offset); overrides the
    /// container's creation_time.
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,
    /// Time zone for naive local times in exports.
    #[arg(long, default_value = "Asia/Shanghai")]
    pub tz: String,
    /// Comment lexicon (TOML: keyword classes and sentiment words); default: built in.
    #[arg(long, value_name = "FILE")]
    pub lexicon: Option<PathBuf>,
    /// Stop at the first malformed export row instead of skipping it.
    #[arg(long)]
    pub strict: bool,
}

impl ExportArgs {
    /// The validated recording start, zone and lexicon.
    fn settle(&self) -> Result<(Option<Timestamp>, TimeZone, Lexicon), CliError> {
        let lexicon = match &self.lexicon {
            Some(path) => Lexicon::load(path)?,
            None => Lexicon::default(),
        };
        Ok((
            parse_start(self.start.as_deref())?,
            parse_tz(&self.tz)?,
            lexicon,
        ))
    }
}

/// A flag combination that parses but makes no sense.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Why the flags could not become settings.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Usage(#[from] UsageError),
    #[error(transparent)]
    Profile(#[from] crate::profile::ProfileError),
    #[error(transparent)]
    Preset(#[from] crate::render::presets::PresetError),
    /// The lexicon file (missing or malformed: exit code 1, like any input file).
    #[error(transparent)]
    Lexicon(#[from] crate::timelines::TimelineError),
    /// The ad-law lexicon file (`--claims-lexicon`; exit code 1 like the other lexicon).
    #[error(transparent)]
    Claims(#[from] crate::claims::ClaimsError),
}

impl CliError {
    /// Whether the command line itself is at fault (exit code 2).
    pub fn is_usage(&self) -> bool {
        !matches!(self, Self::Lexicon(_) | Self::Claims(_))
    }
}

impl AnalyzeArgs {
    /// Validate the flags into pipeline options (the comments are placed by
    /// [`crate::pipeline::prepare_recording`]).
    pub fn to_options(&self) -> Result<AnalyzeOptions, CliError> {
        let mut opts = self
            .settings
            .to_options(None, self.orders.clone(), self.out.clone())?;
        opts.name = self.name.clone();
        Ok(opts)
    }
}

impl AnalysisFlags {
    /// Validate the flags into pipeline options for one recording's exports and output.
    pub fn to_options(
        &self,
        comments: Option<PathBuf>,
        orders: Option<PathBuf>,
        out_dir: PathBuf,
    ) -> Result<AnalyzeOptions, CliError> {
        let (start, tz, lexicon) = self.exports.settle()?;
        if !(self.face_fps > 0.0 && self.face_fps <= 30.0) {
            return Err(UsageError("--face-fps must be in (0, 30]".into()).into());
        }
        if !(self.sample_fps > 0.0 && self.sample_fps <= 60.0) {
            return Err(UsageError("--sample-fps must be in (0, 60]".into()).into());
        }
        if self.audio_track == Some(0) {
            return Err(UsageError("--audio-track counts from 1".into()).into());
        }
        let profile = match &self.profile {
            Some(path) => Profile::load(path)?,
            None => Profile::default(),
        };
        if let Some(code) = &self.language {
            crate::speech::check_language(code).map_err(UsageError)?;
        }
        let mut select = profile.selection;
        select.top = self.highlights.unwrap_or(select.top);
        select.min_len_s = self.min_len.unwrap_or(select.min_len_s);
        select.max_len_s = self.max_len.unwrap_or(select.max_len_s);
        if !(select.min_len_s > 0.0 && select.max_len_s >= select.min_len_s) {
            return Err(UsageError("--min-len must be > 0 and <= --max-len".into()).into());
        }
        Ok(AnalyzeOptions {
            comments,
            orders,
            products: self.products.clone(),
            mixed_products: self.mixed_products,
            out_dir,
            name: None,
            start,
            tz,
            audio_track: self.audio_track,
            decode: DecodeOptions {
                sample_fps: self.sample_fps,
                keyframes_only: self.keyframes_only,
                ..DecodeOptions::default()
            },
            lexicon,
            strict: self.exports.strict,
            models: ModelOptions {
                enabled: !self.no_models,
                ort_lib: self.ort_lib.clone(),
                device: self.device,
                dir: self.models.clone(),
                face_fps: self.face_fps,
                speech_model: self.speech_model.clone(),
                speech_weights: self.speech_weights,
                transcribe: if self.no_models {
                    TranscribeMode::Off
                } else {
                    self.transcribe
                },
                ..ModelOptions::default()
            },
            fuse: profile.fusion,
            select,
            cascade: crate::cascade::CascadeSettings {
                enabled: profile.cascade.enabled && !self.full,
                ..profile.cascade
            },
            speech: SpeechSettings {
                language: self
                    .language
                    .clone()
                    .unwrap_or(profile.speech.language.clone()),
                ..profile.speech
            },
        })
    }
}

/// An error and its causes on one line, each cause said once: a cause whose text the
/// message already holds (many errors name their source in their own text) is left out.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        let text = text.trim();
        if text.is_empty() || out.contains(text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_says_its_cause_once() {
        let io = std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "No such file or directory (os error 2)",
        );
        let e = anyhow::Error::new(io).context("rec.mp4: No such file or directory (os error 2)");
        assert_eq!(
            error_text(&e),
            "rec.mp4: No such file or directory (os error 2)"
        );
        let e = anyhow::anyhow!("disk full").context("writing out/x.json");
        assert_eq!(error_text(&e), "writing out/x.json: disk full");
    }
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        let cli = Cli::parse_from([
            "livecut",
            "analyze",
            "a.mp4",
            "--out",
            "o",
            "--start",
            "yesterday",
        ]);
        let Command::Analyze(a) = cli.command else {
            panic!()
        };
        assert!(a.to_options().unwrap_err().to_string().contains("--start"));
        let cli = Cli::parse_from([
            "livecut",
            "analyze",
            "a.mp4",
            "--out",
            "o",
            "--tz",
            "Mars/Base",
        ]);
        let Command::Analyze(a) = cli.command else {
            panic!()
        };
        assert!(a.to_options().is_err());
    }
}
