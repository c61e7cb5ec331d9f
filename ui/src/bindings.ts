/**
 * The desktop shell's IPC contract, generated from the Rust types in
 * `src-tauri/src` by `cargo test -p confer-desktop bindings` with
 * UPDATE_BINDINGS=1. Do not edit by hand: the test fails when this file
 * differs from what the Rust types generate.
 */

import type { Channel } from "@tauri-apps/api/core";

export type AppInfo = { 
/**
 * Product name from `tauri.conf.json`.
 */
name: string, 
/**
 * The app's version (the package version in `Cargo.toml`).
 */
version: string, 
/**
 * The Tauri runtime version, for bug reports.
 */
tauriVersion: string, 
/**
 * The operating system family (`linux`, `macos`, `windows`).
 */
os: string, 
/**
 * Where the page is composited (`src-tauri/src/rendering.rs`), for
 * bug reports about drawing.
 */
compositing: Compositing, };

export type Compositing = "gpu" | "software";

export type ErrorKind = "internal" | "not_signed_in" | "invalid_input" | "unreachable" | "refused" | "not_in_meeting" | "already_in_meeting" | "keyring";

export type IpcError = { kind: ErrorKind, message: string, };

export type AuthState = { 
/**
 * The web service the app talks to.
 */
serverUrl: string, 
/**
 * The signed-in account's email, if any.
 */
email: string | null, 
/**
 * The signed-in account's display name, when the server said it.
 */
displayName: string | null, 
/**
 * Whether the session token is kept in the OS keyring (so the next
 * start is signed in); false when the keyring is unavailable and the
 * token lives only in memory.
 */
remembered: boolean, };

export type SignInRequest = { 
/**
 * The account's email.
 */
email: string, 
/**
 * The account's password; never stored.
 */
password: string, };

export type SsoSignInStarted = { 
/**
 * The server's sign-in start URL. It carries the PKCE challenge and
 * the state, never the verifier: only the app can redeem the code.
 */
url: string, 
/**
 * Whether the system browser was started with it.
 */
browserOpened: boolean, };

export type MeetingSettings = { 
/**
 * What the meeting is about.
 */
topic: string | null, 
/**
 * A new passcode; `None` keeps the current one when editing, and an
 * empty string removes it.
 */
passcode: string | null, 
/**
 * Start, in seconds since the Unix epoch.
 */
startTime: number | null, 
/**
 * Planned length.
 */
durationMinutes: number | null, 
/**
 * A host admits each joiner.
 */
waitingRoom: boolean, 
/**
 * People may enter before the host arrives.
 */
joinBeforeHost: boolean, 
/**
 * Media and chat are end-to-end encrypted.
 */
e2e: boolean, };

export type EditMeetingRequest = { 
/**
 * The meeting to change.
 */
meetingId: number, 
/**
 * Its new settings.
 */
settings: MeetingSettings, };

export type ScheduledMeeting = { 
/**
 * The number people type to join.
 */
meetingId: number, 
/**
 * What it is about.
 */
topic: string | null, 
/**
 * Whether joining needs a passcode.
 */
hasPasscode: boolean, 
/**
 * Start, in seconds since the Unix epoch.
 */
startTime: number | null, 
/**
 * Planned length.
 */
durationMinutes: number | null, 
/**
 * A host admits each joiner.
 */
waitingRoom: boolean, 
/**
 * People may enter before the host.
 */
joinBeforeHost: boolean, 
/**
 * End-to-end encrypted.
 */
e2e: boolean, 
/**
 * The invitation link to share.
 */
inviteUrl: string | null, };

export type JoinRequest = { 
/**
 * The meeting's id, or an invitation link (`https://…/invitations/CODE`
 * or `confer://join/ID`).
 */
meeting: string, 
/**
 * The name to show; needed when not signed in.
 */
displayName: string | null, 
/**
 * The meeting's passcode, if it has one.
 */
passcode: string | null, 
/**
 * Join with the microphone muted (no audio is sent until unmuted).
 */
muted?: boolean, 
/**
 * Join with the camera off (no video is sent until turned on).
 */
videoOff?: boolean, 
/**
 * The page decodes H.264 itself (it has WebCodecs): send it access
 * units rather than decoded pictures (see `video.rs`).
 */
pageDecodesVideo?: boolean, };

export type ParticipantRole = "host" | "co_host" | "participant";

export type Participant = { 
/**
 * Id within the meeting.
 */
id: number, 
/**
 * Display name.
 */
name: string, 
/**
 * Role.
 */
role: ParticipantRole, 
/**
 * Not signed in.
 */
guest: boolean, 
/**
 * From outside the host's organisation.
 */
external: boolean, 
/**
 * Microphone muted.
 */
muted: boolean, 
/**
 * Video on.
 */
video: boolean, 
/**
 * Hand raised.
 */
handRaised: boolean, 
/**
 * Sharing their screen (paused counts).
 */
sharing: boolean, 
/**
 * Recording the meeting.
 */
recording: boolean, };

export type WaitingPerson = { 
/**
 * The id to admit or deny them with.
 */
id: number, 
/**
 * Display name.
 */
name: string, 
/**
 * Not signed in.
 */
guest: boolean, };

export type Encryption = "transport" | "end_to_end";

export type EndKind = "left" | "expelled" | "ended" | "refused" | "error";

export type ConnectionQuality = "good" | "fair" | "poor";

export type AudioLevel = { 
/**
 * The participant.
 */
id: number, 
/**
 * 0.0 (silence) to 1.0 (full scale).
 */
level: number, };

export type MeetingUpdate = { "type": "connected", 
/**
 * `quic` or `tls`.
 */
transport: string, } | { "type": "waiting", 
/**
 * Why, in plain words.
 */
reason: string, } | { "type": "joined", 
/**
 * The meeting.
 */
meetingId: number, 
/**
 * Our id.
 */
selfId: number, 
/**
 * Everyone present, us included.
 */
participants: Array<Participant>, 
/**
 * How content is protected.
 */
encryption: Encryption, } | { "type": "participant", 
/**
 * Their roster line.
 */
participant: Participant, } | { "type": "participant_left", 
/**
 * Who.
 */
id: number, 
/**
 * Why, in plain words.
 */
reason: string, } | { "type": "chat", 
/**
 * The router's message number.
 */
id: number, 
/**
 * Sender's id.
 */
from: number, 
/**
 * Sender's name.
 */
fromName: string, 
/**
 * The one recipient of a private message.
 */
to: number | null, 
/**
 * The message.
 */
text: string, 
/**
 * Our own message, confirmed by the router.
 */
own: boolean, 
/**
 * Sealed end to end (the router relayed only ciphertext).
 */
e2e: boolean, } | { "type": "reaction", 
/**
 * Who.
 */
from: number, 
/**
 * Their name.
 */
fromName: string, 
/**
 * The emoji, one of the router's allowed set.
 */
emoji: string, } | { "type": "status", 
/**
 * In E2E meetings, the code everyone compares aloud (same for all
 * participants in the same epoch); `null` otherwise or before the
 * group forms.
 */
securityCode: string | null, 
/**
 * Key epochs seen so far (rotations on join, leave, expel).
 */
keyEpochs: number, 
/**
 * Round-trip time to the router, when measured.
 */
rttMs: number | null, 
/**
 * Media packets lost over the last interval, in percent (0–100).
 */
lossPercent: number, 
/**
 * A summary of the two above for the quality indicator.
 */
quality: ConnectionQuality, 
/**
 * True while the connection is lost and being re-established.
 */
reconnecting: boolean, } | { "type": "levels", 
/**
 * Each audible participant's level, 0.0 (silence) to 1.0.
 */
levels: Array<AudioLevel>, 
/**
 * Who is speaking loudest now, if anyone.
 */
activeSpeaker: number | null, } | { "type": "waiting_room", 
/**
 * The people waiting.
 */
waiting: Array<WaitingPerson>, } | { "type": "notice", 
/**
 * The words.
 */
text: string, } | { "type": "ended", 
/**
 * Why, for code.
 */
kind: EndKind, 
/**
 * Why, in plain words.
 */
reason: string, };

export type ChatRequest = { 
/**
 * The one recipient, or everyone when absent.
 */
to: number | null, 
/**
 * The message.
 */
text: string, };

export type SelfControl = { "action": "mute", 
/**
 * Muted when true.
 */
muted: boolean, } | { "action": "video", 
/**
 * On when true.
 */
on: boolean, } | { "action": "hand", 
/**
 * Raised when true.
 */
raised: boolean, } | { "action": "share", 
/**
 * Sharing when true.
 */
on: boolean, };

export type HostControl = { "action": "mute", 
/**
 * Who.
 */
participant: number | null, } | { "action": "ask_unmute", 
/**
 * Who.
 */
participant: number, } | { "action": "stop_video", 
/**
 * Who.
 */
participant: number, } | { "action": "expel", 
/**
 * Who.
 */
participant: number, } | { "action": "lock", 
/**
 * Locked when true.
 */
locked: boolean, } | { "action": "admit", 
/**
 * Who.
 */
participant: number | null, } | { "action": "deny", 
/**
 * Who.
 */
participant: number, } | { "action": "end" };

export type DeviceChoice = { 
/**
 * What settings store: a device id (`mic:…`, `camera:…`) or a
 * synthetic choice (`tone`, `pattern`, `none`).
 */
id: string, 
/**
 * The name to show.
 */
name: string, 
/**
 * The system's default device of its kind.
 */
isDefault: boolean, };

export type MediaDevices = { 
/**
 * Audio inputs, then the test tone.
 */
microphones: Array<DeviceChoice>, 
/**
 * Cameras, then the test pattern.
 */
cameras: Array<DeviceChoice>, 
/**
 * Audio outputs, then "no sound".
 */
speakers: Array<DeviceChoice>, };

export type VideoQuality = "low" | "medium" | "high";

export type AppSettings = { 
/**
 * Microphone id, or `null` for the system default.
 */
microphone: string | null, 
/**
 * Camera id, or `null` for the system default.
 */
camera: string | null, 
/**
 * Speaker id, or `null` for the system default.
 */
speaker: string | null, 
/**
 * Noise suppression on the microphone.
 */
noiseSuppression: boolean, 
/**
 * Echo cancellation on the microphone.
 */
echoCancellation: boolean, 
/**
 * Automatic gain control on the microphone.
 */
autoGain: boolean, 
/**
 * How large a camera picture we send.
 */
videoQuality: VideoQuality, 
/**
 * Join meetings muted.
 */
joinMuted: boolean, 
/**
 * Join meetings with the camera off.
 */
joinVideoOff: boolean, };

export type ShareKind = "screen" | "window";

export type ShareSource = { 
/**
 * The id `start_share` takes (`screen:…`, `window:…`).
 */
id: string, 
/**
 * The name to show.
 */
name: string, 
/**
 * Screen or window.
 */
kind: ShareKind, 
/**
 * A small picture (`data:image/png;base64,…`, at most 320 px wide),
 * when one could be captured.
 */
thumbnail: string | null, };

export type PreviewLevel = { 
/**
 * The microphone's level, 0.0 (silence) to 1.0 (full scale).
 */
level: number, };

export type LaunchLink = { "kind": "meeting", 
/**
 * The meeting id's digits, as the join box takes them.
 */
meeting: string, } | { "kind": "invalid", 
/**
 * Plain words for the user.
 */
message: string, };

/** The Tauri event every `MeetingUpdate` arrives under. */
export const MEETING_EVENT = "meeting";

/** The Tauri event the preview's `PreviewLevel` arrives under. */
export const PREVIEW_LEVEL_EVENT = "preview-level";

/** The Tauri event that says a `LaunchLink` waits in `take_launch_link`. */
export const LAUNCH_LINK_EVENT = "launch-link";

/** Every command: its `invoke` arguments and what it resolves to. */
export interface Commands {
  app_info: { args: Record<string, never>; result: AppInfo };
  take_launch_link: { args: Record<string, never>; result: LaunchLink | null };
  auth_state: { args: Record<string, never>; result: AuthState };
  sign_in: { args: { request: SignInRequest }; result: AuthState };
  start_sign_in_sso: { args: { slug: string }; result: SsoSignInStarted };
  finish_sign_in_sso: { args: Record<string, never>; result: AuthState };
  cancel_sign_in_sso: { args: Record<string, never>; result: null };
  sign_out: { args: Record<string, never>; result: AuthState };
  list_meetings: { args: Record<string, never>; result: Array<ScheduledMeeting> };
  schedule_meeting: { args: { settings: MeetingSettings }; result: ScheduledMeeting };
  edit_meeting: { args: { request: EditMeetingRequest }; result: ScheduledMeeting };
  delete_meeting: { args: { meetingId: number }; result: null };
  join_meeting: { args: { request: JoinRequest; video: Channel<ArrayBuffer> }; result: null };
  send_chat: { args: { request: ChatRequest }; result: null };
  self_control: { args: { control: SelfControl }; result: null };
  host_control: { args: { control: HostControl }; result: null };
  leave_meeting: { args: Record<string, never>; result: null };
  media_devices: { args: Record<string, never>; result: MediaDevices };
  get_settings: { args: Record<string, never>; result: AppSettings };
  save_settings: { args: { settings: AppSettings }; result: AppSettings };
  start_preview: { args: { camera: string | null; microphone: string | null; video: Channel<ArrayBuffer> }; result: null };
  stop_preview: { args: Record<string, never>; result: null };
  test_speaker: { args: { speaker: string | null }; result: null };
  share_sources: { args: Record<string, never>; result: Array<ShareSource> };
  start_share: { args: { sourceId: string }; result: null };
  stop_share: { args: Record<string, never>; result: null };
  react: { args: { emoji: string }; result: null };
  request_keyframe: { args: { participant: number; screen: boolean }; result: null };
  set_video_layer: { args: { participant: number; layer: "low" | "medium" | "high" }; result: null };
}
