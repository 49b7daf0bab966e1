//! Recorder files whose timestamps reset or leap inside one file (an FLV or MPEG-TS
//! written across a reconnect: the new connection's times start again at 0, or at the
//! server's clock). Players and FFmpeg's command line paper over it; a library user sees
//! the times go back, so frames, comments and orders after the break would land on the
//! wrong second and seeking would find the wrong place.
//!
//! [`timestamp_breaks`] reads the packets' times (no decoding) and says where the
//! timeline breaks; [`remux_monotonic`] copies the streams into a Matroska file whose
//! timeline runs on: after a break each stream continues right after its last packet.

use std::path::Path;

use ffmpeg_next as ffmpeg;
use serde::{Deserialize, Serialize};

use super::{open_input, MediaError, MediaInfo};
use crate::time::TimeBase;

/// A stream's times going back by more than this, seconds, is a reset.
const BACK_S: f64 = 1.0;
/// A stream's times leaping ahead by more than this, seconds, is a jump (no recorder
/// keeps a stream open that long without data).
const LEAP_S: f64 = 60.0;

/// Where a file's timeline breaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimestampBreak {
    /// Seconds into the repaired (monotonic) timeline, from the file's first time.
    pub at_s: f64,
    /// How far the raw times jumped, seconds (negative: back).
    pub jump_s: f64,
}

/// Whether a container is one where recorders' timestamps break (FLV, MPEG-TS).
pub fn may_break(info: &MediaInfo) -> bool {
    info.container
        .split(',')
        .any(|f| matches!(f, "flv" | "live_flv" | "mpegts"))
}

/// One stream's running offset.
struct Unwrap {
    tb: TimeBase,
    /// End of the last packet after the offset, ticks.
    last_end: Option<i64>,
    offset: i64,
}

impl Unwrap {
    /// The offset for a packet at `ts` ticks lasting `dur`; a break when it starts one.
    fn apply(&mut self, ts: i64, dur: i64) -> (i64, Option<(i64, i64)>) {
        let mut t = ts + self.offset;
        let mut broke = None;
        if let Some(last) = self.last_end {
            let back = t < last - self.tb.from_secs(BACK_S);
            let leap = t > last + self.tb.from_secs(LEAP_S);
            if back || leap {
                broke = Some((last, t - last));
                self.offset += last - t;
                t = last;
            }
        }
        self.last_end = Some(self.last_end.map_or(t, |l| l.max(t)) + dur.max(0));
        (self.offset, broke)
    }
}

/// Read `info`'s packets and return where its timeline breaks (empty: it does not).
pub fn timestamp_breaks(info: &MediaInfo) -> Result<Vec<TimestampBreak>, MediaError> {
    walk(info, None)
}

/// Copy every stream of `info` into `dest` (Matroska, written by the caller's pending
/// file) with monotonic times; the breaks it mended.
pub fn remux_monotonic(info: &MediaInfo, dest: &Path) -> Result<Vec<TimestampBreak>, MediaError> {
    walk(info, Some(dest))
}

fn walk(info: &MediaInfo, dest: Option<&Path>) -> Result<Vec<TimestampBreak>, MediaError> {
    let mut ictx = open_input(&info.path)?;
    let write_err = |source| MediaError::Codec {
        path: dest.unwrap_or(&info.path).to_path_buf(),
        what: "write the repaired copy".into(),
        source,
    };
    let mut unwraps: Vec<Unwrap> = ictx
        .streams()
        .map(|s| Unwrap {
            tb: super::probe::tb(s.time_base()),
            last_end: None,
            offset: 0,
        })
        .collect();
    let mut octx = match dest {
        Some(d) => {
            let mut o = ffmpeg::format::output_as(d, "matroska").map_err(write_err)?;
            for ist in ictx.streams() {
                let mut ost = o
                    .add_stream(ffmpeg::encoder::find(ffmpeg::codec::Id::None))
                    .map_err(write_err)?;
                ost.set_parameters(ist.parameters());
                ost.set_time_base(ist.time_base());
                super::clear_codec_tag(&mut ost);
            }
            o.set_metadata(ictx.metadata().to_owned());
            o.write_header().map_err(write_err)?;
            Some(o)
        }
        None => None,
    };
    let in_tbs: Vec<ffmpeg::Rational> = ictx.streams().map(|s| s.time_base()).collect();
    let origin = info.start_time_s;
    let mut breaks = Vec::new();
    loop {
        let mut packet = ffmpeg::Packet::empty();
        match packet.read(&mut ictx) {
            Ok(()) => {}
            Err(ffmpeg::Error::Eof) => break,
            Err(ffmpeg::Error::InvalidData) => continue,
            Err(_) => break, // truncated: keep what was read
        }
        let i = packet.stream();
        let Some(u) = unwraps.get_mut(i) else {
            continue;
        };
        let Some(ts) = packet.dts().or(packet.pts()) else {
            if let Some(o) = octx.as_mut() {
                let _ = packet.write_interleaved(o);
            }
            continue;
        };
        let (offset, broke) = u.apply(ts, packet.duration());
        if let Some((at, jump)) = broke {
            let at_s = u.tb.to_secs(at) - origin;
            // One break seen on several streams is reported once.
            if !breaks
                .iter()
                .any(|b: &TimestampBreak| (b.at_s - at_s).abs() < 2.0)
            {
                breaks.push(TimestampBreak {
                    at_s,
                    jump_s: u.tb.to_secs(jump),
                });
            }
        }
        if let Some(o) = octx.as_mut() {
            packet.set_pts(packet.pts().map(|p| p + offset));
            packet.set_dts(packet.dts().map(|d| d + offset));
            let out_tb = o.stream(i).map_or(in_tbs[i], |s| s.time_base());
            packet.rescale_ts(in_tbs[i], out_tb);
            packet.set_position(-1);
            packet.write_interleaved(o).map_err(write_err)?;
        }
    }
    if let Some(mut o) = octx {
        o.write_trailer().map_err(write_err)?;
    }
    Ok(breaks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_and_a_leap_continue_after_the_last_packet() {
        let mut u = Unwrap {
            tb: TimeBase::new(1, 1000),
            last_end: None,
            offset: 0,
        };
        // 40 ms packets up to 10 s, then the times start again at 0.
        for k in 0..250 {
            assert_eq!(u.apply(k * 40, 40), (0, None));
        }
        let (offset, broke) = u.apply(0, 40);
        assert_eq!(offset, 10_000);
        assert_eq!(broke, Some((10_000, -10_000)));
        assert_eq!(u.apply(40, 40), (10_000, None));
        // A leap of an hour: pulled back to run on.
        let (offset, broke) = u.apply(3_600_080, 40);
        assert_eq!(offset, 10_080 - 3_600_080);
        assert!(broke.is_some());
        // Small jitter backwards (B-frames, rounding) is no break.
        let (_, broke) = u.apply(3_600_080 - 500, 40);
        assert!(broke.is_none());
    }
}
