//! The API described as OpenAPI 3.1, served unauthenticated at
//! `GET /openapi.json`.
//!
//! Each file in `routes/` describes its own endpoints next to the handlers
//! (`#[utoipa::path]` on every handler, `ToSchema` on every body), so the
//! description cannot drift far from the code; this module adds what is
//! about the whole API (title, security schemes, the error shape) and
//! merges the parts. `tests/openapi.rs` checks that every route the router
//! serves is described, and `scripts/schemathesis.sh` checks the server's
//! answers against the description.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme,
};
use utoipa::openapi::{OpenApi as Document, RefOr, Response, Server};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::oauth::scopes::ALL_SCOPES;

/// Name of the security scheme for a person's access token from
/// `POST /api/v1/login` (sent as `Authorization: Bearer`).
pub(crate) const BEARER: &str = "bearer";
/// Name of the security scheme for an API client's access token from
/// `POST /oauth/token` (also a bearer token, limited by its scopes).
pub(crate) const OAUTH2: &str = "oauth2";
/// Name of the security scheme for a client secret sent as HTTP Basic to
/// the token endpoint.
pub(crate) const CLIENT_BASIC: &str = "client_basic";

/// Every API error body (`api_error.rs`): a stable code and a message.
/// The OAuth token endpoint alone answers in RFC 6749's shape instead.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub(crate) struct ErrorBody {
    /// Machine-readable code, such as `invalid_request` or `meeting_not_found`.
    error: String,
    /// A sentence for people; not stable.
    message: String,
}

/// Title, version, servers and the parts that belong to no one endpoint.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Confer API",
        description = "Accounts, organisations, meetings, join tokens, API clients and \
                       webhooks of a Confer server. Prose and examples: docs/api.md.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(serve),
    components(schemas(ErrorBody)),
    modifiers(&SecuritySchemes),
)]
struct ApiDoc;

/// Adds the security schemes and the relative server.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut Document) {
        // Relative, so the description is right behind whatever host and
        // port the server was reached at.
        openapi.servers = Some(vec![Server::new("/")]);
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A person's access token from POST /api/v1/login."))
                    .build(),
            ),
        );
        let scopes = Scopes::from_iter(ALL_SCOPES.iter().map(|s| (*s, *s)));
        components.add_security_scheme(
            OAUTH2,
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new(
                    "/oauth/token",
                    scopes,
                ))],
                "An API client's access token (client_credentials grant), sent as \
                 Authorization: Bearer; each endpoint needs one scope.",
            )),
        );
        components.add_security_scheme(
            CLIENT_BASIC,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "client_id and client_secret (each form-urlencoded) as HTTP Basic, \
                         for client_secret clients at the token endpoint.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The whole description, built once.
pub(crate) fn document() -> &'static Document {
    static DOCUMENT: LazyLock<Document> = LazyLock::new(|| {
        let mut doc = ApiDoc::openapi();
        for part in crate::routes::openapi_parts() {
            doc.merge(part);
        }
        document_server_errors(&mut doc);
        doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
        doc
    });
    &DOCUMENT
}

/// Adds the 500 every handler that can fail can answer (a store or signing
/// failure; the cause is only logged), in the body shape of the
/// operation's 4xx answers, so it is written once here rather than on
/// every handler.
fn document_server_errors(doc: &mut Document) {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let responses = &mut operation.responses.responses;
            let error_content = responses
                .iter()
                .filter(|(status, _)| status.starts_with('4'))
                .find_map(|(_, response)| match response {
                    RefOr::T(response) if !response.content.is_empty() => {
                        Some(response.content.clone())
                    }
                    _ => None,
                });
            if let Some(content) = error_content {
                let mut internal = Response::new(
                    "The server failed (`internal`, or `server_error` at the token endpoint); the cause is logged.",
                );
                internal.content = content;
                responses
                    .entry("500".to_owned())
                    .or_insert(RefOr::T(internal));
            }
        }
    }
}

/// `GET /openapi.json`: this description.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "service",
    responses(
        (status = 200, description = "The OpenAPI 3.1 description of this API.",
         content_type = "application/json", body = Object),
    ),
)]
pub(crate) async fn serve() -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        axum::Json(document()),
    )
}
