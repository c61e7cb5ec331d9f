//! Transport and storage guarantees checked from outside, the way an auditor
//! would: an independent TLS client (OpenSSL's `s_client`) and the database
//! file itself.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::net::SocketAddr;
use std::process::{Command, Stdio};

use common::{Api, Server};
use sqlx::{Column, Row};

/// Runs `openssl s_client` against `addr` with one protocol-version flag; returns
/// whether the handshake succeeded and what it printed.
fn s_client(addr: SocketAddr, version_flag: &str, ca: &std::path::Path) -> Option<(bool, String)> {
    let out = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &addr.to_string(),
            "-servername",
            "localhost",
        ])
        .arg(version_flag)
        .arg("-CAfile")
        .arg(ca)
        .args(["-alpn", "http/1.1,confer/1", "-brief"])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success() && text.contains("TLSv1.3"), text))
}

#[test]
fn only_tls_1_3_is_offered() {
    if Command::new("openssl").arg("version").output().is_err() {
        println!("SKIPPED: openssl is not installed (scripts/install-deps.sh installs it)");
        return;
    }
    let server = Server::start();
    let api: SocketAddr = server
        .api
        .trim_start_matches("https://")
        .parse()
        .expect("api address");
    for (what, addr) in [("API", api), ("router TLS", server.tls)] {
        let (ok, text) = s_client(addr, "-tls1_3", &server.ca).expect("run openssl");
        assert!(ok, "{what}: TLS 1.3 handshake failed:\n{text}");
        assert!(
            text.contains("TLS_AES_256_GCM_SHA384"),
            "{what}: preferred suite not chosen:\n{text}"
        );
        assert!(
            text.contains("Verification: OK"),
            "{what}: certificate did not verify:\n{text}"
        );
        for old in ["-tls1_2", "-tls1_1", "-tls1"] {
            let (ok, text) = s_client(addr, old, &server.ca).expect("run openssl");
            assert!(!ok, "{what}: accepted a {old} handshake:\n{text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn passwords_are_stored_only_as_argon2id_hashes() {
    let server = Server::start();
    let api = Api::new(&server);
    let password = "Tr0ub4dor&3-correct-horse";
    api.sign_up("ada@example.com", "Ada", password).await;
    let db_path = server.dir.path().join("data").join("confer.db");
    assert!(db_path.exists(), "no database at {}", db_path.display());

    // Every text value in every table: the password never appears; an argon2id hash does.
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&db_path)
        .read_only(true);
    let pool = sqlx::SqlitePool::connect_with(options)
        .await
        .expect("open database");
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&pool)
            .await
            .expect("list tables");
    let mut argon2id_hashes = 0;
    for table in &tables {
        let rows = sqlx::query(&format!("SELECT * FROM \"{table}\""))
            .fetch_all(&pool)
            .await
            .expect("read table");
        for row in rows {
            for column in row.columns() {
                let Ok(Some(value)) = row.try_get::<Option<String>, _>(column.ordinal()) else {
                    continue;
                };
                assert!(
                    !value.contains(password),
                    "plaintext password in {table}.{}",
                    column.name()
                );
                if value.starts_with("$argon2id$v=19$") {
                    argon2id_hashes += 1;
                    assert!(
                        value.contains("m=19456,t=2,p=1"),
                        "weak argon2id parameters: {value}"
                    );
                }
            }
        }
    }
    assert!(
        argon2id_hashes >= 1,
        "no argon2id hash found in tables {tables:?}"
    );
    pool.close().await;

    // Nor in the raw bytes of the database and its write-ahead log.
    for suffix in ["", "-wal"] {
        let path = db_path.with_file_name(format!("confer.db{suffix}"));
        if let Ok(bytes) = std::fs::read(&path) {
            let needle = password.as_bytes();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "plaintext password in {}",
                path.display()
            );
        }
    }
    assert!(
        !server.log().contains(password),
        "password in the server log"
    );
}
