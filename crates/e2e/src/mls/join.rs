//! Joining a meeting group: a key package out, a welcome in.

use openmls::prelude::tls_codec::Deserialize as _;
use openmls::prelude::{
    KeyPackage, MlsGroupJoinConfig, MlsMessageBodyIn, MlsMessageIn, MlsMessageOut, StagedWelcome,
};

use super::error::internal;
use super::{CIPHERSUITE, MeetingGroup, MlsError, MlsParticipant, serialize};
use crate::device::DeviceIdentity;

/// A participant waiting to be added to a meeting group.
///
/// Holds the private keys behind its key package; keep it until the
/// welcome arrives, then [`join`](Self::join).
pub struct PendingJoin {
    participant: MlsParticipant,
    key_package: Vec<u8>,
}

impl std::fmt::Debug for PendingJoin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingJoin").finish_non_exhaustive()
    }
}

impl PendingJoin {
    /// Makes a key package for this device (fresh MLS encryption keys,
    /// signed with the device key).
    ///
    /// # Errors
    /// [`MlsError::Internal`] if key package creation fails.
    pub fn new(device: &DeviceIdentity) -> Result<Self, MlsError> {
        let participant = MlsParticipant::new(device);
        let bundle = KeyPackage::builder()
            .build(
                CIPHERSUITE,
                &participant.provider,
                &participant.signer,
                participant.credential.clone(),
            )
            .map_err(internal("key package"))?;
        let key_package = serialize(&MlsMessageOut::from(bundle.key_package().clone()))?;
        Ok(Self {
            participant,
            key_package,
        })
    }

    /// The key package (an MLS message), to send to a member who adds us.
    pub fn key_package(&self) -> &[u8] {
        &self.key_package
    }

    /// Joins the group from a welcome made for our key package.
    ///
    /// # Errors
    /// [`MlsError::Malformed`] if the bytes are not a welcome;
    /// [`MlsError::InvalidWelcome`] if it is not for us or does not verify.
    pub fn join(self, welcome: &[u8]) -> Result<MeetingGroup, MlsError> {
        let message =
            MlsMessageIn::tls_deserialize_exact(welcome).map_err(|_| MlsError::Malformed {
                expected: "MLS welcome",
            })?;
        let MlsMessageBodyIn::Welcome(welcome) = message.extract() else {
            return Err(MlsError::Malformed {
                expected: "MLS welcome",
            });
        };
        let config = MlsGroupJoinConfig::builder()
            .use_ratchet_tree_extension(true)
            .max_past_epochs(super::CHAT_PAST_EPOCHS)
            .padding_size(super::CHAT_PADDING)
            .build();
        let provider = &self.participant.provider;
        let group = StagedWelcome::new_from_welcome(provider, &config, welcome, None)
            .and_then(|staged| staged.into_group(provider))
            .map_err(|err| MlsError::InvalidWelcome {
                detail: err.to_string(),
            })?;
        Ok(MeetingGroup {
            participant: self.participant,
            group,
        })
    }
}
