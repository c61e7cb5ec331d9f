//! Signing in with the organisation's single sign-on from a native app
//! (RFC 8252): the system browser does the sign-in, and the app waits for it
//! on a loopback port.
//!
//! The flow, with the server as the OpenID relying party:
//!
//! 1. [`SsoSignIn::start`] binds `127.0.0.1:0` (RFC 8252 §7.3: any port),
//!    makes a PKCE verifier (RFC 7636, S256) and a `state`, and builds the
//!    server's `/sso/{slug}/start` URL naming the loopback redirect.
//! 2. The front end opens [`SsoSignIn::start_url`] in the system browser
//!    ([`open_in_browser`]) or prints it.
//! 3. [`SsoSignIn::finish`] answers browser requests on the loopback port
//!    until one carries our `state` with a `code` (or an `error`), shows the
//!    browser a "you can close this window" page, and redeems the code with
//!    the verifier at `POST /sso/token` for the same answer a password login
//!    gives.
//!
//! The decisions (building URLs, parsing the browser's request, judging the
//! redirect) are plain functions tested without sockets; the async shell
//! only moves bytes.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use reqwest::Url;
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::api::{ApiClient, ApiError, LoginResponse};

/// How long [`SsoSignIn::finish`] waits for the browser by default: long
/// enough to type a password and pass a second factor.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// The path of the loopback redirect URI.
const REDIRECT_PATH: &str = "/sso/done";

/// The largest request head the loopback listener reads: a redirect with a
/// code and a state is a few hundred bytes.
const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// How long one browser connection may take to send its request. Browsers
/// open spare connections they never use; those are dropped after this.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a single sign-on failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SsoError {
    /// The organisation's name is not a valid SSO slug.
    #[error("{0:?} is not an organisation name (lower-case letters, digits and hyphens)")]
    InvalidSlug(String),
    /// The server URL or CA cannot be used.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The loopback port could not be opened or stopped accepting.
    #[error("cannot listen on the loopback port for the browser: {0}")]
    Listen(#[source] std::io::Error),
    /// The system browser could not be started.
    #[error("cannot open the system browser: {0}")]
    Browser(#[source] std::io::Error),
    /// The browser did not come back in time.
    #[error("no sign-in arrived from the browser within {} s; start again", .0.as_secs())]
    TimedOut(Duration),
    /// The server or identity provider refused the sign-in.
    #[error("single sign-on refused ({error}): {description}")]
    Refused {
        /// The OAuth error code (`access_denied`, `no_matching_organisation`…).
        error: String,
        /// The server's explanation.
        description: String,
    },
}

/// A PKCE verifier and its S256 challenge (RFC 7636).
#[derive(Clone)]
pub struct Pkce {
    verifier: String,
    challenge: String,
}

impl fmt::Debug for Pkce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The verifier redeems the code: never in logs.
        f.debug_struct("Pkce")
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

impl Pkce {
    /// A fresh random verifier (256 bits) and its challenge.
    pub fn generate() -> Pkce {
        Pkce::from_verifier(random_secret())
    }

    /// The pair for a given verifier.
    pub fn from_verifier(verifier: String) -> Pkce {
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Pkce {
            verifier,
            challenge,
        }
    }

    /// The verifier, sent only to `POST /sso/token`.
    pub fn verifier(&self) -> &str {
        &self.verifier
    }

    /// The S256 challenge, sent in the start URL.
    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

/// A random secret: 256 bits, base64url without padding (43 characters),
/// fit for a PKCE verifier or a `state`.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `slug` is a valid SSO connection name (the server's rule:
/// lower-case letters, digits and inner hyphens, at most 63 characters).
/// Checked here so that a slug can never add path segments to the URL.
pub fn valid_slug(slug: &str) -> bool {
    (1..=63).contains(&slug.len())
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The loopback redirect URI for a listener on `port`.
pub fn redirect_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}{REDIRECT_PATH}")
}

/// The server's `/sso/{slug}/start` URL for `base` (the web service, e.g.
/// `https://meet.example.org`).
pub fn start_url(
    base: &Url,
    slug: &str,
    redirect_uri: &str,
    pkce: &Pkce,
    state: &str,
) -> Result<Url, SsoError> {
    if !valid_slug(slug) {
        return Err(SsoError::InvalidSlug(slug.to_owned()));
    }
    let mut url = join(base, &format!("sso/{slug}/start"))?;
    url.query_pairs_mut()
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("code_challenge", pkce.challenge())
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", state);
    Ok(url)
}

/// `path` relative to the service at `base`, whether or not `base` ends
/// with a slash.
fn join(base: &Url, path: &str) -> Result<Url, SsoError> {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let with_slash = format!("{}/", base.path());
        base.set_path(&with_slash);
    }
    base.join(path).map_err(|e| {
        SsoError::Api(ApiError::InvalidUrl {
            url: base.to_string(),
            reason: e.to_string(),
        })
    })
}

/// Why a browser's request to the loopback port could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// Not an HTTP/1.x request.
    #[error("malformed HTTP request: {0}")]
    Malformed(String),
    /// The request head is larger than any redirect.
    #[error("request head larger than {MAX_REQUEST_HEAD} bytes")]
    TooLarge,
    /// The connection closed before the request head ended.
    #[error("the connection closed mid-request")]
    Truncated,
}

/// The part of a browser's request the loopback listener looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserRequest {
    /// `GET`, `HEAD`…
    pub method: String,
    /// The request target: path and query.
    pub target: String,
}

/// Parses a request head from the bytes read so far: `Ok(None)` while it
/// is incomplete, an error when it can never be a request.
pub fn parse_request(bytes: &[u8]) -> Result<Option<BrowserRequest>, RequestError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(bytes) {
        Ok(httparse::Status::Complete(_)) => Ok(Some(BrowserRequest {
            method: request.method.unwrap_or_default().to_owned(),
            target: request.path.unwrap_or_default().to_owned(),
        })),
        Ok(httparse::Status::Partial) if bytes.len() >= MAX_REQUEST_HEAD => {
            Err(RequestError::TooLarge)
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(RequestError::Malformed(e.to_string())),
    }
}

/// What a request to the loopback port means for the sign-in.
#[derive(Clone, PartialEq, Eq)]
pub enum Redirect {
    /// Our redirect with our state and a one-time code: redeem it.
    Code(String),
    /// Our redirect with our state and an error: the sign-in failed.
    Refused {
        /// The OAuth error code.
        error: String,
        /// The explanation, if any.
        description: String,
    },
    /// Our redirect path, but without our state: not the sign-in we
    /// started (a stale tab or another page's doing). Refused; keep waiting.
    WrongState,
    /// Something else (`/favicon.ico`, a probe): answered 404; keep waiting.
    Other,
}

impl fmt::Debug for Redirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The code is a credential until redeemed: never in logs.
            Redirect::Code(_) => f.write_str("Code(..)"),
            Redirect::Refused { error, description } => f
                .debug_struct("Refused")
                .field("error", error)
                .field("description", description)
                .finish(),
            Redirect::WrongState => f.write_str("WrongState"),
            Redirect::Other => f.write_str("Other"),
        }
    }
}

/// Judges a browser request against the state we sent.
pub fn classify(request: &BrowserRequest, expected_state: &str) -> Redirect {
    if request.method != "GET" {
        return Redirect::Other;
    }
    // The target is origin-form (`/path?query`); parse it against our origin.
    let Ok(url) = Url::parse("http://127.0.0.1").and_then(|base| base.join(&request.target)) else {
        return Redirect::Other;
    };
    if url.path() != REDIRECT_PATH {
        return Redirect::Other;
    }
    let (mut state, mut code, mut error, mut description) = (None, None, None, None);
    for (key, value) in url.query_pairs() {
        let slot = match key.as_ref() {
            "state" => &mut state,
            "code" => &mut code,
            "error" => &mut error,
            "error_description" => &mut description,
            _ => continue,
        };
        // A repeated parameter is ambiguous: refuse rather than pick one.
        if slot.replace(value.into_owned()).is_some() {
            return Redirect::WrongState;
        }
    }
    let state_matches = state.is_some_and(|s| {
        s.len() == expected_state.len()
            && s.bytes()
                .zip(expected_state.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    });
    if !state_matches {
        return Redirect::WrongState;
    }
    match (code, error) {
        (_, Some(error)) => Redirect::Refused {
            error,
            description: description.unwrap_or_default(),
        },
        (Some(code), None) if !code.is_empty() => Redirect::Code(code),
        _ => Redirect::Refused {
            error: "invalid_request".into(),
            description: "the redirect carried neither a code nor an error".into(),
        },
    }
}

/// The HTTP response the browser gets for `redirect`.
pub fn browser_response(redirect: &Redirect) -> Vec<u8> {
    let (status, title, text) = match redirect {
        Redirect::Code(_) => (
            "200 OK",
            "Signed in",
            "You are signed in to Confer. You can close this window.".to_owned(),
        ),
        Redirect::Refused { error, description } => (
            "200 OK",
            "Sign-in failed",
            format!("Confer could not sign you in ({error}): {description}"),
        ),
        Redirect::WrongState => (
            "400 Bad Request",
            "Not this sign-in",
            "This is not the sign-in Confer is waiting for. Start again from Confer.".to_owned(),
        ),
        Redirect::Other => ("404 Not Found", "Not found", "Nothing here.".to_owned()),
    };
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Confer: {title}</title></head>\
         <body><h1>{title}</h1><p>{}</p></body></html>",
        escape_html(&text)
    );
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nContent-Security-Policy: default-src 'none'\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Escapes text for an HTML body: the description comes from the network.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Opens `url` in the system browser. On Linux and the BSDs the `BROWSER`
/// environment variable, when set, names the command to use (the
/// `webbrowser` crate's rule); tests set `BROWSER=true` so nothing opens.
/// Callers should show `url` too: a browser that reports success may still
/// not have appeared.
pub fn open_in_browser(url: &Url) -> Result<(), SsoError> {
    webbrowser::open(url.as_str()).map_err(SsoError::Browser)
}

/// One single sign-on in progress: the loopback listener, the PKCE
/// verifier and state, and where to redeem the code.
///
/// Driving contract: [`SsoSignIn::start`], show [`SsoSignIn::start_url`]
/// to the user's browser, then await [`SsoSignIn::finish`]. Dropping the
/// value (or the `finish` future) cancels the sign-in and closes the port.
pub struct SsoSignIn {
    listener: TcpListener,
    redirect_uri: String,
    pkce: Pkce,
    state: String,
    start_url: Url,
    api: ApiClient,
}

impl fmt::Debug for SsoSignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoSignIn")
            .field("redirect_uri", &self.redirect_uri)
            .field("start_url", &self.start_url.as_str())
            .finish_non_exhaustive()
    }
}

impl SsoSignIn {
    /// Starts a sign-in at the service `server` (trusting only `ca_pem`
    /// when given, like [`crate::api::ApiClient::new`]) through the
    /// organisation's SSO connection `slug`.
    pub async fn start(server: &str, ca_pem: Option<&[u8]>, slug: &str) -> Result<Self, SsoError> {
        if !valid_slug(slug) {
            return Err(SsoError::InvalidSlug(slug.to_owned()));
        }
        let base = Url::parse(server).map_err(|e| ApiError::InvalidUrl {
            url: server.to_owned(),
            reason: e.to_string(),
        })?;
        if !matches!(base.scheme(), "https" | "http") || base.host().is_none() {
            return Err(ApiError::InvalidUrl {
                url: server.to_owned(),
                reason: "expected https://HOST[:PORT]".into(),
            }
            .into());
        }
        let api = ApiClient::new(server, ca_pem)?;
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .map_err(SsoError::Listen)?;
        let port = listener.local_addr().map_err(SsoError::Listen)?.port();
        let redirect_uri = redirect_uri(port);
        let pkce = Pkce::generate();
        let state = random_secret();
        let start_url = start_url(&base, slug, &redirect_uri, &pkce, &state)?;
        Ok(SsoSignIn {
            listener,
            redirect_uri,
            pkce,
            state,
            start_url,
            api,
        })
    }

    /// The URL to open in the browser.
    pub fn start_url(&self) -> &Url {
        &self.start_url
    }

    /// Where the browser comes back (`http://127.0.0.1:PORT/sso/done`).
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits up to `timeout` for the browser to come back, then redeems
    /// the code: the answer is a password login's.
    pub async fn finish(self, timeout: Duration) -> Result<LoginResponse, SsoError> {
        let code = tokio::time::timeout(timeout, wait_for_code(&self.listener, &self.state))
            .await
            .map_err(|_| SsoError::TimedOut(timeout))??;
        // The port has done its job; nothing else may knock on it.
        drop(self.listener);
        Ok(self
            .api
            .redeem_sso_code(&code, &self.redirect_uri, self.pkce.verifier())
            .await?)
    }
}

/// Answers browser connections until one brings our code or an error.
/// Connections are served concurrently so that a browser's idle spare
/// connection cannot hold up the real redirect.
async fn wait_for_code(listener: &TcpListener, state: &str) -> Result<String, SsoError> {
    let mut connections: JoinSet<Option<Redirect>> = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = accepted.map_err(SsoError::Listen)?;
                let state = state.to_owned();
                connections.spawn(async move {
                    tokio::time::timeout(CONNECTION_TIMEOUT, serve(stream, &state))
                        .await
                        .ok()
                        .flatten()
                });
            }
            Some(done) = connections.join_next() => match done {
                Ok(Some(Redirect::Code(code))) => return Ok(code),
                Ok(Some(Redirect::Refused { error, description })) => {
                    return Err(SsoError::Refused { error, description });
                }
                Ok(Some(other)) => tracing::debug!(?other, "ignored a request on the SSO port"),
                // A connection that failed or went quiet changes nothing.
                Ok(None) | Err(_) => {}
            },
        }
    }
}

/// Reads one request, answers it, and says what it was (`None` when it
/// was not a readable request).
async fn serve(mut stream: TcpStream, state: &str) -> Option<Redirect> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    let request = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            tracing::debug!(error = %RequestError::Truncated, "SSO port");
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        match parse_request(&buf) {
            Ok(Some(request)) => break request,
            Ok(None) => {}
            Err(e) => {
                tracing::debug!(error = %e, "SSO port");
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    )
                    .await;
                return None;
            }
        }
    };
    let redirect = classify(&request, state);
    // The outcome stands even if the browser hung up before reading it.
    let _ = stream.write_all(&browser_response(&redirect)).await;
    let _ = stream.shutdown().await;
    Some(redirect)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(target: &str) -> BrowserRequest {
        BrowserRequest {
            method: "GET".into(),
            target: target.into(),
        }
    }

    #[test]
    fn pkce_matches_rfc_7636_appendix_b() {
        let p = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        assert_eq!(p.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert!(!format!("{p:?}").contains(p.verifier()));
        let fresh = Pkce::generate();
        assert_eq!(fresh.verifier().len(), 43);
        assert_ne!(fresh.verifier(), Pkce::generate().verifier());
    }

    #[test]
    fn builds_the_start_url() {
        let pkce = Pkce::from_verifier("v".repeat(43));
        for base in [
            "https://meet.example.org:8443",
            "https://meet.example.org:8443/",
        ] {
            let url = start_url(
                &Url::parse(base).unwrap(),
                "acme-2",
                "http://127.0.0.1:5000/sso/done",
                &pkce,
                "st&te",
            )
            .unwrap();
            assert_eq!(url.path(), "/sso/acme-2/start");
            let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
            assert_eq!(
                pairs,
                [
                    ("redirect_uri", "http://127.0.0.1:5000/sso/done"),
                    ("code_challenge", pkce.challenge()),
                    ("code_challenge_method", "S256"),
                    ("state", "st&te"),
                ]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
            );
        }
        let prefixed = start_url(
            &Url::parse("https://h/confer").unwrap(),
            "acme",
            "r",
            &pkce,
            "s",
        )
        .unwrap();
        assert_eq!(prefixed.path(), "/confer/sso/acme/start");
    }

    #[test]
    fn refuses_slugs_that_are_not_names() {
        let pkce = Pkce::generate();
        let base = Url::parse("https://h").unwrap();
        for bad in [
            "",
            "Acme",
            "../admin",
            "a/b",
            "a?b",
            "-a",
            "a-",
            "a b",
            &"a".repeat(64),
        ] {
            assert!(
                matches!(
                    start_url(&base, bad, "r", &pkce, "s"),
                    Err(SsoError::InvalidSlug(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(redirect_uri(5000), "http://127.0.0.1:5000/sso/done");
    }

    #[test]
    fn takes_the_code_only_with_our_state() {
        assert_eq!(
            classify(&get("/sso/done?code=c1&state=s1"), "s1"),
            Redirect::Code("c1".into())
        );
        assert_eq!(
            classify(&get("/sso/done?code=c1&state=s2"), "s1"),
            Redirect::WrongState
        );
        assert_eq!(
            classify(&get("/sso/done?code=c1"), "s1"),
            Redirect::WrongState
        );
        assert_eq!(
            classify(&get("/sso/done?code=c1&state=s1&state=s2"), "s1"),
            Redirect::WrongState,
            "a repeated state is refused"
        );
        assert_eq!(
            classify(&get("/sso/done?code=c1&code=c2&state=s1"), "s1"),
            Redirect::WrongState
        );
        assert_eq!(
            classify(&get("/sso/done?state=s1"), "s1"),
            Redirect::Refused {
                error: "invalid_request".into(),
                description: "the redirect carried neither a code nor an error".into()
            }
        );
        assert!(!format!("{:?}", Redirect::Code("secret".into())).contains("secret"));
    }

    #[test]
    fn reports_errors_and_ignores_other_requests() {
        assert_eq!(
            classify(
                &get(
                    "/sso/done?error=no_matching_organisation&error_description=elsewhere.test&state=s1"
                ),
                "s1"
            ),
            Redirect::Refused {
                error: "no_matching_organisation".into(),
                description: "elsewhere.test".into()
            }
        );
        // An error with someone else's state does not end our sign-in.
        assert_eq!(
            classify(&get("/sso/done?error=access_denied&state=x"), "s1"),
            Redirect::WrongState
        );
        assert_eq!(classify(&get("/favicon.ico"), "s1"), Redirect::Other);
        assert_eq!(
            classify(&get("/other?code=c&state=s1"), "s1"),
            Redirect::Other
        );
        let post = BrowserRequest {
            method: "POST".into(),
            target: "/sso/done?code=c&state=s1".into(),
        };
        assert_eq!(classify(&post, "s1"), Redirect::Other);
        assert_eq!(
            classify(&get("http://evil/sso/done?code=c&state=s1"), "s1"),
            Redirect::Code("c".into()),
            "absolute-form targets are judged by path and query"
        );
    }

    #[test]
    fn parses_requests_and_tells_incomplete_from_invalid() {
        let full = b"GET /sso/done?code=a&state=b HTTP/1.1\r\nHost: 127.0.0.1:5\r\n\r\n";
        assert_eq!(
            parse_request(full).unwrap(),
            Some(get("/sso/done?code=a&state=b"))
        );
        for cut in 0..full.len() {
            assert_eq!(parse_request(&full[..cut]), Ok(None), "cut at {cut}");
        }
        for bad in [
            &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"[..],
            b"GET /\x01 HTTP/1.1\r\n\r\n",
            b"GET / HTTP/9.9\r\n\r\n",
            b"GET / HTTP/1.1\r\nbad header line\r\n\r\n",
        ] {
            assert!(
                matches!(parse_request(bad), Err(RequestError::Malformed(_))),
                "{bad:?}"
            );
        }
        let mut huge = b"GET /".to_vec();
        huge.extend(std::iter::repeat_n(b'a', MAX_REQUEST_HEAD));
        assert_eq!(parse_request(&huge), Err(RequestError::TooLarge));
    }

    #[test]
    fn escapes_what_the_network_said() {
        let page = browser_response(&Redirect::Refused {
            error: "access_denied".into(),
            description: "<script>alert(1)</script>".into(),
        });
        let page = String::from_utf8(page).unwrap();
        assert!(page.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;"));
        let (head, body) = page.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        let wrong = String::from_utf8(browser_response(&Redirect::WrongState)).unwrap();
        assert!(wrong.starts_with("HTTP/1.1 400 "));
    }

    /// The shell over real loopback sockets: a stray request and a wrong
    /// state are answered and ignored; the right redirect ends the wait.
    #[tokio::test]
    async fn waits_on_loopback_for_the_right_redirect() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let waiting = tokio::spawn(async move {
            tokio::time::timeout(Duration::from_secs(20), wait_for_code(&listener, "s1")).await
        });
        async fn send(port: u16, request: &[u8]) -> String {
            let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            s.write_all(request).await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        }
        // A spare connection that never speaks must not hold anything up.
        let _idle = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        assert!(
            send(port, b"GET /favicon.ico HTTP/1.1\r\n\r\n")
                .await
                .starts_with("HTTP/1.1 404")
        );
        assert!(
            send(port, b"\x00\x01garbage\r\n\r\n")
                .await
                .starts_with("HTTP/1.1 400")
        );
        let wrong = send(port, b"GET /sso/done?code=c&state=forged HTTP/1.1\r\n\r\n").await;
        assert!(wrong.starts_with("HTTP/1.1 400"), "{wrong}");
        assert!(!waiting.is_finished());
        let ok = send(
            port,
            b"GET /sso/done?code=the-code&state=s1 HTTP/1.1\r\n\r\n",
        )
        .await;
        assert!(ok.contains("You can close this window"), "{ok}");
        let code = waiting.await.unwrap().unwrap().unwrap();
        assert_eq!(code, "the-code");
    }
}
