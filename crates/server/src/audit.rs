//! The audit trail: every security-relevant action (logins and their
//! failures, lockouts, meetings created/edited/deleted, join tokens issued,
//! admin changes) as a row an organisation's admins can read, both as JSON
//! and as a sentence such as
//! "Ada Lovelace (Analytical Engines) created meeting 'Standup' at 14:30 UTC on 2026-11-24".
//!
//! Events are written in the request that caused them and a failed write
//! fails the request: an action that cannot be audited should not look as
//! if it succeeded silently. Nothing secret goes in (no passwords,
//! passcodes or tokens), only who, what, to what and when.

use serde::Serialize;

use crate::clock::civil_date;
use crate::store::{AuditEvent, NewAuditEvent, Store, StoreError, User};

/// Who did something: a signed-in user, or someone known only by what they
/// typed (a guest's name, an email that failed to log in).
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    /// The user id, if the actor is a user.
    pub(crate) id: Option<String>,
    /// The name to show.
    pub(crate) name: String,
    /// Their company, if known.
    pub(crate) company: Option<String>,
}

impl Actor {
    /// The actor for a user account.
    pub(crate) fn user(user: &User) -> Actor {
        Actor {
            id: Some(user.id.clone()),
            name: user.display_name.clone(),
            company: user.company.clone(),
        }
    }

    /// An actor known only by name (a guest).
    pub(crate) fn named(name: &str) -> Actor {
        Actor {
            id: None,
            name: name.to_owned(),
            company: None,
        }
    }
}

/// What an action was done to.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// `meeting`, `user`, `domain`…
    pub(crate) kind: &'static str,
    /// Its id.
    pub(crate) id: String,
    /// Its human name at the time (topic, email, domain).
    pub(crate) label: String,
}

/// Milliseconds since the Unix epoch, now.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Appends one event to `org_id`'s trail.
pub(crate) async fn record(
    store: &Store,
    org_id: &str,
    actor: &Actor,
    action: &str,
    target: Option<Target>,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    let (target_kind, target_id, target_label) = match target {
        Some(t) => (Some(t.kind.to_owned()), Some(t.id), Some(t.label)),
        None => (None, None, None),
    };
    store
        .record_audit(&NewAuditEvent {
            org_id: org_id.to_owned(),
            at_ms: now_ms(),
            actor_id: actor.id.clone(),
            actor_name: actor.name.clone(),
            actor_company: actor.company.clone(),
            action: action.to_owned(),
            target_kind,
            target_id,
            target_label,
            detail,
        })
        .await
}

/// An audit event as the API returns it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct AuditView {
    /// The event id.
    pub(crate) id: String,
    /// When, milliseconds since the Unix epoch.
    pub(crate) at_ms: u64,
    /// The dotted action name.
    pub(crate) action: String,
    /// Who did it.
    pub(crate) actor: ActorView,
    /// What it was done to, if anything.
    pub(crate) target: Option<TargetView>,
    /// Further details.
    pub(crate) detail: serde_json::Value,
    /// The event as one English sentence.
    pub(crate) sentence: String,
}

/// The actor part of [`AuditView`].
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct ActorView {
    /// User id, if a user.
    pub(crate) user_id: Option<String>,
    /// Name.
    pub(crate) name: String,
    /// Company.
    pub(crate) company: Option<String>,
}

/// The target part of [`AuditView`].
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct TargetView {
    /// Kind.
    pub(crate) kind: String,
    /// Id.
    pub(crate) id: Option<String>,
    /// Human name.
    pub(crate) label: Option<String>,
}

impl From<AuditEvent> for AuditView {
    fn from(stored: AuditEvent) -> Self {
        let sentence = sentence(&stored.event);
        let e = stored.event;
        AuditView {
            id: stored.id,
            at_ms: e.at_ms,
            action: e.action,
            actor: ActorView {
                user_id: e.actor_id,
                name: e.actor_name,
                company: e.actor_company,
            },
            target: e.target_kind.map(|kind| TargetView {
                kind,
                id: e.target_id,
                label: e.target_label,
            }),
            detail: e.detail,
            sentence,
        }
    }
}

/// The event as one sentence: who, what, to what, when (UTC).
pub(crate) fn sentence(e: &NewAuditEvent) -> String {
    let who = match &e.actor_company {
        Some(company) if !company.is_empty() => format!("{} ({company})", e.actor_name),
        _ => e.actor_name.clone(),
    };
    let label = e.target_label.as_deref().unwrap_or("");
    let detail = |key: &str| {
        e.detail
            .get(key)
            .map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default()
    };
    let what = match e.action.as_str() {
        "account.created" => "created an account".to_owned(),
        "login.succeeded" => "logged in".to_owned(),
        "login.failed" => "failed to log in (wrong password)".to_owned(),
        "login.refused_locked" => "was refused login because the account is locked".to_owned(),
        "account.locked" => format!(
            "was locked out after {} failed logins",
            detail("failed_logins")
        ),
        "meeting.created" => format!("created meeting '{label}'"),
        "meeting.updated" => format!("edited meeting '{label}'"),
        "meeting.deleted" => format!("deleted meeting '{label}'"),
        "join_token.issued" => format!(
            "was issued a join token for meeting '{label}' as {}",
            detail("role")
        ),
        "join.wrong_passcode" => format!("gave a wrong passcode for meeting '{label}'"),
        "join.refused" => format!(
            "was refused entry to meeting '{label}' ({})",
            detail("reason")
        ),
        "user.added" => format!("added user {label} as {}", detail("role")),
        "user.updated" => format!(
            "changed user {label} to role {} on plan {}",
            detail("role"),
            detail("plan")
        ),
        "user.deleted" => format!("deleted user {label}"),
        "domain.added" => format!("made {label} a managed domain"),
        "domain.removed" => format!("stopped managing domain {label}"),
        "device.registered" => format!("registered device '{label}'"),
        "device.revoked" => format!("revoked device '{label}'"),
        "meeting.started" => format!("started meeting {label}"),
        "meeting.ended" => match detail("reason").as_str() {
            "empty" => "ended (everyone left)".to_owned(),
            "ended_by_host" => "ended (a host ended it)".to_owned(),
            "hostless" => "ended (it ran too long without a host)".to_owned(),
            other => format!("ended ({})", other.replace('_', " ")),
        },
        "meeting.participant_joined" => {
            format!(
                "joined meeting {label} as {}",
                detail("role").replace('_', "-")
            )
        }
        "meeting.participant_left" => match detail("reason").as_str() {
            "left" => format!("left meeting {label}"),
            reason => format!("left meeting {label} ({})", reason.replace('_', " ")),
        },
        "meeting.host_action" => {
            host_action_sentence(&detail("action"), &detail("target_name"), label)
        }
        other => match &e.target_kind {
            Some(kind) => format!("did {other} on {kind} '{label}'"),
            None => format!("did {other}"),
        },
    };
    let secs = e.at_ms / 1000;
    let (year, month, day) = civil_date(secs);
    let minutes_of_day = (secs % 86_400) / 60;
    format!(
        "{who} {what} at {:02}:{:02} UTC on {year:04}-{month:02}-{day:02}",
        minutes_of_day / 60,
        minutes_of_day % 60
    )
}

/// What a host did in a meeting, for [`sentence`]: `action` is the host
/// action's wire name, `target` the name of whom it named (empty if nobody).
fn host_action_sentence(action: &str, target: &str, meeting: &str) -> String {
    match (action, target) {
        ("expel", "") => format!("expelled everyone else from meeting {meeting}"),
        ("expel", who) => format!("expelled {who} from meeting {meeting}"),
        ("end", _) => format!("ended meeting {meeting}"),
        ("lock", _) => format!("changed the lock of meeting {meeting}"),
        ("mute", "") => format!("muted everyone in meeting {meeting}"),
        ("mute", who) => format!("muted {who} in meeting {meeting}"),
        ("admit", "") => format!("admitted everyone waiting for meeting {meeting}"),
        ("admit", who) => format!("admitted {who} to meeting {meeting}"),
        ("deny", who) => format!("turned {who} away from meeting {meeting}"),
        ("make_host", who) => format!("made {who} the host of meeting {meeting}"),
        (other, "") => format!("used host control '{other}' in meeting {meeting}"),
        (other, who) => format!("used host control '{other}' on {who} in meeting {meeting}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_say_who_did_what_when() {
        let event = NewAuditEvent {
            org_id: "o".into(),
            // 2026-11-24 14:30:05 UTC
            at_ms: 1_795_530_605_000,
            actor_id: Some("u".into()),
            actor_name: "Ada Lovelace".into(),
            actor_company: Some("Analytical Engines".into()),
            action: "meeting.created".into(),
            target_kind: Some("meeting".into()),
            target_id: Some("1234567890".into()),
            target_label: Some("Standup".into()),
            detail: serde_json::json!({}),
        };
        assert_eq!(
            sentence(&event),
            "Ada Lovelace (Analytical Engines) created meeting 'Standup' at 14:30 UTC on 2026-11-24"
        );
        let locked = NewAuditEvent {
            action: "account.locked".into(),
            actor_company: None,
            detail: serde_json::json!({"failed_logins": 5}),
            ..event
        };
        assert_eq!(
            sentence(&locked),
            "Ada Lovelace was locked out after 5 failed logins at 14:30 UTC on 2026-11-24"
        );
        let expel = NewAuditEvent {
            action: "meeting.host_action".into(),
            target_id: Some("4821937650".into()),
            target_label: Some("4821937650".into()),
            detail: serde_json::json!({"action": "expel", "target_name": "Bo"}),
            ..locked.clone()
        };
        assert_eq!(
            sentence(&NewAuditEvent {
                actor_company: Some("Analytical Engines".into()),
                ..expel
            }),
            "Ada Lovelace (Analytical Engines) expelled Bo from meeting 4821937650 at 14:30 UTC on 2026-11-24"
        );
    }
}
