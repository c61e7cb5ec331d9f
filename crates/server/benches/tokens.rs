//! Token throughput: signing access tokens and join tokens (ES256, P-256)
//! and verifying join tokens the way the router does.
//!
//! Run on one core: `taskset -c 0 cargo bench -p confer-server --bench tokens`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use confer_router::JoinTokenVerifier;
use confer_server::TokenIssuer;
use criterion::{Criterion, criterion_group, criterion_main};

const ISSUER: &str = "https://confer.example:8443";

fn tokens(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let issuer = TokenIssuer::load_or_create(dir.path(), ISSUER).unwrap();
    let mut verifier = JoinTokenVerifier::new(ISSUER);
    verifier.add_jwks(&issuer.jwks()).unwrap();
    let token = issuer.join_token(1_234_567_890, "Ada").unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();

    c.bench_function("issue access token", |b| {
        b.iter(|| issuer.access_token("u1", "o1").unwrap());
    });
    c.bench_function("issue join token", |b| {
        b.iter(|| issuer.join_token(1_234_567_890, "Ada").unwrap());
    });
    c.bench_function("verify join token", |b| {
        b.iter(|| verifier.verify(&token, now).unwrap());
    });
}

criterion_group!(benches, tokens);
criterion_main!(benches);
