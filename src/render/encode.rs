//! The libav* side of rendering: one decode of a highlight's span feeds one video and one
//! audio filter graph and one encoder pair per platform, each muxed to MP4 (+faststart).
//! Exact cuts: frames are trimmed inside the filter graphs (`trim`/`atrim`), not at key
//! frames. Nothing here spawns the ffmpeg CLI.

use std::path::{Path, PathBuf};

use ffmpeg::{codec, filter, format, frame, Rational};
use ffmpeg_next as ffmpeg;

use crate::media::{self, MediaInfo};
use crate::time::{Span, TimeBase};

use super::RenderError;

/// Which H.264 encoder (and decoder) a render uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// libx264 on the CPU, FFmpeg's software decoders.
    Cpu,
    /// NVDEC (`h264_cuvid` for H.264 sources) and NVENC (`h264_nvenc`).
    Cuda,
}

impl Engine {
    pub fn encoder_name(self) -> &'static str {
        match self {
            Self::Cpu => "libx264",
            Self::Cuda => "h264_nvenc",
        }
    }
}

/// The video side of one output.
#[derive(Debug, Clone)]
pub struct VideoPlan {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    /// Filters between the trimmed source frames and the final `fps,format` (crop or pad,
    /// scale, title); FFmpeg filtergraph syntax.
    pub filters: String,
    pub profile: String,
    pub level: String,
    pub bitrate: u64,
    pub maxrate: u64,
    pub bufsize: u64,
    pub gop: u32,
    /// libx264 speed preset (ignored by NVENC).
    pub x264_preset: String,
}

/// The audio side of one output.
#[derive(Debug, Clone)]
pub struct AudioPlan {
    pub sample_rate: u32,
    pub bitrate: u64,
    /// Gain that brings the span to the target loudness (from [`measure_loudness`]).
    pub gain_db: f64,
    /// Sample-peak ceiling of the limiter, dBFS (below the true-peak target, leaving room
    /// for inter-sample peaks and the AAC encoder); 0 or more: no limiter.
    pub ceiling_db: f64,
    /// Fade in and out, seconds; 0: none.
    pub fade_s: f64,
}

/// One file to write from the span.
#[derive(Debug, Clone)]
pub struct OutputPlan {
    /// Where the muxer writes (a temporary name; the caller renames it).
    pub path: PathBuf,
    pub video: VideoPlan,
    /// `None`: a clip without sound (the recording has none).
    pub audio: Option<AudioPlan>,
    /// Pick the sharpest output frame in this window (seconds from the clip start) as the
    /// cover, preferring frames whose source time passes `has_host`.
    pub cover_window: Option<(f64, f64)>,
}

/// What was written for one output.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub frames: u64,
    pub audio_samples: u64,
    /// Sharpest frame of the cover window, RGB, with its time in the clip.
    pub cover: Option<(f64, image::RgbImage)>,
}

/// Integrated loudness and true peak of a span (EBU R128, 48 kHz stereo).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loudness {
    pub integrated_lufs: f64,
    pub true_peak_dbtp: f64,
}

fn codec_err(path: &Path, what: &str) -> impl FnOnce(ffmpeg::Error) -> RenderError {
    let path = path.to_path_buf();
    let what = what.to_string();
    move |source| RenderError::Ffmpeg { path, what, source }
}

/// Seek `ictx` to the key frame at or before `t` seconds of the recording.
fn seek_before(ictx: &mut format::context::Input, origin: f64, t: f64) {
    let target = ((origin + (t - 1.0).max(0.0)) * f64::from(ffmpeg::ffi::AV_TIME_BASE)) as i64;
    let _ = ictx.seek(target, ..target);
}

/// Pass one of loudness normalisation: the span's audio as it is (no gain, limiter or
/// fades), measured through the same decode and resampling as the output.
pub fn measure_loudness(info: &MediaInfo, span: Span) -> Result<Loudness, RenderError> {
    let neutral = AudioPlan {
        sample_rate: 48_000,
        bitrate: 0,
        gain_db: 0.0,
        ceiling_db: 0.0,
        fade_s: 0.0,
    };
    measure_processed(info, span, &neutral)
}

/// The audio filter graph of an output: trim to the span, 48 kHz stereo, gain to the
/// target loudness, a limiter under the true-peak target, short fades at both ends.
fn audio_graph(
    afmt: &AudioFormat,
    duration: f64,
    a: &AudioPlan,
    path: &Path,
) -> Result<filter::Graph, RenderError> {
    let err = |what: &str| codec_err(path, what);
    let mut agraph = filter::Graph::new();
    let rate = afmt.rate;
    let aargs = format!(
        "time_base=1/{rate}:sample_rate={rate}:sample_fmt={}:channel_layout=0x{:x}",
        afmt.format.name(),
        afmt.layout.bits()
    );
    let abuffer = filter::find("abuffer").ok_or(ffmpeg::Error::FilterNotFound);
    agraph
        .add(&abuffer.map_err(err("audio filter"))?, "in", &aargs)
        .map_err(err("audio filter input"))?;
    let asink = filter::find("abuffersink").ok_or(ffmpeg::Error::FilterNotFound);
    agraph
        .add(&asink.map_err(err("audio filter"))?, "out", "")
        .map_err(err("audio filter output"))?;
    let fade = a.fade_s.min(duration / 4.0);
    let fmt = format!(
        "aformat=sample_fmts=fltp:sample_rates={sr}:channel_layouts=stereo",
        sr = a.sample_rate
    );
    let mut aspec = format!(
        "atrim=start=0:end={duration:.6},asetpts=PTS-STARTPTS,aresample={},{fmt}",
        a.sample_rate
    );
    if a.gain_db != 0.0 {
        aspec.push_str(&format!(",volume={:.3}dB", a.gain_db));
    }
    if a.ceiling_db < 0.0 {
        aspec.push_str(&format!(
            ",alimiter=limit={:.5}:level=0:latency=1:attack=5:release=50",
            10f64.powf(a.ceiling_db / 20.0).clamp(0.0625, 1.0)
        ));
    }
    if fade > 0.0 {
        aspec.push_str(&format!(
            ",afade=t=in:d={fade:.3},afade=t=out:st={:.3}:d={fade:.3}",
            (duration - fade).max(0.0)
        ));
    }
    // The limiter works in doubles: back to what the AAC encoder takes.
    aspec.push_str(&format!(",{fmt}"));
    agraph
        .output("in", 0)
        .and_then(|p| p.input("out", 0))
        .and_then(|p| p.parse(&aspec))
        .map_err(err(&format!("audio filters {aspec:?}")))?;
    agraph.validate().map_err(err("audio filter graph"))?;
    Ok(agraph)
}

/// Loudness of the span after the audio chain of `plan` (gain, limiter, fades): pass two of
/// the normalisation, so the limiter's loss is measured, not guessed.
pub fn measure_processed(
    info: &MediaInfo,
    span: Span,
    plan: &AudioPlan,
) -> Result<Loudness, RenderError> {
    let path = &info.path;
    let ainfo = info
        .audio
        .as_ref()
        .ok_or_else(|| RenderError::NoAudio { path: path.clone() })?;
    let mut ictx = media::open_input(path)?;
    seek_before(&mut ictx, info.start_time_s, span.start_s);
    let stream = ictx
        .stream(ainfo.index)
        .ok_or_else(|| RenderError::NoAudio { path: path.clone() })?;
    let mut dec = codec::Context::from_parameters(stream.parameters())
        .and_then(|c| c.decoder().audio())
        .map_err(codec_err(path, "open audio decoder"))?;
    let mut graph: Option<filter::Graph> = None;
    let loud_err = |e: ebur128::Error| RenderError::Loudness {
        path: path.clone(),
        message: e.to_string(),
    };
    let mut meter = ebur128::EbuR128::new(
        2,
        plan.sample_rate,
        ebur128::Mode::I | ebur128::Mode::TRUE_PEAK,
    )
    .map_err(loud_err)?;
    let duration = span.duration();
    let mut decoded = frame::Audio::empty();
    let mut filtered = frame::Audio::empty();
    let mut measure = |g: &mut filter::Graph| {
        while let Some(Ok(())) = g.get("out").map(|mut s| s.sink().frame(&mut filtered)) {
            let n = filtered.samples();
            let (l, r) = (filtered.plane::<f32>(0), filtered.plane::<f32>(1));
            let _ = meter.add_frames_planar_f32(&[&l[..n], &r[..n]]);
        }
    };
    let mut eof = false;
    let mut packets = ictx.packets();
    while !eof {
        match packets.next() {
            Some((s, p)) if s.index() == ainfo.index => {
                let _ = dec.send_packet(&p);
            }
            Some(_) => continue,
            None => {
                let _ = dec.send_eof();
                eof = true;
            }
        }
        while dec.receive_frame(&mut decoded).is_ok() {
            let Some(ts) = decoded.timestamp().or(decoded.pts()) else {
                continue;
            };
            let rate = f64::from(decoded.rate().max(1));
            let rel = ainfo.time_base.to_secs(ts) - info.start_time_s - span.start_s;
            if rel + decoded.samples() as f64 / rate < -1.0 {
                continue;
            }
            if rel >= duration + 0.5 {
                eof = true;
                break;
            }
            decoded.set_pts(Some((rel * rate).round() as i64));
            if graph.is_none() {
                graph = Some(audio_graph(
                    &AudioFormat::of_frame(&decoded),
                    duration,
                    plan,
                    path,
                )?);
            }
            if let Some(g) = graph.as_mut() {
                if let Some(mut src) = g.get("in") {
                    let _ = media::buffersrc_add_keep_ref(&mut src, &decoded);
                }
                measure(g);
            }
        }
    }
    if let Some(g) = graph.as_mut() {
        if let Some(mut src) = g.get("in") {
            let _ = src.source().flush();
        }
        measure(g);
    }
    let integrated = meter.loudness_global().unwrap_or(f64::NEG_INFINITY);
    let peak = (0..2)
        .filter_map(|c| meter.true_peak(c).ok())
        .fold(0.0f64, f64::max);
    Ok(Loudness {
        integrated_lufs: integrated,
        true_peak_dbtp: 20.0 * peak.max(1e-10).log10(),
    })
}

/// One output being written.
struct Output {
    plan: OutputPlan,
    vgraph: filter::Graph,
    venc: ffmpeg::encoder::Video,
    /// The sound's filter graph and encoder (none for a clip without sound).
    audio: Option<AudioOut>,
    octx: format::context::Output,
    vtb_sink: Rational,
    frames: u64,
    audio_samples: u64,
    /// Best cover so far: time, (host seen, sharpness), frame.
    cover: Option<(f64, (bool, f64), frame::Video)>,
}

struct AudioOut {
    graph: filter::Graph,
    enc: ffmpeg::encoder::Audio,
    tb_sink: Rational,
}

fn rational(x: f64) -> Rational {
    // Common frame rates exactly (29.97 = 30000/1001), others to the millisecond.
    for (num, den) in [(24_000, 1001), (30_000, 1001), (60_000, 1001)] {
        if (x - f64::from(num) / f64::from(den)).abs() < 1e-3 {
            return Rational(num, den);
        }
    }
    if (x - x.round()).abs() < 1e-6 {
        return Rational(x.round() as i32, 1);
    }
    Rational((x * 1000.0).round() as i32, 1000)
}

fn pix_fmt_id(p: format::Pixel) -> i32 {
    let id: ffmpeg::ffi::AVPixelFormat = p.into();
    id as i32
}

/// Render `span` of the recording once per plan, sharing one decode.
pub fn encode_span(
    info: &MediaInfo,
    span: Span,
    plans: Vec<OutputPlan>,
    engine: Engine,
    has_host: &dyn Fn(f64) -> bool,
) -> Result<Vec<Encoded>, RenderError> {
    let path = &info.path;
    let Some(vinfo) = &info.video else {
        return Err(RenderError::NoVideo { path: path.clone() });
    };
    // The sound, unless the recording has none or no output wants it.
    let ainfo = info
        .audio
        .as_ref()
        .filter(|_| plans.iter().any(|p| p.audio.is_some()));
    let mut ictx = media::open_input(path)?;
    seek_before(&mut ictx, info.start_time_s, span.start_s);

    let vstream = ictx
        .stream(vinfo.index)
        .ok_or_else(|| RenderError::NoVideo { path: path.clone() })?;
    let mut vctx = codec::Context::from_parameters(vstream.parameters())
        .map_err(codec_err(path, "video decoder"))?;
    vctx.set_threading(ffmpeg::threading::Config {
        kind: ffmpeg::threading::Type::Frame,
        count: 0,
        ..Default::default()
    });
    let mut vdec = match engine {
        Engine::Cuda if vinfo.codec == "h264" => {
            let cuvid =
                ffmpeg::decoder::find_by_name("h264_cuvid").ok_or_else(|| RenderError::Cuda {
                    message: "this FFmpeg has no h264_cuvid (NVDEC) decoder".into(),
                })?;
            vctx.decoder()
                .open_as(cuvid)
                .and_then(|o| o.video())
                .map_err(|e| RenderError::Cuda {
                    message: format!("cannot open the NVDEC decoder h264_cuvid: {e}"),
                })?
        }
        _ => vctx
            .decoder()
            .video()
            .map_err(codec_err(path, "open video decoder"))?,
    };
    let mut adec = match ainfo {
        Some(ainfo) => {
            let astream = ictx
                .stream(ainfo.index)
                .ok_or_else(|| RenderError::NoAudio { path: path.clone() })?;
            Some(
                codec::Context::from_parameters(astream.parameters())
                    .and_then(|c| c.decoder().audio())
                    .map_err(codec_err(path, "open audio decoder"))?,
            )
        }
        None => None,
    };
    let audio_index = ainfo.map(|a| a.index);
    let vtb = vinfo.time_base;
    let atb = ainfo.map_or(TimeBase::new(1, 1), |a| a.time_base);
    let origin = info.start_time_s;
    let duration = span.duration();

    // Outputs are opened on the first decoded video frame (its size and pixel format are
    // known then); audio decoded before that waits.
    let mut outputs: Vec<Output> = Vec::new();
    let mut pending_plans = Some(plans);
    let mut pending_audio: Vec<frame::Audio> = Vec::new();
    let mut afmt = adec.as_ref().map(AudioFormat::of_decoder);
    let mut vframe = frame::Video::empty();
    let mut aframe = frame::Audio::empty();
    let (mut video_done, mut audio_done, mut eof) = (false, adec.is_none(), false);
    let mut packets = ictx.packets();
    loop {
        match packets.next() {
            Some((stream, packet)) => {
                let i = stream.index();
                if i == vinfo.index && !video_done {
                    let _ = vdec.send_packet(&packet);
                } else if Some(i) == audio_index && !audio_done {
                    if let Some(adec) = adec.as_mut() {
                        let _ = adec.send_packet(&packet);
                    }
                } else {
                    continue;
                }
            }
            None => {
                let _ = vdec.send_eof();
                if let Some(adec) = adec.as_mut() {
                    let _ = adec.send_eof();
                }
                eof = true;
            }
        }
        while !video_done && vdec.receive_frame(&mut vframe).is_ok() {
            let Some(ts) = vframe.timestamp().or(vframe.pts()) else {
                continue;
            };
            let rel = vtb.to_secs(ts) - origin - span.start_s;
            if rel < -1.0 {
                continue;
            }
            if rel >= duration + 0.5 {
                video_done = true;
                break;
            }
            vframe.set_pts(Some((rel / vtb.to_secs(1)).round() as i64));
            if let Some(plans) = pending_plans.take() {
                outputs = plans
                    .into_iter()
                    .map(|p| open_output(info, &vframe, afmt.as_ref(), vtb, duration, p, engine))
                    .collect::<Result<_, _>>()?;
                for a in pending_audio.drain(..) {
                    push_audio(&mut outputs, &a, path)?;
                }
            }
            for o in &mut outputs {
                media::buffersrc_add_keep_ref(&mut source(&mut o.vgraph), &vframe)
                    .map_err(codec_err(path, "video filter input"))?;
                drain_video(o, has_host, span.start_s, path)?;
            }
        }
        while !audio_done
            && adec
                .as_mut()
                .is_some_and(|d| d.receive_frame(&mut aframe).is_ok())
        {
            let Some(ts) = aframe.timestamp().or(aframe.pts()) else {
                continue;
            };
            let rate = f64::from(aframe.rate().max(1));
            let rel = atb.to_secs(ts) - origin - span.start_s;
            if rel + aframe.samples() as f64 / rate < -1.0 {
                continue;
            }
            if rel >= duration + 0.5 {
                audio_done = true;
                break;
            }
            aframe.set_pts(Some((rel * rate).round() as i64));
            if outputs.is_empty() {
                if pending_audio.is_empty() {
                    afmt = Some(AudioFormat::of_frame(&aframe));
                }
                pending_audio.push(aframe.clone());
            } else {
                push_audio(&mut outputs, &aframe, path)?;
            }
        }
        if eof || (video_done && audio_done) {
            break;
        }
    }
    if outputs.is_empty() {
        return Err(RenderError::EmptySpan {
            path: path.clone(),
            start_s: span.start_s,
            end_s: span.end_s,
        });
    }
    let mut results = Vec::new();
    for mut o in outputs {
        source(&mut o.vgraph)
            .source()
            .flush()
            .map_err(codec_err(path, "video filter flush"))?;
        drain_video(&mut o, has_host, span.start_s, path)?;
        o.venc
            .send_eof()
            .map_err(codec_err(path, "video encoder flush"))?;
        write_packets_video(&mut o, path)?;
        if let Some(a) = o.audio.as_mut() {
            source(&mut a.graph)
                .source()
                .flush()
                .map_err(codec_err(path, "audio filter flush"))?;
            drain_audio(&mut o, path)?;
            if let Some(a) = o.audio.as_mut() {
                a.enc
                    .send_eof()
                    .map_err(codec_err(path, "audio encoder flush"))?;
            }
            write_packets_audio(&mut o, path)?;
        }
        o.octx
            .write_trailer()
            .map_err(codec_err(&o.plan.path, "finish the MP4"))?;
        let cover = o
            .cover
            .take()
            .and_then(|(t, _, f)| to_rgb(&f).map(|img| (t, img)));
        results.push(Encoded {
            frames: o.frames,
            audio_samples: o.audio_samples,
            cover,
        });
    }
    Ok(results)
}

fn source(g: &mut filter::Graph) -> filter::Context {
    // Both names are created by `open_output`; `get` only fails for unknown names.
    g.get("in")
        .unwrap_or_else(|| unreachable!("filter graph without input"))
}

fn push_audio(outputs: &mut [Output], a: &frame::Audio, path: &Path) -> Result<(), RenderError> {
    for o in outputs.iter_mut() {
        let Some(out) = o.audio.as_mut() else {
            continue;
        };
        media::buffersrc_add_keep_ref(&mut source(&mut out.graph), a)
            .map_err(codec_err(path, "audio filter input"))?;
        drain_audio(o, path)?;
    }
    Ok(())
}

/// Sample format, rate and channel layout the audio filter graph is fed with.
struct AudioFormat {
    format: format::Sample,
    rate: u32,
    layout: ffmpeg::ChannelLayout,
}

impl AudioFormat {
    fn layout(layout: ffmpeg::ChannelLayout, channels: u16) -> ffmpeg::ChannelLayout {
        if layout.is_empty() {
            ffmpeg::ChannelLayout::default(i32::from(channels))
        } else {
            layout
        }
    }

    fn of_decoder(d: &ffmpeg::decoder::Audio) -> Self {
        Self {
            format: d.format(),
            rate: d.rate(),
            layout: Self::layout(d.channel_layout(), d.channels()),
        }
    }

    fn of_frame(f: &frame::Audio) -> Self {
        Self {
            format: f.format(),
            rate: f.rate(),
            layout: Self::layout(f.channel_layout(), f.channels()),
        }
    }
}

fn open_output(
    info: &MediaInfo,
    first_video: &frame::Video,
    afmt: Option<&AudioFormat>,
    vtb: TimeBase,
    duration: f64,
    plan: OutputPlan,
    engine: Engine,
) -> Result<Output, RenderError> {
    let out_path = plan.path.clone();
    let err = |what: &str| codec_err(&out_path, what);
    let v = &plan.video;

    // Video graph: trim to the span, the platform's framing, constant frame rate, 4:2:0.
    let mut vgraph = filter::Graph::new();
    let sar = first_video.aspect_ratio();
    let sar = if sar.numerator() <= 0 {
        Rational(1, 1)
    } else {
        sar
    };
    let args = format!(
        "video_size={}x{}:pix_fmt={}:time_base={}/{}:pixel_aspect={}/{}",
        first_video.width(),
        first_video.height(),
        pix_fmt_id(first_video.format()),
        vtb.num,
        vtb.den,
        sar.numerator(),
        sar.denominator()
    );
    let buffer = filter::find("buffer").ok_or(ffmpeg::Error::FilterNotFound);
    vgraph
        .add(&buffer.map_err(err("video filter"))?, "in", &args)
        .map_err(err("video filter input"))?;
    let sink = filter::find("buffersink").ok_or(ffmpeg::Error::FilterNotFound);
    vgraph
        .add(&sink.map_err(err("video filter"))?, "out", "")
        .map_err(err("video filter output"))?;
    let fps = rational(v.fps);
    // The displayed picture first (rotation, square pixels): the platform's framing was
    // planned on it.
    let upright = info
        .video
        .as_ref()
        .and_then(|vi| vi.upright_filters())
        .map(|f| format!("{f},"))
        .unwrap_or_default();
    let vspec = format!(
        "trim=start=0:end={duration:.6},setpts=PTS-STARTPTS,{upright}{},fps={}/{},setsar=1,format=yuv420p",
        v.filters,
        fps.numerator(),
        fps.denominator()
    );
    vgraph
        .output("in", 0)
        .and_then(|p| p.input("out", 0))
        .and_then(|p| p.parse(&vspec))
        .map_err(err(&format!("video filters {vspec:?}")))?;
    vgraph.validate().map_err(err("video filter graph"))?;

    let agraph = match (&plan.audio, afmt) {
        (Some(a), Some(afmt)) => Some((a.clone(), audio_graph(afmt, duration, a, &out_path)?)),
        _ => None,
    };

    // Muxer and encoders.
    let mut octx = format::output_as(&plan.path, "mp4").map_err(err("create the MP4"))?;
    let global_header = octx.format().flags().contains(format::Flags::GLOBAL_HEADER);
    let vcodec = ffmpeg::encoder::find_by_name(engine.encoder_name()).ok_or_else(|| {
        RenderError::Encoder {
            name: engine.encoder_name().into(),
            message: "not in this FFmpeg build".into(),
        }
    })?;
    let mut venc = codec::Context::new_with_codec(vcodec)
        .encoder()
        .video()
        .map_err(err("video encoder"))?;
    venc.set_width(v.width);
    venc.set_height(v.height);
    venc.set_format(format::Pixel::YUV420P);
    venc.set_aspect_ratio(Rational(1, 1));
    let vtb_sink = vgraph
        .get("out")
        .map(|mut s| s.sink().time_base())
        .unwrap_or(Rational(fps.denominator(), fps.numerator()));
    venc.set_time_base(vtb_sink);
    venc.set_frame_rate(Some(fps));
    if global_header {
        venc.set_flags(codec::Flags::GLOBAL_HEADER);
    }
    let mut opts = ffmpeg::Dictionary::new();
    opts.set("b", &v.bitrate.to_string());
    opts.set("maxrate", &v.maxrate.to_string());
    opts.set("bufsize", &v.bufsize.to_string());
    opts.set("g", &v.gop.to_string());
    opts.set("profile", &v.profile);
    match engine {
        Engine::Cpu => {
            opts.set("preset", &v.x264_preset);
            opts.set("level", &v.level);
            // Closed GOPs of a fixed length, as YouTube and Meta ask for.
            opts.set(
                "x264-params",
                &format!("keyint={g}:min-keyint={g}:scenecut=0:open-gop=0", g = v.gop),
            );
        }
        Engine::Cuda => {
            opts.set("preset", "p4");
            opts.set("rc", "vbr");
            opts.set("strict_gop", "1");
        }
    }
    let venc = venc.open_with(opts).map_err(|e| RenderError::Encoder {
        name: engine.encoder_name().into(),
        message: format!("cannot open: {e}"),
    })?;
    let mut vst = octx
        .add_stream(vcodec)
        .map_err(err("add the video stream"))?;
    vst.set_parameters(&venc);
    vst.set_time_base(vtb_sink);

    let audio = match agraph {
        Some((a, graph)) => Some(open_audio(&mut octx, graph, &a, global_header, &out_path)?),
        None => None,
    };

    if let Some(created) = info.creation_time {
        let mut meta = ffmpeg::Dictionary::new();
        meta.set(
            "creation_time",
            &created.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        );
        octx.set_metadata(meta);
    }
    let mut mopts = ffmpeg::Dictionary::new();
    mopts.set("movflags", "+faststart");
    octx.write_header_with(mopts)
        .map_err(err("write the MP4 header"))?;
    Ok(Output {
        plan,
        vgraph,
        venc,
        audio,
        octx,
        vtb_sink,
        frames: 0,
        audio_samples: 0,
        cover: None,
    })
}

/// The AAC encoder and the MP4's sound track (stream 1) of an output.
fn open_audio(
    octx: &mut format::context::Output,
    mut agraph: filter::Graph,
    a: &AudioPlan,
    global_header: bool,
    out_path: &Path,
) -> Result<AudioOut, RenderError> {
    let err = |what: &str| codec_err(out_path, what);
    let acodec = ffmpeg::encoder::find(codec::Id::AAC).ok_or_else(|| RenderError::Encoder {
        name: "aac".into(),
        message: "not in this FFmpeg build".into(),
    })?;
    let mut aenc = codec::Context::new_with_codec(acodec)
        .encoder()
        .audio()
        .map_err(err("audio encoder"))?;
    aenc.set_rate(a.sample_rate as i32);
    aenc.set_channel_layout(ffmpeg::ChannelLayout::STEREO);
    aenc.set_channels(2);
    aenc.set_format(format::Sample::F32(format::sample::Type::Planar));
    aenc.set_bit_rate(a.bitrate as usize);
    aenc.set_time_base(Rational(1, a.sample_rate as i32));
    if global_header {
        aenc.set_flags(codec::Flags::GLOBAL_HEADER);
    }
    let aenc = aenc.open_as(acodec).map_err(|e| RenderError::Encoder {
        name: "aac".into(),
        message: format!("cannot open: {e}"),
    })?;
    if let Some(mut s) = agraph.get("out") {
        s.sink().set_frame_size(aenc.frame_size());
    }
    let mut ast = octx
        .add_stream(acodec)
        .map_err(err("add the audio stream"))?;
    ast.set_parameters(&aenc);
    ast.set_time_base(Rational(1, a.sample_rate as i32));

    Ok(AudioOut {
        graph: agraph,
        enc: aenc,
        tb_sink: Rational(1, a.sample_rate as i32),
    })
}

fn drain_video(
    o: &mut Output,
    has_host: &dyn Fn(f64) -> bool,
    span_start: f64,
    path: &Path,
) -> Result<(), RenderError> {
    let mut filtered = frame::Video::empty();
    loop {
        let got = match o.vgraph.get("out") {
            Some(mut s) => s.sink().frame(&mut filtered),
            None => Err(ffmpeg::Error::Bug),
        };
        if got.is_err() {
            break;
        }
        let t = filtered.pts().unwrap_or(0) as f64 * f64::from(o.vtb_sink);
        if let Some((a, b)) = o.plan.cover_window {
            // Every third frame of the window: a frame with the host beats one without,
            // then the sharper luma plane wins.
            if t >= a && t <= b && o.frames % 3 == 0 {
                let key = (has_host(span_start + t), sharpness(&filtered));
                let better = o.cover.as_ref().is_none_or(|(_, best, _)| {
                    (key.0 && !best.0) || (key.0 == best.0 && key.1 > best.1)
                });
                if better {
                    o.cover = Some((t, key, filtered.clone()));
                }
            }
        }
        o.frames += 1;
        filtered.set_kind(ffmpeg::picture::Type::None);
        o.venc
            .send_frame(&filtered)
            .map_err(codec_err(path, "video encoder"))?;
        write_packets_video(o, path)?;
    }
    Ok(())
}

fn drain_audio(o: &mut Output, path: &Path) -> Result<(), RenderError> {
    let mut filtered = frame::Audio::empty();
    loop {
        let Some(a) = o.audio.as_mut() else {
            return Ok(());
        };
        let got = match a.graph.get("out") {
            Some(mut s) => s.sink().frame(&mut filtered),
            None => Err(ffmpeg::Error::Bug),
        };
        if got.is_err() {
            break;
        }
        o.audio_samples += filtered.samples() as u64;
        a.enc
            .send_frame(&filtered)
            .map_err(codec_err(path, "audio encoder"))?;
        write_packets_audio(o, path)?;
    }
    Ok(())
}

fn write_packets_video(o: &mut Output, path: &Path) -> Result<(), RenderError> {
    let mut packet = ffmpeg::Packet::empty();
    let ost_tb = o.octx.stream(0).map_or(o.vtb_sink, |s| s.time_base());
    // One frame per packet: without a duration the muxer would end the track at the last
    // frame's start and players drop that frame.
    let frame_ticks = (1.0 / (o.plan.video.fps * f64::from(o.vtb_sink))).round() as i64;
    while o.venc.receive_packet(&mut packet).is_ok() {
        if packet.duration() <= 0 {
            packet.set_duration(frame_ticks.max(1));
        }
        packet.set_stream(0);
        packet.rescale_ts(o.vtb_sink, ost_tb);
        packet
            .write_interleaved(&mut o.octx)
            .map_err(codec_err(path, "write video"))?;
    }
    Ok(())
}

fn write_packets_audio(o: &mut Output, path: &Path) -> Result<(), RenderError> {
    let mut packet = ffmpeg::Packet::empty();
    let Some(a) = o.audio.as_mut() else {
        return Ok(());
    };
    let ost_tb = o.octx.stream(1).map_or(a.tb_sink, |s| s.time_base());
    while a.enc.receive_packet(&mut packet).is_ok() {
        packet.set_stream(1);
        packet.rescale_ts(a.tb_sink, ost_tb);
        packet
            .write_interleaved(&mut o.octx)
            .map_err(codec_err(path, "write audio"))?;
    }
    Ok(())
}

/// Variance of a 4-neighbour Laplacian over the luma plane (every second pixel): higher is
/// sharper (no motion blur, in focus).
fn sharpness(f: &frame::Video) -> f64 {
    let (w, h) = (f.width() as usize, f.height() as usize);
    let stride = f.stride(0);
    let y = f.data(0);
    let (mut sum, mut sum2, mut n) = (0.0f64, 0.0f64, 0.0f64);
    for r in (1..h.saturating_sub(1)).step_by(2) {
        for c in (1..w.saturating_sub(1)).step_by(2) {
            let at = |rr: usize, cc: usize| f64::from(y[rr * stride + cc]);
            let l = 4.0 * at(r, c) - at(r - 1, c) - at(r + 1, c) - at(r, c - 1) - at(r, c + 1);
            sum += l;
            sum2 += l * l;
            n += 1.0;
        }
    }
    if n == 0.0 {
        0.0
    } else {
        sum2 / n - (sum / n).powi(2)
    }
}

fn to_rgb(f: &frame::Video) -> Option<image::RgbImage> {
    let mut scaler = ffmpeg::software::scaling::Context::get(
        f.format(),
        f.width(),
        f.height(),
        format::Pixel::RGB24,
        f.width(),
        f.height(),
        ffmpeg::software::scaling::Flags::BICUBIC,
    )
    .ok()?;
    let mut rgb = frame::Video::empty();
    scaler.run(f, &mut rgb).ok()?;
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let stride = rgb.stride(0);
    let data = rgb.data(0);
    let mut buf = Vec::with_capacity(w * h * 3);
    for r in 0..h {
        buf.extend_from_slice(&data[r * stride..r * stride + 3 * w]);
    }
    image::RgbImage::from_raw(w as u32, h as u32, buf)
}
