//! TLS 1.3 over TCP: control and media both as frames on one stream.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::TlsConnector;

use super::link::{INBOX_LEN, Incoming, Link, OUTBOX_LEN, forward_frames, write_frames};
use super::{DriverError, TransportKind};

/// Connects over TCP and completes the TLS handshake within `timeout`.
pub(crate) async fn connect(
    addr: SocketAddr,
    server_name: &str,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
) -> Result<Link, DriverError> {
    let kind = TransportKind::Tls;
    let name = ServerName::try_from(server_name.to_owned())
        .map_err(|_| DriverError::InvalidServerName(server_name.to_owned()))?;
    let attempt = async {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| DriverError::Handshake {
                kind,
                reason: format!("TCP connect to {addr}: {e}"),
            })?;
        // Control messages are small and latency matters more than packing.
        let _ = tcp.set_nodelay(true);
        TlsConnector::from(tls)
            .connect(name, tcp)
            .await
            .map_err(|e| DriverError::Handshake {
                kind,
                reason: format!("TLS handshake with {addr}: {e}"),
            })
    };
    let stream =
        tokio::time::timeout(timeout, attempt)
            .await
            .map_err(|_| DriverError::Timeout {
                kind,
                after: timeout,
            })??;
    if stream.get_ref().1.alpn_protocol() != Some(confer_wire::ALPN) {
        // The protocol requires ALPN; tolerate a router that does not select
        // it rather than fail, but make it visible.
        tracing::warn!("router at {addr} did not negotiate ALPN confer/1");
    }
    let (reader, writer) = tokio::io::split(stream);
    let (inbox_tx, inbox) = mpsc::channel(INBOX_LEN);
    let (outbox, outbox_rx) = mpsc::channel(OUTBOX_LEN);
    let writer = tokio::spawn(write_frames(writer, outbox_rx));
    let reader = tokio::spawn(read_frames(reader, inbox_tx));
    Ok(Link::new(kind, inbox, outbox, writer, vec![reader], None))
}

/// The reader task: frames from the stream to the session, then how it ended.
async fn read_frames<R: AsyncRead + Unpin>(mut reader: R, inbox: mpsc::Sender<Incoming>) {
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let end = loop {
        match forward_frames(&mut buf, &inbox).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => break Incoming::Failed(e),
        }
        match reader.read_buf(&mut buf).await {
            Ok(0) if buf.is_empty() => break Incoming::Closed(None),
            Ok(0) => {
                break Incoming::Failed(
                    "the router closed the connection in the middle of a frame".into(),
                );
            }
            Ok(_) => {}
            Err(e) => break Incoming::Closed(Some(e.to_string())),
        }
    };
    let _ = inbox.send(end).await;
}
