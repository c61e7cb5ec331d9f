//! TLS 1.3 over TCP: for networks that block UDP. Control and media travel
//! as frames on the one stream, both ways.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::conn::{AbortOnDrop, CLOSE_GRACE, read_frames, write_frames};
use super::shared::{CONTROL_QUEUE, MEDIA_QUEUE, Outbox, Shared};

/// How long a TLS handshake may take. The join timeout only starts once the
/// handshake is done, so this bounds how long a connection that never
/// finishes one can hold a socket.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts TCP connections until the task is aborted. Connection tasks live
/// in a set owned by this loop, so aborting it ends them all.
pub(super) async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    tracing::debug!(%peer, "TCP connection");
                    connections.spawn(serve(Arc::clone(&shared), acceptor.clone(), stream));
                }
                Err(error) => {
                    // Usually a full file-descriptor table: back off briefly
                    // rather than spin.
                    tracing::warn!(%error, "TCP accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Serves one TCP connection from handshake to close.
async fn serve(shared: Arc<Shared>, acceptor: TlsAcceptor, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            tracing::debug!(%error, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            return;
        }
    };
    let (mut reader, mut writer) = tokio::io::split(stream);
    let (control_tx, mut control_rx) = mpsc::channel(CONTROL_QUEUE);
    let (media_tx, mut media_rx) = mpsc::channel(MEDIA_QUEUE);
    let mut write_task = AbortOnDrop(tokio::spawn(async move {
        let closing = write_frames(&mut writer, &mut control_rx, &mut media_rx).await;
        if closing.is_some() {
            // close_notify, then FIN: the client reads everything we sent.
            let _ = writer.shutdown().await;
        }
    }));
    let outbox = Outbox {
        control: control_tx,
        media: media_tx,
        datagrams: None,
        writer: write_task.0.abort_handle(),
    };
    let conn = shared.connect(outbox);
    tracing::debug!(%conn, "TLS connection open");

    let writer_done = tokio::select! {
        () = read_frames(&shared, conn, &mut reader) => false,
        _ = &mut write_task.0 => true,
    };
    // Harmless if the core closed the connection itself.
    shared.disconnect(conn);
    if !writer_done {
        // After a bad frame the core has queued a fatal error and a close:
        // give the writer a moment to deliver them.
        let _ = tokio::time::timeout(CLOSE_GRACE, &mut write_task.0).await;
    }
    // Closing a socket with unread input makes the kernel send a reset,
    // which can destroy the error we just sent before the client reads it.
    // So read and discard until the client closes too, for a short while.
    let _ = tokio::time::timeout(CLOSE_GRACE, discard(&mut reader)).await;
    tracing::debug!(%conn, "TLS connection closed");
}

/// Reads and drops everything until the stream ends.
async fn discard<R: AsyncRead + Unpin>(reader: &mut R) {
    let mut scratch = [0u8; 4096];
    while let Ok(n) = reader.read(&mut scratch).await {
        if n == 0 {
            return;
        }
    }
}
