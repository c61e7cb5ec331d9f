//! MLS (RFC 9420) group state for E2E meetings, and the SFrame keys it
//! yields.
//!
//! In an E2E meeting the participants agree on keys among themselves; the
//! router only relays the opaque handshake messages this module produces
//! and consumes. [`MeetingGroup`] is a thin wrapper over an `openmls`
//! group with the RustCrypto provider, ciphersuite
//! [`CIPHERSUITE`] (`MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519`: the
//! AES-256 MLS suites need X448, P-384 or P-521, and only MLS's own
//! handshake encryption uses AES-128 — media stays AES-256-GCM SFrame).
//!
//! Flow, driven by the caller (the client session) that moves bytes:
//!
//! 1. The first participant [`MeetingGroup::create`]s the group.
//! 2. A joiner makes a [`PendingJoin`] and sends its
//!    [`key_package`](PendingJoin::key_package).
//! 3. A member [`add_members`](MeetingGroup::add_members): the returned
//!    commit goes to the existing members, the welcome to the joiners, who
//!    [`join`](PendingJoin::join) with it.
//! 4. [`remove_members`](MeetingGroup::remove_members) when someone leaves;
//!    its commit goes to everyone, including the removed member, who learns
//!    it was removed.
//! 5. Everyone else feeds handshake messages to
//!    [`process_message`](MeetingGroup::process_message).
//!
//! **In-meeting chat** is sealed as MLS application messages
//! ([`seal_chat`](MeetingGroup::seal_chat), RFC 9420 §6.3): encrypted under
//! the epoch's secret tree and signed by the sender's leaf, so the router
//! relays only ciphertext and every member learns which leaf sent it.
//! [`process_message`](MeetingGroup::process_message) opens them as
//! [`GroupEvent::Application`]. Members keep [`CHAT_PAST_EPOCHS`] past
//! epochs' secrets because a message sealed just before a commit may
//! arrive just after it.
//!
//! A member's own commits are merged as soon as they are made: Confer's
//! router orders handshake messages per meeting and does not echo a commit
//! to its sender, and the client lets only one commit be in flight.
//!
//! **SFrame keys** (RFC 9605 §5.2): each epoch,
//! `base_key = MLS-Exporter("SFrame 1.0 Base Key", "", AEAD.Nk)` with
//! `AEAD.Nk` = 32 for AES_256_GCM_SHA512_128 (equal to this MLS suite's
//! `KDF.Nh`). Every sender uses that base key under its own key id,
//! `KID = (context << (S + E)) | (sender index << E) | (epoch mod 2^E)` with
//! context 0, [`KID_EPOCH_BITS`] = E and [`KID_INDEX_BITS`] = S; the KID
//! enters the SFrame key derivation (RFC 9605 §4.4.2), so each sender's
//! `sframe_key`/`sframe_salt` differ. A member removed from the group
//! cannot compute the next epoch's base key.
//!
//! **Security code**: [`MeetingGroup::security_code`], from the epoch
//! authenticator; see [`SecurityCode`].
//!
//! **Who is in the group.** Each member's MLS credential is a basic
//! credential holding its [`DeviceId`], and its MLS signature key is its
//! device's Ed25519 key (`signer.rs`). [`add_members`](MeetingGroup::add_members)
//! takes each joiner's device directory record and refuses a key package
//! that does not match it; [`verify_member`](MeetingGroup::verify_member)
//! lets a joiner check every member it found in the group the same way.
//! That the device belongs to the right *user* is the directory's word.
//!
//! `openmls` checks key package lifetimes against the system clock: the
//! one place this crate's dependencies read a clock.

mod error;
mod join;
mod security_code;
mod signer;

use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    BasicCredential, Ciphersuite, ContentType, CredentialWithKey, KeyPackageIn, LeafNodeIndex,
    MlsGroup, MlsGroupCreateConfig, MlsMessageBodyIn, MlsMessageIn, MlsMessageOut,
    OpenMlsProvider as _, ProcessedMessageContent, ProtocolMessage, ProtocolVersion, Sender,
};
use openmls_rust_crypto::OpenMlsRustCrypto;
use sframe::mls::{MlsKeyId, MlsKeyIdBitRange};
use zeroize::Zeroizing;

pub use error::MlsError;
pub use join::PendingJoin;
pub use security_code::SecurityCode;

use crate::device::{DeviceId, DeviceIdentity, DevicePublicKeys};
use crate::sframe::{KeyId, SframeReceiver, SframeSender};
use error::internal;
use signer::DeviceSigner;

/// The MLS ciphersuite of every meeting group.
pub const CIPHERSUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

/// The exporter label of RFC 9605 §5.2.
pub const SFRAME_EXPORTER_LABEL: &str = "SFrame 1.0 Base Key";

/// Length of the SFrame base key: `AEAD.Nk` of AES_256_GCM_SHA512_128.
pub const SFRAME_BASE_KEY_LEN: usize = 32;

/// Low-order epoch bits in an SFrame KID (E): 256 epochs may be live at
/// once; a receiver drops an old epoch's key when a new epoch reuses its
/// bits (RFC 9605 §5.2).
pub const KID_EPOCH_BITS: u8 = 8;

/// Member index bits in an SFrame KID (S).
pub const KID_INDEX_BITS: u8 = 16;

/// Most members a group may have for the KID layout: 2^[`KID_INDEX_BITS`].
pub const MAX_MEMBERS: u32 = 1 << KID_INDEX_BITS;

/// How many past epochs' message secrets a member keeps, so a chat message
/// sealed just before a commit still opens just after it. Kept low: each
/// kept epoch is forward secrecy given up for that long (RFC 9420 §14).
pub const CHAT_PAST_EPOCHS: usize = 2;

/// Application messages are padded to a multiple of this many bytes, so
/// a ciphertext's length says less about the message's.
pub const CHAT_PADDING: usize = 32;

/// What an incoming message did to the group, or what it carried.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GroupEvent {
    /// A commit was applied: the group is now at `epoch`. Install the new
    /// SFrame keys.
    NewEpoch {
        /// The new epoch.
        epoch: u64,
    },
    /// A commit removed this member. The group is inactive; stop sending
    /// and drop its keys.
    Removed,
    /// A proposal was stored; a later commit will apply it.
    ProposalStored,
    /// An application message (chat) opened: it verified under the
    /// signature key of the member at `sender_index`.
    Application {
        /// The sending member's leaf index.
        sender_index: u32,
        /// What it sealed.
        plaintext: Vec<u8>,
    },
}

/// A member's place in the group, as its MLS leaf states it. Unverified
/// until checked with [`MeetingGroup::verify_member`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    /// Leaf index: stable while the member stays; part of its SFrame KID.
    pub index: u32,
    /// The device id in the member's credential; `None` if the credential
    /// is not a Confer device credential.
    pub device_id: Option<DeviceId>,
    /// The member's MLS signature key: its device's Ed25519 key.
    pub signature_key: Vec<u8>,
}

/// What [`MeetingGroup::add_members`] produced.
pub struct AddedMembers {
    /// The commit, for every existing member (already merged here).
    pub commit: Vec<u8>,
    /// The welcome, for the new members.
    pub welcome: Vec<u8>,
}

impl std::fmt::Debug for AddedMembers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddedMembers")
            .field("commit_len", &self.commit.len())
            .field("welcome_len", &self.welcome.len())
            .finish()
    }
}

/// What one participant holds for MLS: the provider (crypto and the key
/// store openmls keeps its private keys in), the signature key and the
/// credential.
struct MlsParticipant {
    provider: OpenMlsRustCrypto,
    signer: DeviceSigner,
    credential: CredentialWithKey,
}

impl MlsParticipant {
    fn new(device: &DeviceIdentity) -> Self {
        let credential = CredentialWithKey {
            credential: BasicCredential::new(device.device_id().as_bytes().to_vec()).into(),
            signature_key: device.public_keys().ed25519.to_vec().into(),
        };
        Self {
            provider: OpenMlsRustCrypto::default(),
            signer: DeviceSigner(device.signing_key()),
            credential,
        }
    }
}

/// One participant's view of an E2E meeting's MLS group.
///
/// Not `Clone`: the group state and its private keys exist once.
pub struct MeetingGroup {
    participant: MlsParticipant,
    group: MlsGroup,
}

impl std::fmt::Debug for MeetingGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeetingGroup")
            .field("epoch", &self.epoch())
            .field("own_index", &self.own_index())
            .field("active", &self.group.is_active())
            .finish_non_exhaustive()
    }
}

impl MeetingGroup {
    /// Creates a group with this device as the only member, at epoch 0.
    ///
    /// # Errors
    /// [`MlsError::Internal`] if group creation fails.
    pub fn create(device: &DeviceIdentity) -> Result<Self, MlsError> {
        let participant = MlsParticipant::new(device);
        let config = MlsGroupCreateConfig::builder()
            .ciphersuite(CIPHERSUITE)
            .use_ratchet_tree_extension(true)
            .max_past_epochs(CHAT_PAST_EPOCHS)
            .padding_size(CHAT_PADDING)
            .build();
        let group = MlsGroup::new(
            &participant.provider,
            &participant.signer,
            &config,
            participant.credential.clone(),
        )
        .map_err(internal("group creation"))?;
        Ok(Self { participant, group })
    }

    /// The current epoch; it goes up by one with every commit.
    pub fn epoch(&self) -> u64 {
        self.group.epoch().as_u64()
    }

    /// This member's leaf index.
    pub fn own_index(&self) -> u32 {
        self.group.own_leaf_index().u32()
    }

    /// Whether this member is still in the group (false once removed).
    pub fn is_active(&self) -> bool {
        self.group.is_active()
    }

    /// The members of the current epoch, by leaf index.
    pub fn members(&self) -> Vec<MemberInfo> {
        self.group
            .members()
            .map(|member| MemberInfo {
                index: member.index.u32(),
                device_id: credential_device_id(member.credential),
                signature_key: member.signature_key,
            })
            .collect()
    }

    /// Checks that the member at `index` is the device `record` describes:
    /// its credential names `record.device_id` and its signature key is
    /// `record.ed25519`. A joiner runs this for every member it found in the
    /// group, against the device directory.
    ///
    /// # Errors
    /// [`MlsError::UnknownMember`]; [`MlsError::CredentialMismatch`] if the
    /// member is not that device, or the record is inconsistent.
    pub fn verify_member(&self, index: u32, record: &DevicePublicKeys) -> Result<(), MlsError> {
        let member = self
            .group
            .member_at(LeafNodeIndex::new(index))
            .ok_or(MlsError::UnknownMember { index })?;
        let matches = record.check().is_ok()
            && credential_device_id(member.credential) == Some(record.device_id)
            && member.signature_key == record.ed25519;
        if matches {
            Ok(())
        } else {
            Err(MlsError::CredentialMismatch {
                device_id: record.device_id,
            })
        }
    }

    /// Adds joiners in one commit and merges it. Each joiner is its key
    /// package (from [`PendingJoin::key_package`]) and its device directory
    /// record; a key package whose credential or signature key does not
    /// match the record is refused.
    ///
    /// # Errors
    /// [`MlsError::EmptyInput`], [`MlsError::Malformed`] /
    /// [`MlsError::InvalidKeyPackage`] for a bad key package,
    /// [`MlsError::CredentialMismatch`], [`MlsError::Removed`],
    /// [`MlsError::Internal`].
    pub fn add_members(
        &mut self,
        joiners: &[(&[u8], &DevicePublicKeys)],
    ) -> Result<AddedMembers, MlsError> {
        if joiners.is_empty() {
            return Err(MlsError::EmptyInput { what: "add" });
        }
        self.ensure_active()?;
        let key_packages = joiners
            .iter()
            .map(|(bytes, record)| self.validate_key_package(bytes, record))
            .collect::<Result<Vec<_>, _>>()?;
        let provider = &self.participant.provider;
        let (commit, welcome, _group_info) = self
            .group
            .add_members(provider, &self.participant.signer, &key_packages)
            .map_err(|err| MlsError::InvalidKeyPackage {
                detail: err.to_string(),
            })?;
        self.group
            .merge_pending_commit(provider)
            .map_err(internal("merging own commit"))?;
        Ok(AddedMembers {
            commit: serialize(&commit)?,
            welcome: serialize(&welcome)?,
        })
    }

    /// Removes the members at these leaf indices in one commit, merges it,
    /// and returns the commit for everyone (the removed members included).
    ///
    /// # Errors
    /// [`MlsError::EmptyInput`], [`MlsError::UnknownMember`],
    /// [`MlsError::Removed`], [`MlsError::Internal`].
    pub fn remove_members(&mut self, indices: &[u32]) -> Result<Vec<u8>, MlsError> {
        if indices.is_empty() {
            return Err(MlsError::EmptyInput { what: "remove" });
        }
        self.ensure_active()?;
        for &index in indices {
            if self.group.member_at(LeafNodeIndex::new(index)).is_none() {
                return Err(MlsError::UnknownMember { index });
            }
        }
        let leaves: Vec<_> = indices.iter().copied().map(LeafNodeIndex::new).collect();
        let provider = &self.participant.provider;
        let (commit, _welcome, _group_info) = self
            .group
            .remove_members(provider, &self.participant.signer, &leaves)
            .map_err(internal("remove commit"))?;
        self.group
            .merge_pending_commit(provider)
            .map_err(internal("merging own commit"))?;
        serialize(&commit)
    }

    /// Seals `plaintext` as an MLS application message (RFC 9420 §6.3):
    /// encrypted under this epoch's secret tree and signed with this
    /// member's leaf key. Every other member can open it with
    /// [`process_message`](Self::process_message); the sender itself
    /// cannot (MLS never decrypts one's own messages), so it keeps its own
    /// copy.
    ///
    /// # Errors
    /// [`MlsError::Removed`] once this member was removed;
    /// [`MlsError::Internal`] if openmls refuses (for example a pending
    /// proposal, which Confer's delivery never leaves behind).
    pub fn seal_chat(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, MlsError> {
        self.ensure_active()?;
        let message = self
            .group
            .create_message(
                &self.participant.provider,
                &self.participant.signer,
                plaintext,
            )
            .map_err(internal("sealing an application message"))?;
        serialize(&message)
    }

    /// Applies a message from another member: a handshake message (commit
    /// or proposal), or an application message sealed with
    /// [`seal_chat`](Self::seal_chat), which comes back opened.
    ///
    /// # Errors
    /// [`MlsError::Malformed`] if the bytes are not an MLS protocol message;
    /// [`MlsError::Rejected`] if openmls rejects it (wrong group or epoch,
    /// bad signature or tag, a tampered ciphertext, our own message);
    /// [`MlsError::Removed`] if this member was already removed.
    pub fn process_message(&mut self, bytes: &[u8]) -> Result<GroupEvent, MlsError> {
        self.ensure_active()?;
        let protocol = protocol_message(bytes)?;
        self.process_protocol(protocol)
    }

    /// Opens a chat message sealed with [`seal_chat`](Self::seal_chat) and
    /// returns the sender's leaf index and the plaintext. Unlike
    /// [`process_message`](Self::process_message) it refuses anything but
    /// an application message *before* processing it, so a commit or
    /// proposal passed off as chat never changes the group out of the
    /// delivery service's order.
    ///
    /// # Errors
    /// As [`process_message`](Self::process_message); [`MlsError::Rejected`]
    /// for a message of another content type.
    pub fn open_chat(&mut self, bytes: &[u8]) -> Result<(u32, Vec<u8>), MlsError> {
        self.ensure_active()?;
        let protocol = protocol_message(bytes)?;
        if protocol.content_type() != ContentType::Application {
            return Err(MlsError::Rejected {
                detail: "not an application message".to_owned(),
            });
        }
        match self.process_protocol(protocol)? {
            GroupEvent::Application {
                sender_index,
                plaintext,
            } => Ok((sender_index, plaintext)),
            _ => Err(MlsError::Rejected {
                detail: "not an application message".to_owned(),
            }),
        }
    }

    fn process_protocol(&mut self, protocol: ProtocolMessage) -> Result<GroupEvent, MlsError> {
        let provider = &self.participant.provider;
        let processed = self
            .group
            .process_message(provider, protocol)
            .map_err(|err| MlsError::Rejected {
                detail: err.to_string(),
            })?;
        let sender = processed.sender().clone();
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(application) => match sender {
                Sender::Member(leaf) => Ok(GroupEvent::Application {
                    sender_index: leaf.u32(),
                    plaintext: application.into_bytes(),
                }),
                // openmls only decrypts members' application messages;
                // refuse anything else rather than trust it.
                _ => Err(MlsError::Rejected {
                    detail: "an application message not from a member".to_owned(),
                }),
            },
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                let removed = staged.self_removed();
                self.group
                    .merge_staged_commit(provider, *staged)
                    .map_err(internal("merging commit"))?;
                if removed {
                    Ok(GroupEvent::Removed)
                } else {
                    Ok(GroupEvent::NewEpoch {
                        epoch: self.epoch(),
                    })
                }
            }
            ProcessedMessageContent::ProposalMessage(proposal) => {
                self.group
                    .store_pending_proposal(provider.storage(), *proposal)
                    .map_err(internal("storing proposal"))?;
                Ok(GroupEvent::ProposalStored)
            }
            _ => Err(MlsError::Rejected {
                detail: "not a message Confer uses".to_owned(),
            }),
        }
    }

    /// The SFrame base key of the current epoch (RFC 9605 §5.2), the same
    /// for every member and every sender.
    ///
    /// # Errors
    /// [`MlsError::Removed`] once this member was removed.
    pub fn sframe_base_key(&self) -> Result<Zeroizing<Vec<u8>>, MlsError> {
        self.ensure_active()?;
        self.group
            .export_secret(
                self.participant.provider.crypto(),
                SFRAME_EXPORTER_LABEL,
                &[],
                SFRAME_BASE_KEY_LEN,
            )
            .map(Zeroizing::new)
            .map_err(internal("exporter"))
    }

    /// The SFrame key id of the member at `index` in the current epoch.
    ///
    /// # Errors
    /// [`MlsError::TooManyMembers`] if the index does not fit
    /// [`KID_INDEX_BITS`].
    pub fn sframe_key_id(&self, index: u32) -> Result<KeyId, MlsError> {
        let range = MlsKeyIdBitRange::try_new(KID_EPOCH_BITS, KID_INDEX_BITS)
            .map_err(internal("KID bit range"))?;
        MlsKeyId::try_new(0u64, self.epoch(), u64::from(index), range)
            .map(KeyId::from)
            .map_err(|_| MlsError::TooManyMembers { index })
    }

    /// A sender sealing this member's frames under the current epoch's key.
    /// Call again (or [`SframeSender::rekey`]) after every new epoch.
    ///
    /// # Errors
    /// [`MlsError::Removed`], [`MlsError::TooManyMembers`],
    /// [`MlsError::Internal`].
    pub fn sframe_sender(&self) -> Result<SframeSender, MlsError> {
        let base_key = self.sframe_base_key()?;
        let key_id = self.sframe_key_id(self.own_index())?;
        SframeSender::new(key_id, &base_key).map_err(internal("SFrame sender key"))
    }

    /// Installs in `receiver` the current epoch's key of every *other*
    /// member and returns their key ids. A key id already present (an epoch
    /// 2^[`KID_EPOCH_BITS`] back, or this epoch installed twice) is replaced,
    /// as RFC 9605 §5.2 requires. Remove the previous epoch's key ids once
    /// late frames have drained.
    ///
    /// # Errors
    /// As [`sframe_sender`](Self::sframe_sender).
    pub fn install_sframe_keys(
        &self,
        receiver: &mut SframeReceiver,
    ) -> Result<Vec<KeyId>, MlsError> {
        let base_key = self.sframe_base_key()?;
        let own = self.own_index();
        let mut installed = Vec::new();
        for member in self.group.members() {
            let index = member.index.u32();
            if index == own {
                continue;
            }
            let key_id = self.sframe_key_id(index)?;
            receiver.remove_key(key_id);
            receiver
                .add_key(key_id, &base_key)
                .map_err(internal("SFrame receiver key"))?;
            installed.push(key_id);
        }
        Ok(installed)
    }

    /// The current epoch's security code, for participants to compare.
    ///
    /// # Errors
    /// [`MlsError::Removed`] once this member was removed.
    pub fn security_code(&self) -> Result<SecurityCode, MlsError> {
        self.ensure_active()?;
        Ok(SecurityCode::from_epoch_authenticator(
            self.group.epoch_authenticator().as_slice(),
        ))
    }

    fn ensure_active(&self) -> Result<(), MlsError> {
        if self.group.is_active() {
            Ok(())
        } else {
            Err(MlsError::Removed)
        }
    }

    fn validate_key_package(
        &self,
        bytes: &[u8],
        record: &DevicePublicKeys,
    ) -> Result<openmls::prelude::KeyPackage, MlsError> {
        let message =
            MlsMessageIn::tls_deserialize_exact(bytes).map_err(|_| MlsError::Malformed {
                expected: "MLS key package",
            })?;
        let key_package: KeyPackageIn = match message.extract() {
            MlsMessageBodyIn::KeyPackage(key_package) => key_package,
            _ => {
                return Err(MlsError::Malformed {
                    expected: "MLS key package",
                });
            }
        };
        let key_package = key_package
            .validate(self.participant.provider.crypto(), ProtocolVersion::Mls10)
            .map_err(|err| MlsError::InvalidKeyPackage {
                detail: err.to_string(),
            })?;
        let leaf = key_package.leaf_node();
        let matches = record.check().is_ok()
            && credential_device_id(leaf.credential().clone()) == Some(record.device_id)
            && leaf.signature_key().as_slice() == record.ed25519;
        if matches {
            Ok(key_package)
        } else {
            Err(MlsError::CredentialMismatch {
                device_id: record.device_id,
            })
        }
    }
}

/// The device id in a Confer credential: a basic credential of 16 bytes.
fn credential_device_id(credential: openmls::prelude::Credential) -> Option<DeviceId> {
    let basic = BasicCredential::try_from(credential).ok()?;
    let bytes: [u8; DeviceId::LEN] = basic.identity().try_into().ok()?;
    Some(DeviceId::from_bytes(bytes))
}

/// Parses the bytes of an MLS protocol message (public or private).
fn protocol_message(bytes: &[u8]) -> Result<ProtocolMessage, MlsError> {
    let malformed = || MlsError::Malformed {
        expected: "MLS protocol message",
    };
    let message = MlsMessageIn::tls_deserialize_exact(bytes).map_err(|_| malformed())?;
    message.try_into_protocol_message().map_err(|_| malformed())
}

fn serialize(message: &MlsMessageOut) -> Result<Vec<u8>, MlsError> {
    message
        .tls_serialize_detached()
        .map_err(internal("message encoding"))
}
