//! E2E meetings: this session's side of the MLS group (RFC 9420), with the
//! router as delivery service (`docs/protocol.md`, "Media keys").
//!
//! Once admitted, the session sends a key package with its device's public
//! keys. The router then either asks it to found the group (`create`), or
//! has the member with the lowest participant id commit the add and sends
//! us the welcome. Members apply every relayed commit in the order the
//! router delivers it. When someone leaves or is expelled, the router asks
//! the lowest-id member to commit the removal. Every new epoch seals our
//! frames under the MLS exporter's SFrame key (RFC 9605 §5.2) with the
//! group's per-member key ids, and shows a new security code.
//!
//! The device identity is this session's own, generated in memory
//! ([`DeviceIdentity::generate`]) unless the front end gives one with
//! [`Session::set_device_identity`] (the desktop app's from the OS keyring).

use confer_e2e::device::{DeviceIdentity, DevicePublicKeys};
use confer_e2e::mls::{GroupEvent, MeetingGroup, MlsError, PendingJoin};
use confer_wire::control::ClientMessage;
use confer_wire::keys::{KeyBytes, MlsClientMessage, MlsServerMessage};

use super::Session;
use super::keys::Encryption;
use super::output::Output;

/// The MLS state of one session.
#[derive(Default)]
pub(crate) struct MlsState {
    /// Our device identity (MLS credential and signature key).
    device: Option<DeviceIdentity>,
    /// Our key package's private half, until the welcome comes.
    pending: Option<PendingJoin>,
    /// The group, once in it.
    group: Option<MeetingGroup>,
    /// Sealed chat: queued, awaiting echo, failures (`sealed_chat.rs`).
    pub(crate) chat: super::sealed_chat::SealedChat,
}

impl MlsState {
    /// The group, once in it.
    pub(crate) fn group(&self) -> Option<&MeetingGroup> {
        self.group.as_ref()
    }

    /// The group, once in it, to seal or open with.
    pub(crate) fn group_mut(&mut self) -> Option<&mut MeetingGroup> {
        self.group.as_mut()
    }
}

impl Session {
    /// Uses `device` as this session's device identity in E2E meetings
    /// (call before joining); without one, a fresh in-memory identity is
    /// generated.
    pub fn set_device_identity(&mut self, device: DeviceIdentity) {
        self.frame_keys.mls.device = Some(device);
    }

    /// Hook from `joined`: in an E2E meeting, send our key package.
    pub(super) fn on_joined_keys(&mut self) {
        if self.frame_keys.stats().encryption != Encryption::E2e {
            return;
        }
        if let Err(error) = self.send_key_package() {
            self.violation(format!("cannot take part in the E2E group: {error}"));
        }
    }

    fn send_key_package(&mut self) -> Result<(), String> {
        let mls = &mut self.frame_keys.mls;
        if mls.device.is_none() {
            mls.device = Some(DeviceIdentity::generate().map_err(|e| e.to_string())?);
        }
        let device = mls.device.as_ref().ok_or("no device identity")?;
        let pending = PendingJoin::new(device).map_err(|e| e.to_string())?;
        let record = serde_json::to_vec(device.public_keys()).map_err(|e| e.to_string())?;
        let key_package = KeyBytes(pending.key_package().to_vec());
        mls.pending = Some(pending);
        self.outputs.push_back(Output::Control(ClientMessage::Mls(
            MlsClientMessage::KeyPackage {
                key_package,
                device: KeyBytes(record),
            },
        )));
        Ok(())
    }

    /// An MLS message from the router.
    pub(super) fn on_mls(&mut self, message: MlsServerMessage) {
        if self.frame_keys.stats().encryption != Encryption::E2e {
            return self.violation("an MLS message in a standard meeting".into());
        }
        let outcome = match message {
            MlsServerMessage::Create {} => self.mls_create(),
            MlsServerMessage::Welcome { welcome, .. } => self.mls_welcome(&welcome.0),
            MlsServerMessage::Commit { commit, .. } => self.mls_apply(&commit.0),
            MlsServerMessage::Add {
                key_package,
                device,
                ..
            } => self.mls_add(&key_package.0, &device.0),
            MlsServerMessage::Remove { device, .. } => self.mls_remove(&device.0),
            _ => Err("an MLS message this client does not know".into()),
        };
        if let Err(error) = outcome {
            self.violation(format!("MLS: {error}"));
        }
    }

    fn mls_create(&mut self) -> Result<(), String> {
        let device = self
            .frame_keys
            .mls
            .device
            .as_ref()
            .ok_or("asked to create the group before sending a key package")?;
        let group = MeetingGroup::create(device).map_err(|e| e.to_string())?;
        self.frame_keys.mls.pending = None;
        self.enter_epoch(group)
    }

    fn mls_welcome(&mut self, welcome: &[u8]) -> Result<(), String> {
        let pending = self
            .frame_keys
            .mls
            .pending
            .take()
            .ok_or("a welcome we did not ask for")?;
        let group = pending.join(welcome).map_err(|e| e.to_string())?;
        self.enter_epoch(group)
    }

    fn mls_apply(&mut self, commit: &[u8]) -> Result<(), String> {
        let mut group = self
            .frame_keys
            .mls
            .group
            .take()
            .ok_or("a commit before we are in the group")?;
        match group.process_message(commit) {
            Ok(GroupEvent::NewEpoch { .. }) => self.enter_epoch(group),
            Ok(GroupEvent::Removed) => {
                self.frame_keys.stop_sealing();
                Ok(())
            }
            Ok(_) => {
                self.frame_keys.mls.group = Some(group);
                Ok(())
            }
            Err(error) => {
                self.frame_keys.mls.group = Some(group);
                Err(error.to_string())
            }
        }
    }

    fn mls_add(&mut self, key_package: &[u8], device: &[u8]) -> Result<(), String> {
        self.commit_change(|group| {
            let record: DevicePublicKeys = serde_json::from_slice(device)
                .map_err(|e| format!("the joiner's device record: {e}"))?;
            group
                .add_members(&[(key_package, &record)])
                .map(|added| (added.commit, Some(added.welcome)))
                .map_err(|e| e.to_string())
        })
    }

    fn mls_remove(&mut self, device: &[u8]) -> Result<(), String> {
        self.commit_change(|group| {
            let record: DevicePublicKeys = serde_json::from_slice(device)
                .map_err(|e| format!("the leaver's device record: {e}"))?;
            let index = group
                .members()
                .into_iter()
                .find(|m| m.device_id == Some(record.device_id))
                .map(|m| m.index)
                .ok_or("the leaver is not in the group")?;
            group
                .remove_members(&[index])
                .map(|commit| (commit, None))
                .map_err(|e: MlsError| e.to_string())
        })
    }

    /// Makes a commit the router asked for and sends it; tells the router
    /// if it cannot be made, so the meeting's changes go on.
    fn commit_change(
        &mut self,
        change: impl FnOnce(&mut MeetingGroup) -> Result<(Vec<u8>, Option<Vec<u8>>), String>,
    ) -> Result<(), String> {
        let Some(mut group) = self.frame_keys.mls.group.take() else {
            self.send_mls(MlsClientMessage::Failed {
                reason: "not in the group".into(),
            });
            return Err("asked to commit before we are in the group".into());
        };
        match change(&mut group) {
            Ok((commit, welcome)) => {
                self.send_mls(MlsClientMessage::Commit {
                    commit: KeyBytes(commit),
                    welcome: welcome.map(KeyBytes),
                });
                self.enter_epoch(group)
            }
            Err(reason) => {
                self.frame_keys.mls.group = Some(group);
                self.send_mls(MlsClientMessage::Failed {
                    reason: reason.clone(),
                });
                Err(reason)
            }
        }
    }

    fn send_mls(&mut self, message: MlsClientMessage) {
        self.outputs
            .push_back(Output::Control(ClientMessage::Mls(message)));
    }

    /// Seals and opens under `group`'s current epoch from now on.
    fn enter_epoch(&mut self, group: MeetingGroup) -> Result<(), String> {
        let result = (|| {
            let sender = group.sframe_sender()?;
            let installed = group.install_sframe_keys(self.frame_keys.receiver_mut())?;
            let code = group.security_code()?.to_string();
            Ok::<_, MlsError>((sender, installed, code))
        })();
        self.frame_keys.mls.group = Some(group);
        let (sender, installed, code) = result.map_err(|e| e.to_string())?;
        self.frame_keys.install_epoch(sender, installed, code);
        // Chat that waited for the group goes out now.
        self.flush_sealed_chat();
        Ok(())
    }
}

#[cfg(feature = "test-secrets")]
impl MlsState {
    /// The current epoch's MLS exporter output (the SFrame base key), for
    /// whole-system privacy tests only.
    pub(crate) fn test_base_key(&self) -> Option<Vec<u8>> {
        let group = self.group.as_ref()?;
        group.sframe_base_key().ok().map(|key| key.to_vec())
    }
}
