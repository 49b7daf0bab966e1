//! Streaming decode on its own thread: sparse grey analysis frames and full mono 16 kHz
//! audio, sent through a bounded channel so memory stays flat in recording length.

use std::path::PathBuf;
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Receiver, Sender};
use ffmpeg::software::{resampling, scaling};
use ffmpeg::{format::Pixel, format::Sample, frame, ChannelLayout};
use ffmpeg_next as ffmpeg;

use super::probe::open_input;
use super::{MediaError, MediaInfo, AUDIO_RATE};
use crate::time::TimeBase;

/// How to decode a recording for analysis.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// Analysis frames per second (upper bound).
    pub sample_fps: f64,
    /// Decode key frames only (much cheaper; the rate is then the key-frame rate, capped at
    /// `sample_fps`).
    pub keyframes_only: bool,
    /// Width of the grey analysis frames (height keeps the aspect ratio).
    pub analysis_width: u32,
    /// Decoder threads (0 = FFmpeg's choice).
    pub threads: usize,
    /// Also send RGB frames this wide (for the vision models), at most `rgb_fps` per second.
    pub rgb_width: Option<u32>,
    pub rgb_fps: f64,
    /// Only this stretch of the recording, `[start, end)` seconds from its start: the
    /// decoder seeks to the key frame before `start`, sends nothing earlier and stops
    /// after `end`.
    pub range: Option<(f64, f64)>,
    /// Skip the H.264/HEVC in-loop deblocking filter (about 13 % less decode work; the
    /// analysis frames are downscaled far below where its artefacts show).
    pub skip_loop_filter: bool,
    /// Do not decode frames no other frame refers to (most B-frames; about 40 % less
    /// decode work on x264's defaults). Sampling at a few frames per second never needs
    /// them all; sample times move by at most a frame or two.
    pub skip_nonref: bool,
    /// Whether the video is decoded with NVDEC (`h264_cuvid`, `hevc_cuvid`). Frames come
    /// back to system memory for the grey and RGB analysis frames; key-frame-only decoding
    /// still works (non-key packets are dropped before the decoder).
    pub nvdec: Nvdec,
    /// Sound only: video packets are dropped before any decoder (the speech stage reads
    /// the audio of short stretches this way).
    pub audio_only: bool,
}

/// NVDEC use for the analysis decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Nvdec {
    #[default]
    Off,
    /// When this FFmpeg and machine can (`--device auto`), else the CPU decoder.
    Prefer,
    /// Always; an error when it cannot be used (`--device cuda`).
    Require,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            sample_fps: 2.0,
            keyframes_only: false,
            analysis_width: 160,
            threads: 0,
            rgb_width: None,
            rgb_fps: 0.5,
            range: None,
            skip_loop_filter: false,
            skip_nonref: false,
            nvdec: Nvdec::Off,
            audio_only: false,
        }
    }
}

/// A downscaled 8-bit grey frame at presentation time `t` (seconds).
#[derive(Debug, Clone)]
pub struct GrayFrame {
    pub t: f64,
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

/// A block of mono f32 samples at [`AUDIO_RATE`], the first one at `t` seconds, and the
/// same block as interleaved stereo when the source has two or more channels.
#[derive(Debug, Clone)]
pub struct AudioBlock {
    pub t: f64,
    pub samples: Vec<f32>,
    pub stereo: Option<Vec<f32>>,
}

/// A downscaled RGB24 frame (tightly packed) at presentation time `t` (seconds).
#[derive(Debug, Clone)]
pub struct RgbFrame {
    pub t: f64,
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

#[derive(Debug)]
pub enum DecodeEvent {
    Video(GrayFrame),
    Rgb(RgbFrame),
    Audio(AudioBlock),
}

/// What the decode thread saw.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct DecodeStats {
    pub video_frames_decoded: u64,
    pub video_frames_sent: u64,
    pub audio_samples: u64,
    pub corrupt_packets: u64,
    /// Last presentation time seen, seconds.
    pub decoded_until_s: f64,
    /// Set when demuxing stopped on an error rather than at the end of the file.
    pub read_error: Option<String>,
}

/// The mono 16 kHz samples of `[start_s, end_s)` (seconds from the recording's start),
/// decoding the sound only. Shorter than asked where the recording ends early; empty for
/// a recording without sound.
pub fn read_audio(info: &MediaInfo, start_s: f64, end_s: f64) -> Result<Vec<f32>, MediaError> {
    if info.audio.is_none() {
        return Ok(Vec::new());
    }
    let opts = DecodeOptions {
        range: Some((start_s.max(0.0), end_s)),
        audio_only: true,
        ..DecodeOptions::default()
    };
    let (rx, handle) = spawn_decoder(info, opts);
    let rate = f64::from(AUDIO_RATE);
    let len = ((end_s - start_s.max(0.0)).max(0.0) * rate).round() as usize;
    let mut out = vec![0f32; len];
    let mut filled = 0usize;
    for ev in rx.iter() {
        if let DecodeEvent::Audio(block) = ev {
            // Place each block at its own time (a gap in the stream stays silent).
            let at = ((block.t - start_s.max(0.0)) * rate).round().max(0.0) as usize;
            for (i, &x) in block.samples.iter().enumerate() {
                if let Some(slot) = out.get_mut(at + i) {
                    *slot = x;
                    filled = filled.max(at + i + 1);
                }
            }
        }
    }
    let joined = handle.join().map_err(|_| MediaError::Undecodable {
        path: info.path.clone(),
        detail: "the decode thread panicked".into(),
    })?;
    joined?;
    out.truncate(filled);
    Ok(out)
}

/// Start decoding `info.path` on a new thread. Events arrive on the returned channel; the
/// handle yields the statistics (or the error that stopped decoding). Dropping the
/// receiver stops the thread.
pub fn spawn_decoder(
    info: &MediaInfo,
    opts: DecodeOptions,
) -> (
    Receiver<DecodeEvent>,
    JoinHandle<Result<DecodeStats, MediaError>>,
) {
    let (tx, rx) = bounded(64);
    let info = info.clone();
    let handle = std::thread::Builder::new()
        .name("livecut-decode".into())
        .spawn(move || Decoder::open(&info, opts)?.run(&tx))
        .map_err(|e| MediaError::Io {
            path: PathBuf::new(),
            source: e,
        });
    let handle = match handle {
        Ok(h) => h,
        // Spawning a thread only fails when the OS is out of resources; report it through
        // the same channel as a decode error.
        Err(e) => std::thread::spawn(move || Err(e)),
    };
    (rx, handle)
}

struct Decoder {
    /// The stretch to decode (seconds from the recording's start; infinite when whole).
    range_start: f64,
    range_end: f64,
    /// A packet of this stream beyond `range_end` (+ reorder margin) has been read.
    video_done: bool,
    audio_done: bool,
    path: PathBuf,
    ictx: ffmpeg::format::context::Input,
    origin_s: f64,
    opts: DecodeOptions,
    video_index: usize,
    video_tb: TimeBase,
    video: ffmpeg::decoder::Video,
    scaler: Option<(scaling::Context, (Pixel, u32, u32))>,
    rgb_scaler: Option<(scaling::Context, (Pixel, u32, u32))>,
    /// The displayed picture's size and the clockwise turn that shows the coded one
    /// upright ([`crate::media::VideoInfo`]).
    displayed: (u32, u32),
    rotation: u32,
    next_sample_t: f64,
    next_rgb_t: f64,
    /// The sound's stream, time base and decoder; `None` for a recording without sound
    /// (its analysis has picture and timelines only).
    audio_index: Option<usize>,
    audio_tb: TimeBase,
    audio: Option<ffmpeg::decoder::Audio>,
    resampler: Option<resampling::Context>,
    audio_t0: Option<f64>,
    /// Channels of the resampler's output source (set from the first decoded frame).
    audio_channels: u16,
    stats: DecodeStats,
}

impl Decoder {
    fn open(info: &MediaInfo, opts: DecodeOptions) -> Result<Self, MediaError> {
        let path = info.path.clone();
        let ictx = open_input(&path)?;
        let Some(vinfo) = &info.video else {
            return Err(MediaError::NoVideo { path });
        };
        let codec_err = |what: &str| {
            let path = path.clone();
            let what = what.to_string();
            move |source| MediaError::Codec { path, what, source }
        };
        let nvdec =
            match opts.nvdec {
                Nvdec::Off => None,
                Nvdec::Prefer => super::nvdec_decoder(&vinfo.codec).ok(),
                Nvdec::Require => Some(super::nvdec_decoder(&vinfo.codec).map_err(|message| {
                    MediaError::Nvdec {
                        path: path.clone(),
                        message,
                    }
                })?),
            };
        let video = match nvdec {
            Some(cuvid) => match ictx
                .stream(vinfo.index)
                .ok_or(ffmpeg::Error::StreamNotFound)
                .and_then(|s| ffmpeg::codec::Context::from_parameters(s.parameters()))
                .and_then(|c| c.decoder().open_as(cuvid))
                .and_then(|o| o.video())
            {
                Ok(v) => v,
                Err(e) if opts.nvdec == Nvdec::Require => {
                    return Err(MediaError::Nvdec {
                        path,
                        message: format!("cannot open {}: {e}", cuvid.name()),
                    })
                }
                Err(e) => {
                    tracing::info!("{}: NVDEC unavailable ({e}), CPU decode", path.display());
                    Self::cpu_video_decoder(&ictx, vinfo.index, &opts, &path)?
                }
            },
            None => Self::cpu_video_decoder(&ictx, vinfo.index, &opts, &path)?,
        };

        let audio = match &info.audio {
            Some(ainfo) => {
                let astream = ictx
                    .stream(ainfo.index)
                    .ok_or_else(|| MediaError::NoAudio { path: path.clone() })?;
                let actx = ffmpeg::codec::Context::from_parameters(astream.parameters())
                    .map_err(codec_err("audio decoder"))?;
                let dec = actx
                    .decoder()
                    .audio()
                    .map_err(codec_err("open audio decoder"))?;
                Some((ainfo.index, ainfo.time_base, dec))
            }
            None => None,
        };

        let mut ictx = ictx;
        if let Some((start, _)) = opts.range.filter(|(start, _)| *start > 0.0) {
            // Seek to the key frame at or before `start` (AV_TIME_BASE units, on the
            // file's own clock). A file that cannot seek is read from its beginning and
            // everything before `start` is dropped, which is slower but the same.
            let ts = ((start + info.start_time_s) * 1e6) as i64;
            if let Err(e) = ictx.seek(ts, ..ts) {
                tracing::debug!("{}: seek to {start:.1} s failed ({e})", path.display());
            }
        }
        let (range_start, range_end) = opts.range.unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
        Ok(Self {
            range_start,
            range_end,
            video_done: opts.audio_only,
            audio_done: audio.is_none(),
            path,
            ictx,
            origin_s: info.start_time_s,
            opts,
            video_index: vinfo.index,
            video_tb: vinfo.time_base,
            video,
            scaler: None,
            rgb_scaler: None,
            displayed: (vinfo.width.max(1), vinfo.height.max(1)),
            rotation: vinfo.rotation,
            next_sample_t: f64::NEG_INFINITY,
            next_rgb_t: f64::NEG_INFINITY,
            audio_index: audio.as_ref().map(|a| a.0),
            audio_tb: audio.as_ref().map_or(TimeBase::new(1, 1), |a| a.1),
            audio: audio.map(|a| a.2),
            resampler: None,
            audio_t0: None,
            audio_channels: 1,
            stats: DecodeStats::default(),
        })
    }

    /// A fresh CPU decoder for the video stream (after NVDEC refused to open).
    fn cpu_video_decoder(
        ictx: &ffmpeg::format::context::Input,
        index: usize,
        opts: &DecodeOptions,
        path: &std::path::Path,
    ) -> Result<ffmpeg::decoder::Video, MediaError> {
        let codec_err = |source| MediaError::Codec {
            path: path.to_path_buf(),
            what: "open video decoder".into(),
            source,
        };
        let stream = ictx.stream(index).ok_or_else(|| MediaError::NoVideo {
            path: path.to_path_buf(),
        })?;
        let mut ctx =
            ffmpeg::codec::Context::from_parameters(stream.parameters()).map_err(codec_err)?;
        ctx.set_threading(ffmpeg::threading::Config {
            kind: ffmpeg::threading::Type::Frame,
            count: opts.threads,
            ..Default::default()
        });
        let mut dec = ctx.decoder();
        if opts.keyframes_only {
            dec.skip_frame(ffmpeg::Discard::NonKey);
        } else if opts.skip_nonref {
            dec.skip_frame(ffmpeg::Discard::NonReference);
        }
        if opts.skip_loop_filter {
            dec.skip_loop_filter(ffmpeg::Discard::All);
        }
        dec.video().map_err(codec_err)
    }

    fn run(mut self, tx: &Sender<DecodeEvent>) -> Result<DecodeStats, MediaError> {
        let mut consecutive_errors = 0u32;
        loop {
            let mut packet = ffmpeg::Packet::empty();
            match packet.read(&mut self.ictx) {
                Ok(()) => consecutive_errors = 0,
                Err(ffmpeg::Error::Eof) => break,
                Err(ffmpeg::Error::InvalidData) => {
                    self.stats.corrupt_packets += 1;
                    consecutive_errors += 1;
                    if consecutive_errors > 1000 {
                        self.stats.read_error = Some("too many invalid packets".into());
                        break;
                    }
                    continue;
                }
                Err(e) => {
                    self.stats.read_error = Some(e.to_string());
                    break;
                }
            }
            let idx = packet.stream();
            if self.range_end.is_finite() && self.past_range(&packet) {
                if self.video_done && self.audio_done {
                    break;
                }
                continue;
            }
            let keep_going = if idx == self.video_index {
                if self.opts.audio_only {
                    continue;
                }
                if self.opts.keyframes_only && !self.wanted_key_packet(&packet) {
                    continue;
                }
                self.feed_video(Some(&packet), tx)
            } else if Some(idx) == self.audio_index {
                self.feed_audio(Some(&packet), tx)
            } else {
                true
            };
            if !keep_going {
                return Ok(self.stats); // receiver hung up
            }
        }
        // Drain both decoders.
        if self.feed_video(None, tx) {
            self.feed_audio(None, tx);
        }
        if self.stats.video_frames_decoded == 0 && self.stats.audio_samples == 0 {
            return Err(MediaError::Undecodable {
                path: self.path,
                detail: self
                    .stats
                    .read_error
                    .unwrap_or_else(|| format!("{} corrupt packets", self.stats.corrupt_packets)),
            });
        }
        Ok(self.stats)
    }

    /// With key frames only: whether this video packet is a key frame that will be
    /// sampled (the others are never even parsed).
    fn wanted_key_packet(&self, packet: &ffmpeg::Packet) -> bool {
        if !packet.is_key() {
            return false;
        }
        match packet.pts() {
            // Half a frame early still counts: key frames sit on the sampling grid.
            Some(pts) => self.video_tb.to_secs(pts) - self.origin_s + 0.02 >= self.next_sample_t,
            None => true,
        }
    }

    /// Whether `packet` lies beyond the range end (by more than the decoders' reordering
    /// delay); marks its stream as done.
    fn past_range(&mut self, packet: &ffmpeg::Packet) -> bool {
        /// Frames a packet this much past the end may still hold back are not needed.
        const MARGIN_S: f64 = 1.0;
        let idx = packet.stream();
        let (tb, done) = if idx == self.video_index {
            (self.video_tb, &mut self.video_done)
        } else if Some(idx) == self.audio_index {
            (self.audio_tb, &mut self.audio_done)
        } else {
            return true;
        };
        let Some(ts) = packet.dts().or(packet.pts()) else {
            return *done;
        };
        if tb.to_secs(ts) - self.origin_s > self.range_end + MARGIN_S {
            *done = true;
        }
        *done
    }

    /// Send a packet (or EOF) to the video decoder and forward sampled frames.
    /// Returns false when the receiver has gone away.
    fn feed_video(&mut self, packet: Option<&ffmpeg::Packet>, tx: &Sender<DecodeEvent>) -> bool {
        let sent = match packet {
            Some(p) => self.video.send_packet(p),
            None => self.video.send_eof(),
        };
        if sent.is_err() && packet.is_some() {
            self.stats.corrupt_packets += 1;
        }
        let mut decoded = frame::Video::empty();
        while self.video.receive_frame(&mut decoded).is_ok() {
            self.stats.video_frames_decoded += 1;
            let Some(pts) = decoded.timestamp().or(decoded.pts()) else {
                continue;
            };
            let t = self.video_tb.to_secs(pts) - self.origin_s;
            self.stats.decoded_until_s = self.stats.decoded_until_s.max(t);
            if t + 1e-6 < self.range_start || t >= self.range_end {
                continue;
            }
            if t + 1e-6 < self.next_sample_t {
                continue;
            }
            let step = 1.0 / self.opts.sample_fps.max(0.01);
            // Next sample on the regular grid after t (keeps the rate steady even when
            // frame times jitter).
            // The epsilon keeps t = 0.6, step = 0.2 (0.6 / 0.2 = 2.9999…) from sampling twice.
            self.next_sample_t = ((t / step + 1e-6).floor() + 1.0) * step;
            if self.opts.rgb_width.is_some() && t + 1e-6 >= self.next_rgb_t {
                let step = 1.0 / self.opts.rgb_fps.max(0.001);
                self.next_rgb_t = ((t / step + 1e-6).floor() + 1.0) * step;
                if let Some(rgb) = self.scale_to_rgb(&decoded, t) {
                    if tx.send(DecodeEvent::Rgb(rgb)).is_err() {
                        return false;
                    }
                }
            }
            match self.scale_to_gray(&decoded, t) {
                Some(gray) => {
                    self.stats.video_frames_sent += 1;
                    if tx.send(DecodeEvent::Video(gray)).is_err() {
                        return false;
                    }
                }
                None => self.stats.corrupt_packets += 1,
            }
        }
        true
    }

    fn scale_to_gray(&mut self, src: &frame::Video, t: f64) -> Option<GrayFrame> {
        let width = self.opts.analysis_width;
        let (data, width, height) = self.upright(src, width, Pixel::GRAY8, false)?;
        Some(GrayFrame {
            t,
            width,
            height,
            data,
        })
    }

    fn scale_to_rgb(&mut self, src: &frame::Video, t: f64) -> Option<RgbFrame> {
        let width = self.opts.rgb_width?;
        let (data, width, height) = self.upright(src, width, Pixel::RGB24, true)?;
        Some(RgbFrame {
            t,
            width,
            height,
            data,
        })
    }

    /// `src` scaled to at most `width` pixels wide (even sizes) as the picture is
    /// displayed: anamorphic pixels made square and the display matrix's rotation
    /// applied, so faces, text and motion are measured upright. Tightly packed rows.
    fn upright(
        &mut self,
        src: &frame::Video,
        width: u32,
        pixel: Pixel,
        rgb: bool,
    ) -> Option<(Vec<u8>, u32, u32)> {
        if src.width() == 0 || src.height() == 0 {
            return None;
        }
        let (disp_w, disp_h) = self.displayed;
        let out_w = width.min(disp_w).max(16) & !1;
        let out_h =
            ((u64::from(out_w) * u64::from(disp_h) / u64::from(disp_w.max(1))) as u32).max(2) & !1;
        // The scaler writes the coded orientation; the rotation comes after.
        let (scaled_w, scaled_h) = if self.rotation % 180 == 90 {
            (out_h, out_w)
        } else {
            (out_w, out_h)
        };
        let key = (src.format(), src.width(), src.height());
        let slot = if rgb {
            &mut self.rgb_scaler
        } else {
            &mut self.scaler
        };
        if slot.as_ref().map(|(_, k)| *k) != Some(key) {
            let flags = if rgb {
                scaling::Flags::BILINEAR
            } else {
                scaling::Flags::AREA
            };
            let ctx = scaling::Context::get(
                src.format(),
                src.width(),
                src.height(),
                pixel,
                scaled_w,
                scaled_h,
                flags,
            )
            .ok()?;
            *slot = Some((ctx, key));
        }
        let (scaler, _) = slot.as_mut()?;
        let mut out = frame::Video::empty();
        scaler.run(src, &mut out).ok()?;
        let channels = if rgb { 3 } else { 1 };
        let (w, h) = (out.width() as usize, out.height() as usize);
        let stride = out.stride(0);
        let plane = out.data(0);
        let mut data = Vec::with_capacity(w * h * channels);
        for row in 0..h {
            data.extend_from_slice(&plane[row * stride..row * stride + w * channels]);
        }
        if self.rotation == 0 {
            return Some((data, w as u32, h as u32));
        }
        Some(if rgb {
            let img = image::RgbImage::from_raw(w as u32, h as u32, data)?;
            let img = rotate_clockwise(&img, self.rotation);
            let (w, h) = img.dimensions();
            (img.into_raw(), w, h)
        } else {
            let img = image::GrayImage::from_raw(w as u32, h as u32, data)?;
            let img = rotate_clockwise(&img, self.rotation);
            let (w, h) = img.dimensions();
            (img.into_raw(), w, h)
        })
    }

    /// Send a packet (or EOF) to the audio decoder, resample to mono f32 16 kHz, forward.
    fn feed_audio(&mut self, packet: Option<&ffmpeg::Packet>, tx: &Sender<DecodeEvent>) -> bool {
        let Some(audio) = self.audio.as_mut() else {
            return true;
        };
        let sent = match packet {
            Some(p) => audio.send_packet(p),
            None => audio.send_eof(),
        };
        if sent.is_err() && packet.is_some() {
            self.stats.corrupt_packets += 1;
        }
        let mut decoded = frame::Audio::empty();
        while self
            .audio
            .as_mut()
            .is_some_and(|a| a.receive_frame(&mut decoded).is_ok())
        {
            if self.audio_t0.is_none() {
                let pts = decoded.timestamp().or(decoded.pts()).unwrap_or(0);
                self.audio_t0 = Some(self.audio_tb.to_secs(pts) - self.origin_s);
            }
            if self.resampler.is_none() {
                self.audio_channels = decoded.channels().clamp(1, 2);
                let layout = if decoded.channel_layout().is_empty() {
                    ChannelLayout::default(i32::from(decoded.channels()))
                } else {
                    decoded.channel_layout()
                };
                self.resampler = resampling::Context::get(
                    decoded.format(),
                    layout,
                    decoded.rate(),
                    Sample::F32(ffmpeg::format::sample::Type::Packed),
                    out_layout(decoded.channels()),
                    AUDIO_RATE,
                )
                .ok();
            }
            let Some(resampler) = self.resampler.as_mut() else {
                self.stats.corrupt_packets += 1;
                continue;
            };
            // A fresh output frame per call: `run` only allocates an empty one.
            let mut out = frame::Audio::empty();
            if resampler.run(&decoded, &mut out).is_err() {
                self.stats.corrupt_packets += 1;
                continue;
            }
            if !self.send_audio(&out, tx) {
                return false;
            }
        }
        if packet.is_none() {
            // Drain the resampler.
            while let Some(resampler) = self.resampler.as_mut() {
                let mut out = frame::Audio::new(
                    Sample::F32(ffmpeg::format::sample::Type::Packed),
                    1024,
                    out_layout(self.audio_channels),
                );
                if resampler.flush(&mut out).is_err() || out.samples() == 0 {
                    break;
                }
                if !self.send_audio(&out, tx) {
                    return false;
                }
            }
        }
        true
    }
}

/// `img` turned clockwise by `degrees` (90, 180 or 270; anything else: unchanged).
fn rotate_clockwise<P: image::Pixel + 'static>(
    img: &image::ImageBuffer<P, Vec<P::Subpixel>>,
    degrees: u32,
) -> image::ImageBuffer<P, Vec<P::Subpixel>> {
    match degrees {
        90 => image::imageops::rotate90(img),
        180 => image::imageops::rotate180(img),
        270 => image::imageops::rotate270(img),
        _ => img.clone(),
    }
}

/// Mono sources stay mono; anything with two or more channels is mixed to stereo.
fn out_layout(channels: u16) -> ChannelLayout {
    if channels >= 2 {
        ChannelLayout::STEREO
    } else {
        ChannelLayout::MONO
    }
}

impl Decoder {
    fn send_audio(&mut self, out: &frame::Audio, tx: &Sender<DecodeEvent>) -> bool {
        let n = out.samples();
        if n == 0 {
            return true;
        }
        // Stereo (or mono) interleaved at 16 kHz: loudness is measured on the channels as
        // EBU R128 defines it; the models get the mono mix.
        let channels = usize::from(self.audio_channels.clamp(1, 2));
        let t =
            self.audio_t0.unwrap_or(0.0) + self.stats.audio_samples as f64 / f64::from(AUDIO_RATE);
        self.stats.audio_samples += n as u64;
        let rate = f64::from(AUDIO_RATE);
        self.stats.decoded_until_s = self.stats.decoded_until_s.max(t + n as f64 / rate);
        // Only the samples inside the range.
        let first = if t < self.range_start {
            (((self.range_start - t) * rate).ceil() as usize).min(n)
        } else {
            0
        };
        let last = if t + n as f64 / rate > self.range_end {
            (((self.range_end - t) * rate).ceil().max(0.0) as usize).min(n)
        } else {
            n
        };
        if first >= last {
            return true;
        }
        let t = t + first as f64 / rate;
        let interleaved: Vec<f32> = out.plane::<f32>(0)[first * channels..last * channels].to_vec();
        let samples: Vec<f32> = if channels == 2 {
            interleaved
                .chunks_exact(2)
                .map(|c| 0.5 * (c[0] + c[1]))
                .collect()
        } else {
            interleaved.clone()
        };
        tx.send(DecodeEvent::Audio(AudioBlock {
            t,
            samples,
            stereo: (channels == 2).then_some(interleaved),
        }))
        .is_ok()
    }
}
