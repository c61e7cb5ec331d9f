//! The data directory: creating it and writing the files in it so that
//! private keys are never readable by anyone else, not even for a moment.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::error::ServerError;

/// Creates the data directory (and parents) if needed. On Unix a newly
/// created directory is `0700`: it holds private keys.
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), ServerError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| ServerError::io(dir, e))
}

/// Who may read a file we write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Visibility {
    /// Private keys: owner only (`0600`).
    Private,
    /// Certificates: world-readable (`0644`), clients need the CA.
    Public,
}

/// Writes `contents` to `path` atomically: a temporary file beside it, created
/// with its final mode (so a private key is never world-readable, even
/// briefly), synced, then renamed over the target. A crash leaves either the
/// old file or the new one, never half a key.
pub(crate) fn write_file(
    path: &Path,
    contents: &[u8],
    visibility: Visibility,
) -> Result<(), ServerError> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp"));
    // A leftover temporary file could have a looser mode, which `open` would
    // keep; start from nothing.
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(ServerError::io(&tmp, e)),
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(match visibility {
            Visibility::Private => 0o600,
            Visibility::Public => 0o644,
        });
    }
    #[cfg(not(unix))]
    let _ = visibility;
    let mut file = options.open(&tmp).map_err(|e| ServerError::io(&tmp, e))?;
    file.write_all(contents)
        .map_err(|e| ServerError::io(&tmp, e))?;
    file.sync_all().map_err(|e| ServerError::io(&tmp, e))?;
    drop(file);
    fs::rename(&tmp, path).map_err(|e| ServerError::io(path, e))
}

/// Creates an empty owner-only file at `path` unless something is there.
/// Used for the SQLite database, which holds password hashes: SQLite gives
/// its `-wal` and `-shm` files the database file's mode, so this covers them.
pub(crate) fn create_private_if_absent(path: &Path) -> Result<(), ServerError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(ServerError::io(path, e)),
    }
}

/// Reads a text file, or `None` if it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>, ServerError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ServerError::io(path, e)),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn private_files_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        write_file(&path, b"secret", Visibility::Private).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read_optional(&path).unwrap().as_deref(), Some("secret"));
        assert_eq!(read_optional(&dir.path().join("absent")).unwrap(), None);
    }
}
