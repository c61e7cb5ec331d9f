//! What happens in meetings, turned into the audit trail and webhooks.
//!
//! The router started beside the API reports each meeting's start and end,
//! every participant joining and leaving, and every host action as a
//! [`RouterEvent`] on a channel. [`spawn`] runs the task that reads them:
//! starts, ends, joins, leaves and host actions become audit records of the
//! meeting's organisation (as the store knows it); starts, ends, joins,
//! leaves and expulsions are queued as webhooks to that organisation's
//! endpoints; and expulsions are recorded (lifted again by `allow_rejoin`)
//! so that the join-token endpoint refuses the expelled user a new token.
//!
//! The router never waits for this task (it drops events when the channel
//! is full), and a failed write here is logged, not retried: the meeting
//! goes on either way.

use std::collections::HashMap;
use std::sync::Arc;

use confer_router::core::{EventParticipant, RouterEvent};
use confer_wire::control::LeaveReason;
use confer_wire::host::HostAction;
use confer_wire::ids::MeetingId;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

use crate::audit::{self, Actor, Target};
use crate::store::{Expulsion, Meeting, Store, StoreError};
use crate::webhooks::queue::enqueue;

/// How many events may wait for this task before the router drops new
/// ones: a burst of a few thousand joins and leaves.
pub(crate) const EVENT_QUEUE: usize = 4096;

/// Starts the task that turns `events` into audit records and webhooks; it
/// ends when every sender (the router) is gone.
pub(crate) fn spawn(
    store: Store,
    wake: Arc<Notify>,
    mut events: mpsc::Receiver<RouterEvent>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut recorder = Recorder {
            store,
            wake,
            expelled_by: HashMap::new(),
        };
        while let Some(event) = events.recv().await {
            let meeting_id = event.meeting_id();
            if let Err(error) = recorder.record(event).await {
                tracing::warn!(meeting = %meeting_id, %error, "could not record a meeting event");
            }
        }
    })
}

/// The task's state.
struct Recorder {
    /// Where audit records and webhook deliveries go.
    store: Store,
    /// Wakes the webhook worker.
    wake: Arc<Notify>,
    /// The host behind each meeting's latest expulsion, so the leave that
    /// follows can say who expelled whom. Forgotten when the meeting ends.
    expelled_by: HashMap<MeetingId, EventParticipant>,
}

impl Recorder {
    /// Records one event.
    async fn record(&mut self, event: RouterEvent) -> Result<(), StoreError> {
        let meeting_id = event.meeting_id();
        let Some(meeting) = self.store.meeting(meeting_id.0).await? else {
            // A meeting deleted while running: there is no organisation
            // left to tell.
            return Ok(());
        };
        let object = |participant: Option<&EventParticipant>| {
            let mut object = json!({
                "id": meeting.id,
                "topic": meeting.topic,
                "host_user_id": meeting.host_user_id,
            });
            if let Some(p) = participant {
                object["participant"] = participant_json(p);
            }
            object
        };
        match event {
            RouterEvent::MeetingStarted { first, .. } => {
                let detail = json!({ "participant_id": first.participant_id.0 });
                self.audit(&meeting, &first, "meeting.started", detail)
                    .await?;
                self.webhook(&meeting, "meeting.started", object(None))
                    .await
            }
            RouterEvent::MeetingEnded { reason, .. } => {
                self.expelled_by.remove(&meeting_id);
                self.audit_ended(&meeting, reason.as_str()).await?;
                let mut body = object(None);
                body["reason"] = reason.as_str().into();
                self.webhook(&meeting, "meeting.ended", body).await
            }
            RouterEvent::ParticipantJoined {
                participant, role, ..
            } => {
                let detail =
                    json!({ "role": role, "participant_id": participant.participant_id.0 });
                self.audit(&meeting, &participant, "meeting.participant_joined", detail)
                    .await?;
                let mut body = object(Some(&participant));
                body["participant"]["role"] = json!(role);
                self.webhook(&meeting, "meeting.participant_joined", body)
                    .await
            }
            RouterEvent::ParticipantLeft {
                participant,
                role,
                reason,
                ..
            } => {
                if reason == LeaveReason::Expelled {
                    let expulsion = Expulsion {
                        meeting_id: meeting.id,
                        subject: participant.sub.clone(),
                        name: participant.name.clone(),
                        guest: participant.guest,
                        at: crate::clock::now_unix(),
                    };
                    self.store.record_expulsion(&expulsion).await?;
                }
                let reason = json!(reason);
                let detail =
                    json!({ "reason": reason, "participant_id": participant.participant_id.0 });
                self.audit(&meeting, &participant, "meeting.participant_left", detail)
                    .await?;
                let mut body = object(Some(&participant));
                body["participant"]["role"] = json!(role);
                body["participant"]["reason"] = reason.clone();
                let event = if reason == "expelled" {
                    if let Some(host) = self.expelled_by.get(&meeting_id) {
                        body["expelled_by"] = participant_json(host);
                    }
                    "meeting.participant_expelled"
                } else {
                    "meeting.participant_left"
                };
                self.webhook(&meeting, event, body).await
            }
            RouterEvent::HostAction {
                actor,
                target,
                action,
                ..
            } => {
                let mut detail = json!({ "action": action.name() });
                if let Some(target) = &target {
                    detail["target_user_id"] = target.sub.clone().into();
                    detail["target_name"] = target.name.clone().into();
                    detail["target_participant_id"] = target.participant_id.0.into();
                }
                if action.name() == "expel" {
                    self.expelled_by.insert(meeting_id, actor.clone());
                }
                if let (HostAction::AllowRejoin { .. }, Some(target)) = (&action, &target) {
                    self.store.lift_expulsion(meeting.id, &target.sub).await?;
                }
                self.audit(&meeting, &actor, "meeting.host_action", detail)
                    .await
            }
            // Kinds added to the router later are not reported yet.
            _ => Ok(()),
        }
    }

    /// Appends an audit record to the meeting's organisation, by `who`.
    async fn audit(
        &self,
        meeting: &Meeting,
        who: &EventParticipant,
        action: &str,
        detail: Value,
    ) -> Result<(), StoreError> {
        let user = if who.guest {
            None
        } else {
            self.store.user_by_id(&who.sub).await?
        };
        let actor = Actor {
            id: user.as_ref().map(|u| u.id.clone()),
            name: who.name.clone(),
            company: user.and_then(|u| u.company),
        };
        let target = Target {
            kind: "meeting",
            id: meeting.id.to_string(),
            label: meeting.id.to_string(),
        };
        audit::record(
            &self.store,
            &meeting.org_id,
            &actor,
            action,
            Some(target),
            detail,
        )
        .await
    }

    /// Appends "meeting N ended (why)" to the meeting's organisation; nobody
    /// in particular ended it (a host's `end` is audited as a host action
    /// of its own), so the meeting is the actor.
    async fn audit_ended(&self, meeting: &Meeting, reason: &str) -> Result<(), StoreError> {
        let actor = Actor::named(&format!("Meeting {}", meeting.id));
        let target = Target {
            kind: "meeting",
            id: meeting.id.to_string(),
            label: meeting.id.to_string(),
        };
        audit::record(
            &self.store,
            &meeting.org_id,
            &actor,
            "meeting.ended",
            Some(target),
            json!({ "reason": reason }),
        )
        .await
    }

    /// Queues a webhook to the meeting's organisation, in the body format
    /// of `docs/api.md` ("Webhooks").
    async fn webhook(
        &self,
        meeting: &Meeting,
        event: &str,
        object: Value,
    ) -> Result<(), StoreError> {
        let at = crate::webhooks::queue::now_ms() / 1000;
        let payload = json!({ "org_id": meeting.org_id, "at": at, "object": object });
        enqueue(&self.store, &self.wake, &meeting.org_id, event, payload).await
    }
}

/// A participant as webhook bodies show one.
fn participant_json(p: &EventParticipant) -> Value {
    json!({
        "user_id": p.sub,
        "user_name": p.name,
        "participant_id": p.participant_id.0,
        "guest": p.guest,
    })
}
