//! Speaker playout of everyone's audio, mixed: a [`MediaSink`] for people
//! who want to hear the meeting (`confer join --play-audio`).
//!
//! The engine yields each participant's 20 ms frames at their playout time,
//! so one frame of each arrives per interval: a second frame from the same
//! participant means the interval is over, and the mix so far is played.
//! The speaker (a cpal stream, which must stay on the thread that opened
//! it) lives on its own thread and is fed through a bounded channel.

use std::collections::BTreeSet;
use std::sync::mpsc;

use confer_media::frame::FRAME_SAMPLES;
use confer_media::mixer::Mixer;
use confer_media::playout::Speaker;
use confer_wire::ids::ParticipantId;

use super::sink::{MediaOutput, MediaSink};

/// Mixed frames queued for the speaker thread (about 1 s).
const QUEUE: usize = 50;

/// Plays the mix of all remote audio on one output device (the default,
/// or one chosen by id).
#[derive(Debug)]
pub struct SpeakerSink {
    tx: Option<mpsc::SyncSender<Vec<i16>>>,
    mixer: Mixer,
    /// Who contributed to the current interval.
    in_mix: BTreeSet<ParticipantId>,
    /// The device's human name, for notices.
    name: String,
}

impl SpeakerSink {
    /// Opens the default speaker on a thread of its own; fails with the
    /// device's error (no speaker, no sound server).
    pub fn open() -> Result<Self, confer_media::MediaError> {
        Self::open_device(None)
    }

    /// Opens the speaker with id `id` (as
    /// [`confer_media::playout::list_speakers`] gives it), or the default
    /// for `None`, on a thread of its own. An id whose device is gone fails
    /// with [`confer_media::MediaError::DeviceNotFound`]; see
    /// [`SpeakerSink::open_or_default`] for the fallback.
    pub fn open_device(id: Option<&str>) -> Result<Self, confer_media::MediaError> {
        let (tx, rx) = mpsc::sync_channel::<Vec<i16>>(QUEUE);
        let (ready_tx, ready_rx) = mpsc::channel();
        let id = id.map(str::to_owned);
        std::thread::Builder::new()
            .name("playout".into())
            .spawn(move || {
                let opened = match id.as_deref() {
                    Some(id) => Speaker::open(id),
                    None => Speaker::open_default(),
                };
                match opened {
                    Ok(speaker) => {
                        let _ = ready_tx.send(Ok(speaker.name().to_owned()));
                        while let Ok(frame) = rx.recv() {
                            speaker.play(&frame);
                        }
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            })
            .map_err(confer_media::MediaError::Write)?;
        match ready_rx.recv() {
            Ok(Ok(name)) => Ok(SpeakerSink {
                tx: Some(tx),
                mixer: Mixer::new(),
                in_mix: BTreeSet::new(),
                name,
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(confer_media::MediaError::Malformed(
                "the playout thread stopped",
            )),
        }
    }

    /// Opens the chosen speaker, or the default when the choice cannot be
    /// opened (unplugged, busy): people should hear the meeting somewhere
    /// rather than nowhere. The second value is why the choice was not
    /// used, for the caller to tell the user; it is `None` when the choice
    /// opened (or there was none). Fails only when the default fails too.
    pub fn open_or_default(
        id: Option<&str>,
    ) -> Result<(Self, Option<confer_media::MediaError>), confer_media::MediaError> {
        let Some(id) = id else {
            return Ok((Self::open_device(None)?, None));
        };
        match Self::open_device(Some(id)) {
            Ok(sink) => Ok((sink, None)),
            Err(why) => Ok((Self::open_device(None)?, Some(why))),
        }
    }

    /// The name of the device playing.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn flush(&mut self) {
        if self.in_mix.is_empty() {
            return;
        }
        self.in_mix.clear();
        let mix = self.mixer.take_mix(FRAME_SAMPLES);
        if let Some(tx) = &self.tx {
            // A full queue means the device is stalled: drop rather than wait.
            let _ = tx.try_send(mix);
        }
    }
}

impl MediaSink for SpeakerSink {
    fn handle(&mut self, output: MediaOutput) {
        if let MediaOutput::Audio { participant, frame } = output {
            if self.in_mix.contains(&participant) {
                self.flush();
            }
            self.in_mix.insert(participant);
            self.mixer.push(&frame.samples);
        }
    }

    fn finish(&mut self) {
        self.flush();
        self.tx = None;
    }
}

/// Feeds every output to several sinks (save and play at once).
pub struct FanOut(pub Vec<Box<dyn MediaSink>>);

impl std::fmt::Debug for FanOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FanOut")
            .field("sinks", &self.0.len())
            .finish()
    }
}

impl MediaSink for FanOut {
    fn handle(&mut self, output: MediaOutput) {
        if let Some((last, rest)) = self.0.split_last_mut() {
            for sink in rest {
                sink.handle(output.clone());
            }
            last.handle(output);
        }
    }

    fn participant_named(&mut self, participant: ParticipantId, name: &str) {
        for sink in &mut self.0 {
            sink.participant_named(participant, name);
        }
    }

    fn captured(
        &mut self,
        own: ParticipantId,
        track: super::CaptureTrack,
        frame: &confer_media::source::Frame,
    ) {
        for sink in &mut self.0 {
            sink.captured(own, track, frame);
        }
    }

    fn live_report(&mut self, report: &crate::driver::LiveReport) {
        for sink in &mut self.0 {
            sink.live_report(report);
        }
    }

    fn finish(&mut self) {
        for sink in &mut self.0 {
            sink.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use confer_media::MediaError;

    use super::*;

    const GONE: &str = "speaker:pulseaudio:unplugged-confer-test";

    /// A chosen speaker that is gone is a typed "not found", never a sink
    /// that silently plays nowhere.
    #[test]
    fn a_gone_speaker_is_not_found() {
        match SpeakerSink::open_device(Some(GONE)) {
            Err(MediaError::DeviceNotFound { kind, id }) => {
                assert_eq!((kind, id.as_str()), ("speaker", GONE));
            }
            other => panic!("{other:?}"),
        }
    }

    /// The fallback plays on the default and says why the choice was not
    /// used; with no default either (no sound server here), it fails with
    /// the default's error rather than the choice's.
    #[test]
    fn a_gone_speaker_falls_back_to_the_default_with_the_reason() {
        match SpeakerSink::open_or_default(Some(GONE)) {
            Ok((sink, Some(MediaError::DeviceNotFound { id, .. }))) => {
                assert_eq!(id, GONE);
                assert!(!sink.name().is_empty());
            }
            Ok((_, other)) => panic!("fell back without the reason: {other:?}"),
            Err(MediaError::DeviceNotFound { id, .. }) => assert_ne!(id, GONE),
            Err(_) => {}
        }
    }
}
