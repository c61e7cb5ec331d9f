//! Standard meetings' media keys: the router generates each meeting's
//! SFrame key material and hands it out over the TLS control channel.
//!
//! - A meeting's first epoch (1) is generated when its first participant is
//!   admitted; every admitted participant is sent the current epoch's key
//!   (`media_key`) right after `joined`.
//! - When a participant leaves, disconnects, times out or is expelled, the
//!   meeting moves to a new epoch with fresh random key material, sent to
//!   everyone remaining. The one who went never receives it, so it cannot
//!   open what is sealed from then on (forward secrecy against removed
//!   members; a newcomer does get the current epoch, which the issue does
//!   not ask to hide from them).
//! - When a meeting ends for everyone, nobody is left to rotate for.
//! - In an E2E meeting (`policy.e2e` in the first admitted join token) the
//!   router never generates or sends a key: participants agree on keys
//!   among themselves (MLS) and the router only relays their messages.
//!
//! Keys come from a [`StdRng`] seeded by [`CoreConfig::media_key_seed`]
//! (`crate::core::CoreConfig`), so the core stays deterministic under test
//! while the driver's default seed comes from the OS generator. The bytes
//! are opaque here: this crate never links the SFrame code that uses them.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;

use confer_wire::control::{ErrorCode, LeaveReason, ServerMessage};
use confer_wire::ids::{MeetingId, ParticipantId};
use confer_wire::keys::{KeyBytes, MEDIA_KEY_LEN, MediaKey, MlsClientMessage, MlsServerMessage};
use rand::rngs::StdRng;
use rand::{RngCore as _, SeedableRng as _};

use super::Router;
use crate::core::config::MediaKeySeed;
use crate::core::output::{ConnectionId, Output};

/// The key state of every meeting on this router.
pub(crate) struct MediaKeys {
    /// Where key material comes from.
    rng: StdRng,
    /// Per meeting: E2E or not, and the current epoch's key.
    meetings: HashMap<MeetingId, MeetingKey>,
}

/// One meeting's key state.
struct MeetingKey {
    /// E2E meetings get no key from the router, ever.
    e2e: bool,
    /// The current epoch and its key; `None` until someone is admitted.
    current: Option<(u64, [u8; MEDIA_KEY_LEN])>,
    /// E2E meetings: the MLS delivery state.
    delivery: Delivery,
}

/// The router as an E2E meeting's MLS delivery service: who is in the
/// group, what it must still be asked to commit, and the one commit it is
/// waiting for. Every byte it holds is opaque (key packages, device
/// records); it holds no key.
#[derive(Default)]
struct Delivery {
    /// Group members and their device records, by participant id; the
    /// lowest id commits.
    members: BTreeMap<ParticipantId, KeyBytes>,
    /// Changes still to commit, in order.
    queue: VecDeque<Change>,
    /// The change a member was asked to commit, and who.
    in_flight: Option<(Change, ParticipantId)>,
}

/// A membership change the group must commit.
#[derive(Clone)]
enum Change {
    /// Add a joiner with this key package and device record.
    Add(ParticipantId, KeyBytes, KeyBytes),
    /// Remove a departed member, named by its device record.
    Remove(ParticipantId, KeyBytes),
}

impl MediaKeys {
    /// No meetings yet; keys drawn from a generator seeded with `seed`.
    pub(crate) fn new(seed: &MediaKeySeed) -> Self {
        Self {
            rng: StdRng::from_seed(seed.0),
            meetings: HashMap::new(),
        }
    }

    /// A join to `meeting` was accepted (it will be held or enter). The
    /// first join of a meeting (`fresh`: nobody in it or waiting) decides
    /// whether it is E2E and starts its key state afresh, so a meeting id
    /// used again after it emptied never continues old keys.
    pub(crate) fn note_join(&mut self, meeting: MeetingId, e2e: bool, fresh: bool) {
        if fresh || !self.meetings.contains_key(&meeting) {
            self.meetings.insert(
                meeting,
                MeetingKey {
                    e2e,
                    current: None,
                    delivery: Delivery::default(),
                },
            );
        }
    }

    /// Forgets a meeting that ended.
    pub(crate) fn forget_meeting(&mut self, meeting: MeetingId) {
        self.meetings.remove(&meeting);
    }

    /// The current epoch's key of a standard meeting, starting epoch 1 if
    /// there is none yet. `None` for E2E meetings and unknown ones (fail
    /// closed: a meeting whose kind is unknown gets no router key).
    fn current(&mut self, meeting: MeetingId) -> Option<MediaKey> {
        let state = self.meetings.get_mut(&meeting)?;
        if state.e2e {
            return None;
        }
        let (epoch, key) = match state.current {
            Some(current) => current,
            None => {
                let first = (1, fresh_key(&mut self.rng));
                state.current = Some(first);
                first
            }
        };
        Some(MediaKey {
            epoch,
            key: KeyBytes(key.to_vec()),
        })
    }

    /// Moves a standard meeting with a key to its next epoch; `None` for
    /// E2E meetings and meetings with no key yet.
    fn rotate(&mut self, meeting: MeetingId) -> Option<MediaKey> {
        let state = self.meetings.get_mut(&meeting)?;
        let (epoch, _) = state.current.filter(|_| !state.e2e)?;
        let next = (epoch.saturating_add(1), fresh_key(&mut self.rng));
        state.current = Some(next);
        Some(MediaKey {
            epoch: next.0,
            key: KeyBytes(next.1.to_vec()),
        })
    }

    /// Whether `meeting` is an E2E meeting.
    pub(super) fn is_e2e(&self, meeting: MeetingId) -> bool {
        self.meetings.get(&meeting).is_some_and(|m| m.e2e)
    }

    /// The delivery state of an E2E meeting.
    fn delivery(&mut self, meeting: MeetingId) -> Option<&mut Delivery> {
        self.meetings
            .get_mut(&meeting)
            .filter(|m| m.e2e)
            .map(|m| &mut m.delivery)
    }

    /// How many meetings have key state (for tests of its cleanup).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.meetings.len()
    }
}

impl fmt::Debug for MediaKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key material stays out of logs; epochs are enough to debug.
        let epochs: HashMap<_, _> = self
            .meetings
            .iter()
            .map(|(id, m)| (*id, (m.e2e, m.current.map(|(epoch, _)| epoch))))
            .collect();
        f.debug_struct("MediaKeys")
            .field("meetings (e2e, epoch)", &epochs)
            .finish_non_exhaustive()
    }
}

/// Fresh key material.
fn fresh_key(rng: &mut StdRng) -> [u8; MEDIA_KEY_LEN] {
    let mut key = [0u8; MEDIA_KEY_LEN];
    rng.fill_bytes(&mut key);
    key
}

impl Router {
    /// Hook from admission (`enter`): sends the newly admitted `conn` the
    /// current epoch's key of a standard meeting.
    pub(super) fn send_media_key(&mut self, meeting: MeetingId, conn: ConnectionId) {
        if let Some(key) = self.media_keys.current(meeting) {
            self.outputs.push_back(Output::Control {
                to: conn,
                message: ServerMessage::MediaKey(key),
            });
        }
    }

    /// Hook from `forget`, after a participant left `meeting` for `reason`:
    /// a standard meeting moves to a new epoch whose key goes to everyone
    /// remaining; a meeting that is gone loses its key state.
    pub(super) fn rotate_media_key(
        &mut self,
        meeting: MeetingId,
        participant: ParticipantId,
        reason: LeaveReason,
    ) {
        let Some(m) = self.meetings.get(&meeting) else {
            self.media_keys.forget_meeting(meeting);
            return;
        };
        // Everyone is being sent away; nobody is left to rotate for.
        if reason == LeaveReason::Ended {
            return;
        }
        if self.media_keys.is_e2e(meeting) {
            return self.mls_departed(meeting, participant);
        }
        if !m.has_participants() {
            return;
        }
        if let Some(key) = self.media_keys.rotate(meeting) {
            self.broadcast(meeting, &ServerMessage::MediaKey(key));
        }
    }

    /// How many meetings hold key state.
    #[cfg(test)]
    pub(crate) fn media_key_meetings(&self) -> usize {
        self.media_keys.len()
    }

    /// Hook from `joined_message`: an MLS message from a participant of
    /// `meeting`. Only E2E meetings take them.
    pub(super) fn mls_message(
        &mut self,
        conn: ConnectionId,
        meeting: MeetingId,
        participant: ParticipantId,
        message: MlsClientMessage,
    ) {
        let Some(delivery) = self.media_keys.delivery(meeting) else {
            return self.reject(
                conn,
                ErrorCode::NotAllowed,
                "MLS messages belong to E2E meetings only".into(),
            );
        };
        match message {
            MlsClientMessage::KeyPackage {
                key_package,
                device,
            } => {
                let known = delivery.members.contains_key(&participant)
                    || delivery.queue.iter().any(|c| c.concerns(participant))
                    || delivery
                        .in_flight
                        .as_ref()
                        .is_some_and(|(c, _)| c.concerns(participant));
                if known {
                    return self.reject(
                        conn,
                        ErrorCode::NotAllowed,
                        "your key package was already taken".into(),
                    );
                }
                delivery
                    .queue
                    .push_back(Change::Add(participant, key_package, device));
            }
            MlsClientMessage::Commit { commit, welcome } => {
                let Some((change, _)) = delivery
                    .in_flight
                    .take_if(|(_, committer)| *committer == participant)
                else {
                    return self.reject(
                        conn,
                        ErrorCode::NotAllowed,
                        "no commit was asked of you".into(),
                    );
                };
                let added = match &change {
                    Change::Add(joiner, _, device) => Some((*joiner, device.clone())),
                    Change::Remove(..) => None,
                };
                let others: Vec<ParticipantId> = delivery
                    .members
                    .keys()
                    .copied()
                    .filter(|id| *id != participant)
                    .collect();
                if let Some((joiner, device)) = &added {
                    delivery.members.insert(*joiner, device.clone());
                }
                let relay = ServerMessage::Mls(MlsServerMessage::Commit {
                    from: participant,
                    commit,
                });
                for id in others {
                    self.send_to_participant(meeting, id, relay.clone());
                }
                if let Some((joiner, device)) = added {
                    let present = self
                        .meetings
                        .get(&meeting)
                        .is_some_and(|m| m.conn_of(joiner).is_some());
                    match (present, welcome) {
                        (true, Some(welcome)) => self.send_to_participant(
                            meeting,
                            joiner,
                            ServerMessage::Mls(MlsServerMessage::Welcome {
                                from: participant,
                                welcome,
                            }),
                        ),
                        // Gone before the welcome, or none came: the group
                        // holds a member nobody speaks for; take it out.
                        _ => {
                            if let Some(d) = self.media_keys.delivery(meeting) {
                                d.members.remove(&joiner);
                                d.queue.push_front(Change::Remove(joiner, device));
                            }
                        }
                    }
                }
            }
            MlsClientMessage::Failed { reason } => {
                let taken = delivery
                    .in_flight
                    .take_if(|(_, committer)| *committer == participant);
                tracing::debug!(%meeting, %participant, %reason, dropped = taken.is_some(), "MLS change failed");
            }
            _ => {}
        }
        self.mls_pump(meeting);
    }

    /// An E2E meeting's participant went: drop what they were owed, have
    /// the group remove them, and re-ask a commit they were to make.
    fn mls_departed(&mut self, meeting: MeetingId, participant: ParticipantId) {
        let Some(delivery) = self.media_keys.delivery(meeting) else {
            return;
        };
        delivery
            .queue
            .retain(|c| !matches!(c, Change::Add(id, ..) if *id == participant));
        if let Some((change, _)) = delivery
            .in_flight
            .take_if(|(_, committer)| *committer == participant)
        {
            delivery.queue.push_front(change);
        }
        if let Some(device) = delivery.members.remove(&participant) {
            delivery
                .queue
                .push_back(Change::Remove(participant, device));
        }
        self.mls_pump(meeting);
    }

    /// Asks for the next commit, if none is outstanding.
    fn mls_pump(&mut self, meeting: MeetingId) {
        loop {
            let Some(delivery) = self.media_keys.delivery(meeting) else {
                return;
            };
            if delivery.in_flight.is_some() {
                return;
            }
            let Some(change) = delivery.queue.pop_front() else {
                return;
            };
            let committer = delivery.members.keys().next().copied();
            let (to, message) = match (&change, committer) {
                // Nobody holds the group: the joiner founds it.
                (Change::Add(joiner, _, device), None) => {
                    delivery.members.insert(*joiner, device.clone());
                    (*joiner, MlsServerMessage::Create {})
                }
                // Nobody is left to remove anyone from.
                (Change::Remove(..), None) => continue,
                (Change::Add(joiner, key_package, device), Some(committer)) => {
                    delivery.in_flight = Some((change.clone(), committer));
                    let message = MlsServerMessage::Add {
                        participant_id: *joiner,
                        key_package: key_package.clone(),
                        device: device.clone(),
                    };
                    (committer, message)
                }
                (Change::Remove(gone, device), Some(committer)) => {
                    delivery.in_flight = Some((change.clone(), committer));
                    let message = MlsServerMessage::Remove {
                        participant_id: *gone,
                        device: device.clone(),
                    };
                    (committer, message)
                }
            };
            self.send_to_participant(meeting, to, ServerMessage::Mls(message));
        }
    }

    /// Sends `message` to participant `id` of `meeting`, if present.
    fn send_to_participant(
        &mut self,
        meeting: MeetingId,
        id: ParticipantId,
        message: ServerMessage,
    ) {
        if let Some(to) = self.meetings.get(&meeting).and_then(|m| m.conn_of(id)) {
            self.outputs.push_back(Output::Control { to, message });
        }
    }
}

impl Change {
    /// Whether this change adds `participant`.
    fn concerns(&self, participant: ParticipantId) -> bool {
        matches!(self, Change::Add(id, ..) if *id == participant)
    }
}
