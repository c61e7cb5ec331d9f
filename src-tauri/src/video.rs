//! Video to the UI without JSON: records go down a Tauri `ipc::Channel` as
//! raw bytes (an `ArrayBuffer` in the page), which the UI draws on the
//! participants' tile canvases.
//!
//! Remote video normally goes to the page *encoded*: each opened H.264
//! access unit, which the page decodes with WebCodecs (`VideoDecoder`,
//! GStreamer underneath on WebKitGTK). Nine 360p participants are then
//! about 1 MB/s over the channel instead of 100 MB/s of raw pictures,
//! which alone cost a core to move (see `docs/desktop-bench.md`). A page
//! without WebCodecs asks for decoded I420 pictures instead ([`Delivery`]);
//! the self view is always I420 (it never was encoded for us), scaled to
//! 360 wide because its tile is small.
//!
//! Wire format of one message: one or more records back to back, each a
//! header of six little-endian `u32`s, `kind, participant, flags,
//! timestamp, a, b`, then its payload:
//! - [`KIND_I420`]: `a` = width, `b` = height; the I420 planes Y
//!   (`width*height`), U and V (`ceil(w/2)*ceil(h/2)` each).
//! - [`KIND_H264`]: `a` = payload length, `b` = 0; one Annex B access unit.
//!
//! `flags` bit 0 marks a keyframe, bit 1 a screen share (else a camera).
//!
//! Why several records per message: on WebKitGTK every channel message
//! above 1 KiB costs a script evaluation plus a fetch through the custom
//! `ipc:` protocol, so the per-message cost, not the bytes, dominates at
//! 300 pictures a second. [`Batch`] gathers what arrives between display
//! ticks ([`FLUSH_EVERY`]) into one message: the latest I420 picture per
//! tile (an older unsent one is dropped here, not shipped to be
//! overwritten), and *every* access unit in order, since a decoder needs
//! them all.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use confer_client::media::{DecodedVideo, MediaOutput, VideoKind};
use confer_media::frame::VideoFrame;
use tauri::ipc::{Channel, InvokeResponseBody};
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

/// Bytes before each record's payload.
pub(crate) const HEADER_LEN: usize = 24;

/// Record kind: a raw I420 picture.
pub(crate) const KIND_I420: u32 = 1;
/// Record kind: one H.264 access unit (Annex B).
pub(crate) const KIND_H264: u32 = 2;

/// Flag: the access unit is a keyframe.
pub(crate) const FLAG_KEYFRAME: u32 = 1;
/// Flag: the record is a screen share, not a camera.
pub(crate) const FLAG_SCREEN: u32 = 2;

/// How many outputs may wait for the forwarder when pictures are raw;
/// beyond that the engine's sink drops them (a late picture is worth
/// nothing).
pub(crate) const QUEUE: usize = 8;

/// The same for access units (small, and none may be lost without the
/// page's decoder waiting for a keyframe): about a second of nine cameras.
pub(crate) const ENCODED_QUEUE: usize = 256;

/// Most access-unit bytes one message may carry. Beyond it the page is far
/// behind: the rest are dropped up to each track's next keyframe.
pub(crate) const MAX_ENCODED_PER_FLUSH: usize = 8 << 20;

/// How often pending records are sent: about the display's 60 Hz, so a
/// 30 fps participant rarely has two pictures in one flush.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_micros(16_667);

/// Widest self-view picture sent to the page; wider ones are scaled down.
pub(crate) const SELF_VIEW_MAX_WIDTH: u32 = 360;

/// What remote video the page is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Opened H.264 access units: the page decodes (WebCodecs).
    Encoded,
    /// Decoded I420 pictures (a page without WebCodecs).
    Decoded,
}

/// The `flags` word for a record of `kind`.
fn flags(kind: VideoKind, keyframe: bool) -> u32 {
    let screen = if kind == VideoKind::Screen {
        FLAG_SCREEN
    } else {
        0
    };
    screen | if keyframe { FLAG_KEYFRAME } else { 0 }
}

/// Bytes of one I420 picture record of `width`×`height`, header included.
pub(crate) fn packed_len(width: u32, height: u32) -> usize {
    let (w, h) = (width as usize, height as usize);
    HEADER_LEN + w * h + 2 * w.div_ceil(2) * h.div_ceil(2)
}

fn push_header(out: &mut Vec<u8>, words: [u32; 6]) {
    for word in words {
        out.extend_from_slice(&word.to_le_bytes());
    }
}

/// Appends one I420 picture record (header, then planes) to `out`.
/// `header` is `participant, flags, timestamp, width, height`.
pub(crate) fn pack_into(out: &mut Vec<u8>, header: [u32; 5], y: &[u8], u: &[u8], v: &[u8]) {
    out.reserve(HEADER_LEN + y.len() + u.len() + v.len());
    let [participant, flags, timestamp, width, height] = header;
    push_header(
        out,
        [KIND_I420, participant, flags, timestamp, width, height],
    );
    out.extend_from_slice(y);
    out.extend_from_slice(u);
    out.extend_from_slice(v);
}

/// Packs one decoded picture for the UI.
pub(crate) fn pack(video: &DecodedVideo) -> Vec<u8> {
    let f = &video.frame;
    let mut out = Vec::with_capacity(packed_len(f.width, f.height));
    let flags = flags(video.kind, false);
    let header = [video.participant.0, flags, f.timestamp, f.width, f.height];
    pack_into(&mut out, header, f.y(), f.u(), f.v());
    out
}

/// Appends one access-unit record to `out`; `None` when it is too large
/// for the format (over 4 GiB, never from the engine).
pub(crate) fn pack_encoded_into(
    out: &mut Vec<u8>,
    participant: u32,
    flags: u32,
    timestamp: u32,
    annex_b: &[u8],
) -> Option<()> {
    let len = u32::try_from(annex_b.len()).ok()?;
    out.reserve(HEADER_LEN + annex_b.len());
    push_header(out, [KIND_H264, participant, flags, timestamp, len, 0]);
    out.extend_from_slice(annex_b);
    Some(())
}

/// The self view as sent to the page: at most [`SELF_VIEW_MAX_WIDTH`]
/// wide (area-averaged, aspect kept, even sizes), a quarter of the bytes
/// of a 640×360 camera to move and draw.
pub(crate) fn self_view(frame: &VideoFrame) -> VideoFrame {
    if frame.width <= SELF_VIEW_MAX_WIDTH || frame.width == 0 {
        return frame.clone();
    }
    let width = SELF_VIEW_MAX_WIDTH;
    let height = (u64::from(frame.height) * u64::from(width) / u64::from(frame.width)) as u32 & !1;
    frame.scaled(width, height.max(2))
}

/// Identifies one track's stream in the page: participant and screen flag.
pub(crate) type TrackKey = (u32, bool);

/// The records waiting for the next flush: the latest I420 picture per
/// track, and every access unit since the last flush in arrival order.
///
/// Driving contract: call [`Batch::handle_picture`] and
/// [`Batch::handle_encoded`] as records arrive and [`Batch::poll_message`]
/// on every flush tick; it returns the message to send, if anything is
/// pending.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// Packed pictures by track; ordered so messages are stable.
    pending: BTreeMap<TrackKey, Vec<u8>>,
    /// Packed access units, in order.
    encoded: Vec<u8>,
    /// Tracks whose access units are dropped until a keyframe (a flush
    /// overflowed).
    gate: KeyframeGate,
    /// Pictures replaced before they were sent, and access units dropped.
    pub(crate) dropped: u64,
}

impl Batch {
    /// Takes a packed I420 picture of `track`, replacing an unsent one.
    pub(crate) fn handle_picture(&mut self, track: TrackKey, packed: Vec<u8>) {
        if self.pending.insert(track, packed).is_some() {
            self.dropped += 1;
        }
    }

    /// Takes one access unit. Returns `false` when it was dropped (the
    /// message is full, or its track waits for a keyframe): the caller
    /// should ask the sender for a keyframe.
    pub(crate) fn handle_encoded(
        &mut self,
        participant: u32,
        flags: u32,
        timestamp: u32,
        annex_b: &[u8],
    ) -> bool {
        let track = (participant, flags & FLAG_SCREEN != 0);
        let fits = self.encoded.len() + HEADER_LEN + annex_b.len() <= MAX_ENCODED_PER_FLUSH;
        if !self.gate.admit(track, flags & FLAG_KEYFRAME != 0)
            || !fits
            || pack_encoded_into(&mut self.encoded, participant, flags, timestamp, annex_b)
                .is_none()
        {
            self.gate.lost(track);
            self.dropped += 1;
            return false;
        }
        true
    }

    /// Everything pending as one message, and forgets it.
    pub(crate) fn poll_message(&mut self) -> Option<Vec<u8>> {
        let pending = std::mem::take(&mut self.pending);
        let encoded = std::mem::take(&mut self.encoded);
        if pending.is_empty() {
            return (!encoded.is_empty()).then_some(encoded);
        }
        if pending.len() == 1 && encoded.is_empty() {
            // One picture is already a message: no copy.
            return pending.into_values().next();
        }
        let mut out =
            Vec::with_capacity(pending.values().map(Vec::len).sum::<usize>() + encoded.len());
        for packed in pending.values() {
            out.extend_from_slice(packed);
        }
        out.extend_from_slice(&encoded);
        Some(out)
    }
}

/// One record for the forwarder.
#[derive(Debug)]
pub(crate) enum Record {
    /// A packed I420 picture of a track.
    Picture(TrackKey, Vec<u8>),
    /// An access unit.
    Encoded(Unit),
}

/// One H.264 access unit on its way to the page.
#[derive(Debug)]
pub(crate) struct Unit {
    /// Whose.
    pub(crate) participant: u32,
    /// [`FLAG_KEYFRAME`], [`FLAG_SCREEN`].
    pub(crate) flags: u32,
    /// RTP timestamp (90 kHz).
    pub(crate) timestamp: u32,
    /// The access unit, Annex B.
    pub(crate) annex_b: Vec<u8>,
}

impl Unit {
    /// The track it belongs to.
    pub(crate) fn track(&self) -> TrackKey {
        (self.participant, self.flags & FLAG_SCREEN != 0)
    }

    /// Whether it is a keyframe.
    pub(crate) fn keyframe(&self) -> bool {
        self.flags & FLAG_KEYFRAME != 0
    }
}

/// Sends records from `records` to the UI until either side closes:
/// batched every `flush`, or each on its own message when `flush` is
/// `None` (kept for the benchmark's comparison). `dropped_unit` is told of
/// each access unit dropped (participant, screen) so a keyframe can be
/// asked for.
pub(crate) async fn deliver(
    mut records: mpsc::Receiver<Record>,
    channel: Channel,
    flush: Option<Duration>,
    dropped_unit: impl Fn(u32, bool),
) {
    let send = |bytes: Vec<u8>| channel.send(InvokeResponseBody::Raw(bytes)).is_ok();
    let Some(every) = flush else {
        while let Some(record) = records.recv().await {
            let message = match record {
                Record::Picture(_, packed) => packed,
                Record::Encoded(u) => {
                    let mut out = Vec::new();
                    if pack_encoded_into(&mut out, u.participant, u.flags, u.timestamp, &u.annex_b)
                        .is_none()
                    {
                        continue;
                    }
                    out
                }
            };
            if !send(message) {
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
            record = records.recv() => match record {
                Some(Record::Picture(track, packed)) => batch.handle_picture(track, packed),
                Some(Record::Encoded(u)) => {
                    if !batch.handle_encoded(u.participant, u.flags, u.timestamp, &u.annex_b) {
                        dropped_unit(u.participant, u.flags & FLAG_SCREEN != 0);
                    }
                }
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

/// The record for one engine output, if the page is sent such outputs.
pub(crate) fn record_of(output: MediaOutput, delivery: Delivery) -> Option<Record> {
    match (output, delivery) {
        (MediaOutput::Video(video), Delivery::Decoded) => {
            let track = (video.participant.0, video.kind == VideoKind::Screen);
            Some(Record::Picture(track, pack(&video)))
        }
        (
            MediaOutput::EncodedVideo {
                participant,
                kind,
                keyframe,
                timestamp,
                annex_b,
            },
            Delivery::Encoded,
        ) => Some(Record::Encoded(Unit {
            participant: participant.0,
            flags: flags(kind, keyframe),
            timestamp,
            annex_b,
        })),
        _ => None,
    }
}

/// Forwards decoded camera pictures from `outputs` to the UI until either
/// side closes (the pre-join preview).
pub(crate) async fn forward(mut outputs: mpsc::Receiver<MediaOutput>, channel: Channel) {
    let (record_tx, record_rx) = mpsc::channel(QUEUE);
    let feed = async move {
        while let Some(output) = outputs.recv().await {
            if let Some(record) = record_of(output, Delivery::Decoded)
                && record_tx.send(record).await.is_err()
            {
                return;
            }
        }
    };
    tokio::join!(
        feed,
        deliver(record_rx, channel, Some(FLUSH_EVERY), |_, _| {})
    );
}

/// Which tracks' access units are being dropped until their next keyframe,
/// because one was lost on the way to the page (a decoder given a delta
/// after a gap shows garbage, or fails).
///
/// Driving contract: ask [`KeyframeGate::admit`] before passing on each
/// unit, and call [`KeyframeGate::lost`] when one could not be passed on.
#[derive(Debug, Default)]
pub(crate) struct KeyframeGate {
    broken: BTreeSet<TrackKey>,
}

impl KeyframeGate {
    /// Whether a unit of `track` may go on: always for a keyframe (which
    /// mends the track), never for a delta of a broken track.
    pub(crate) fn admit(&mut self, track: TrackKey, keyframe: bool) -> bool {
        if keyframe {
            self.broken.remove(&track);
            return true;
        }
        !self.broken.contains(&track)
    }

    /// A unit of `track` was lost: drop its deltas until a keyframe.
    /// Returns `true` when the track just broke (ask for a keyframe once).
    pub(crate) fn lost(&mut self, track: TrackKey) -> bool {
        self.broken.insert(track)
    }
}

#[cfg(test)]
mod tests {
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
            kind: VideoKind::Screen,
            frame,
        });
        let words = [0, 1, 2, 3, 4, 5].map(|i| word(&packed, i));
        assert_eq!(words, [KIND_I420, 7, FLAG_SCREEN, 9000, 4, 2]);
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
            [participant, 0, timestamp, 2, 2],
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
        batch.handle_picture((3, false), picture(3, 100));
        batch.handle_picture((1, false), picture(1, 100));
        batch.handle_picture((3, false), picture(3, 200));
        let message = batch.poll_message().unwrap();
        let one = packed_len(2, 2);
        assert_eq!(message.len(), 2 * one);
        // Participant order, and participant 3's newer picture.
        assert_eq!([word(&message, 1), word(&message, 3)], [1, 100]);
        let second = &message[one..];
        assert_eq!([word(second, 1), word(second, 3)], [3, 200]);
        assert_eq!(batch.dropped, 1);
        // Sent pictures are gone.
        assert_eq!(batch.poll_message(), None);
    }

    #[test]
    fn a_single_pending_picture_is_sent_as_is() {
        let mut batch = Batch::default();
        batch.handle_picture((9, false), picture(9, 1));
        assert_eq!(batch.poll_message(), Some(picture(9, 1)));
        assert_eq!(batch.dropped, 0);
    }

    #[test]
    fn every_access_unit_is_kept_in_order_after_the_pictures() {
        let mut batch = Batch::default();
        assert!(batch.handle_encoded(5, FLAG_KEYFRAME, 10, &[0, 0, 0, 1, 0x65]));
        batch.handle_picture((1, false), picture(1, 7));
        assert!(batch.handle_encoded(5, 0, 20, &[0, 0, 0, 1, 0x41, 9]));
        assert!(batch.handle_encoded(6, FLAG_SCREEN | FLAG_KEYFRAME, 20, &[1, 2]));
        let message = batch.poll_message().unwrap();
        let first = packed_len(2, 2);
        assert_eq!(word(&message, 0), KIND_I420);
        let units = &message[first..];
        assert_eq!(
            [0, 1, 2, 3, 4].map(|i| word(units, i)),
            [KIND_H264, 5, FLAG_KEYFRAME, 10, 5]
        );
        let second = &units[HEADER_LEN + 5..];
        assert_eq!([1, 3, 4].map(|i| word(second, i)), [5, 20, 6]);
        assert_eq!(&second[HEADER_LEN..HEADER_LEN + 6], &[0, 0, 0, 1, 0x41, 9]);
        let third = &second[HEADER_LEN + 6..];
        assert_eq!(
            [1, 2].map(|i| word(third, i)),
            [6, FLAG_SCREEN | FLAG_KEYFRAME]
        );
        assert_eq!(third.len(), HEADER_LEN + 2);
        assert_eq!(batch.dropped, 0);
    }

    #[test]
    fn an_overflowing_flush_drops_a_track_until_its_next_keyframe() {
        let mut batch = Batch::default();
        let big = vec![0u8; MAX_ENCODED_PER_FLUSH / 2];
        assert!(batch.handle_encoded(1, FLAG_KEYFRAME, 0, &big));
        assert!(!batch.handle_encoded(1, 0, 1, &big), "over the cap");
        assert_eq!(
            batch.poll_message().map(|m| m.len()),
            Some(HEADER_LEN + big.len())
        );
        // Room again, but the track lost a unit: deltas wait for a keyframe.
        assert!(!batch.handle_encoded(1, 0, 2, &[1]));
        assert!(batch.handle_encoded(2, 0, 2, &[1]), "other tracks flow");
        assert!(batch.handle_encoded(1, FLAG_KEYFRAME, 3, &[2]));
        assert!(batch.handle_encoded(1, 0, 4, &[3]));
        assert_eq!(batch.dropped, 2);
    }

    #[test]
    fn outputs_become_records_as_the_delivery_says() {
        let frame = VideoFrame::black(4, 4);
        let video = || {
            MediaOutput::Video(DecodedVideo {
                participant: ParticipantId(3),
                kind: VideoKind::Camera,
                frame: frame.clone(),
            })
        };
        let unit = || MediaOutput::EncodedVideo {
            participant: ParticipantId(3),
            kind: VideoKind::Screen,
            keyframe: true,
            timestamp: 90,
            annex_b: vec![0, 0, 1, 0x65],
        };
        assert!(matches!(
            record_of(video(), Delivery::Decoded),
            Some(Record::Picture((3, false), _))
        ));
        assert!(record_of(unit(), Delivery::Decoded).is_none());
        assert!(record_of(video(), Delivery::Encoded).is_none());
        match record_of(unit(), Delivery::Encoded) {
            Some(Record::Encoded(u)) => {
                assert_eq!((u.participant, u.timestamp), (3, 90));
                assert_eq!(u.track(), (3, true));
                assert!(u.keyframe());
                assert_eq!(u.annex_b, vec![0, 0, 1, 0x65]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_gate_drops_deltas_after_a_loss_until_a_keyframe() {
        let mut gate = KeyframeGate::default();
        assert!(gate.admit((1, false), false));
        assert!(gate.lost((1, false)), "first loss: ask for a keyframe");
        assert!(!gate.lost((1, false)), "already asked");
        assert!(!gate.admit((1, false), false));
        assert!(gate.admit((1, true), false), "the screen is another track");
        assert!(gate.admit((1, false), true));
        assert!(gate.admit((1, false), false));
    }

    #[test]
    fn the_self_view_is_made_small_keeping_its_shape() {
        let small = self_view(&VideoFrame::black(640, 360));
        assert_eq!((small.width, small.height), (360, 202));
        let already = self_view(&VideoFrame::black(320, 180));
        assert_eq!((already.width, already.height), (320, 180));
    }
}
