//! Saves what arrived, per remote participant, so people and tests can
//! inspect it with standard tools (`--save-received DIR` on the command line).
//!
//! For participant 7 named "Bob" it writes, in `DIR`:
//! `7-Bob.wav` (decoded audio, 48 kHz mono), `7-Bob.y4m` (decoded camera
//! video), `7-Bob.opus` (the received Opus packets in Ogg) and `7-Bob.h264`
//! (the received access units, Annex B). A screen share goes to
//! `7-Bob-screen.y4m` and `7-Bob-screen.h264`. Video keeps the size of its
//! first picture (a later simulcast layer switch is scaled to it), because
//! a Y4M file has one size.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use confer_media::frame::VideoFrame;
use confer_media::ogg::OggOpusWriter;
use confer_media::wav::WavWriter;
use confer_media::y4m::Y4mWriter;
use confer_wire::ids::ParticipantId;

use super::sink::{MediaOutput, MediaSink, VideoKind};

/// Frame rate written in the Y4M header (players need one; pictures are
/// written as they arrive).
const Y4M_FPS: u32 = 30;

/// One video track's files.
struct VideoFiles {
    y4m: Option<Y4mWriter<BufWriter<File>>>,
    /// Size of the first picture; later ones are scaled to it.
    size: (u32, u32),
    h264: Option<BufWriter<File>>,
}

/// One participant's files, opened when their first media arrives.
#[derive(Default)]
struct ParticipantFiles {
    wav: Option<WavWriter>,
    opus: Option<OggOpusWriter<BufWriter<File>>>,
    /// Timestamp of the last Opus packet written: late and repeated packets
    /// are left out so the Ogg stream stays in order.
    last_opus_ts: Option<u32>,
    video: BTreeMap<bool, VideoFiles>,
}

/// A [`MediaSink`] that writes each remote participant's media to files.
pub struct SaveReceived {
    dir: PathBuf,
    names: BTreeMap<ParticipantId, String>,
    files: BTreeMap<ParticipantId, ParticipantFiles>,
    /// Files that could not be written, so the trouble is reported once.
    failed: Vec<PathBuf>,
}

impl std::fmt::Debug for SaveReceived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaveReceived")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl SaveReceived {
    /// A sink writing into `dir` (created if missing).
    pub fn new(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(SaveReceived {
            dir: dir.to_path_buf(),
            names: BTreeMap::new(),
            files: BTreeMap::new(),
            failed: Vec::new(),
        })
    }

    /// The path of `participant`'s file with `suffix` (`.wav`, `-screen.y4m`).
    pub fn path_for(&self, participant: ParticipantId, suffix: &str) -> PathBuf {
        let name = self.names.get(&participant).map_or("participant", |n| n);
        self.dir
            .join(format!("{participant}-{}{suffix}", file_safe(name)))
    }

    fn create(&mut self, path: &Path) -> Option<BufWriter<File>> {
        match File::create(path) {
            Ok(f) => Some(BufWriter::new(f)),
            Err(e) => {
                self.report(path, &e);
                None
            }
        }
    }

    fn report(&mut self, path: &Path, e: &dyn std::fmt::Display) {
        if !self.failed.iter().any(|p| p == path) {
            tracing::warn!("cannot save {}: {e}", path.display());
            self.failed.push(path.to_path_buf());
        }
    }

    fn video(&mut self, participant: ParticipantId, screen: bool, frame: &VideoFrame) {
        let suffix = if screen { "-screen" } else { "" };
        // The first picture opens the Y4M file and fixes its size (the
        // encoded stream may have opened the track's entry already).
        let started = self
            .files
            .get(&participant)
            .and_then(|f| f.video.get(&screen))
            .is_some_and(|v| v.size != (0, 0));
        if !started {
            let y4m_path = self.path_for(participant, &format!("{suffix}.y4m"));
            let y4m = self.create(&y4m_path).map(|w| Y4mWriter::new(w, Y4M_FPS));
            let v = self
                .files
                .entry(participant)
                .or_default()
                .video
                .entry(screen)
                .or_insert(VideoFiles {
                    y4m: None,
                    size: (0, 0),
                    h264: None,
                });
            v.y4m = y4m;
            v.size = (frame.width, frame.height);
        }
        let Some(v) = self
            .files
            .get_mut(&participant)
            .and_then(|f| f.video.get_mut(&screen))
        else {
            return;
        };
        let (w, h) = v.size;
        let scaled;
        let pic = if (frame.width, frame.height) == (w, h) {
            frame
        } else {
            scaled = frame.scaled(w, h);
            &scaled
        };
        if let Some(y4m) = v.y4m.as_mut()
            && let Err(e) = y4m.write_frame(pic)
        {
            v.y4m = None;
            let path = self.path_for(participant, &format!("{suffix}.y4m"));
            self.report(&path, &e);
        }
    }

    fn h264(&mut self, participant: ParticipantId, screen: bool, annex_b: &[u8]) {
        let suffix = if screen { "-screen" } else { "" };
        let path = self.path_for(participant, &format!("{suffix}.h264"));
        let has_file = self
            .files
            .get(&participant)
            .and_then(|f| f.video.get(&screen))
            .is_some_and(|v| v.h264.is_some());
        let new_file = if has_file { None } else { self.create(&path) };
        let files = self.files.entry(participant).or_default();
        let v = files.video.entry(screen).or_insert(VideoFiles {
            y4m: None,
            size: (0, 0),
            h264: None,
        });
        if new_file.is_some() {
            v.h264 = new_file;
        }
        if let Some(out) = v.h264.as_mut()
            && let Err(e) = out.write_all(annex_b)
        {
            v.h264 = None;
            self.report(&path, &e);
        }
    }

    fn opus(&mut self, participant: ParticipantId, timestamp: u32, opus: &[u8]) {
        let path = self.path_for(participant, ".opus");
        let has_file = self
            .files
            .get(&participant)
            .is_some_and(|f| f.opus.is_some());
        let mut new_writer = None;
        if !has_file && let Some(out) = self.create(&path) {
            match OggOpusWriter::new(out, participant.0) {
                Ok(w) => new_writer = Some(w),
                Err(e) => self.report(&path, &e),
            }
        }
        let files = self.files.entry(participant).or_default();
        if new_writer.is_some() {
            files.opus = new_writer;
        }
        if files
            .last_opus_ts
            .is_some_and(|last| (timestamp.wrapping_sub(last) as i32) <= 0)
        {
            return;
        }
        files.last_opus_ts = Some(timestamp);
        if let Some(w) = files.opus.as_mut()
            && let Err(e) = w.write_packet(opus)
        {
            files.opus = None;
            self.report(&path, &e);
        }
    }
}

impl MediaSink for SaveReceived {
    fn participant_named(&mut self, participant: ParticipantId, name: &str) {
        // The first name sticks: files already open keep their names.
        self.names
            .entry(participant)
            .or_insert_with(|| name.to_owned());
    }

    fn handle(&mut self, output: MediaOutput) {
        match output {
            MediaOutput::Audio { participant, frame } => self
                .files
                .entry(participant)
                .or_default()
                .wav
                .get_or_insert_with(WavWriter::new)
                .push(&frame.samples),
            MediaOutput::Video(v) => {
                self.video(v.participant, v.kind == VideoKind::Screen, &v.frame);
            }
            MediaOutput::EncodedAudio {
                participant,
                timestamp,
                opus,
            } => self.opus(participant, timestamp, &opus),
            MediaOutput::EncodedVideo {
                participant,
                kind,
                annex_b,
                ..
            } => self.h264(participant, kind == VideoKind::Screen, &annex_b),
        }
    }

    fn finish(&mut self) {
        let files = std::mem::take(&mut self.files);
        for (participant, f) in files {
            if let Some(wav) = f.wav {
                let path = self.path_for(participant, ".wav");
                if let Err(e) = wav.save(&path) {
                    self.report(&path, &e);
                }
            }
            if let Some(opus) = f.opus {
                let path = self.path_for(participant, ".opus");
                match opus.finish() {
                    Ok(mut out) => {
                        if let Err(e) = out.flush() {
                            self.report(&path, &e);
                        }
                    }
                    Err(e) => self.report(&path, &e),
                }
            }
            for (screen, v) in f.video {
                let suffix = if screen { "-screen" } else { "" };
                if let Some(y4m) = v.y4m {
                    let path = self.path_for(participant, &format!("{suffix}.y4m"));
                    match y4m.finish() {
                        Ok(mut out) => {
                            if let Err(e) = out.flush() {
                                self.report(&path, &e);
                            }
                        }
                        Err(e) => self.report(&path, &e),
                    }
                }
                if let Some(mut h264) = v.h264
                    && let Err(e) = h264.flush()
                {
                    let path = self.path_for(participant, &format!("{suffix}.h264"));
                    self.report(&path, &e);
                }
            }
        }
    }
}

/// A display name made safe for a file name: letters, digits, `-` and `_`
/// kept, anything else (path separators included) replaced by `_`.
fn file_safe(name: &str) -> String {
    let s: String = name
        .chars()
        .take(64)
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "participant".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape_the_directory() {
        assert_eq!(file_safe("../../etc/passwd"), "______etc_passwd");
        assert_eq!(file_safe(""), "participant");
        assert_eq!(file_safe("Zoë-1"), "Zoë-1");
    }
}
