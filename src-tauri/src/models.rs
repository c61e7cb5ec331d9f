//! The shapes commands take and return, and the events the shell sends the
//! UI. They are the app's IPC contract: `ui/src/bindings.ts` is generated
//! from them (see `bindings.rs`), so they are kept separate from
//! `confer-client`'s own types, which may change without breaking the UI.

use confer_client::session::EndReason;
use confer_wire::control::{LeaveReason, RosterEntry};
use confer_wire::host::{ShareState, WaitReason, WaitingEntry};
use confer_wire::ids::Role;
use serde::{Deserialize, Serialize};

/// The Tauri event name every [`MeetingUpdate`] is emitted under.
pub(crate) const MEETING_EVENT: &str = "meeting";

/// Who is signed in, and where (TypeScript: `AuthState`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuthState {
    /// The web service the app talks to.
    pub(crate) server_url: String,
    /// The signed-in account's email, if any.
    pub(crate) email: Option<String>,
    /// The signed-in account's display name, when the server said it.
    pub(crate) display_name: Option<String>,
    /// Whether the session token is kept in the OS keyring (so the next
    /// start is signed in); false when the keyring is unavailable and the
    /// token lives only in memory.
    pub(crate) remembered: bool,
}

/// `start_sign_in_sso`'s answer: the page that signs the user in, shown
/// in the app too because no browser may have opened (TypeScript:
/// `SsoSignInStarted`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub(crate) struct SsoSignInStarted {
    /// The server's sign-in start URL. It carries the PKCE challenge and
    /// the state, never the verifier: only the app can redeem the code.
    pub(crate) url: String,
    /// Whether the system browser was started with it.
    pub(crate) browser_opened: bool,
}

/// `sign_in`'s request.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub(crate) struct SignInRequest {
    /// The account's email.
    pub(crate) email: String,
    /// The account's password; never stored.
    pub(crate) password: String,
}

/// A meeting's schedule and security settings, as the schedule form edits
/// them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub(crate) struct MeetingSettings {
    /// What the meeting is about.
    pub(crate) topic: Option<String>,
    /// A new passcode; `None` keeps the current one when editing, and an
    /// empty string removes it.
    pub(crate) passcode: Option<String>,
    /// Start, in seconds since the Unix epoch.
    #[cfg_attr(test, ts(type = "number | null"))]
    pub(crate) start_time: Option<u64>,
    /// Planned length.
    pub(crate) duration_minutes: Option<u32>,
    /// A host admits each joiner.
    pub(crate) waiting_room: bool,
    /// People may enter before the host arrives.
    pub(crate) join_before_host: bool,
    /// Media and chat are end-to-end encrypted.
    pub(crate) e2e: bool,
}

/// `edit_meeting`'s request.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub(crate) struct EditMeetingRequest {
    /// The meeting to change.
    #[cfg_attr(test, ts(type = "number"))]
    pub(crate) meeting_id: u64,
    /// Its new settings.
    pub(crate) settings: MeetingSettings,
}

/// A scheduled meeting, as the home screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScheduledMeeting {
    /// The number people type to join.
    #[cfg_attr(test, ts(type = "number"))]
    pub(crate) meeting_id: u64,
    /// What it is about.
    pub(crate) topic: Option<String>,
    /// Whether joining needs a passcode.
    pub(crate) has_passcode: bool,
    /// Start, in seconds since the Unix epoch.
    #[cfg_attr(test, ts(type = "number | null"))]
    pub(crate) start_time: Option<u64>,
    /// Planned length.
    pub(crate) duration_minutes: Option<u32>,
    /// A host admits each joiner.
    pub(crate) waiting_room: bool,
    /// People may enter before the host.
    pub(crate) join_before_host: bool,
    /// End-to-end encrypted.
    pub(crate) e2e: bool,
    /// The invitation link to share.
    pub(crate) invite_url: Option<String>,
}

/// `join_meeting`'s request: a meeting id, or an invitation link.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub(crate) struct JoinRequest {
    /// The meeting's id, or an invitation link (`https://…/invitations/CODE`
    /// or `confer://join/ID`).
    pub(crate) meeting: String,
    /// The name to show; needed when not signed in.
    pub(crate) display_name: Option<String>,
    /// The meeting's passcode, if it has one.
    pub(crate) passcode: Option<String>,
    /// Join with the microphone muted (no audio is sent until unmuted).
    #[serde(default)]
    #[cfg_attr(test, ts(optional, as = "Option<bool>"))]
    pub(crate) muted: bool,
    /// Join with the camera off (no video is sent until turned on).
    #[serde(default)]
    #[cfg_attr(test, ts(optional, as = "Option<bool>"))]
    pub(crate) video_off: bool,
    /// The page decodes H.264 itself (it has WebCodecs): send it access
    /// units rather than decoded pictures (see `video.rs`).
    #[serde(default)]
    #[cfg_attr(test, ts(optional, as = "Option<bool>"))]
    pub(crate) page_decodes_video: bool,
}

/// A participant's role, as the UI names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub(crate) enum ParticipantRole {
    /// Owns the meeting.
    Host,
    /// Appointed by the host.
    CoHost,
    /// Everyone else.
    Participant,
}

impl From<Role> for ParticipantRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Host => ParticipantRole::Host,
            Role::CoHost => ParticipantRole::CoHost,
            Role::Participant => ParticipantRole::Participant,
        }
    }
}

/// One line of the roster: what a tile and the participants panel show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub(crate) struct Participant {
    /// Id within the meeting.
    pub(crate) id: u32,
    /// Display name.
    pub(crate) name: String,
    /// Role.
    pub(crate) role: ParticipantRole,
    /// Not signed in.
    pub(crate) guest: bool,
    /// From outside the host's organisation.
    pub(crate) external: bool,
    /// Microphone muted.
    pub(crate) muted: bool,
    /// Video on.
    pub(crate) video: bool,
    /// Hand raised.
    pub(crate) hand_raised: bool,
    /// Sharing their screen (paused counts).
    pub(crate) sharing: bool,
    /// Recording the meeting.
    pub(crate) recording: bool,
}

impl From<&RosterEntry> for Participant {
    fn from(e: &RosterEntry) -> Self {
        Participant {
            id: e.participant_id.0,
            name: e.name.clone(),
            role: e.role.into(),
            guest: e.guest,
            external: e.external,
            muted: e.muted,
            video: e.video,
            hand_raised: e.hand_raised,
            sharing: e.sharing != ShareState::Off,
            recording: e.recording,
        }
    }
}

/// Someone in the waiting room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub(crate) struct WaitingPerson {
    /// The id to admit or deny them with.
    pub(crate) id: u32,
    /// Display name.
    pub(crate) name: String,
    /// Not signed in.
    pub(crate) guest: bool,
}

impl From<&WaitingEntry> for WaitingPerson {
    fn from(e: &WaitingEntry) -> Self {
        WaitingPerson {
            id: e.participant_id.0,
            name: e.name.clone(),
            guest: e.guest,
        }
    }
}

/// How the meeting's content is protected, for the always-visible badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub(crate) enum Encryption {
    /// TLS 1.3 to the router (QUIC or TCP); the router can see media.
    Transport,
    /// The meeting is set to end-to-end encryption.
    EndToEnd,
}

/// Why the meeting ended for us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub(crate) enum EndKind {
    /// We left.
    Left,
    /// A host removed us.
    Expelled,
    /// The host ended the meeting.
    Ended,
    /// The router would not let us in.
    Refused,
    /// The connection or the router failed.
    Error,
}

/// What changed in the meeting; emitted as the Tauri event
/// [`MEETING_EVENT`] (TypeScript: `MeetingUpdate`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub(crate) enum MeetingUpdate {
    /// Connected to the router over `transport`; joining.
    Connected {
        /// `quic` or `tls`.
        transport: String,
    },
    /// Held before entering.
    Waiting {
        /// Why, in plain words.
        reason: String,
    },
    /// In the meeting.
    Joined {
        /// The meeting.
        #[cfg_attr(test, ts(type = "number"))]
        meeting_id: u64,
        /// Our id.
        self_id: u32,
        /// Everyone present, us included.
        participants: Vec<Participant>,
        /// How content is protected.
        encryption: Encryption,
    },
    /// Someone came in, or someone's state changed.
    Participant {
        /// Their roster line.
        participant: Participant,
    },
    /// Someone left.
    ParticipantLeft {
        /// Who.
        id: u32,
        /// Why, in plain words.
        reason: String,
    },
    /// A chat message (ours confirmed, or someone else's).
    Chat {
        /// The router's message number.
        #[cfg_attr(test, ts(type = "number"))]
        id: u64,
        /// Sender's id.
        from: u32,
        /// Sender's name.
        from_name: String,
        /// The one recipient of a private message.
        to: Option<u32>,
        /// The message.
        text: String,
        /// Our own message, confirmed by the router.
        own: bool,
        /// Sealed end to end (the router relayed only ciphertext).
        e2e: bool,
    },
    /// Someone reacted (an emoji shown briefly over their tile).
    Reaction {
        /// Who.
        from: u32,
        /// Their name.
        from_name: String,
        /// The emoji, one of the router's allowed set.
        emoji: String,
    },
    /// The connection and encryption status, about once a second.
    Status {
        /// In E2E meetings, the code everyone compares aloud (same for all
        /// participants in the same epoch); `null` otherwise or before the
        /// group forms.
        security_code: Option<String>,
        /// Key epochs seen so far (rotations on join, leave, expel).
        key_epochs: u32,
        /// Round-trip time to the router, when measured.
        rtt_ms: Option<u32>,
        /// Media packets lost over the last interval, in percent (0–100).
        loss_percent: f32,
        /// A summary of the two above for the quality indicator.
        quality: ConnectionQuality,
        /// True while the connection is lost and being re-established.
        reconnecting: bool,
    },
    /// Audio levels, a few times a second, for the speaking indicator.
    Levels {
        /// Each audible participant's level, 0.0 (silence) to 1.0.
        levels: Vec<AudioLevel>,
        /// Who is speaking loudest now, if anyone.
        active_speaker: Option<u32>,
    },
    /// Who waits to enter (hosts only).
    WaitingRoom {
        /// The people waiting.
        waiting: Vec<WaitingPerson>,
    },
    /// Something to tell the user in plain words (a host action, a refusal).
    Notice {
        /// The words.
        text: String,
    },
    /// The meeting is over for us.
    Ended {
        /// Why, for code.
        kind: EndKind,
        /// Why, in plain words.
        reason: String,
    },
}

/// How well media gets through, for the indicator in the controls bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub(crate) enum ConnectionQuality {
    /// Low loss and round-trip time.
    Good,
    /// Noticeable loss or delay.
    Fair,
    /// Heavy loss or delay: video may freeze.
    Poor,
}

/// One participant's audio level.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub(crate) struct AudioLevel {
    /// The participant.
    pub(crate) id: u32,
    /// 0.0 (silence) to 1.0 (full scale).
    pub(crate) level: f32,
}

/// Plain words for why someone left.
pub(crate) fn leave_words(reason: LeaveReason) -> String {
    match reason {
        LeaveReason::Left => "left",
        LeaveReason::Disconnected => "lost their connection",
        LeaveReason::TimedOut => "timed out",
        LeaveReason::Expelled => "was removed by a host",
        LeaveReason::Ended => "the meeting ended",
        LeaveReason::Denied => "was not admitted",
        _ => "left",
    }
    .into()
}

/// Plain words for why we are held.
pub(crate) fn wait_words(reason: WaitReason) -> String {
    match reason {
        WaitReason::WaitingRoom => "Waiting for a host to let you in.",
        WaitReason::HostAbsent => "Waiting for the host to start the meeting.",
        _ => "Waiting to enter.",
    }
    .into()
}

/// The kind and plain words for why the session ended.
pub(crate) fn end_words(reason: &EndReason) -> (EndKind, String) {
    match reason {
        EndReason::Left => (EndKind::Left, "You left the meeting.".into()),
        EndReason::Expelled => (
            EndKind::Expelled,
            "A host removed you from the meeting.".into(),
        ),
        EndReason::Ended => (EndKind::Ended, "The host ended the meeting.".into()),
        EndReason::Refused { message, .. } => (
            EndKind::Refused,
            format!("The meeting did not let you in: {message}"),
        ),
        EndReason::Error(e) => (EndKind::Error, format!("The connection failed: {e}")),
        _ => (EndKind::Error, "The meeting ended unexpectedly.".into()),
    }
}

/// `send_chat`'s request.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChatRequest {
    /// The one recipient, or everyone when absent.
    pub(crate) to: Option<u32>,
    /// The message.
    pub(crate) text: String,
}

/// A change to ourselves (`self_control`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(
    tag = "action",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub(crate) enum SelfControl {
    /// Mute or unmute our microphone.
    Mute {
        /// Muted when true.
        muted: bool,
    },
    /// Turn our video on or off.
    Video {
        /// On when true.
        on: bool,
    },
    /// Raise or lower our hand.
    Hand {
        /// Raised when true.
        raised: bool,
    },
    /// Start or stop sharing our screen.
    Share {
        /// Sharing when true.
        on: bool,
    },
}

/// A host control (`host_control`); the router decides whether we may.
#[derive(Debug, Clone, Copy, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(
    tag = "action",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub(crate) enum HostControl {
    /// Mute one participant, or everyone when `participant` is absent.
    Mute {
        /// Who.
        participant: Option<u32>,
    },
    /// Ask one participant to unmute.
    AskUnmute {
        /// Who.
        participant: u32,
    },
    /// Stop one participant's video.
    StopVideo {
        /// Who.
        participant: u32,
    },
    /// Remove one participant.
    Expel {
        /// Who.
        participant: u32,
    },
    /// Lock or unlock the meeting.
    Lock {
        /// Locked when true.
        locked: bool,
    },
    /// Admit someone waiting, or everyone waiting.
    Admit {
        /// Who.
        participant: Option<u32>,
    },
    /// Turn someone waiting away.
    Deny {
        /// Who.
        participant: u32,
    },
    /// End the meeting for everyone.
    End,
}

/// The Tauri event the preview's microphone level arrives under.
pub(crate) const PREVIEW_LEVEL_EVENT: &str = "preview-level";

/// One capture or playout device the settings may name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeviceChoice {
    /// What settings store: a device id (`mic:…`, `camera:…`) or a
    /// synthetic choice (`tone`, `pattern`, `none`).
    pub(crate) id: String,
    /// The name to show.
    pub(crate) name: String,
    /// The system's default device of its kind.
    pub(crate) is_default: bool,
}

/// `media_devices`'s answer: every choice, synthetic ones included, so the
/// app works on a machine without hardware.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub(crate) struct MediaDevices {
    /// Audio inputs, then the test tone.
    pub(crate) microphones: Vec<DeviceChoice>,
    /// Cameras, then the test pattern.
    pub(crate) cameras: Vec<DeviceChoice>,
    /// Audio outputs, then "no sound".
    pub(crate) speakers: Vec<DeviceChoice>,
}

/// The camera picture size we send (the top simulcast layer).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub(crate) enum VideoQuality {
    /// 320×180.
    Low,
    /// 640×360.
    #[default]
    Medium,
    /// 1280×720.
    High,
}

/// The user's media settings, kept as JSON in the app's config directory.
/// Never holds secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct AppSettings {
    /// Microphone id, or `null` for the system default.
    pub(crate) microphone: Option<String>,
    /// Camera id, or `null` for the system default.
    pub(crate) camera: Option<String>,
    /// Speaker id, or `null` for the system default.
    pub(crate) speaker: Option<String>,
    /// Noise suppression on the microphone.
    pub(crate) noise_suppression: bool,
    /// Echo cancellation on the microphone.
    pub(crate) echo_cancellation: bool,
    /// Automatic gain control on the microphone.
    pub(crate) auto_gain: bool,
    /// How large a camera picture we send.
    pub(crate) video_quality: VideoQuality,
    /// Join meetings muted.
    pub(crate) join_muted: bool,
    /// Join meetings with the camera off.
    pub(crate) join_video_off: bool,
}

impl Default for AppSettings {
    fn default() -> Self {
        AppSettings {
            microphone: None,
            camera: None,
            speaker: None,
            noise_suppression: true,
            echo_cancellation: true,
            auto_gain: true,
            video_quality: VideoQuality::Medium,
            join_muted: false,
            join_video_off: false,
        }
    }
}

/// Whether a share source is a whole screen or one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub(crate) enum ShareKind {
    /// A whole monitor.
    Screen,
    /// One application window.
    Window,
}

/// Something that can be shared (`share_sources`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub(crate) struct ShareSource {
    /// The id `start_share` takes (`screen:…`, `window:…`).
    pub(crate) id: String,
    /// The name to show.
    pub(crate) name: String,
    /// Screen or window.
    pub(crate) kind: ShareKind,
    /// A small picture (`data:image/png;base64,…`, at most 320 px wide),
    /// when one could be captured.
    pub(crate) thumbnail: Option<String>,
}

/// The `preview-level` event's payload.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub(crate) struct PreviewLevel {
    /// The microphone's level, 0.0 (silence) to 1.0 (full scale).
    pub(crate) level: f32,
}
