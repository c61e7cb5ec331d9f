//! The OpenAPI description at `/openapi.json` against the real server: it
//! is OpenAPI 3.1, and it describes exactly the routes the router serves.
//!
//! Which routes exist is read from the `.route(PATH, METHOD(...))` calls in
//! `src/routes/*.rs`, so a route added without a `#[utoipa::path]`
//! annotation fails here; each described operation is then called on the
//! live server, which must answer from a handler, not from the router's
//! "no such endpoint" or "method not allowed" fallbacks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{Api, start, within_timeout};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// The HTTP methods axum routes by that the API uses.
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// `(METHOD, PATH)` of every route registered in `src/routes/*.rs`.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        for forbidden in [".nest(", ".nest_service(", ".route_service("] {
            assert!(
                !source.contains(forbidden),
                "{}: `{forbidden}` hides routes from this test; register each with .route()",
                path.display()
            );
        }
        routes.extend(route_calls(&source));
    }
    routes
}

/// The `(METHOD, PATH)` pairs of the `.route("PATH", ...)` calls in `source`.
fn route_calls(source: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find(".route(") {
        let after = &rest[start + ".route(".len()..];
        let args = balanced(after);
        let path = args
            .split('"')
            .nth(1)
            .unwrap_or_else(|| panic!("a .route() without a literal path: {args}"));
        let mut methods = Vec::new();
        for method in METHODS {
            let call = format!("{method}(");
            let mut at = 0;
            while let Some(i) = args[at..].find(&call) {
                let pos = at + i;
                let before = args[..pos].chars().next_back();
                // `get(` but not `forget(` or `budget(`.
                if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    methods.push(method);
                }
                at = pos + call.len();
            }
        }
        assert!(!methods.is_empty(), "no method router in .route({args})");
        for method in methods {
            found.push((method.to_ascii_uppercase(), path.to_owned()));
        }
        rest = &after[args.len()..];
    }
    found
}

/// The text up to the parenthesis that closes the one just opened.
fn balanced(text: &str) -> &str {
    let mut depth = 1;
    let mut in_string = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return &text[..i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses after .route(");
}

/// `(METHOD, PATH)` of every operation in the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                ops.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    ops
}

#[test]
fn the_route_parser_finds_chained_methods() {
    let source = r#"
        Router::new()
            .route("/a", get(x::list).post(x::add))
            .route(
                "/a/{id}",
                delete(x::remove).patch(x::budget_edit),
            )
            .route("/b", axum::routing::put(y::forget))
    "#;
    assert_eq!(
        route_calls(source),
        [
            ("GET".to_owned(), "/a".to_owned()),
            ("POST".to_owned(), "/a".to_owned()),
            ("PATCH".to_owned(), "/a/{id}".to_owned()),
            ("DELETE".to_owned(), "/a/{id}".to_owned()),
            ("PUT".to_owned(), "/b".to_owned()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_openapi_3_1_and_describes_every_route() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let api = Api::new(&server);

        // Served without a token.
        let (status, doc) = api.get("/openapi.json", None).await;
        assert_eq!(status, StatusCode::OK, "{doc}");
        let version = doc["openapi"].as_str().unwrap();
        assert!(version.starts_with("3.1."), "openapi = {version}");
        assert_eq!(doc["servers"][0]["url"], "/");
        let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
        for scheme in ["bearer", "oauth2", "client_basic"] {
            assert!(schemes.contains_key(scheme), "no {scheme} security scheme");
        }

        let documented = operations(&doc);
        let registered = routes_in_source();
        let undocumented: Vec<_> = registered.difference(&documented).collect();
        assert!(
            undocumented.is_empty(),
            "routes without #[utoipa::path] in the document: {undocumented:?}"
        );
        let phantom: Vec<_> = documented.difference(&registered).collect();
        assert!(phantom.is_empty(), "documented but not routed: {phantom:?}");

        // Every operation documents its responses, and errors (500 too) use
        // the one error shape (the token endpoint alone answers as RFC 6749
        // says).
        for (method, path) in &documented {
            let op = &doc["paths"][path][method.to_ascii_lowercase()];
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path}: no responses");
            let fails_with_4xx = responses.keys().any(|s| s.starts_with('4'));
            assert!(
                !fails_with_4xx || responses.contains_key("500"),
                "{method} {path}: 4xx answers but no 500"
            );
            for (status, response) in responses {
                if status.starts_with('4') || status == "500" {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    let expected = if path == "/oauth/token" {
                        "#/components/schemas/OAuthErrorBody"
                    } else {
                        "#/components/schemas/Error"
                    };
                    assert_eq!(schema, expected, "{method} {path} {status}");
                }
            }
        }

        // The live router serves each documented operation from a handler.
        for (method, path) in &documented {
            let concrete = path
                .split('/')
                .map(|seg| if seg.starts_with('{') { "0" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let (status, body) = api.call(method.clone(), &concrete, None, None).await;
            assert_ne!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {body}"
            );
            assert_ne!(body["error"], "not_found", "{method} {path}: {status}");
        }

        // A path nobody routes still falls through to the fallback, so the
        // check above can tell the two apart.
        let (status, body) = api.get("/api/v1/no-such-endpoint", None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"], "not_found");

        server.shutdown().await;
    })
    .await;
}
