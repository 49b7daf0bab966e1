//! Cutting clips. First cut: stream copy through libavformat, widened to the enclosing
//! key frames, timestamps rescaled at the remux boundary, `+faststart`.

use std::path::{Path, PathBuf};

use ffmpeg_next as ffmpeg;
use serde::{Deserialize, Serialize};

use crate::fsutil::{sha256_file, PendingFile};
use crate::media::{self, MediaError, MediaInfo};
use crate::time::{Span, TimeBase};

#[derive(Debug, thiserror::Error)]
pub enum CutError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("{path}: cannot write clip: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: ffmpeg::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: no video packets in {start_s:.3}–{end_s:.3} s; nothing to cut")]
    EmptySpan {
        path: PathBuf,
        start_s: f64,
        end_s: f64,
    },
}

/// A written clip and the facts a publishing script needs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClipFile {
    pub path: PathBuf,
    /// The span that was asked for.
    pub requested: Span,
    /// The span actually in the file (widened to key frames).
    pub span: Span,
    pub duration_s: f64,
    pub bytes: u64,
    pub sha256: String,
    pub video_codec: String,
    /// `None`: the clip has no sound (the recording has none).
    pub audio_codec: Option<String>,
}

/// Stream-copy `span` of the recording into `dest` (MP4). The clip starts at the last key
/// frame at or before `span.start_s` and ends at the first key frame at or after
/// `span.end_s` (or the end of the recording).
pub fn stream_copy(info: &MediaInfo, span: Span, dest: &Path) -> Result<ClipFile, CutError> {
    let Some(vinfo) = &info.video else {
        return Err(MediaError::NoVideo {
            path: info.path.clone(),
        }
        .into());
    };
    let mut ictx = media::open_input(&info.path)?;
    let origin = info.start_time_s;
    let target = ((origin + span.start_s) * f64::from(ffmpeg::ffi::AV_TIME_BASE)) as i64;
    if ictx.seek(target, ..target).is_err() {
        // Not seekable that way: read from the start.
        ictx = media::open_input(&info.path)?;
    }

    let pending = PendingFile::new(dest).map_err(|source| CutError::Io {
        path: dest.to_path_buf(),
        source,
    })?;
    let write_err = |source| CutError::Write {
        path: dest.to_path_buf(),
        source,
    };
    let mut octx = ffmpeg::format::output_as(pending.path(), "mp4").map_err(write_err)?;
    // Slot 0 the picture, slot 1 the sound (when the recording has it).
    let mut in_index = vec![vinfo.index];
    let mut in_tb = vec![vinfo.time_base];
    if let Some(a) = &info.audio {
        in_index.push(a.index);
        in_tb.push(a.time_base);
    }
    for &idx in &in_index {
        let Some(ist) = ictx.stream(idx) else {
            return Err(MediaError::NoVideo {
                path: info.path.clone(),
            }
            .into());
        };
        let mut ost = octx
            .add_stream(ffmpeg::encoder::find(ffmpeg::codec::Id::None))
            .map_err(write_err)?;
        ost.set_parameters(ist.parameters());
        media::clear_codec_tag(&mut ost);
        // A phone's rotation travels with the picture: the copy plays as the original.
        media::copy_display_matrix(&ist, &mut ost).map_err(write_err)?;
    }

    let mut state = CopyState::new(span, origin, in_tb.clone());
    loop {
        let mut packet = ffmpeg::Packet::empty();
        match packet.read(&mut ictx) {
            Ok(()) => {}
            Err(ffmpeg::Error::Eof) => break,
            Err(ffmpeg::Error::InvalidData) => continue,
            Err(_) => break, // truncated file: keep what we have
        }
        let Some(slot) = in_index.iter().position(|&i| i == packet.stream()) else {
            continue;
        };
        if state.push(slot, packet) == Flow::Done {
            break;
        }
    }
    let (clip_start, clip_end, packets) = state.finish();
    if packets.iter().all(|(slot, _)| *slot != 0) {
        return Err(CutError::EmptySpan {
            path: info.path.clone(),
            start_s: span.start_s,
            end_s: span.end_s,
        });
    }

    if let Some(created) = info.creation_time {
        let at = created + jiff::SignedDuration::try_from_secs_f64(clip_start).unwrap_or_default();
        let mut meta = ffmpeg::Dictionary::new();
        meta.set(
            "creation_time",
            &at.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        );
        octx.set_metadata(meta);
    }
    let mut opts = ffmpeg::Dictionary::new();
    opts.set("movflags", "+faststart");
    opts.set("avoid_negative_ts", "make_zero");
    octx.write_header_with(opts).map_err(write_err)?;
    let out_tb: Vec<ffmpeg::Rational> = (0..in_index.len())
        .map(|i| {
            octx.stream(i)
                .map(|s| s.time_base())
                .unwrap_or(ffmpeg::Rational(1, 90_000))
        })
        .collect();
    for (slot, mut packet) in packets {
        let tb = in_tb[slot];
        let offset = tb.from_secs(origin + clip_start);
        packet.set_pts(packet.pts().map(|p| p - offset));
        packet.set_dts(packet.dts().map(|d| d - offset));
        packet.rescale_ts(ffmpeg::Rational(tb.num, tb.den), out_tb[slot]);
        packet.set_position(-1);
        packet.set_stream(slot);
        packet.write_interleaved(&mut octx).map_err(write_err)?;
    }
    octx.write_trailer().map_err(write_err)?;
    drop(octx);

    let io_err = |source| CutError::Io {
        path: dest.to_path_buf(),
        source,
    };
    let bytes = std::fs::metadata(pending.path()).map_err(io_err)?.len();
    let sha256 = sha256_file(pending.path()).map_err(io_err)?;
    let path = pending.commit().map_err(io_err)?;
    Ok(ClipFile {
        path,
        requested: span,
        span: Span::new(clip_start, clip_end),
        duration_s: clip_end - clip_start,
        bytes,
        sha256,
        video_codec: vinfo.codec.clone(),
        audio_codec: info.audio.as_ref().map(|a| a.codec.clone()),
    })
}

#[derive(Debug, PartialEq, Eq)]
enum Flow {
    More,
    Done,
}

/// Decides which packets belong to the clip. Slot 0 is video, slot 1 audio.
struct CopyState {
    want: Span,
    origin: f64,
    /// Time bases of the slots (one slot: a recording without sound).
    tb: Vec<TimeBase>,
    /// Packets from the latest key frame at or before the start (or the clip so far).
    packets: Vec<(usize, ffmpeg::Packet)>,
    clip_start: Option<f64>,
    /// Set once a video key frame at or after the wanted end arrives.
    clip_end: Option<f64>,
    /// Set once a video key frame after the wanted start arrives.
    committed: bool,
    last_video_end: f64,
}

impl CopyState {
    fn new(want: Span, origin: f64, tb: Vec<TimeBase>) -> Self {
        Self {
            want,
            origin,
            tb,
            packets: Vec::new(),
            clip_start: None,
            clip_end: None,
            committed: false,
            last_video_end: 0.0,
        }
    }

    fn secs(&self, slot: usize, ticks: i64) -> f64 {
        self.tb[slot].to_secs(ticks) - self.origin
    }

    fn push(&mut self, slot: usize, packet: ffmpeg::Packet) -> Flow {
        const EPS: f64 = 1e-3;
        let Some(pts) = packet.pts().or(packet.dts()) else {
            return Flow::More;
        };
        let t = self.secs(slot, pts);
        if slot == 0 {
            if self.clip_end.is_some() {
                return Flow::More;
            }
            if packet.is_key() {
                if t <= self.want.start_s + EPS && !self.committed {
                    // A later key frame still at or before the start: restart there.
                    self.packets.clear();
                    self.clip_start = Some(t);
                } else if t > self.want.start_s + EPS && !self.committed {
                    self.committed = true;
                    if self.clip_start.is_none() {
                        self.clip_start = Some(t);
                    }
                }
                if self.committed && t >= self.want.end_s - EPS {
                    self.clip_end = Some(t);
                    // Without sound there is nothing left to wait for.
                    return if self.tb.len() == 1 {
                        Flow::Done
                    } else {
                        Flow::More
                    };
                }
            }
            if self.clip_start.is_none() {
                return Flow::More; // before the first usable key frame
            }
            let dur = self.tb[slot].to_secs(packet.duration().max(0));
            self.last_video_end = self.last_video_end.max(t + dur);
            self.packets.push((slot, packet));
            Flow::More
        } else {
            let Some(start) = self.clip_start else {
                return Flow::More;
            };
            if t + EPS < start {
                return Flow::More;
            }
            if let Some(end) = self.clip_end {
                if t >= end - EPS {
                    return Flow::Done;
                }
            }
            self.packets.push((slot, packet));
            Flow::More
        }
    }

    fn finish(self) -> (f64, f64, Vec<(usize, ffmpeg::Packet)>) {
        let start = self.clip_start.unwrap_or(self.want.start_s);
        let end = self.clip_end.unwrap_or(self.last_video_end).max(start);
        (start, end, self.packets)
    }
}
