//! Where the machine's unique id comes from: the OS in production, a fixed
//! value in tests.

use super::DeviceError;

/// A source of this machine's unique, stable id. The id keys the wrapping
/// of the device identity, so it must not change while the identity lives.
pub trait MachineIdSource {
    /// Returns the machine id (any non-empty byte string, stable across
    /// reboots).
    ///
    /// # Errors
    /// [`DeviceError::MachineId`] if it cannot be read.
    fn machine_id(&self) -> Result<Vec<u8>, DeviceError>;
}

/// The OS's machine id through the `machine-uid` crate: `/etc/machine-id`
/// (or `/var/lib/dbus/machine-id`) on Linux, `IOPlatformUUID` on macOS,
/// `MachineGuid` on Windows.
///
/// These ids are readable by every local user, so the binding they give is
/// against a keyring entry copied to *another* machine, not against other
/// users of this one (the OS keyring's own access control covers that).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsMachineId;

impl MachineIdSource for OsMachineId {
    fn machine_id(&self) -> Result<Vec<u8>, DeviceError> {
        let id = machine_uid::get().map_err(|err| DeviceError::MachineId {
            detail: err.to_string(),
        })?;
        let id = id.trim();
        if id.is_empty() {
            return Err(DeviceError::MachineId {
                detail: "the OS returned an empty machine id".to_owned(),
            });
        }
        Ok(id.as_bytes().to_vec())
    }
}

/// A machine id given by the caller: for tests, and for hosts that pin the
/// identity to an id of their own.
#[derive(Clone)]
pub struct FixedMachineId(Vec<u8>);

impl FixedMachineId {
    /// A source that always returns `id`.
    pub fn new(id: impl Into<Vec<u8>>) -> Self {
        Self(id.into())
    }
}

impl std::fmt::Debug for FixedMachineId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FixedMachineId(..)")
    }
}

impl MachineIdSource for FixedMachineId {
    fn machine_id(&self) -> Result<Vec<u8>, DeviceError> {
        if self.0.is_empty() {
            return Err(DeviceError::MachineId {
                detail: "empty machine id".to_owned(),
            });
        }
        Ok(self.0.clone())
    }
}
