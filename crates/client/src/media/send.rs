//! Our outgoing tracks: encode each captured frame, seal it, packetise it.
//!
//! Senders are made on the first frame of each track, because a camera's
//! size decides its simulcast layers: a layer larger than the source is not
//! sent (upscaling costs bits and shows nothing new). A camera whose size
//! changes (another device or quality mid-meeting) changes its layers.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use confer_media::audio_track::AudioSender;
use confer_media::feedback::Feedback;
use confer_media::frame::{AudioFrame, FRAME_SAMPLES, VideoFrame};
use confer_media::simulcast::LayerId;
use confer_media::video_track::VideoSender;
use confer_wire::ids::{ParticipantId, ssrc_for, track};

use super::crypto::FrameCrypto;
use super::stats::MediaEngineStats;
use super::{MediaConfig, MediaEngineError};

/// Our senders, one per track kind.
#[derive(Debug)]
pub(super) struct Outgoing {
    participant: ParticipantId,
    config: MediaConfig,
    audio: Option<AudioSender>,
    camera: Option<VideoSender>,
    screen: Option<VideoSender>,
}

impl Outgoing {
    pub(super) fn new(participant: ParticipantId, config: MediaConfig) -> Self {
        Outgoing {
            participant,
            config,
            audio: None,
            camera: None,
            screen: None,
        }
    }

    pub(super) fn send_audio(
        &mut self,
        frame: &AudioFrame,
        crypto: &mut dyn FrameCrypto,
        transmit: &mut VecDeque<Bytes>,
        stats: &mut MediaEngineStats,
    ) -> Result<(), MediaEngineError> {
        if frame.samples.len() != FRAME_SAMPLES {
            return Err(MediaEngineError::BadFrame(format!(
                "audio frame of {} samples, expected {FRAME_SAMPLES}",
                frame.samples.len()
            )));
        }
        let ssrc = ssrc_for(self.participant, track::AUDIO);
        let sender = match &mut self.audio {
            Some(s) => s,
            None => self
                .audio
                .insert(AudioSender::new(ssrc, self.config.audio_bitrate)?),
        };
        let Some(encoded) = sender.encode(&frame.samples)? else {
            return Ok(());
        };
        let entry = stats.sent.entry(track::AUDIO).or_default();
        let sealed = match crypto.seal(track::AUDIO, &ssrc.to_be_bytes(), &encoded.opus) {
            Ok(s) => s,
            Err(e) => {
                entry.seal_failures += 1;
                return Err(MediaEngineError::Seal(e.to_string()));
            }
        };
        let packet = sender.packetize(&encoded, sealed);
        entry.frames += 1;
        entry.packets += 1;
        transmit.push_back(Bytes::from(packet.to_bytes()));
        Ok(())
    }

    pub(super) fn send_video(
        &mut self,
        now: Instant,
        screen: bool,
        frame: &VideoFrame,
        crypto: &mut dyn FrameCrypto,
        transmit: &mut VecDeque<Bytes>,
        stats: &mut MediaEngineStats,
    ) -> Result<(), MediaEngineError> {
        let slot = if screen {
            &mut self.screen
        } else {
            &mut self.camera
        };
        let sender = match slot {
            Some(s) if screen => s,
            // A camera's layers follow its size: another camera or quality
            // mid-meeting adds or drops layers (never sending one larger
            // than the picture).
            Some(s) => {
                let layers = camera_layers(frame, self.config.max_camera_layers);
                // Should a new layer's encoder not start, the layers sent
                // now go on (and it is tried again next frame).
                if let Err(e) = s.set_layers(&layers) {
                    tracing::debug!("camera layers {layers:?} not changed: {e}");
                }
                s
            }
            None if screen => slot.insert(VideoSender::screen(self.participant, track::SCREEN)?),
            None => {
                let layers = camera_layers(frame, self.config.max_camera_layers);
                slot.insert(VideoSender::new(
                    self.participant,
                    track::VIDEO_BASE,
                    &layers,
                )?)
            }
        };
        for encoded in sender.encode_at(frame, now)? {
            let track_number = if screen {
                track::SCREEN
            } else {
                track::VIDEO_BASE + encoded.layer.as_u8()
            };
            let entry = stats.sent.entry(track_number).or_default();
            let sealed =
                match crypto.seal(track_number, &encoded.ssrc.to_be_bytes(), &encoded.annex_b) {
                    Ok(s) => s,
                    Err(e) => {
                        entry.seal_failures += 1;
                        return Err(MediaEngineError::Seal(e.to_string()));
                    }
                };
            let packets = sender.packetize(&encoded, &sealed);
            entry.frames += 1;
            entry.keyframes += u64::from(encoded.keyframe);
            entry.packets += packets.len() as u64;
            transmit.extend(packets.iter().map(|p| Bytes::from(p.to_bytes())));
        }
        Ok(())
    }

    /// A receiver's keyframe request or NACK for one of our video streams.
    pub(super) fn handle_feedback(
        &mut self,
        feedback: &Feedback,
        transmit: &mut VecDeque<Bytes>,
        stats: &mut MediaEngineStats,
    ) {
        if let Feedback::KeyframeRequest { media_ssrc, .. } = feedback {
            // Only for a stream we send: the router may ask for a layer
            // before it has seen that this camera has none that large.
            let sent = [&self.camera, &self.screen]
                .into_iter()
                .flatten()
                .any(|s| s.sends(*media_ssrc));
            if sent {
                let number = confer_wire::ids::track_of_ssrc(*media_ssrc);
                stats.sent.entry(number).or_default().keyframe_requests += 1;
            }
        }
        for (sender, screen) in [(&mut self.camera, false), (&mut self.screen, true)] {
            let Some(sender) = sender else { continue };
            for p in sender.handle_feedback(feedback) {
                let track_number = if screen {
                    track::SCREEN
                } else {
                    confer_wire::ids::track_of_ssrc(p.header.ssrc)
                };
                let entry = stats.sent.entry(track_number).or_default();
                entry.packets += 1;
                entry.retransmitted += 1;
                transmit.push_back(Bytes::from(p.to_bytes()));
            }
        }
    }
}

/// The simulcast layers to send for a source of this size: every layer no
/// larger than the picture (the lowest always), at most `max` of them,
/// keeping the highest.
fn camera_layers(frame: &VideoFrame, max: u8) -> Vec<LayerId> {
    let fitting: Vec<LayerId> = LayerId::ALL
        .into_iter()
        .filter(|l| {
            let (w, h) = l.dimensions();
            w <= frame.width && h <= frame.height
        })
        .collect();
    let mut layers = if fitting.is_empty() {
        vec![LayerId::Low]
    } else {
        fitting
    };
    let keep = usize::from(max.clamp(1, 3));
    if layers.len() > keep {
        layers.drain(..layers.len() - keep);
    }
    layers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_follow_the_source_size() {
        let f = |w, h| VideoFrame::black(w, h);
        assert_eq!(camera_layers(&f(320, 180), 3), vec![LayerId::Low]);
        assert_eq!(camera_layers(&f(160, 90), 3), vec![LayerId::Low]);
        assert_eq!(
            camera_layers(&f(640, 360), 3),
            vec![LayerId::Low, LayerId::Medium]
        );
        assert_eq!(camera_layers(&f(1280, 720), 3), LayerId::ALL.to_vec());
        assert_eq!(camera_layers(&f(1280, 720), 1), vec![LayerId::High]);
    }
}
