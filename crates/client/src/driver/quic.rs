//! QUIC: control frames on one bidirectional stream the client opens, media
//! as RFC 9221 datagrams (one bare RTP packet each).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use quinn::crypto::rustls::QuicClientConfig;
use tokio::sync::mpsc;

use super::link::{INBOX_LEN, Incoming, Link, OUTBOX_LEN, QuicParts, forward_frames, write_frames};
use super::{DriverError, TransportKind};

/// The QUIC idle timeout, the router's silence timeout (docs/protocol.md).
const IDLE_TIMEOUT: Duration = Duration::from_secs(6);

/// Room for received datagrams not yet read: about a second of several
/// video streams, so a busy moment does not drop media.
const DATAGRAM_BUFFER: usize = 2 * 1024 * 1024;

/// Connects, completes the handshake and opens the control stream within
/// `timeout`.
pub(crate) async fn connect(
    addr: SocketAddr,
    server_name: &str,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
) -> Result<Link, DriverError> {
    let kind = TransportKind::Quic;
    let handshake = |reason: String| DriverError::Handshake { kind, reason };
    let crypto = QuicClientConfig::try_from(tls).map_err(|e| handshake(e.to_string()))?;
    let mut transport = quinn::TransportConfig::default();
    transport
        .max_idle_timeout(Some(
            IDLE_TIMEOUT
                .try_into()
                .map_err(|_| handshake("idle timeout".into()))?,
        ))
        .datagram_receive_buffer_size(Some(DATAGRAM_BUFFER));
    let mut client_config = quinn::ClientConfig::new(Arc::new(crypto));
    client_config.transport_config(Arc::new(transport));

    let bind: SocketAddr = if addr.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let endpoint =
        quinn::Endpoint::client(bind).map_err(|e| handshake(format!("UDP socket: {e}")))?;
    let attempt = async {
        let connecting = endpoint
            .connect_with(client_config, addr, server_name)
            .map_err(|e| handshake(format!("{addr}: {e}")))?;
        let connection = connecting
            .await
            .map_err(|e| handshake(format!("{addr}: {e}")))?;
        let (send, recv) = connection
            .open_bi()
            .await
            .map_err(|e| handshake(format!("{addr}: {e}")))?;
        Ok::<_, DriverError>((connection, send, recv))
    };
    let (connection, send, recv) = match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(parts)) => parts,
        Ok(Err(e)) => return Err(e),
        Err(_) => {
            endpoint.close(quinn::VarInt::from_u32(0), b"timeout");
            return Err(DriverError::Timeout {
                kind,
                after: timeout,
            });
        }
    };
    let (inbox_tx, inbox) = mpsc::channel(INBOX_LEN);
    let (outbox, outbox_rx) = mpsc::channel(OUTBOX_LEN);
    let writer = tokio::spawn(write_frames(send, outbox_rx));
    let stream_reader = tokio::spawn(read_stream(recv, inbox_tx.clone()));
    let datagram_reader = tokio::spawn(read_datagrams(connection.clone(), inbox_tx));
    let quic = QuicParts {
        endpoint,
        connection,
    };
    Ok(Link::new(
        kind,
        inbox,
        outbox,
        writer,
        vec![stream_reader, datagram_reader],
        Some(quic),
    ))
}

/// The control stream reader: frames to the session, then how it ended.
/// Only this reader reports the end, so control messages that arrived before
/// it (a refusal, a removal) reach the session first.
async fn read_stream(mut recv: quinn::RecvStream, inbox: mpsc::Sender<Incoming>) {
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let mut chunk = vec![0u8; 16 * 1024];
    let end = loop {
        match forward_frames(&mut buf, &inbox).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => break Incoming::Failed(e),
        }
        match recv.read(&mut chunk).await {
            Ok(Some(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(None) if buf.is_empty() => break Incoming::Closed(None),
            Ok(None) => {
                break Incoming::Failed(
                    "the router closed the control stream in the middle of a frame".into(),
                );
            }
            Err(quinn::ReadError::ConnectionLost(e)) => {
                break Incoming::Closed(Some(describe_close(&e)));
            }
            Err(e) => break Incoming::Closed(Some(e.to_string())),
        }
    };
    let _ = inbox.send(end).await;
}

/// The datagram reader: each datagram is one RTP packet.
async fn read_datagrams(connection: quinn::Connection, inbox: mpsc::Sender<Incoming>) {
    while let Ok(datagram) = connection.read_datagram().await {
        if inbox.send(Incoming::Media(datagram)).await.is_err() {
            return;
        }
    }
}

/// A readable account of why a QUIC connection closed.
fn describe_close(e: &quinn::ConnectionError) -> String {
    match e {
        quinn::ConnectionError::ApplicationClosed(close) => {
            let reason = String::from_utf8_lossy(&close.reason);
            format!(
                "the router closed the connection (code {}, {reason:?})",
                close.error_code
            )
        }
        other => other.to_string(),
    }
}
