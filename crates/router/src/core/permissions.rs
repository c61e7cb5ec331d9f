//! Who may take which host action: the role table, as a pure function so
//! it can be read (and tested) as one table of cases.
//!
//! - Participants may take no host action.
//! - Co-hosts may take every host action except ending the meeting,
//!   handing over the host role and promoting or demoting, and they may not
//!   aim one at the host.
//! - The host may take every host action, but not aim `expel`, `set_role`
//!   or `make_host` at themselves.

use confer_wire::host::HostAction;
use confer_wire::ids::{ParticipantId, Role};

/// Why an action is refused (the text of the `not_allowed` error).
pub(crate) type Refusal = &'static str;

/// Whether `actor` (with role `actor_role`) may take `action`, aimed at a
/// participant holding `target_role` (when the action names a present one).
pub(crate) fn check_host_action(
    actor: ParticipantId,
    actor_role: Role,
    action: &HostAction,
    target: Option<(ParticipantId, Role)>,
) -> Result<(), Refusal> {
    match actor_role {
        Role::Participant => return Err("only a host or co-host may do this"),
        Role::CoHost => {
            if matches!(
                action,
                HostAction::End | HostAction::MakeHost { .. } | HostAction::SetRole { .. }
            ) {
                return Err("only the host may do this");
            }
            if target.is_some_and(|(_, role)| role == Role::Host) {
                return Err("a co-host may not do this to the host");
            }
        }
        Role::Host => {}
    }
    let at_self = target.is_some_and(|(id, _)| id == actor);
    match action {
        HostAction::Expel { .. } if at_self => Err("you cannot expel yourself"),
        HostAction::SetRole { .. } | HostAction::MakeHost { .. } if at_self => {
            Err("you already hold the host role")
        }
        HostAction::SetRole { role, .. } if *role == Role::Host => {
            Err("use make_host to hand over the host role")
        }
        HostAction::SetRole { .. } if target.is_some_and(|(_, role)| role == Role::Host) => {
            Err("the host's role changes only by make_host")
        }
        _ => Ok(()),
    }
}

/// The participant a host action is aimed at among those present, if it
/// names one (actions on the waiting room or on expelled users name people
/// who are not present and are checked where they are carried out).
pub(crate) fn present_target(action: &HostAction) -> Option<ParticipantId> {
    match action {
        HostAction::Mute { participant_id }
        | HostAction::StopVideo { participant_id }
        | HostAction::Expel { participant_id }
        | HostAction::SetRecording { participant_id, .. }
        | HostAction::LowerHand { participant_id } => *participant_id,
        HostAction::AskUnmute { participant_id }
        | HostAction::StopShare { participant_id }
        | HostAction::Rename { participant_id, .. }
        | HostAction::SetRole { participant_id, .. }
        | HostAction::MakeHost { participant_id } => Some(*participant_id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: ParticipantId = ParticipantId(1);
    const YOU: ParticipantId = ParticipantId(2);

    #[test]
    fn role_table() {
        let mute_you = HostAction::Mute {
            participant_id: Some(YOU),
        };
        let cases = [
            (
                Role::Participant,
                HostAction::Lock { locked: true },
                None,
                false,
            ),
            (
                Role::Participant,
                mute_you.clone(),
                Some((YOU, Role::Participant)),
                false,
            ),
            (
                Role::CoHost,
                mute_you.clone(),
                Some((YOU, Role::Participant)),
                true,
            ),
            (
                Role::CoHost,
                mute_you.clone(),
                Some((YOU, Role::Host)),
                false,
            ),
            (Role::CoHost, HostAction::End, None, false),
            (
                Role::CoHost,
                HostAction::MakeHost {
                    participant_id: YOU,
                },
                Some((YOU, Role::Participant)),
                false,
            ),
            (Role::Host, HostAction::End, None, true),
            (
                Role::Host,
                HostAction::Expel {
                    participant_id: Some(ME),
                },
                Some((ME, Role::Host)),
                false,
            ),
            (
                Role::Host,
                HostAction::SetRole {
                    participant_id: YOU,
                    role: Role::CoHost,
                },
                Some((YOU, Role::Participant)),
                true,
            ),
            (
                Role::Host,
                HostAction::SetRole {
                    participant_id: YOU,
                    role: Role::Host,
                },
                Some((YOU, Role::Participant)),
                false,
            ),
            (
                Role::Host,
                HostAction::MakeHost {
                    participant_id: YOU,
                },
                Some((YOU, Role::CoHost)),
                true,
            ),
        ];
        for (role, action, target, allowed) in cases {
            assert_eq!(
                check_host_action(ME, role, &action, target).is_ok(),
                allowed,
                "{role:?} {action:?} {target:?}"
            );
        }
    }
}
