//! The state every driver task shares: the meeting core, each connection's
//! outbound queues, and the timer task's wake-up.
//!
//! Every input goes through [`Shared::with_core`]: lock, feed the core,
//! dispatch all of its outputs, unlock. Dispatch never waits (`try_send`,
//! quinn's non-blocking `send_datagram`), so the lock is held for
//! microseconds even when a recipient is stuck.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use confer_wire::frame::{FrameKind, frame_bytes};
use tokio::sync::{Notify, mpsc};
use tokio::task::AbortHandle;

use crate::core::{
    CloseReason, ConnectionId, ControlInput, CoreConfig, Output, Router, RouterEvent,
};
use crate::{JoinTokenVerifier, RouterStats};

/// Control messages one connection may have queued before the router gives
/// up on it. Control traffic is small and rare; a client this far behind is
/// not reading at all.
pub(super) const CONTROL_QUEUE: usize = 1024;

/// Media packets one connection may have queued (TLS, or QUIC without
/// datagrams) before further packets to it are dropped: about a second of
/// video, enough to ride out a hiccup, small enough to bound memory.
pub(super) const MEDIA_QUEUE: usize = 512;

/// What a connection's writer is asked to do, in order.
#[derive(Debug)]
pub(super) enum Outgoing {
    /// Write this already-framed control message.
    Frame(Bytes),
    /// Flush what was queued before, then close the connection.
    Close(CloseReason),
}

/// How the driver reaches one connection.
pub(super) struct Outbox {
    /// Framed control messages and the final close, in order.
    pub(super) control: mpsc::Sender<Outgoing>,
    /// Bare RTP packets for the writer to frame (TLS, or QUIC when the peer
    /// has no datagram support).
    pub(super) media: mpsc::Sender<Bytes>,
    /// On QUIC, the connection to send media datagrams on directly.
    pub(super) datagrams: Option<quinn::Connection>,
    /// The writer task, aborted when the client is too slow to keep.
    pub(super) writer: AbortHandle,
}

/// State shared by the accept loops, the connection tasks and the timer.
pub(super) struct Shared {
    /// The core and everything dispatch needs, behind one lock.
    inner: Mutex<Inner>,
    /// The join-token verifier; read for each join, written for key rotation.
    pub(super) verifier: Arc<RwLock<JoinTokenVerifier>>,
    /// Wakes the timer task when the core's next deadline moved earlier.
    pub(super) timer_wake: Notify,
}

/// What the lock protects.
struct Inner {
    /// The meeting core.
    router: Router,
    /// Outbound queues by connection.
    outboxes: HashMap<ConnectionId, Outbox>,
    /// The deadline the timer task is sleeping until, so it is woken only
    /// when a new deadline comes before it.
    scheduled: Option<Instant>,
    /// Media copies dropped on full queues.
    media_dropped_queue_full: u64,
    /// Connections dropped for an overflowing control queue.
    slow_clients_disconnected: u64,
    /// Media copies sent as frames because a datagram would not do.
    media_datagram_fallbacks: u64,
    /// Connections to disconnect once the current dispatch is done (slow
    /// or vanished clients found while dispatching).
    evicted: Vec<ConnectionId>,
    /// Where meeting events go, if anyone listens.
    events: Option<mpsc::Sender<RouterEvent>>,
    /// Events not delivered because the sink was full or closed.
    events_dropped: u64,
}

impl Shared {
    /// Shared state around a fresh core.
    pub(super) fn new(
        core: CoreConfig,
        verifier: Arc<RwLock<JoinTokenVerifier>>,
        events: Option<mpsc::Sender<RouterEvent>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(Inner {
                router: Router::new(core),
                outboxes: HashMap::new(),
                scheduled: None,
                media_dropped_queue_full: 0,
                slow_clients_disconnected: 0,
                media_datagram_fallbacks: 0,
                evicted: Vec::new(),
                events,
                events_dropped: 0,
            }),
            verifier,
            timer_wake: Notify::new(),
        })
    }

    /// Locks the core. A panic while the lock was held would be a bug in the
    /// core; the state it left is still the best we have, so carry on
    /// rather than take every other connection down with it.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one input through the core and dispatches everything it outputs.
    pub(super) fn with_core<R>(&self, input: impl FnOnce(&mut Router, Instant) -> R) -> R {
        let mut inner = self.lock();
        let now = Instant::now();
        let result = input(&mut inner.router, now);
        inner.dispatch(now);
        self.reschedule(&mut inner);
        result
    }

    /// Registers a new connection with its outbound queues.
    pub(super) fn connect(&self, outbox: Outbox) -> ConnectionId {
        let mut inner = self.lock();
        let now = Instant::now();
        let conn = inner.router.handle_connect(now);
        inner.outboxes.insert(conn, outbox);
        inner.dispatch(now);
        self.reschedule(&mut inner);
        conn
    }

    /// Wakes the timer task if the core's next deadline is now earlier than
    /// the one it sleeps until.
    fn reschedule(&self, inner: &mut Inner) {
        let next = inner.router.poll_timeout();
        if next.is_some() && (inner.scheduled.is_none() || next < inner.scheduled) {
            inner.scheduled = next;
            self.timer_wake.notify_one();
        }
    }

    /// Feeds one control frame's payload. The join token, if any, is
    /// verified here, before the core's lock is taken.
    pub(super) fn control(&self, conn: ConnectionId, payload: &[u8]) {
        let input = ControlInput::decode(payload, unix_now(), |token, now_unix| {
            self.verifier
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .verify(token, now_unix)
        });
        self.with_core(|router, now| router.handle_control(now, conn, input));
    }

    /// Feeds one media packet.
    pub(super) fn media(&self, conn: ConnectionId, packet: Bytes) {
        self.with_core(|router, now| router.handle_media(now, conn, packet));
    }

    /// Reports a framing error.
    pub(super) fn frame_error(&self, conn: ConnectionId, error: &confer_wire::frame::FrameError) {
        self.with_core(|router, now| router.handle_frame_error(now, conn, error));
    }

    /// Reports that a connection ended; harmless if the core already closed it.
    pub(super) fn disconnect(&self, conn: ConnectionId) {
        self.with_core(|router, now| {
            router.handle_disconnect(now, conn);
        });
        self.lock().outboxes.remove(&conn);
    }

    /// Runs the core's timers; returns the next deadline.
    pub(super) fn timeout(&self) -> Option<Instant> {
        let mut inner = self.lock();
        let now = Instant::now();
        inner.router.handle_timeout(now);
        inner.dispatch(now);
        let next = inner.router.poll_timeout();
        inner.scheduled = next;
        next
    }

    /// A snapshot of the core's counters plus the driver's own.
    pub(super) fn stats(&self) -> RouterStats {
        let inner = self.lock();
        let mut stats = inner.router.stats();
        stats.media_dropped_queue_full = inner.media_dropped_queue_full;
        stats.slow_clients_disconnected = inner.slow_clients_disconnected;
        stats.media_datagram_fallbacks = inner.media_datagram_fallbacks;
        stats.events_dropped += inner.events_dropped;
        stats
    }

    /// Stops every connection's writer (the router is shutting down).
    pub(super) fn shutdown(&self) {
        let mut inner = self.lock();
        for (_, outbox) in inner.outboxes.drain() {
            outbox.writer.abort();
        }
    }
}

impl Inner {
    /// Carries out every pending output of the core, then disconnects the
    /// clients found too slow or gone (which may produce more outputs).
    fn dispatch(&mut self, now: Instant) {
        loop {
            while let Some(output) = self.router.poll_output() {
                self.carry_out(output);
            }
            self.deliver_events();
            if self.evicted.is_empty() {
                return;
            }
            let evicted = std::mem::take(&mut self.evicted);
            for conn in &evicted {
                self.router.handle_disconnect(now, *conn);
            }
            // Keep the allocation for next time.
            self.evicted = evicted;
            self.evicted.clear();
        }
    }

    fn carry_out(&mut self, output: Output) {
        match output {
            Output::Control { to, message } => {
                let Some(outbox) = self.outboxes.get(&to) else {
                    return;
                };
                let frame = match frame_bytes(FrameKind::Control, &message.encode()) {
                    Ok(frame) => frame,
                    Err(error) => {
                        // Only a roster beyond 256 KiB could do this; the
                        // meeting size limit keeps it far away.
                        tracing::error!(conn = %to, %error, "control message too large to send");
                        return;
                    }
                };
                match outbox.control.try_send(Outgoing::Frame(frame)) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        tracing::info!(conn = %to, "control queue full; disconnecting slow client");
                        self.slow_clients_disconnected += 1;
                        self.evict(to);
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => self.evict(to),
                }
            }
            Output::Media { to, packet } => {
                for conn in to.iter() {
                    let Some(outbox) = self.outboxes.get(&conn) else {
                        continue;
                    };
                    if let Some(quic) = &outbox.datagrams {
                        match quic.send_datagram(packet.clone()) {
                            Ok(()) => continue,
                            Err(quinn::SendDatagramError::ConnectionLost(_)) => continue,
                            // No datagram support, or a path too narrow for
                            // this packet: a media frame on the control
                            // stream instead, as the protocol allows.
                            Err(_) => self.media_datagram_fallbacks += 1,
                        }
                    }
                    if outbox.media.try_send(packet.clone()).is_err() {
                        self.media_dropped_queue_full += 1;
                    }
                }
            }
            Output::Close { conn, reason } => {
                if let Some(outbox) = self.outboxes.remove(&conn)
                    && outbox.control.try_send(Outgoing::Close(reason)).is_err()
                {
                    outbox.writer.abort();
                }
            }
        }
    }

    /// Hands the core's events to the sink without waiting: an observer
    /// that falls behind loses events (counted), never slows the meetings.
    fn deliver_events(&mut self) {
        while let Some(event) = self.router.poll_event() {
            let Some(sink) = &self.events else {
                continue;
            };
            if sink.try_send(event).is_err() {
                self.events_dropped += 1;
            }
        }
    }

    /// Drops a connection's queues and stops its writer; the core hears of
    /// it once the current dispatch is done.
    fn evict(&mut self, conn: ConnectionId) {
        if let Some(outbox) = self.outboxes.remove(&conn) {
            outbox.writer.abort();
        }
        self.evicted.push(conn);
    }
}

/// Seconds since the Unix epoch on the wall clock, which is what join
/// tokens' `iat` and `exp` count in.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
