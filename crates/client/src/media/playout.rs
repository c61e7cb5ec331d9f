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

/// Plays the mix of all remote audio on the default output device.
#[derive(Debug)]
pub struct SpeakerSink {
    tx: Option<mpsc::SyncSender<Vec<i16>>>,
    mixer: Mixer,
    /// Who contributed to the current interval.
    in_mix: BTreeSet<ParticipantId>,
}

impl SpeakerSink {
    /// Opens the default speaker on a thread of its own; fails with the
    /// device's error (no speaker, no sound server).
    pub fn open() -> Result<Self, confer_media::MediaError> {
        let (tx, rx) = mpsc::sync_channel::<Vec<i16>>(QUEUE);
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("playout".into())
            .spawn(move || match Speaker::open_default() {
                Ok(speaker) => {
                    let _ = ready_tx.send(Ok(()));
                    while let Ok(frame) = rx.recv() {
                        speaker.play(&frame);
                    }
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(confer_media::MediaError::Write)?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(SpeakerSink {
                tx: Some(tx),
                mixer: Mixer::new(),
                in_mix: BTreeSet::new(),
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(confer_media::MediaError::Malformed(
                "the playout thread stopped",
            )),
        }
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
