//! How a request fails: one error type rendered as
//! `{"error": CODE, "message": TEXT}`, and a JSON body extractor whose
//! rejections use that shape too (axum's own rejections are plain
//! text, which clients cannot parse like every other error).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::store::StoreError;

/// A failed request: status, stable machine-readable code, human message.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Seconds for a `Retry-After` header (rate limits, lockouts).
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with any status and code.
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The HTTP status.
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine-readable code.
    pub(crate) fn code(&self) -> &'static str {
        self.code
    }

    /// 400 `invalid_request`: the body is malformed or a field is invalid.
    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 401 `unauthorized`: a bearer token is missing, invalid or expired.
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403 `forbidden`: signed in, but not allowed to do this.
    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 429 `rate_limited`, with how long to wait.
    pub(crate) fn rate_limited(wait: std::time::Duration) -> Self {
        let secs = wait.as_secs().max(1);
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many attempts; try again in {secs} s"),
        )
        .with_retry_after(secs)
    }

    /// Adds a `Retry-After` header (seconds) to the response.
    pub(crate) fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// 404 `meeting_not_found`.
    pub(crate) fn meeting_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "meeting_not_found",
            "no such meeting",
        )
    }

    /// 500 `internal`. The cause is logged here and not shown to the client.
    pub(crate) fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal server error",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.code, "message": self.message });
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::EmailTaken => Self::new(
                StatusCode::CONFLICT,
                "email_taken",
                "an account with this email already exists",
            ),
            StoreError::DomainTaken => Self::new(
                StatusCode::CONFLICT,
                "domain_taken",
                "this domain is already managed by an organisation",
            ),
            other => Self::internal(other),
        }
    }
}

impl From<crate::error::ServerError> for ApiError {
    fn from(err: crate::error::ServerError) -> Self {
        Self::internal(err)
    }
}

impl From<jsonwebtoken::errors::Error> for ApiError {
    /// Only signing reaches here (verification failures are mapped to 401
    /// where they happen), so this is our fault, not the client's.
    fn from(err: jsonwebtoken::errors::Error) -> Self {
        Self::internal(format!("token signing: {err}"))
    }
}

/// A JSON request body. Like `axum::Json`, but every rejection is an
/// [`ApiError`]: 400 `invalid_request` for malformed or mistyped JSON, 413
/// `payload_too_large`, 415 `unsupported_media_type`. An empty body counts as
/// `{}`, so calls whose fields are all optional (a join-token request) may
/// send none.
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_content_type = is_json(req.headers().get(header::CONTENT_TYPE));
        // `Bytes` honours the `DefaultBodyLimit` layer.
        let body = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the request body is too large",
                )
            } else {
                ApiError::invalid_request(rejection.body_text())
            }
        })?;
        let body: &[u8] = if body.is_empty() {
            b"{}"
        } else if json_content_type {
            &body
        } else {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected Content-Type: application/json",
            ));
        };
        // serde's messages may quote a value from the body, which is fine to
        // send back to whoever sent it; these rejections are never logged.
        serde_json::from_slice(body)
            .map(ApiJson)
            .map_err(|e| ApiError::invalid_request(format!("invalid JSON body: {e}")))
    }
}

/// True for `application/json` and `application/*+json`, with any parameters.
fn is_json(content_type: Option<&HeaderValue>) -> bool {
    let Some(essence) = content_type
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
    else {
        return false;
    };
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        let is = |v: &'static str| is_json(Some(&HeaderValue::from_static(v)));
        assert!(is("application/json"));
        assert!(is("Application/JSON; charset=utf-8"));
        assert!(is("application/problem+json"));
        assert!(!is("text/plain"));
        assert!(!is("text/json+x"));
        assert!(!is_json(None));
    }
}
