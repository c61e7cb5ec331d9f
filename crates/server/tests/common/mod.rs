//! What every server test file shares: which database a test runs against.
//!
//! With `CONFER_TEST_DATABASE_URL` set (a PostgreSQL URL an admin may create
//! databases with; `scripts/start-postgres.sh` prints one), each test gets a
//! fresh PostgreSQL database of its own. Without it, tests use SQLite in
//! their temporary data directory, the server's default.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub(crate) mod https_stub;
pub(crate) mod webhook_receiver;

use std::path::Path;

use confer_server::ServerConfig;
use rand::Rng;
use sqlx::{Connection, Executor};

/// The environment variable naming the PostgreSQL server to test against.
pub(crate) const DATABASE_ENV: &str = "CONFER_TEST_DATABASE_URL";

/// A fresh database URL for one test, or `None` to use SQLite.
pub(crate) async fn fresh_database_url() -> Option<String> {
    let admin = std::env::var(DATABASE_ENV).ok().filter(|u| !u.is_empty())?;
    let name = format!("confer_test_{:016x}", rand::rng().random::<u64>());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("{DATABASE_ENV} is set but unusable: {e}"));
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    conn.close().await.unwrap();
    Some(with_database(&admin, &name))
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    format!("{}/{name}{query}", &base[..host_end])
}

/// True when the tests run against PostgreSQL.
pub(crate) fn on_postgres() -> bool {
    std::env::var(DATABASE_ENV).is_ok_and(|u| !u.is_empty())
}

/// A configuration on loopback with OS-chosen ports, state in `dir`, and
/// the test's database.
pub(crate) async fn config(dir: &Path) -> ServerConfig {
    let mut config = ServerConfig::new(dir);
    config.http_port = 0;
    config.quic_port = 0;
    config.tls_port = 0;
    config.database_url = fresh_database_url().await;
    config
}

/// A connection pool to the database `config` uses, for tests that look at
/// what is stored.
pub(crate) async fn inspect(config: &ServerConfig) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let url = match &config.database_url {
        Some(url) => url.clone(),
        None => format!(
            "sqlite://{}?mode=ro",
            config.data_dir.join(confer_server::DATABASE_FILE).display()
        ),
    };
    sqlx::AnyPool::connect(&url).await.unwrap()
}

#[test]
fn database_names_are_replaced() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5433/postgres", "t1"),
        "postgres://postgres@127.0.0.1:5433/t1"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "t2"),
        "postgres://u:p@h/t2?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h:1", "t3"), "postgres://h:1/t3");
}

/// A small API client for the tests: trusts only the server's CA.
pub(crate) struct Api {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
}

/// A test password every helper-made account uses.
pub(crate) const PASSWORD: &str = "correct horse battery";

impl Api {
    pub(crate) fn new(server: &confer_server::RunningServer) -> Self {
        let ca = std::fs::read(server.ca_path()).unwrap();
        let http = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .unwrap();
        Api {
            http,
            base: server.api_url(),
        }
    }

    /// Sends a request; the body as JSON (`null` when empty or not JSON).
    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let bytes = response.bytes().await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        )
    }

    pub(crate) async fn post(
        &self,
        path: &str,
        bearer: Option<&str>,
        body: serde_json::Value,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        self.call(reqwest::Method::POST, path, bearer, Some(body))
            .await
    }

    pub(crate) async fn patch(
        &self,
        path: &str,
        bearer: Option<&str>,
        body: serde_json::Value,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        self.call(reqwest::Method::PATCH, path, bearer, Some(body))
            .await
    }

    pub(crate) async fn get(
        &self,
        path: &str,
        bearer: Option<&str>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        self.call(reqwest::Method::GET, path, bearer, None).await
    }

    pub(crate) async fn delete(
        &self,
        path: &str,
        bearer: Option<&str>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        self.call(reqwest::Method::DELETE, path, bearer, None).await
    }

    pub(crate) async fn login(&self, email: &str, password: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/login",
                None,
                serde_json::json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Signs up with `body` (plus the test password) and logs in; returns
    /// the account and an access token.
    pub(crate) async fn sign_up(&self, mut body: serde_json::Value) -> (serde_json::Value, String) {
        body["password"] = PASSWORD.into();
        let (status, account) = self.post("/api/v1/accounts", None, body).await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{account}");
        let token = self
            .login(account["email"].as_str().unwrap(), PASSWORD)
            .await;
        (account, token)
    }
}

/// Asserts an error response's status and code.
pub(crate) fn assert_error(
    (status, body): (reqwest::StatusCode, serde_json::Value),
    want_status: reqwest::StatusCode,
    want_code: &str,
) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"], want_code, "{body}");
    assert!(body["message"].is_string(), "{body}");
}

/// Starts a server on the test's database.
pub(crate) async fn start(dir: &Path) -> confer_server::RunningServer {
    confer_server::start(config(dir).await).await.unwrap()
}

/// Runs a test with a time limit: a hang is a failure.
pub(crate) async fn within_timeout<F: std::future::Future<Output = ()>>(test: F) {
    tokio::time::timeout(std::time::Duration::from_secs(90), test)
        .await
        .expect("test timed out");
}
