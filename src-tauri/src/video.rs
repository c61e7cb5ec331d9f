//! Decoded video to the UI without JSON: pictures go down a Tauri
//! `ipc::Channel` as raw bytes (an `ArrayBuffer` in the page), which the UI
//! draws on the participants' tile canvases.
//!
//! Wire format of one message: one or more pictures back to back, each a
//! header of little-endian `u32`s `participant, width, height, timestamp`
//! followed by the I420 planes Y (`width*height`), U and V
//! (`ceil(w/2)*ceil(h/2)` each); the header gives each picture's length.
//!
//! Why several pictures per message: on WebKitGTK every channel message
//! above 1 KiB costs a script evaluation plus a fetch through the custom
//! `ipc:` protocol, and at nine tiles × 30 fps that per-message cost, not
//! the bytes, is what the UI process spends its time on (see
//! `docs/desktop-bench.md`). [`Batch`] keeps the latest picture of each
//! participant and the forwarder sends them together at most
//! [`FLUSH_EVERY`] (the display rate), so a participant's picture that a
//! newer one replaced before the flush is dropped here rather than
//! shipped to the page only to be overwritten.

use std::collections::BTreeMap;
use std::time::Duration;

use confer_client::media::{DecodedVideo, MediaOutput, VideoKind};
use tauri::ipc::{Channel, InvokeResponseBody};
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

/// Bytes before each picture's planes.
pub(crate) const HEADER_LEN: usize = 16;

/// How many decoded outputs may wait for the forwarder; beyond that the
/// engine's sink drops them (a late picture is worth nothing).
pub(crate) const QUEUE: usize = 8;

/// How often pending pictures are sent: about the display's 60 Hz, so a
/// 30 fps participant rarely has two pictures in one flush.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_micros(16_667);

/// Bytes of one I420 picture of `width`×`height`, header included.
pub(crate) fn packed_len(width: u32, height: u32) -> usize {
    let (w, h) = (width as usize, height as usize);
    HEADER_LEN + w * h + 2 * w.div_ceil(2) * h.div_ceil(2)
}

/// Appends one picture (header, then planes) to `out`.
pub(crate) fn pack_into(out: &mut Vec<u8>, header: [u32; 4], y: &[u8], u: &[u8], v: &[u8]) {
    out.reserve(HEADER_LEN + y.len() + u.len() + v.len());
    for word in header {
        out.extend_from_slice(&word.to_le_bytes());
    }
    out.extend_from_slice(y);
    out.extend_from_slice(u);
    out.extend_from_slice(v);
}

/// Packs one decoded picture for the UI.
pub(crate) fn pack(video: &DecodedVideo) -> Vec<u8> {
    let f = &video.frame;
    let mut out = Vec::with_capacity(packed_len(f.width, f.height));
    let header = [video.participant.0, f.width, f.height, f.timestamp];
    pack_into(&mut out, header, f.y(), f.u(), f.v());
    out
}

/// The pictures waiting for the next flush: the latest packed picture per
/// participant (a newer one replaces an unsent older one, which counts as
/// dropped).
///
/// Driving contract: call [`Batch::handle_picture`] for every packed
/// picture as it arrives and [`Batch::poll_message`] on every flush tick;
/// it returns the message to send, if any picture is pending.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// Packed pictures by participant id; ordered so messages are stable.
    pending: BTreeMap<u32, Vec<u8>>,
    /// Pictures replaced before they were sent.
    pub(crate) dropped: u64,
}

impl Batch {
    /// Takes a packed picture of `participant`, replacing an unsent one.
    pub(crate) fn handle_picture(&mut self, participant: u32, packed: Vec<u8>) {
        if self.pending.insert(participant, packed).is_some() {
            self.dropped += 1;
        }
    }

    /// The pending pictures as one message, and forgets them.
    pub(crate) fn poll_message(&mut self) -> Option<Vec<u8>> {
        let pending = std::mem::take(&mut self.pending);
        if pending.len() <= 1 {
            // One picture is already a message: no copy.
            return pending.into_values().next();
        }
        let mut out = Vec::with_capacity(pending.values().map(Vec::len).sum());
        for packed in pending.values() {
            out.extend_from_slice(packed);
        }
        Some(out)
    }
}

/// Sends packed pictures from `pictures` to the UI until either side
/// closes: batched every `flush` (latest per participant), or each on its
/// own message when `flush` is `None` (kept for the benchmark's
/// comparison).
pub(crate) async fn deliver(
    mut pictures: mpsc::Receiver<(u32, Vec<u8>)>,
    channel: Channel,
    flush: Option<Duration>,
) {
    let send = |bytes: Vec<u8>| channel.send(InvokeResponseBody::Raw(bytes)).is_ok();
    let Some(every) = flush else {
        while let Some((_, packed)) = pictures.recv().await {
            if !send(packed) {
                return;
            }
        }
        return;
    };
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut batch = Batch::default();
    loop {
        tokio::select! {
            picture = pictures.recv() => match picture {
                Some((participant, packed)) => batch.handle_picture(participant, packed),
                None => {
                    if let Some(message) = batch.poll_message() {
                        send(message);
                    }
                    return;
                }
            },
            _ = tick.tick() => {
                if let Some(message) = batch.poll_message()
                    && !send(message)
                {
                    return;
                }
            }
        }
    }
}

/// Forwards camera pictures from the media engine to the UI until either
/// side closes. Screen shares and audio are not drawn yet.
pub(crate) async fn forward(mut outputs: mpsc::Receiver<MediaOutput>, channel: Channel) {
    let (packed_tx, packed_rx) = mpsc::channel(QUEUE);
    let feed = async move {
        while let Some(output) = outputs.recv().await {
            if let MediaOutput::Video(video) = output
                && video.kind == VideoKind::Camera
                && packed_tx
                    .send((video.participant.0, pack(&video)))
                    .await
                    .is_err()
            {
                return;
            }
        }
    };
    tokio::join!(feed, deliver(packed_rx, channel, Some(FLUSH_EVERY)));
}

#[cfg(test)]
mod tests {
    use confer_media::frame::VideoFrame;
    use confer_wire::ids::ParticipantId;

    use super::*;

    fn word(bytes: &[u8], i: usize) -> u32 {
        u32::from_le_bytes(bytes[i * 4..i * 4 + 4].try_into().unwrap())
    }

    #[test]
    fn packs_a_header_then_the_three_planes() {
        let (w, h) = (4, 2);
        let data: Vec<u8> = (0..VideoFrame::i420_len(w, h)).map(|i| i as u8).collect();
        let frame = VideoFrame::new(w, h, data.clone(), 9000).unwrap();
        let packed = pack(&DecodedVideo {
            participant: ParticipantId(7),
            kind: VideoKind::Camera,
            frame,
        });
        let words = [0, 1, 2, 3].map(|i| word(&packed, i));
        assert_eq!(words, [7, 4, 2, 9000]);
        assert_eq!(&packed[HEADER_LEN..], data.as_slice());
        assert_eq!(packed.len(), packed_len(w, h));
    }

    #[test]
    fn odd_sizes_round_the_chroma_planes_up() {
        // 5x3: Y 15, U and V 3x2 = 6 each.
        assert_eq!(packed_len(5, 3), HEADER_LEN + 15 + 12);
        assert_eq!(packed_len(640, 360), HEADER_LEN + 640 * 360 * 3 / 2);
    }

    fn picture(participant: u32, timestamp: u32) -> Vec<u8> {
        let mut out = Vec::new();
        pack_into(
            &mut out,
            [participant, 2, 2, timestamp],
            &[1; 4],
            &[2],
            &[3],
        );
        out
    }

    #[test]
    fn a_batch_keeps_the_latest_picture_per_participant() {
        let mut batch = Batch::default();
        assert_eq!(batch.poll_message(), None);
        batch.handle_picture(3, picture(3, 100));
        batch.handle_picture(1, picture(1, 100));
        batch.handle_picture(3, picture(3, 200));
        let message = batch.poll_message().unwrap();
        let one = packed_len(2, 2);
        assert_eq!(message.len(), 2 * one);
        // Participant order, and participant 3's newer picture.
        assert_eq!([word(&message, 0), word(&message, 3)], [1, 100]);
        let second = &message[one..];
        assert_eq!([word(second, 0), word(second, 3)], [3, 200]);
        assert_eq!(batch.dropped, 1);
        // Sent pictures are gone.
        assert_eq!(batch.poll_message(), None);
    }

    #[test]
    fn a_single_pending_picture_is_sent_as_is() {
        let mut batch = Batch::default();
        batch.handle_picture(9, picture(9, 1));
        assert_eq!(batch.poll_message(), Some(picture(9, 1)));
        assert_eq!(batch.dropped, 0);
    }
}
