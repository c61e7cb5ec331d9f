//! Direct end-to-end encrypted chat between users, outside meetings.
//!
//! **Sending** ([`send`]): the recipient's active devices, and our own
//! other active devices (so what we said shows on them too), come from the
//! organisation's device directory; the text is sealed once per device
//! (`confer_e2e::chat::seal`: HPKE to the device's X25519 key, signed by
//! ours) and the envelopes posted, at most
//! [`MAX_ENVELOPES_PER_POST`] at a time under one message id.
//!
//! **Receiving** ([`receive`]): a page of this device's inbox is fetched
//! and each entry judged by [`Inbox::handle_entry`], which decides without
//! I/O: the sending device must be listed in the directory entry of the
//! user the server says sent it, with the very keys the server named; then
//! `confer_e2e::chat::open` verifies the signature and decrypts. Failures
//! are counted by [`DropReason`]; a message already shown (same
//! [`MessageId`], e.g. a replay) is dropped as a duplicate; the ids shown
//! can be kept between runs ([`Inbox::with_remembered`],
//! [`Inbox::remembered`]), so a server that delivers a message again after
//! it was acknowledged and deleted is caught too. Entries that
//! were handled, shown or dropped for good, are acknowledged so the server
//! deletes them. When the directory cannot be asked (network, server
//! error) the round stops *before* that entry and nothing from it on is
//! acknowledged: a message is never lost to a transient failure.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use confer_e2e::chat::{self, ChatError};
use confer_e2e::device::{DeviceId, DeviceIdentity, DevicePublicKeys};

use crate::api::{ApiClient, ApiError, DirectoryEntry, InboxMessage};

pub use confer_e2e::chat::MessageId;

/// Most envelopes the server takes in one post.
pub const MAX_ENVELOPES_PER_POST: usize = 64;

/// Inbox entries asked for per request.
pub const INBOX_PAGE_SIZE: u32 = 100;

/// How many shown message ids an [`Inbox`] remembers, the oldest forgotten
/// first: 16 bytes each, and far more than anyone reads between two
/// replays a server could attempt.
pub const REMEMBERED_IDS: usize = 10_000;

/// Why a direct message could not be sent, or the inbox not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DirectChatError {
    /// The directory knows no such user in our organisation (it answers the
    /// same for users of other organisations).
    #[error("no user {email} in your organisation")]
    UnknownRecipient {
        /// The address asked for.
        email: String,
    },
    /// The recipient exists but has no active device with valid keys, so
    /// nothing can be encrypted for them.
    #[error("{email} has no registered device to send to")]
    NoDevices {
        /// The recipient's address.
        email: String,
    },
    /// Sealing failed (message too long, random number generator).
    #[error(transparent)]
    Seal(#[from] ChatError),
    /// An API call failed.
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// What [`send`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The message's id, the same in every device's copy.
    pub message_id: MessageId,
    /// How many devices it was sealed for (recipient's and our others).
    pub devices: usize,
    /// Directory records left out because their id does not match their
    /// keys or a key is invalid.
    pub skipped_devices: usize,
}

/// Sends `text` to every active device of `to`, and to our own other active
/// devices when `own_email` is given.
///
/// # Errors
/// [`DirectChatError::UnknownRecipient`], [`DirectChatError::NoDevices`],
/// [`DirectChatError::Seal`], [`DirectChatError::Api`].
pub async fn send(
    api: &ApiClient,
    identity: &DeviceIdentity,
    own_email: Option<&str>,
    to: &str,
    text: &str,
) -> Result<Sent, DirectChatError> {
    let recipient = api.directory_devices(to).await.map_err(|e| match e {
        e if e.status() == Some(404) => DirectChatError::UnknownRecipient {
            email: to.to_owned(),
        },
        e => DirectChatError::Api(e),
    })?;
    let own = match own_email {
        Some(email) if !email.eq_ignore_ascii_case(to) => {
            // Our own other devices are a courtesy: if the lookup fails the
            // message still goes to the recipient.
            api.directory_devices(email).await.ok()
        }
        _ => None,
    };
    let choice = recipients(identity.device_id(), &recipient, own.as_ref());
    if choice.recipient_devices == 0 {
        return Err(DirectChatError::NoDevices {
            email: to.to_owned(),
        });
    }
    let message_id = MessageId::random()?;
    let envelopes = chat::seal(identity, &choice.devices, message_id, text.as_bytes())?;
    for batch in envelopes.chunks(MAX_ENVELOPES_PER_POST) {
        api.send_chat_envelopes(batch).await?;
    }
    Ok(Sent {
        message_id,
        devices: envelopes.len(),
        skipped_devices: choice.skipped,
    })
}

/// The devices one message is sealed for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Recipients {
    /// Each device once, the recipient's first.
    devices: Vec<DevicePublicKeys>,
    /// How many of them belong to the recipient.
    recipient_devices: usize,
    /// Records left out as inconsistent.
    skipped: usize,
}

/// Chooses the devices to seal for: the recipient's, then our own others;
/// never this device, never one twice, never a record whose id does not
/// match its keys.
fn recipients(me: DeviceId, to: &DirectoryEntry, own: Option<&DirectoryEntry>) -> Recipients {
    let mut seen = HashSet::from([me]);
    let mut devices = Vec::new();
    let mut skipped = 0;
    let mut recipient_devices = 0;
    let own_devices = own.map(|e| e.devices.as_slice()).unwrap_or_default();
    for (is_recipient, device) in to
        .devices
        .iter()
        .map(|d| (true, d))
        .chain(own_devices.iter().map(|d| (false, d)))
    {
        if device.check().is_err() {
            skipped += 1;
            continue;
        }
        if seen.insert(device.device_id) {
            devices.push(device.clone());
            recipient_devices += usize::from(is_recipient);
        }
    }
    Recipients {
        devices,
        recipient_devices,
        skipped,
    }
}

/// Why an inbox entry was dropped without being shown. Each is permanent:
/// asking again would give the same answer, so the entry is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DropReason {
    /// The entry's envelope or sender keys are not valid JSON records.
    Malformed,
    /// The sending device is not an active device of the user the server
    /// named (unknown user, another organisation, revoked device).
    SenderNotInDirectory,
    /// The keys the server handed with the entry differ from the
    /// directory's for that device, or do not belong to the envelope's
    /// sender.
    SenderKeysMismatch,
    /// The envelope is addressed to another device.
    WrongRecipient,
    /// The signature does not verify.
    BadSignature,
    /// The signature verified but the ciphertext does not decrypt here.
    Undecryptable,
    /// The plaintext is not UTF-8 text.
    NotText,
}

impl DropReason {
    /// A stable name for logs and JSON (`bad_signature`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::SenderNotInDirectory => "sender_not_in_directory",
            Self::SenderKeysMismatch => "sender_keys_mismatch",
            Self::WrongRecipient => "wrong_recipient",
            Self::BadSignature => "bad_signature",
            Self::Undecryptable => "undecryptable",
            Self::NotText => "not_text",
        }
    }

    fn from_open(error: &ChatError) -> Self {
        match error {
            ChatError::WrongRecipient { .. } => Self::WrongRecipient,
            ChatError::SenderMismatch { .. } | ChatError::Device(_) => Self::SenderKeysMismatch,
            ChatError::BadSignature => Self::BadSignature,
            ChatError::Tampered => Self::Undecryptable,
            _ => Self::Malformed,
        }
    }
}

/// A verified, decrypted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// Its id.
    pub message_id: MessageId,
    /// The sending user's email address (the directory's word).
    pub from: String,
    /// The device that signed it.
    pub sender_device: DeviceId,
    /// The text.
    pub text: String,
    /// Its inbox cursor.
    pub cursor: u64,
}

/// What became of one inbox entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryOutcome {
    /// Verified and decrypted: show it.
    Message(ReceivedMessage),
    /// A copy of a message already shown.
    Duplicate,
    /// Dropped for good.
    Dropped(DropReason),
}

/// Counts over the life of one [`Inbox`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxStats {
    /// Messages shown.
    pub received: usize,
    /// Copies of messages already shown, dropped.
    pub duplicates: usize,
    /// Entries dropped, by reason.
    pub dropped: BTreeMap<DropReason, usize>,
}

/// The receiving side's state: which messages were shown (to drop
/// replays), what was dropped and why, and how far the inbox was read.
///
/// Sans-IO: feed it each inbox entry with its sender's directory entry
/// ([`handle_entry`](Self::handle_entry)); [`receive`] is the driver.
#[derive(Debug, Default)]
pub struct Inbox {
    seen: HashSet<MessageId>,
    /// The same ids, oldest first, to forget the oldest past
    /// [`REMEMBERED_IDS`].
    order: VecDeque<MessageId>,
    stats: InboxStats,
    /// The highest cursor handled (shown or dropped for good).
    after: u64,
}

impl Inbox {
    /// A fresh state: nothing seen, reading from the start.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh state that already knows the messages shown before (oldest
    /// first, as [`Self::remembered`] gave them), to drop them if they come
    /// again. Only the newest [`REMEMBERED_IDS`] are kept.
    pub fn with_remembered(ids: impl IntoIterator<Item = MessageId>) -> Self {
        let mut inbox = Self::default();
        for id in ids {
            inbox.remember(id);
        }
        inbox
    }

    /// The ids of the messages shown, oldest first (at most
    /// [`REMEMBERED_IDS`]), to keep for the next run.
    pub fn remembered(&self) -> impl Iterator<Item = &MessageId> {
        self.order.iter()
    }

    fn remember(&mut self, id: MessageId) {
        if self.seen.insert(id) {
            self.order.push_back(id);
        }
        while self.order.len() > REMEMBERED_IDS {
            if let Some(oldest) = self.order.pop_front() {
                self.seen.remove(&oldest);
            }
        }
    }

    /// The counts so far.
    pub fn stats(&self) -> &InboxStats {
        &self.stats
    }

    /// The highest cursor handled so far (0 before any).
    pub fn after(&self) -> u64 {
        self.after
    }

    /// Judges one entry addressed to `me`. `directory` is the directory's
    /// entry for the user the server says sent it (`None`: the directory
    /// knows no such user in our organisation).
    ///
    /// A message id is remembered only once a message verified: an entry
    /// forged under a real message's id cannot get the real one dropped as
    /// its duplicate.
    pub fn handle_entry(
        &mut self,
        me: &DeviceIdentity,
        entry: &InboxMessage,
        directory: Option<&DirectoryEntry>,
    ) -> EntryOutcome {
        self.after = self.after.max(entry.cursor);
        let outcome = judge(me, entry, directory, &self.seen);
        match &outcome {
            EntryOutcome::Message(message) => {
                let id = message.message_id;
                self.remember(id);
                self.stats.received += 1;
            }
            EntryOutcome::Duplicate => self.stats.duplicates += 1,
            EntryOutcome::Dropped(reason) => {
                *self.stats.dropped.entry(*reason).or_default() += 1;
            }
        }
        outcome
    }
}

fn judge(
    me: &DeviceIdentity,
    entry: &InboxMessage,
    directory: Option<&DirectoryEntry>,
    seen: &HashSet<MessageId>,
) -> EntryOutcome {
    let drop = EntryOutcome::Dropped;
    let (Ok(named), Ok(envelope)) = (entry.sender_keys(), entry.envelope()) else {
        return drop(DropReason::Malformed);
    };
    let Some(directory) = directory else {
        return drop(DropReason::SenderNotInDirectory);
    };
    // The directory answers for the address asked; an entry for another
    // user must not vouch for this sender.
    if !directory.email.eq_ignore_ascii_case(&entry.sender_email) {
        return drop(DropReason::SenderNotInDirectory);
    }
    let Some(listed) = directory
        .devices
        .iter()
        .find(|d| d.device_id == named.device_id)
    else {
        return drop(DropReason::SenderNotInDirectory);
    };
    if *listed != named || envelope.sender != named.device_id {
        return drop(DropReason::SenderKeysMismatch);
    }
    let opened = match chat::open(me, listed, &envelope) {
        Ok(opened) => opened,
        Err(error) => return drop(DropReason::from_open(&error)),
    };
    if seen.contains(&opened.message_id) {
        return EntryOutcome::Duplicate;
    }
    let Ok(text) = String::from_utf8(opened.plaintext) else {
        return drop(DropReason::NotText);
    };
    EntryOutcome::Message(ReceivedMessage {
        message_id: opened.message_id,
        from: directory.email.clone(),
        sender_device: opened.sender,
        text,
        cursor: entry.cursor,
    })
}

/// What one [`receive`] round brought.
#[derive(Debug, Default)]
pub struct Round {
    /// New messages, in inbox order.
    pub messages: Vec<ReceivedMessage>,
    /// Entries dropped this round, by reason.
    pub dropped: BTreeMap<DropReason, usize>,
    /// Copies of messages already shown (in this run or, with
    /// [`Inbox::with_remembered`], an earlier one), dropped this round.
    pub duplicates: usize,
    /// Why the round stopped early, if it did; the entries from there on
    /// stay in the inbox for the next round.
    pub interrupted: Option<ApiError>,
    /// Why acknowledging failed, if it did; the entries handled will come
    /// again (and be dropped as duplicates by this [`Inbox`]).
    pub ack_failed: Option<ApiError>,
}

/// Reads this device's inbox to its end (as far as it can), judging every
/// entry with `inbox` and acknowledging what was handled.
///
/// # Errors
/// Only when the first page cannot be fetched; later failures end the round
/// early and are reported in [`Round::interrupted`].
pub async fn receive(
    api: &ApiClient,
    me: &DeviceIdentity,
    inbox: &mut Inbox,
) -> Result<Round, ApiError> {
    let mut round = Round::default();
    // One directory lookup per sender per round: fresh enough to notice a
    // revocation on the next round, cheap for a burst from one sender.
    let mut directory: HashMap<String, Option<DirectoryEntry>> = HashMap::new();
    let dropped_before = inbox.stats().dropped.clone();
    let duplicates_before = inbox.stats().duplicates;
    let mut first = true;
    'pages: loop {
        let page = match api
            .chat_inbox(me.device_id(), inbox.after(), Some(INBOX_PAGE_SIZE))
            .await
        {
            Ok(page) => page,
            Err(e) if first => return Err(e),
            Err(e) => {
                round.interrupted = Some(e);
                break;
            }
        };
        first = false;
        let handled_before = inbox.after();
        for entry in &page.messages {
            if entry.cursor <= handled_before {
                // Already handled (a server that ignored `after`).
                continue;
            }
            let key = entry.sender_email.to_ascii_lowercase();
            if !directory.contains_key(&key) {
                match lookup(api, &entry.sender_email).await {
                    Ok(found) => {
                        directory.insert(key.clone(), found);
                    }
                    Err(e) => {
                        round.interrupted = Some(e);
                        break 'pages;
                    }
                }
            }
            let sender = directory.get(&key).and_then(Option::as_ref);
            if let EntryOutcome::Message(message) = inbox.handle_entry(me, entry, sender) {
                round.messages.push(message);
            }
        }
        let full = u32::try_from(page.messages.len()).is_ok_and(|n| n >= INBOX_PAGE_SIZE);
        if inbox.after() > handled_before
            && let Err(e) = api.ack_chat_inbox(me.device_id(), inbox.after()).await
        {
            round.ack_failed = Some(e);
            break;
        }
        if !full || inbox.after() == handled_before {
            break;
        }
    }
    // Acknowledge what was handled before an interruption, too.
    if round.interrupted.is_some()
        && round.ack_failed.is_none()
        && inbox.after() > 0
        && let Err(e) = api.ack_chat_inbox(me.device_id(), inbox.after()).await
    {
        round.ack_failed = Some(e);
    }
    round.duplicates = inbox.stats().duplicates - duplicates_before;
    for (reason, count) in &inbox.stats().dropped {
        let new = count - dropped_before.get(reason).copied().unwrap_or(0);
        if new > 0 {
            round.dropped.insert(*reason, new);
        }
    }
    Ok(round)
}

/// The directory's entry for `email`; `None` when it knows no such user in
/// our organisation (404), an error for anything that may pass.
async fn lookup(api: &ApiClient, email: &str) -> Result<Option<DirectoryEntry>, ApiError> {
    match api.directory_devices(email).await {
        Ok(entry) => Ok(Some(entry)),
        Err(e) if e.status() == Some(404) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry_for(user: &str, devices: &[&DeviceIdentity]) -> DirectoryEntry {
        DirectoryEntry {
            user_id: format!("id-{user}"),
            email: user.to_owned(),
            devices: devices.iter().map(|d| d.public_keys().clone()).collect(),
        }
    }

    /// The inbox entry the server would hand `recipient` for a message
    /// `sender` sealed to it.
    fn inbox_entry(
        cursor: u64,
        from: &str,
        sender: &DeviceIdentity,
        recipient: &DeviceIdentity,
        id: MessageId,
        text: &[u8],
    ) -> InboxMessage {
        let envelope = chat::seal(sender, &[recipient.public_keys().clone()], id, text)
            .unwrap()
            .remove(0);
        InboxMessage {
            cursor,
            sender_user_id: format!("id-{from}"),
            sender_email: from.to_owned(),
            sender_keys: serde_json::to_value(sender.public_keys()).unwrap(),
            envelope: serde_json::to_value(&envelope).unwrap(),
            stored_at: 1,
        }
    }

    #[test]
    fn recipients_are_every_valid_device_once_and_never_this_one() {
        let me = DeviceIdentity::generate().unwrap();
        let my_other = DeviceIdentity::generate().unwrap();
        let bo1 = DeviceIdentity::generate().unwrap();
        let bo2 = DeviceIdentity::generate().unwrap();
        let mut bo = entry_for("bo@x", &[&bo1, &bo2]);
        let mut broken = bo1.public_keys().clone();
        broken.x25519[0] ^= 1;
        bo.devices.push(broken);
        bo.devices.push(bo1.public_keys().clone());
        let own = entry_for("ada@x", &[&me, &my_other]);
        let chosen = recipients(me.device_id(), &bo, Some(&own));
        let ids: Vec<DeviceId> = chosen.devices.iter().map(|d| d.device_id).collect();
        assert_eq!(
            ids,
            [bo1.device_id(), bo2.device_id(), my_other.device_id()]
        );
        assert_eq!(chosen.recipient_devices, 2);
        assert_eq!(chosen.skipped, 1);
        // Only our own devices: nothing for the recipient.
        let nobody = entry_for("cy@x", &[]);
        assert_eq!(
            recipients(me.device_id(), &nobody, Some(&own)).recipient_devices,
            0
        );
    }

    #[test]
    fn a_verified_message_is_shown_once_and_its_copies_are_duplicates() {
        let ada = DeviceIdentity::generate().unwrap();
        let bo = DeviceIdentity::generate().unwrap();
        let dir = entry_for("ada@x", &[&ada]);
        let id = MessageId::random().unwrap();
        let entry = inbox_entry(5, "ada@x", &ada, &bo, id, b"hi bo");
        let mut inbox = Inbox::new();
        let EntryOutcome::Message(m) = inbox.handle_entry(&bo, &entry, Some(&dir)) else {
            panic!("not shown")
        };
        assert_eq!(
            (m.text.as_str(), m.from.as_str(), m.cursor),
            ("hi bo", "ada@x", 5)
        );
        assert_eq!(m.sender_device, ada.device_id());
        let replay = InboxMessage {
            cursor: 6,
            ..entry.clone()
        };
        assert_eq!(
            inbox.handle_entry(&bo, &replay, Some(&dir)),
            EntryOutcome::Duplicate
        );
        assert_eq!(inbox.stats().received, 1);
        assert_eq!(inbox.stats().duplicates, 1);
        assert_eq!(inbox.after(), 6);
    }

    #[test]
    fn a_message_shown_in_an_earlier_run_is_a_duplicate_when_it_comes_again() {
        let ada = DeviceIdentity::generate().unwrap();
        let bo = DeviceIdentity::generate().unwrap();
        let dir = entry_for("ada@x", &[&ada]);
        let id = MessageId::random().unwrap();
        let entry = inbox_entry(1, "ada@x", &ada, &bo, id, b"once");
        let mut first_run = Inbox::new();
        assert!(matches!(
            first_run.handle_entry(&bo, &entry, Some(&dir)),
            EntryOutcome::Message(_)
        ));
        let kept: Vec<MessageId> = first_run.remembered().copied().collect();
        assert_eq!(kept, [id]);
        // The server delivers it again, after it was acknowledged and
        // deleted: a new cursor, a new run.
        let mut next_run = Inbox::with_remembered(kept);
        let again = InboxMessage {
            cursor: 1,
            ..entry.clone()
        };
        assert_eq!(
            next_run.handle_entry(&bo, &again, Some(&dir)),
            EntryOutcome::Duplicate
        );
        assert_eq!(next_run.after(), 1, "handled, so acknowledged");
        // A new message still comes through.
        let other = inbox_entry(2, "ada@x", &ada, &bo, MessageId::random().unwrap(), b"new");
        assert!(matches!(
            next_run.handle_entry(&bo, &other, Some(&dir)),
            EntryOutcome::Message(_)
        ));
        assert_eq!(next_run.remembered().count(), 2);
    }

    #[test]
    fn only_the_newest_ids_are_remembered() {
        let ids: Vec<MessageId> = (0..REMEMBERED_IDS + 5)
            .map(|n| {
                let mut bytes = [0u8; MessageId::LEN];
                bytes[..8].copy_from_slice(&(n as u64).to_be_bytes());
                MessageId::from_bytes(bytes)
            })
            .collect();
        let inbox = Inbox::with_remembered(ids.iter().copied());
        let kept: Vec<MessageId> = inbox.remembered().copied().collect();
        assert_eq!(kept.len(), REMEMBERED_IDS);
        assert_eq!(kept.first(), Some(&ids[5]), "the oldest five forgotten");
        assert_eq!(kept.last(), ids.last());
        assert!(!inbox.seen.contains(&ids[0]) && inbox.seen.contains(&ids[5]));
        // Given twice, an id is kept once.
        let twice = Inbox::with_remembered([ids[0], ids[0]]);
        assert_eq!(twice.remembered().count(), 1);
    }

    #[test]
    fn each_failure_is_counted_under_its_own_reason() {
        let ada = DeviceIdentity::generate().unwrap();
        let mallory = DeviceIdentity::generate().unwrap();
        let bo = DeviceIdentity::generate().unwrap();
        let bo_other = DeviceIdentity::generate().unwrap();
        let dir = entry_for("ada@x", &[&ada]);
        let good = |cursor| {
            inbox_entry(
                cursor,
                "ada@x",
                &ada,
                &bo,
                MessageId::random().unwrap(),
                b"hello",
            )
        };
        let mut inbox = Inbox::new();
        let dropped =
            |inbox: &mut Inbox, entry: &InboxMessage, dir: Option<&DirectoryEntry>| match inbox
                .handle_entry(&bo, entry, dir)
            {
                EntryOutcome::Dropped(reason) => reason,
                other => panic!("not dropped: {other:?}"),
            };

        let mut garbled = good(1);
        garbled.envelope = serde_json::json!({"version": 1});
        assert_eq!(
            dropped(&mut inbox, &garbled, Some(&dir)),
            DropReason::Malformed
        );

        // Unknown sender user, and a directory entry for someone else.
        assert_eq!(
            dropped(&mut inbox, &good(2), None),
            DropReason::SenderNotInDirectory
        );
        let other_user = entry_for("cy@x", &[&ada]);
        assert_eq!(
            dropped(&mut inbox, &good(3), Some(&other_user)),
            DropReason::SenderNotInDirectory
        );
        // Mallory's device is not one of Ada's, though the server says so.
        let forged = inbox_entry(
            4,
            "ada@x",
            &mallory,
            &bo,
            MessageId::random().unwrap(),
            b"x",
        );
        assert_eq!(
            dropped(&mut inbox, &forged, Some(&dir)),
            DropReason::SenderNotInDirectory
        );
        // The server names Ada's device but hands Mallory's keys under it.
        let mut swapped = forged.clone();
        let mut keys = mallory.public_keys().clone();
        keys.device_id = ada.device_id();
        swapped.sender_keys = serde_json::to_value(&keys).unwrap();
        swapped.cursor = 5;
        assert_eq!(
            dropped(&mut inbox, &swapped, Some(&dir)),
            DropReason::SenderKeysMismatch
        );
        // Signed by Mallory but claiming Ada's device as sender.
        let mut claimed = good(6);
        let mut envelope = claimed.envelope().unwrap();
        let by_mallory = chat::seal(
            &mallory,
            &[bo.public_keys().clone()],
            envelope.message_id,
            b"x",
        )
        .unwrap()
        .remove(0);
        envelope.signature = by_mallory.signature;
        claimed.envelope = serde_json::to_value(&envelope).unwrap();
        assert_eq!(
            dropped(&mut inbox, &claimed, Some(&dir)),
            DropReason::BadSignature
        );
        // For Bo's other device, delivered here.
        let elsewhere = inbox_entry(
            7,
            "ada@x",
            &ada,
            &bo_other,
            MessageId::random().unwrap(),
            b"x",
        );
        assert_eq!(
            dropped(&mut inbox, &elsewhere, Some(&dir)),
            DropReason::WrongRecipient
        );
        let binary = inbox_entry(
            8,
            "ada@x",
            &ada,
            &bo,
            MessageId::random().unwrap(),
            &[0xff, 0xfe],
        );
        assert_eq!(
            dropped(&mut inbox, &binary, Some(&dir)),
            DropReason::NotText
        );

        let stats = inbox.stats();
        assert_eq!(stats.received, 0);
        assert_eq!(stats.dropped[&DropReason::SenderNotInDirectory], 3);
        assert_eq!(stats.dropped[&DropReason::Malformed], 1);
        assert_eq!(stats.dropped.values().sum::<usize>(), 8);
        assert_eq!(inbox.after(), 8);
    }

    #[test]
    fn a_forgery_under_a_real_id_does_not_shadow_the_real_message() {
        let ada = DeviceIdentity::generate().unwrap();
        let bo = DeviceIdentity::generate().unwrap();
        let dir = entry_for("ada@x", &[&ada]);
        let id = MessageId::random().unwrap();
        let mut forged = inbox_entry(1, "ada@x", &ada, &bo, id, b"real");
        let mut envelope = forged.envelope().unwrap();
        envelope.ciphertext[0] ^= 1;
        forged.envelope = serde_json::to_value(&envelope).unwrap();
        let mut inbox = Inbox::new();
        assert_eq!(
            inbox.handle_entry(&bo, &forged, Some(&dir)),
            EntryOutcome::Dropped(DropReason::BadSignature)
        );
        let real = inbox_entry(2, "ada@x", &ada, &bo, id, b"real");
        assert!(matches!(
            inbox.handle_entry(&bo, &real, Some(&dir)),
            EntryOutcome::Message(_)
        ));
    }
}
