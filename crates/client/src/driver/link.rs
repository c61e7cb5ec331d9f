//! A connected link to the router, whatever the transport: an inbox of what
//! arrived and an outbox of frames to send, each served by its own task so
//! that a slow socket never stalls the session's timers.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use confer_wire::frame::{Frame, FrameKind, decode_frame, frame_bytes};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::TransportKind;

/// Frames waiting to be written. Enough for a burst of media and control;
/// beyond it media is dropped rather than queued (stale media is useless).
pub(crate) const OUTBOX_LEN: usize = 256;

/// Received items waiting for the session.
pub(crate) const INBOX_LEN: usize = 1024;

/// How long closing may take (flushing, the TLS close_notify, QUIC's close).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Something that arrived from the router.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// The payload of a control frame.
    Control(Bytes),
    /// One RTP packet (a datagram or a media frame).
    Media(Bytes),
    /// The connection ended; `None` for a clean close.
    Closed(Option<String>),
    /// The router broke the protocol (bad framing); the connection is dead.
    Failed(String),
}

/// Something for the writer task.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// One complete frame (header included).
    Frame(Bytes),
    /// Flush and close our sending side.
    Shutdown,
}

/// Why sending failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SendFailed;

/// The QUIC parts a link needs beyond the byte stream: datagrams and close.
pub(crate) struct QuicParts {
    pub(crate) endpoint: quinn::Endpoint,
    pub(crate) connection: quinn::Connection,
}

/// A connection to the router.
pub(crate) struct Link {
    pub(crate) kind: TransportKind,
    pub(crate) inbox: mpsc::Receiver<Incoming>,
    outbox: mpsc::Sender<Outgoing>,
    writer: Option<JoinHandle<()>>,
    readers: Vec<JoinHandle<()>>,
    quic: Option<QuicParts>,
    /// Media packets dropped because the outbox was full.
    pub(crate) media_dropped: u64,
}

impl Link {
    /// Assembles a link from its tasks' channel ends.
    pub(crate) fn new(
        kind: TransportKind,
        inbox: mpsc::Receiver<Incoming>,
        outbox: mpsc::Sender<Outgoing>,
        writer: JoinHandle<()>,
        readers: Vec<JoinHandle<()>>,
        quic: Option<QuicParts>,
    ) -> Self {
        Link {
            kind,
            inbox,
            outbox,
            writer: Some(writer),
            readers,
            quic,
            media_dropped: 0,
        }
    }

    /// Queues a control message, waiting if the outbox is full (control
    /// messages are never dropped).
    pub(crate) async fn send_control(&mut self, payload: &[u8]) -> Result<(), SendFailed> {
        let frame = frame_bytes(FrameKind::Control, payload).map_err(|_| SendFailed)?;
        self.outbox
            .send(Outgoing::Frame(frame))
            .await
            .map_err(|_| SendFailed)
    }

    /// Sends one RTP packet: as a datagram on QUIC when the path allows,
    /// otherwise as a media frame. Never waits; drops under congestion.
    pub(crate) fn send_media(&mut self, packet: Bytes) {
        if let Some(quic) = &self.quic
            && quic
                .connection
                .max_datagram_size()
                .is_some_and(|max| packet.len() <= max)
        {
            match quic.connection.send_datagram(packet.clone()) {
                Ok(()) => return,
                // A lost connection is reported by the stream reader.
                Err(quinn::SendDatagramError::ConnectionLost(_)) => return,
                // Too large after all, or disabled: frames on the stream are
                // accepted too (docs/protocol.md).
                Err(_) => {}
            }
        }
        let Ok(frame) = frame_bytes(FrameKind::Media, &packet) else {
            self.media_dropped += 1;
            return;
        };
        if self.outbox.try_send(Outgoing::Frame(frame)).is_err() {
            self.media_dropped += 1;
        }
    }

    /// Flushes what was queued, closes the connection and stops the tasks.
    /// Bounded by a timeout; safe to call more than once.
    pub(crate) async fn close(&mut self) {
        let _ = self.outbox.try_send(Outgoing::Shutdown);
        if let Some(writer) = self.writer.take() {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, writer).await;
        }
        if let Some(quic) = self.quic.take() {
            quic.connection.close(quinn::VarInt::from_u32(0), b"bye");
            // Lets the close frame go out before the socket is dropped.
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, quic.endpoint.wait_idle()).await;
        }
        for reader in self.readers.drain(..) {
            reader.abort();
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        // Tasks must not outlive the link if `close` was never reached.
        if let Some(writer) = self.writer.take() {
            writer.abort();
        }
        for reader in self.readers.drain(..) {
            reader.abort();
        }
    }
}

/// Takes every complete frame off `buf` and forwards it to the session.
///
/// Returns `Err` with a description when the framing is invalid (after which
/// the stream cannot be resynchronised), `Ok(false)` when the session is gone.
pub(crate) async fn forward_frames(
    buf: &mut BytesMut,
    inbox: &mpsc::Sender<Incoming>,
) -> Result<bool, String> {
    loop {
        match decode_frame(buf) {
            Ok(Some(Frame { kind, payload })) => {
                let item = match kind {
                    FrameKind::Control => Incoming::Control(payload),
                    FrameKind::Media => Incoming::Media(payload),
                };
                if inbox.send(item).await.is_err() {
                    return Ok(false);
                }
            }
            Ok(None) => return Ok(true),
            Err(e) => return Err(format!("malformed frame from the router: {e}")),
        }
    }
}

/// The writer task: writes frames in order until told to shut down or the
/// session is gone, then shuts the stream down.
pub(crate) async fn write_frames<W: AsyncWrite + Unpin>(
    mut writer: W,
    mut outbox: mpsc::Receiver<Outgoing>,
) {
    while let Some(item) = outbox.recv().await {
        match item {
            Outgoing::Frame(frame) => {
                if let Err(e) = writer.write_all(&frame).await {
                    // The reader sees the same failure and reports it.
                    tracing::debug!("write to router failed: {e}");
                    return;
                }
            }
            Outgoing::Shutdown => break,
        }
    }
    let _ = writer.flush().await;
    let _ = writer.shutdown().await;
}
