//! The media fast path's decisions: which packets a sender may send at all
//! (host controls enforced on media), which simulcast layer each receiver
//! gets, and where receivers' RTCP feedback goes.
//!
//! - **Enforcement.** A packet's track number (the low byte of its SSRC,
//!   `confer_wire::ids::track`) says what it carries. Audio is dropped while
//!   its sender is muted, camera video while their video is off, screen
//!   share unless they are sharing (not paused) and may share; a track
//!   outside the layout is always dropped. The state read is the roster
//!   entry that `self_controls` and `host_controls` keep.
//! - **Layer selection.** Camera video comes in up to three simulcast
//!   layers, each its own SSRC. Each (receiver, sender) pair has a
//!   [`LayerSelector`] that forwards only the layer the receiver subscribed
//!   to (`DEFAULT_LAYER` until it says otherwise), or the nearest layer the
//!   sender sends when it lacks that one, switching only at that layer's
//!   keyframe. While a switch waits, the router asks the sender for a
//!   keyframe with a PLI of its own. Audio and screen share go to everyone.
//! - **Feedback.** A receiver's PLI or generic NACK goes only to the
//!   participant whose stream it names, never to the meeting. PLIs (the
//!   router's and receivers') reach a sender's track at most once per
//!   [`PLI_MIN_INTERVAL`], so nobody can make a sender encode keyframes
//!   without pause. NACKs from one receiver about one track pass a token
//!   bucket ([`NACK_BURST`] entries at once, then one per [`NACK_INTERVAL`]),
//!   so no receiver can make the router flood a sender with retransmission
//!   requests. Retransmissions are the original packets on their
//!   original SSRC (`confer-media`'s `nack` module), so they pass through
//!   the same rules as any packet.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use confer_wire::control::{ErrorCode, Subscription};
use confer_wire::host::{SharePolicy, ShareState};
use confer_wire::ids::{
    MeetingId, ParticipantId, TrackKind, participant_of_ssrc, ssrc_for, track, track_kind,
    track_of_ssrc,
};
use confer_wire::media_control::{DEFAULT_LAYER, LayerChoice};
use confer_wire::rtcp::{self, FeedbackKind, FeedbackPacket};
use confer_wire::simulcast::{Forwarding, LayerDescriptor, LayerSelector};

use super::Router;
use crate::core::meeting::{Meeting, Participant};
use crate::core::output::{ConnectionId, Output, Recipients};
use crate::core::token_bucket::TokenBucket;

/// The shortest gap between two keyframe requests passed to one track of a
/// sender. Encoding a keyframe costs several ordinary frames' bandwidth, so
/// receivers (or many waiting selectors) must not be able to ask for one on
/// every frame; a receiver that loses a keyframe asks again after this.
pub(crate) const PLI_MIN_INTERVAL: Duration = Duration::from_millis(300);

/// Most NACK entries (FCI words, each naming up to 17 packets) one receiver
/// may send about one track at once, before [`NACK_INTERVAL`] applies. A
/// burst of loss on a video frame fits; a storm does not.
pub const NACK_BURST: u32 = 64;

/// Once a receiver's [`NACK_BURST`] for a track is used up, one more NACK
/// entry is allowed per this interval (200 a second: 5% loss of a
/// 4000-packet/s screen share, NACKed one packet per entry).
pub const NACK_INTERVAL: Duration = Duration::from_millis(5);

/// The sender SSRC of the router's own keyframe requests. No participant
/// has it: participant ids start at 1, so their SSRCs are at least 256.
pub(crate) const ROUTER_SSRC: u32 = 0;

/// Stands for the router as the "sender" of a packet it originates, so a
/// [`Recipients`] holding just the sender can be built. The router never
/// hands out connection id 0 (`Router::handle_connect` starts at 1).
const ROUTER_CONN: ConnectionId = ConnectionId(0);

/// Tracks a PLI may name: camera layers and the screen share (audio has no
/// keyframes). Also the size of the per-track rate-limit table.
const PLI_TRACKS: usize = track::SCREEN as usize + 1;

/// One meeting's media forwarding state.
#[derive(Debug, Default)]
pub(crate) struct MeetingMedia {
    /// By sender: what each receiver gets of them.
    senders: HashMap<ParticipantId, SenderMedia>,
}

impl MeetingMedia {
    /// Forgets everything about a participant who left, as sender and as
    /// receiver (ids are never reused within a meeting, so this is only
    /// about memory).
    pub(crate) fn forget(&mut self, id: ParticipantId) {
        self.senders.remove(&id);
        for s in self.senders.values_mut() {
            s.receivers.remove(&id);
            s.nack_budget.retain(|(receiver, _), _| *receiver != id);
        }
    }
}

/// What the router keeps about one sender's media.
#[derive(Debug, Default)]
struct SenderMedia {
    /// By receiver: which layer of this sender's camera it gets. A receiver
    /// with no entry yet gets one for `DEFAULT_LAYER` on the first packet.
    receivers: HashMap<ParticipantId, Selection>,
    /// By track number: when a keyframe request was last passed to this
    /// sender for that track (see [`PLI_MIN_INTERVAL`]).
    last_pli: [Option<Instant>; PLI_TRACKS],
    /// By (receiver, track number): how many more NACK entries that
    /// receiver may send about this sender's track (see [`NACK_BURST`]).
    /// Entries go with the receiver in [`MeetingMedia::forget`].
    nack_budget: HashMap<(ParticipantId, u8), TokenBucket>,
}

/// What one receiver gets of one sender's camera.
#[derive(Debug, Clone)]
enum Selection {
    /// One layer, switched at keyframes.
    Layer(LayerSelector),
    /// None (the receiver subscribed with `"video":"off"`).
    Off,
}

impl Router {
    /// Forwards an RTP packet from `sender` (whose SSRC was already checked
    /// to be theirs) to whom it should reach, or drops and counts it.
    pub(super) fn forward_media(
        &mut self,
        now: Instant,
        conn: ConnectionId,
        meeting: MeetingId,
        sender: ParticipantId,
        ssrc: u32,
        packet: Bytes,
    ) {
        let Some(m) = self.meetings.get_mut(&meeting) else {
            // A joined connection's meeting always exists; count rather than
            // panic if that ever stops being true.
            self.stats.media_dropped_not_joined += 1;
            return;
        };
        let Some(p) = m.get(sender) else {
            self.stats.media_dropped_not_joined += 1;
            return;
        };
        let track_number = track_of_ssrc(ssrc);
        match track_kind(track_number) {
            TrackKind::Audio if p.entry.muted => {
                self.stats.media_dropped_muted += 1;
                return;
            }
            TrackKind::Video { .. } if !p.entry.video => {
                self.stats.media_dropped_video_off += 1;
                return;
            }
            TrackKind::Video { layer } => {
                let Some(d) =
                    LayerDescriptor::find_in_rtp(&packet).filter(|d| d.layer.as_u8() == layer)
                else {
                    self.stats.media_dropped_no_layer += 1;
                    return;
                };
                return self.forward_video(now, conn, meeting, sender, d, packet);
            }
            TrackKind::Screen if !may_share(m, p) => {
                self.stats.media_dropped_screen_off += 1;
                return;
            }
            TrackKind::Unknown => {
                self.stats.media_dropped_unknown_track += 1;
                return;
            }
            TrackKind::Audio | TrackKind::Screen => {}
        }
        let to = m.recipients(conn);
        self.stats.media_forwarded += 1;
        self.stats.media_copies += to.len() as u64;
        if !to.is_empty() {
            self.outputs.push_back(Output::Media { to, packet });
        }
    }

    /// Forwards one camera video packet (descriptor `d`, already checked to
    /// match its track) to the receivers whose selector takes it, and asks
    /// the sender for keyframes that waiting selectors need.
    fn forward_video(
        &mut self,
        now: Instant,
        conn: ConnectionId,
        meeting: MeetingId,
        sender: ParticipantId,
        d: LayerDescriptor,
        packet: Bytes,
    ) {
        let Some(m) = self.meetings.get_mut(&meeting) else {
            return;
        };
        let mut chosen = Vec::new();
        let mut receivers = 0usize;
        // Bit n set: some receiver waits for a keyframe of layer n.
        let mut wanted: u8 = 0;
        {
            let (participants, media) = m.media_parts();
            let s = media.senders.entry(sender).or_default();
            for r in participants {
                let rid = r.entry.participant_id;
                if rid == sender {
                    continue;
                }
                receivers += 1;
                let selection = s
                    .receivers
                    .entry(rid)
                    .or_insert_with(|| Selection::Layer(LayerSelector::new(DEFAULT_LAYER)));
                let Selection::Layer(selector) = selection else {
                    continue;
                };
                if selector.handle_packet(d, now) == Forwarding::Forward {
                    chosen.push(r.conn);
                }
                if let Some(layer) = selector.poll_keyframe_request(now) {
                    wanted |= 1 << layer.as_u8();
                }
            }
        }
        self.stats.media_forwarded += 1;
        self.stats.media_copies += chosen.len() as u64;
        self.stats.media_layer_skipped += (receivers - chosen.len()) as u64;
        if chosen.len() == receivers && receivers > 0 {
            // Everyone takes it: share the meeting's member list.
            let to = m.recipients(conn);
            self.outputs.push_back(Output::Media { to, packet });
        } else if !chosen.is_empty() {
            chosen.push(conn);
            let to = Recipients::new(Arc::from(chosen), conn);
            self.outputs.push_back(Output::Media { to, packet });
        }
        for layer in 0..track::VIDEO_LAYERS {
            if wanted & (1 << layer) != 0 {
                self.send_keyframe_request(now, meeting, sender, track::VIDEO_BASE + layer);
            }
        }
    }

    /// Sends `sender` a PLI of the router's own for its track
    /// `track_number`, unless one went to that track too recently.
    fn send_keyframe_request(
        &mut self,
        now: Instant,
        meeting: MeetingId,
        sender: ParticipantId,
        track_number: u8,
    ) {
        let Some(owner) = self.pass_pli(now, meeting, sender, track_number) else {
            self.stats.keyframe_requests_limited += 1;
            return;
        };
        let pli = rtcp::pli(ROUTER_SSRC, ssrc_for(sender, track_number));
        self.stats.keyframe_requests_sent += 1;
        self.outputs.push_back(Output::Media {
            to: Recipients::new(Arc::from([owner, ROUTER_CONN]), ROUTER_CONN),
            packet: Bytes::copy_from_slice(&pli),
        });
    }

    /// Whether a PLI for `sender`'s track may go out now (and if so records
    /// it): the sender's connection, or `None` when they are gone or the
    /// track had one within [`PLI_MIN_INTERVAL`].
    fn pass_pli(
        &mut self,
        now: Instant,
        meeting: MeetingId,
        sender: ParticipantId,
        track_number: u8,
    ) -> Option<ConnectionId> {
        let m = self.meetings.get_mut(&meeting)?;
        let owner = m.conn_of(sender)?;
        let (_, media) = m.media_parts();
        let last = media
            .senders
            .entry(sender)
            .or_default()
            .last_pli
            .get_mut(usize::from(track_number))?;
        if last.is_some_and(|t| now.saturating_duration_since(t) < PLI_MIN_INTERVAL) {
            return None;
        }
        *last = Some(now);
        Some(owner)
    }

    /// Whether a NACK from `receiver` about `sender`'s track, carrying
    /// `fci_len` bytes of entries, fits that pair's budget now (and if so
    /// spends it). Each 4-byte entry costs one token; an empty NACK costs
    /// one too, so even those cannot be relayed without limit.
    fn pass_nack(
        &mut self,
        now: Instant,
        meeting: MeetingId,
        sender: ParticipantId,
        receiver: ParticipantId,
        track_number: u8,
        fci_len: usize,
    ) -> bool {
        let Some(m) = self.meetings.get_mut(&meeting) else {
            return false;
        };
        let cost = u32::try_from(fci_len / 4).unwrap_or(u32::MAX).max(1);
        let (_, media) = m.media_parts();
        media
            .senders
            .entry(sender)
            .or_default()
            .nack_budget
            .entry((receiver, track_number))
            .or_insert_with(|| TokenBucket::new(now, NACK_BURST, NACK_INTERVAL))
            .try_take(now, cost)
    }

    /// An RTCP packet from `receiver` on the media path: relays a PLI or
    /// NACK to the one participant owning the stream it names, or drops and
    /// counts it.
    pub(super) fn relay_feedback(
        &mut self,
        now: Instant,
        conn: ConnectionId,
        meeting: MeetingId,
        receiver: ParticipantId,
        packet: Bytes,
    ) {
        // Only a single packet is relayed: anything after it (a compound
        // packet's other parts) would reach the owner unchecked.
        let fb = match FeedbackPacket::parse(&packet) {
            Ok(fb) if fb.len == packet.len() => fb,
            _ => {
                self.stats.feedback_dropped_malformed += 1;
                return;
            }
        };
        let track_number = track_of_ssrc(fb.media_ssrc);
        let kind = track_kind(track_number);
        let well_formed = match fb.kind {
            // Audio has no keyframes to ask for.
            FeedbackKind::Pli => kind != TrackKind::Audio,
            FeedbackKind::Nack => true,
            FeedbackKind::Other { .. } => false,
        };
        if !well_formed {
            self.stats.feedback_dropped_malformed += 1;
            return;
        }
        if participant_of_ssrc(fb.sender_ssrc) != receiver {
            self.stats.feedback_dropped_spoofed += 1;
            return;
        }
        let owner = participant_of_ssrc(fb.media_ssrc);
        let owner_conn = self
            .meetings
            .get(&meeting)
            .and_then(|m| m.conn_of(owner))
            .filter(|_| owner != receiver && kind != TrackKind::Unknown);
        let Some(owner_conn) = owner_conn else {
            self.stats.feedback_dropped_unknown_ssrc += 1;
            return;
        };
        if fb.kind == FeedbackKind::Pli
            && self.pass_pli(now, meeting, owner, track_number).is_none()
        {
            self.stats.feedback_dropped_rate_limited += 1;
            return;
        }
        if fb.kind == FeedbackKind::Nack
            && !self.pass_nack(now, meeting, owner, receiver, track_number, fb.fci.len())
        {
            self.stats.feedback_dropped_nack_limited += 1;
            return;
        }
        self.stats.feedback_relayed += 1;
        self.outputs.push_back(Output::Media {
            to: Recipients::new(Arc::from([owner_conn, conn]), conn),
            packet,
        });
    }

    /// A `subscribe` from `receiver`: from now on they get the chosen layer
    /// of the sender's camera (switching at its next keyframe, which the
    /// router asks for at once), or none of it.
    pub(super) fn subscribe(
        &mut self,
        conn: ConnectionId,
        meeting: MeetingId,
        receiver: ParticipantId,
        sub: Subscription,
    ) {
        let now = self.now;
        let Some(choice) = sub.choice() else {
            return self.reject(
                conn,
                ErrorCode::MalformedMessage,
                "a simulcast layer is 0, 1 or 2".into(),
            );
        };
        let sender = sub.participant;
        let Some(m) = self.meetings.get_mut(&meeting) else {
            return;
        };
        let sending = match m.get(sender) {
            Some(p) if sender != receiver => p.entry.video,
            _ => {
                let message = format!("participant {sender} is not someone else in the meeting");
                return self.reject(conn, ErrorCode::UnknownParticipant, message);
            }
        };
        let (_, media) = m.media_parts();
        let selection = media
            .senders
            .entry(sender)
            .or_default()
            .receivers
            .entry(receiver)
            .or_insert(Selection::Off);
        let wanted = match (choice, &mut *selection) {
            (LayerChoice::Off, _) => {
                *selection = Selection::Off;
                None
            }
            (LayerChoice::Layer(layer), Selection::Layer(selector)) => {
                selector.request_layer(layer);
                sending
                    .then(|| selector.poll_keyframe_request(now))
                    .flatten()
            }
            (LayerChoice::Layer(layer), Selection::Off) => {
                let mut selector = LayerSelector::new(layer);
                let wanted = sending
                    .then(|| selector.poll_keyframe_request(now))
                    .flatten();
                *selection = Selection::Layer(selector);
                wanted
            }
        };
        if let Some(layer) = wanted {
            self.send_keyframe_request(now, meeting, sender, track::VIDEO_BASE + layer.as_u8());
        }
    }
}

/// Whether `p`'s screen share packets may be forwarded: they are sharing
/// (not paused or stopped) and the meeting lets them share.
fn may_share(m: &Meeting, p: &Participant) -> bool {
    p.entry.sharing == ShareState::On
        && (m.settings.share == SharePolicy::Everyone || p.entry.role.is_host_like())
}
