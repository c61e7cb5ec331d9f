//! What every transport does the same way: read frames off a byte stream
//! into the core, and write a connection's queued frames out.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use confer_wire::frame::{FrameKind, decode_frame, encode_frame};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::shared::{Outgoing, Shared};
use crate::core::{CloseReason, ConnectionId};

/// How long a closing connection gets to deliver its last messages (the
/// fatal `error`, the `removed`) before it is cut off.
pub(super) const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Bytes written per batch: small enough to keep latency low, large enough
/// that a burst of media becomes few TLS records and syscalls.
const WRITE_BATCH: usize = 64 * 1024;

/// Reads frames from `reader` and feeds them to the core until the stream
/// ends or its framing breaks. After a framing error the core has queued a
/// fatal error and a close; the caller lets the writer deliver them.
pub(super) async fn read_frames<R: AsyncRead + Unpin>(
    shared: &Arc<Shared>,
    conn: ConnectionId,
    reader: &mut R,
) {
    let mut buf = BytesMut::with_capacity(16 * 1024);
    loop {
        loop {
            match decode_frame(&mut buf) {
                Ok(Some(frame)) => match frame.kind {
                    FrameKind::Control => shared.control(conn, &frame.payload),
                    FrameKind::Media => shared.media(conn, frame.payload),
                },
                Ok(None) => break,
                Err(error) => {
                    tracing::debug!(%conn, %error, "invalid framing");
                    shared.frame_error(conn, &error);
                    return;
                }
            }
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(16 * 1024);
        }
        match reader.read_buf(&mut buf).await {
            Ok(0) => return,
            Ok(_) => {}
            Err(error) => {
                tracing::debug!(%conn, %error, "read failed");
                return;
            }
        }
    }
}

/// Writes a connection's queued control frames and media packets to
/// `writer`, control first, batching whatever is already queued into one
/// write. Returns the close reason when the core closed the connection, or
/// `None` when the queues were dropped or the write failed.
pub(super) async fn write_frames<W: AsyncWrite + Unpin>(
    writer: &mut W,
    control: &mut mpsc::Receiver<Outgoing>,
    media: &mut mpsc::Receiver<Bytes>,
) -> Option<CloseReason> {
    let mut out = BytesMut::with_capacity(WRITE_BATCH);
    loop {
        let mut closing = None;
        tokio::select! {
            biased;
            item = control.recv() => match item {
                Some(Outgoing::Frame(frame)) => out.extend_from_slice(&frame),
                Some(Outgoing::Close(reason)) => closing = Some(reason),
                None => return None,
            },
            Some(packet) = media.recv() => push_media(&mut out, &packet),
        }
        // Take whatever else is already queued, control first, up to a batch.
        while closing.is_none() && out.len() < WRITE_BATCH {
            match control.try_recv() {
                Ok(Outgoing::Frame(frame)) => {
                    out.extend_from_slice(&frame);
                    continue;
                }
                Ok(Outgoing::Close(reason)) => {
                    closing = Some(reason);
                    break;
                }
                Err(_) => {}
            }
            match media.try_recv() {
                Ok(packet) => push_media(&mut out, &packet),
                Err(_) => break,
            }
        }
        if writer.write_all(&out).await.is_err() {
            return None;
        }
        out.clear();
        if let Some(reason) = closing {
            if writer.flush().await.is_err() {
                return None;
            }
            return Some(reason);
        }
    }
}

/// Frames one media packet onto `out`. The core forwards only packets that
/// fit a media frame, so encoding cannot fail; if it ever did, losing one
/// packet is the right outcome.
fn push_media(out: &mut BytesMut, packet: &[u8]) {
    let _ = encode_frame(FrameKind::Media, packet, out);
}

/// Aborts a task when dropped, so a connection's writer never outlives the
/// task that serves the connection (even when that task is aborted at
/// shutdown).
pub(super) struct AbortOnDrop<T>(pub(super) JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
