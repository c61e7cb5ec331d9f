//! The queue of [`RouterEvent`]s for observers: filled as meetings start
//! and end, people come and go and hosts act; drained with
//! [`Router::poll_event`].

use super::Router;
use crate::core::event::{MAX_PENDING_EVENTS, RouterEvent};

impl Router {
    /// The next thing that happened in a meeting, oldest first, if any.
    /// Draining events is optional; they never affect the outputs.
    pub fn poll_event(&mut self) -> Option<RouterEvent> {
        self.events.pop_front()
    }

    /// Queues an event for [`Router::poll_event`], dropping the oldest if
    /// nobody has been draining them.
    pub(super) fn emit(&mut self, event: RouterEvent) {
        if self.events.len() >= MAX_PENDING_EVENTS {
            self.events.pop_front();
            self.stats.events_dropped += 1;
        }
        self.events.push_back(event);
    }
}
