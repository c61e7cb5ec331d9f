//! The stored login session (`session.json` in the config directory) and
//! how the server, CA and access token for a command are chosen from it and
//! from the command line.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};

use crate::args::{Cli, DEFAULT_SERVER};

/// The file name of the stored session.
const SESSION_FILE: &str = "session.json";

/// What `confer login` stores. The file is readable only by its owner
/// because it holds a bearer token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredSession {
    /// The web service logged in to.
    pub(crate) server: String,
    /// The CA file trusted for it, as an absolute path.
    #[serde(default)]
    pub(crate) ca: Option<PathBuf>,
    /// The email logged in with.
    #[serde(default)]
    pub(crate) email: Option<String>,
    /// The bearer token.
    pub(crate) access_token: String,
}

impl std::fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSession")
            .field("server", &self.server)
            .field("ca", &self.ca)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// The config directory: `--config-dir` / `CONFER_CONFIG_DIR`, else the
/// platform's config directory plus `confer`.
pub(crate) fn config_dir(cli: &Cli) -> anyhow::Result<PathBuf> {
    if let Some(dir) = &cli.config_dir {
        return Ok(dir.clone());
    }
    let base =
        dirs::config_dir().context("no config directory on this system; use --config-dir")?;
    Ok(base.join("confer"))
}

/// Loads the stored session, `None` if there is none.
pub(crate) fn load(dir: &Path) -> anyhow::Result<Option<StoredSession>> {
    let path = dir.join(SESSION_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let session = serde_json::from_str(&text)
        .with_context(|| format!("{} is damaged; log in again", path.display()))?;
    Ok(Some(session))
}

/// Stores the session with mode 0600, replacing any previous one atomically
/// (a crash mid-write never leaves a half-written token file).
pub(crate) fn save(dir: &Path, session: &StoredSession) -> anyhow::Result<PathBuf> {
    let mut body = serde_json::to_vec_pretty(session).context("cannot encode the session")?;
    body.push(b'\n');
    write_private(dir, SESSION_FILE, &body)
}

/// Writes `body` to `dir/name` with mode 0600 (the directory 0700),
/// replacing any previous file atomically: written to a temporary file,
/// synced, then renamed over it.
pub(crate) fn write_private(dir: &Path, name: &str, body: &[u8]) -> anyhow::Result<PathBuf> {
    create_private_dir(dir)?;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.{}", std::process::id()));
    let mut file =
        private_file(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let written = file
        .write_all(body)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()));
    drop(file);
    let renamed = written.and_then(|()| {
        fs::rename(&tmp, &path).with_context(|| format!("cannot replace {}", path.display()))
    });
    if renamed.is_err() {
        // A disk that filled up mid-write leaves no stray file behind.
        let _ = fs::remove_file(&tmp);
    }
    renamed.map(|()| path)
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// The server, CA and token one command uses.
#[derive(Clone)]
pub(crate) struct Target {
    /// The web service's base URL.
    pub(crate) server: String,
    /// The CA file, if any.
    pub(crate) ca: Option<PathBuf>,
    /// The stored access token, when it belongs to `server`.
    pub(crate) access_token: Option<String>,
}

impl Target {
    /// Chooses: `--server`, else the stored login's server, else the
    /// default; `--ca`, else the stored CA if the server is the stored one;
    /// the stored token only for the stored server (never sent elsewhere).
    pub(crate) fn resolve(cli: &Cli, stored: Option<&StoredSession>) -> Target {
        let server = cli
            .server
            .clone()
            .or_else(|| stored.map(|s| s.server.clone()))
            .unwrap_or_else(|| DEFAULT_SERVER.to_owned());
        let same = stored.filter(|s| same_server(&s.server, &server));
        Target {
            ca: cli.ca.clone().or_else(|| same.and_then(|s| s.ca.clone())),
            access_token: same.map(|s| s.access_token.clone()),
            server,
        }
    }

    /// The CA file's contents, if a CA is configured.
    pub(crate) fn ca_pem(&self) -> anyhow::Result<Option<Vec<u8>>> {
        match &self.ca {
            None => Ok(None),
            Some(path) => fs::read(path)
                .map(Some)
                .with_context(|| format!("cannot read CA file {}", path.display())),
        }
    }

    /// An API client for this target, with the access token if there is one.
    pub(crate) fn api(&self) -> anyhow::Result<confer_client::api::ApiClient> {
        let pem = self.ca_pem()?;
        let client = confer_client::api::ApiClient::new(&self.server, pem.as_deref())?;
        Ok(match &self.access_token {
            Some(token) => client.with_access_token(token.clone()),
            None => client,
        })
    }

    /// Fails with a helpful message when the command needs a login.
    pub(crate) fn require_login(&self) -> anyhow::Result<()> {
        if self.access_token.is_none() {
            bail!("not logged in to {}: run `confer login` first", self.server);
        }
        Ok(())
    }
}

fn same_server(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn stored() -> StoredSession {
        StoredSession {
            server: "https://a:1".into(),
            ca: Some("/ca.pem".into()),
            email: Some("a@b".into()),
            access_token: "tok".into(),
        }
    }

    #[test]
    fn saves_privately_and_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("nested/confer");
        assert!(load(&sub).unwrap().is_none());
        let path = save(&sub, &stored()).unwrap();
        assert_eq!(load(&sub).unwrap(), Some(stored()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{:?}", stored()).contains("tok"));
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(SESSION_FILE), "{not json").unwrap();
        assert!(load(dir.path()).is_err());
    }

    #[test]
    fn the_token_goes_only_to_its_own_server() {
        let s = stored();
        let cli = Cli::parse_from(["confer", "meeting", "create"]);
        let t = Target::resolve(&cli, Some(&s));
        assert_eq!(t.server, "https://a:1");
        assert_eq!(t.access_token.as_deref(), Some("tok"));
        assert_eq!(t.ca, Some(PathBuf::from("/ca.pem")));

        let cli = Cli::parse_from(["confer", "meeting", "create", "--server", "https://a:1/"]);
        assert!(Target::resolve(&cli, Some(&s)).access_token.is_some());

        let cli = Cli::parse_from(["confer", "meeting", "create", "--server", "https://evil:1"]);
        let t = Target::resolve(&cli, Some(&s));
        assert!(t.access_token.is_none());
        assert!(t.ca.is_none());

        let cli = Cli::parse_from(["confer", "join", "1"]);
        assert_eq!(Target::resolve(&cli, None).server, DEFAULT_SERVER);
    }
}
