//! QUIC: control frames on the first bidirectional stream the client
//! opens, media as datagrams (one bare RTP packet each; media frames on the
//! stream are accepted too).
//!
//! The router closes QUIC connections with an application error code:
//! [`CLOSE_NORMAL`] after `leave` or a silence timeout, [`CLOSE_ERROR`] after
//! a fatal `error` (the reason phrase is the error code, which matters when
//! the client never opened a stream to receive the `error` on), and
//! [`CLOSE_SHUTDOWN`] when the router stops.

use std::sync::Arc;

use confer_wire::control::ErrorCode;
use quinn::{Connection, SendStream, VarInt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use super::conn::{AbortOnDrop, CLOSE_GRACE, read_frames, write_frames};
use super::shared::{CONTROL_QUEUE, MEDIA_QUEUE, Outbox, Outgoing, Shared};

use crate::core::{CloseReason, ConnectionId};

/// Application close code: the connection ended normally.
pub(crate) const CLOSE_NORMAL: VarInt = VarInt::from_u32(0);
/// Application close code: the router sent a fatal error.
pub(crate) const CLOSE_ERROR: VarInt = VarInt::from_u32(1);
/// Application close code: the router is shutting down.
pub(crate) const CLOSE_SHUTDOWN: VarInt = VarInt::from_u32(2);

/// Accepts QUIC connections until the endpoint closes or the task is
/// aborted. Connection tasks live in a set owned by this loop, so ending it
/// ends them all.
pub(super) async fn accept_loop(shared: Arc<Shared>, endpoint: quinn::Endpoint) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            incoming = endpoint.accept() => match incoming {
                Some(incoming) => {
                    connections.spawn(serve(Arc::clone(&shared), incoming));
                }
                None => return,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Serves one QUIC connection from handshake to close.
async fn serve(shared: Arc<Shared>, incoming: quinn::Incoming) {
    // quinn bounds the handshake with the idle timeout.
    let connection = match incoming.await {
        Ok(connection) => connection,
        Err(error) => {
            tracing::debug!(%error, "QUIC handshake failed");
            return;
        }
    };
    let (control_tx, control_rx) = mpsc::channel(CONTROL_QUEUE);
    let (media_tx, media_rx) = mpsc::channel(MEDIA_QUEUE);
    let (stream_tx, stream_rx) = oneshot::channel();
    let mut write_task = AbortOnDrop(tokio::spawn(writer(
        connection.clone(),
        stream_rx,
        control_rx,
        media_rx,
    )));
    let outbox = Outbox {
        control: control_tx,
        media: media_tx,
        datagrams: Some(connection.clone()),
        writer: write_task.0.abort_handle(),
    };
    let conn = shared.connect(outbox);
    tracing::debug!(%conn, remote = %connection.remote_address(), "QUIC connection open");

    let writer_done = tokio::select! {
        () = read_datagrams(&shared, conn, &connection) => false,
        () = read_control(&shared, conn, &connection, stream_tx) => false,
        _ = &mut write_task.0 => true,
    };
    // Harmless if the core closed the connection itself.
    shared.disconnect(conn);
    if !writer_done {
        let _ = tokio::time::timeout(CLOSE_GRACE, &mut write_task.0).await;
    }
    connection.close(CLOSE_NORMAL, b"");
    tracing::debug!(%conn, "QUIC connection closed");
}

/// Feeds every datagram to the core as a media packet, until the
/// connection ends.
async fn read_datagrams(shared: &Arc<Shared>, conn: ConnectionId, connection: &Connection) {
    while let Ok(packet) = connection.read_datagram().await {
        shared.media(conn, packet);
    }
}

/// Waits for the client's control stream, hands its sending half to the
/// writer and reads frames from it until it ends or its framing breaks.
async fn read_control(
    shared: &Arc<Shared>,
    conn: ConnectionId,
    connection: &Connection,
    stream_tx: oneshot::Sender<SendStream>,
) {
    let Ok((send, mut recv)) = connection.accept_bi().await else {
        return;
    };
    if stream_tx.send(send).is_err() {
        return;
    }
    // A finished stream is the client going away; after a bad frame the
    // core has already queued its fatal error and the close.
    read_frames(shared, conn, &mut recv).await;
}

/// Writes the connection's queued frames on the control stream once the
/// client has opened it, then closes the connection as the core asked.
async fn writer(
    connection: Connection,
    stream_rx: oneshot::Receiver<SendStream>,
    mut control: mpsc::Receiver<Outgoing>,
    mut media: mpsc::Receiver<bytes::Bytes>,
) {
    // Until the client opens its stream there is nowhere to write: keep the
    // frames, but act on a close at once (a join timeout on a connection
    // that never opened a stream ends here).
    let mut early = Vec::new();
    tokio::pin!(stream_rx);
    let mut send = loop {
        tokio::select! {
            // Stream first: it is handed over before the first frame on it is
            // read, so any answer to that frame finds it here.
            biased;
            stream = &mut stream_rx => match stream {
                Ok(send) => break send,
                Err(_) => return,
            },
            item = control.recv() => match item {
                // Only a refusal can come before the stream (nothing else
                // is sent before a join, which needs the stream); a pile-up
                // means something is wrong, and closing is the safe answer.
                Some(Outgoing::Frame(_)) if early.len() >= CONTROL_QUEUE => {
                    return close(&connection, CloseReason::Error(ErrorCode::Internal));
                }
                Some(Outgoing::Frame(frame)) => early.push(frame),
                Some(Outgoing::Close(reason)) => return close(&connection, reason),
                None => return,
            },
        }
    };
    for frame in early {
        if send.write_all(&frame).await.is_err() {
            return;
        }
    }
    let Some(reason) = write_frames(&mut send, &mut control, &mut media).await else {
        return;
    };
    // Let the last frames (a fatal error, `removed`) reach the client before
    // the connection goes: finish the stream and wait, briefly, for the
    // client to acknowledge it.
    let _ = send.finish();
    let _ = tokio::time::timeout(CLOSE_GRACE, send.stopped()).await;
    close(&connection, reason);
}

/// Closes a QUIC connection with the code and reason for `reason`.
fn close(connection: &Connection, reason: CloseReason) {
    let code = match reason {
        CloseReason::Error(_) => CLOSE_ERROR,
        _ => CLOSE_NORMAL,
    };
    connection.close(code, reason.as_str().as_bytes());
}
