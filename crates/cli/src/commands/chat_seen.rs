//! The ids of the direct messages this device has shown, kept between runs
//! of `confer chat inbox` so a message the server delivers again after it
//! was acknowledged (a replay) is dropped instead of shown twice.
//!
//! One file per device in the config directory,
//! `chat-seen-DEVICE_ID.json`: `{"message_ids": ["…", …]}`, oldest first,
//! at most `confer_client::direct_chat::REMEMBERED_IDS`, mode 0600. Not
//! secret, but it says how much mail arrived, so it is private like the
//! session. A damaged file is reported and replaced: it must not lock the
//! user out of their inbox.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use confer_client::device_keys::DeviceId;
use confer_client::direct_chat::{MessageId, REMEMBERED_IDS};
use serde::{Deserialize, Serialize};

use crate::config::write_private;

#[derive(Debug, Default, Serialize, Deserialize)]
struct SeenFile {
    message_ids: Vec<MessageId>,
}

/// Where `device`'s shown ids are kept under `config_dir`.
pub(crate) fn path(config_dir: &Path, device: DeviceId) -> PathBuf {
    config_dir.join(file_name(device))
}

fn file_name(device: DeviceId) -> String {
    format!("chat-seen-{device}.json")
}

/// The ids kept for `device`, oldest first: none when there is no file
/// yet. A file that cannot be read or parsed gives none and a warning
/// (the second value) naming it.
pub(crate) fn load(config_dir: &Path, device: DeviceId) -> (Vec<MessageId>, Option<String>) {
    let path = path(config_dir, device);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Vec::new(), None),
        Err(e) => {
            return (
                Vec::new(),
                Some(format!("cannot read {}: {e}", path.display())),
            );
        }
    };
    match serde_json::from_str::<SeenFile>(&text) {
        Ok(file) => (file.message_ids, None),
        Err(e) => (
            Vec::new(),
            Some(format!(
                "{} is damaged ({e}); starting it afresh",
                path.display()
            )),
        ),
    }
}

/// Keeps `ids` (oldest first) for `device`, replacing the file atomically.
/// Ids already in the file that `ids` lacks (kept by another run of
/// `chat inbox` meanwhile) are kept too, before ours; the newest
/// [`REMEMBERED_IDS`] stay.
pub(crate) fn save<'a>(
    config_dir: &Path,
    device: DeviceId,
    ids: impl Iterator<Item = &'a MessageId>,
) -> anyhow::Result<()> {
    let ours: Vec<MessageId> = ids.copied().collect();
    let known: HashSet<MessageId> = ours.iter().copied().collect();
    let (on_disk, _) = load(config_dir, device);
    let mut message_ids: Vec<MessageId> = on_disk
        .into_iter()
        .filter(|id| !known.contains(id))
        .collect();
    message_ids.extend(ours);
    let excess = message_ids.len().saturating_sub(REMEMBERED_IDS);
    message_ids.drain(..excess);
    let file = SeenFile { message_ids };
    let mut body = serde_json::to_vec(&file).context("cannot encode the shown message ids")?;
    body.push(b'\n');
    write_private(config_dir, &file_name(device), &body)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn device() -> DeviceId {
        confer_client::device_keys::DeviceIdentity::generate()
            .unwrap()
            .device_id()
    }

    #[test]
    fn ids_survive_a_save_and_load_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("confer");
        let device = device();
        assert_eq!(load(&config, device), (Vec::new(), None), "no file yet");
        let ids = [MessageId::random().unwrap(), MessageId::random().unwrap()];
        save(&config, device, ids.iter()).unwrap();
        assert_eq!(load(&config, device), (ids.to_vec(), None));
        // Another device on the same machine keeps its own.
        assert_eq!(load(&config, self::device()), (Vec::new(), None));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path(&config, device))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn two_runs_saving_keep_each_others_ids() {
        let dir = tempfile::tempdir().unwrap();
        let device = device();
        let shared = MessageId::random().unwrap();
        let first = [shared, MessageId::random().unwrap()];
        let second = [shared, MessageId::random().unwrap()];
        // Both loaded the file before either saved.
        save(dir.path(), device, first.iter()).unwrap();
        save(dir.path(), device, second.iter()).unwrap();
        let (kept, _) = load(dir.path(), device);
        assert_eq!(kept, vec![first[1], shared, second[1]]);
    }

    #[test]
    fn a_damaged_file_is_reported_and_gives_no_ids() {
        let dir = tempfile::tempdir().unwrap();
        let device = device();
        for body in [
            "not json",
            r#"{"message_ids": ["short"]}"#,
            r#"{"message_ids": 7}"#,
        ] {
            std::fs::write(path(dir.path(), device), body).unwrap();
            let (ids, warning) = load(dir.path(), device);
            assert!(ids.is_empty());
            let warning = warning.expect("a warning");
            assert!(warning.contains("is damaged"), "{warning}");
            assert!(warning.contains("chat-seen-"), "{warning}");
        }
    }
}
