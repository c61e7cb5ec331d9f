//! The command line, as clap types (parsed in `main`, tested here).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use confer_client::driver::Transport;
use confer_client::media::SourceSpec;

use crate::duration::parse_duration;

/// The server used when neither `--server` nor a stored login names one.
pub(crate) const DEFAULT_SERVER: &str = "https://127.0.0.1:8443";

/// confer: the Confer command-line meeting client, for people, bots,
/// scripts and tests.
#[derive(Debug, Parser)]
#[command(name = "confer", version, about, long_about = None)]
pub(crate) struct Cli {
    /// Where the login session is stored [default: the user's config
    /// directory, under `confer`].
    #[arg(long, global = true, env = "CONFER_CONFIG_DIR", value_name = "DIR")]
    pub(crate) config_dir: Option<PathBuf>,

    /// The web service [default: the stored login's, else https://127.0.0.1:8443].
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) server: Option<String>,

    /// The CA certificate (PEM) to trust for the server and its routers
    /// [default: the stored login's].
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) ca: Option<PathBuf>,

    /// Machine-readable output: JSON on stdout, no human-readable events.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
// `join` carries its media sources inline; the value is parsed once per
// run, so its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Manage accounts.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Log in and store the session (server, CA and access token) for later commands.
    Login(LoginArgs),
    /// Manage meetings.
    Meeting {
        #[command(subcommand)]
        command: MeetingCommand,
    },
    /// Join a meeting, stay a while, leave.
    ///
    /// Exit status: 0 when the session ended normally (left, ended or
    /// expelled), 2 when the join was refused, 1 on any other error.
    Join(JoinArgs),
    /// List capture devices (microphones, cameras, screens, windows) with their ids.
    Devices,
    /// This device's identity keys (kept in the OS keyring) and the devices
    /// registered for your account.
    Identity {
        #[command(subcommand)]
        command: IdentityCommand,
    },
    /// End-to-end encrypted messages to people in your organisation.
    Chat {
        #[command(subcommand)]
        command: ChatCommand,
    },
}

/// `confer identity ...`
#[derive(Debug, Subcommand)]
pub(crate) enum IdentityCommand {
    /// Show this device's id and public keys (creating the identity on first use).
    Show,
    /// Register this device's public keys for your account.
    Register {
        /// A name to recognise the device by in `confer identity list`.
        #[arg(long)]
        name: Option<String>,
    },
    /// List the devices registered for your account, revoked ones included.
    List,
    /// Revoke one of your devices for good: nothing more is encrypted to it.
    Revoke {
        /// The device id, as `confer identity list` shows it. Ids are
        /// base64url, so one may start with `-`: it is still the id.
        #[arg(allow_hyphen_values = true)]
        device_id: String,
    },
}

/// `confer chat ...`
#[derive(Debug, Subcommand)]
pub(crate) enum ChatCommand {
    /// Send an end-to-end encrypted message to every device of a person
    /// (and to your own other devices).
    Send {
        /// The recipient's email address.
        #[arg(long, value_name = "EMAIL")]
        to: String,
        /// The message.
        text: String,
    },
    /// Fetch, verify and decrypt the messages waiting for this device.
    Inbox {
        /// Wait up to this long (polling every second) for at least one message.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        wait: Option<Duration>,
    },
}

/// `confer account ...`
#[derive(Debug, Subcommand)]
pub(crate) enum AccountCommand {
    /// Create an account.
    Create(AccountCreateArgs),
}

/// `confer account create`
#[derive(Debug, Args)]
pub(crate) struct AccountCreateArgs {
    /// Sign-in email address.
    #[arg(long)]
    pub(crate) email: String,
    /// Display name shown to other participants.
    #[arg(long)]
    pub(crate) name: String,
    /// Read the password from the first line of standard input (the only
    /// way to give it, so it never shows in the process list).
    #[arg(long, required = true)]
    pub(crate) password_stdin: bool,
}

/// `confer login`
#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    /// Sign-in email address.
    #[arg(long, required_unless_present = "sso", conflicts_with_all = ["sso", "no_browser", "timeout"])]
    pub(crate) email: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long, required_unless_present = "sso", conflicts_with = "sso")]
    pub(crate) password_stdin: bool,
    /// Single sign-on instead of a password (`--sso ORG_SLUG`).
    #[command(flatten)]
    pub(crate) sso: crate::commands::login_sso::SsoArgs,
}

/// `confer meeting ...`
#[derive(Debug, Subcommand)]
pub(crate) enum MeetingCommand {
    /// Create a meeting hosted by you; prints its id.
    Create(MeetingCreateArgs),
    /// Show a meeting.
    Show {
        /// The meeting id.
        meeting: u64,
    },
}

/// `confer meeting create`
#[derive(Debug, Args)]
pub(crate) struct MeetingCreateArgs {
    /// What the meeting is about.
    #[arg(long)]
    pub(crate) topic: Option<String>,
    /// A passcode participants must give.
    #[arg(long)]
    pub(crate) passcode: Option<String>,
    /// Make it an end-to-end encrypted meeting: the participants agree on
    /// media keys among themselves (MLS) and the router never holds one.
    #[arg(long)]
    pub(crate) e2e: bool,
}

/// Media sources `confer join` can stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MediaSource {
    /// The synthetic test stream (50 RTP packets a second).
    Synthetic,
}

/// `confer join`
#[derive(Debug, Args)]
pub(crate) struct JoinArgs {
    /// The meeting id.
    #[arg(value_name = "MEETING")]
    pub(crate) meeting: u64,
    /// Display name (required when not logged in: you join as a guest).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// The meeting's passcode.
    #[arg(long)]
    pub(crate) passcode: Option<String>,
    /// Transport to the router: auto (QUIC, then TLS), quic or tls.
    #[arg(long, default_value = "auto", value_parser = parse_transport)]
    pub(crate) transport: Transport,
    /// Stream media from this source while in the meeting.
    #[arg(long, value_name = "SOURCE")]
    pub(crate) send_media: Option<MediaSource>,
    /// Send this chat message to everyone once joined (repeatable; sent in order).
    #[arg(long, value_name = "TEXT")]
    pub(crate) chat: Vec<String>,
    /// Before sending chat, wait until the roster holds N participants
    /// (yourself included).
    #[arg(long, value_name = "N")]
    pub(crate) wait_for: Option<usize>,
    /// How long to stay after joining (e.g. 500ms, 5s, 1m) [default: until
    /// Ctrl-C or SIGTERM].
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) stay_for: Option<Duration>,
    /// Write statistics as JSON to FILE when the client finishes (also on
    /// refusal, error or signal).
    #[arg(long, value_name = "FILE")]
    pub(crate) stats: Option<PathBuf>,
    /// Run a script of timed actions once joined: one `AT ACTION [ARGS]`
    /// per line (see docs/cli-script.md). A bad script is refused before joining.
    #[arg(long, value_name = "FILE")]
    pub(crate) script: Option<PathBuf>,
    /// Send audio (Opus) from a 48 kHz 16-bit WAV file, `tone` (440 Hz;
    /// `tone:HZ` for another pitch), `default` (the default microphone) or
    /// a microphone id from `confer devices`.
    #[arg(long, value_name = "FILE.wav|tone|default|DEVICE", value_parser = parse_audio_in)]
    pub(crate) audio_in: Option<SourceSpec>,
    /// Send camera video (H.264, simulcast up to the source's size) from a
    /// Y4M file, `pattern` (moving 640x360 test pattern at 30 fps;
    /// `pattern:WxH@FPS` for another), `default` (the first camera) or a
    /// camera id.
    #[arg(long, value_name = "FILE.y4m|pattern|default|DEVICE", value_parser = parse_video_in)]
    pub(crate) video_in: Option<SourceSpec>,
    /// Share a screen (`default`, or a `screen:ID` from `confer devices`) or
    /// one window (`window:ID`).
    #[arg(long, value_name = "SCREEN|WINDOW", value_parser = parse_screen_in)]
    pub(crate) screen_in: Option<SourceSpec>,
    /// Save what each other participant sends into DIR: decoded audio
    /// (`ID-NAME.wav`) and video (`ID-NAME.y4m`), and the received encoded
    /// streams (`ID-NAME.opus`, `ID-NAME.h264`).
    #[arg(long, value_name = "DIR")]
    pub(crate) save_received: Option<PathBuf>,
    /// Play the other participants' audio, mixed, on the default speaker.
    #[arg(long)]
    pub(crate) play_audio: bool,
    /// The camera simulcast layer to receive from each other participant
    /// (the router sends the lowest until asked; a sender without the
    /// layer sends its nearest lower one).
    #[arg(long, value_enum, default_value = "high")]
    pub(crate) video_layer: VideoLayer,
    /// Do not cancel the speaker's echo in microphone audio (on by default
    /// for a microphone with `--play-audio`; never for files or tones).
    #[arg(long)]
    pub(crate) no_echo_cancellation: bool,
    /// Do not suppress background noise in microphone audio (on by default
    /// for a microphone; never for files or tones).
    #[arg(long)]
    pub(crate) no_noise_suppression: bool,
    /// Do not level microphone audio automatically (on by default for a
    /// microphone; never for files or tones).
    #[arg(long)]
    pub(crate) no_auto_gain: bool,
}

/// `--video-layer`: which camera simulcast layer to ask the router for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum VideoLayer {
    /// 320x180.
    Low,
    /// 640x360.
    Medium,
    /// 1280x720.
    High,
}

impl From<VideoLayer> for confer_wire::simulcast::LayerId {
    fn from(l: VideoLayer) -> Self {
        match l {
            VideoLayer::Low => Self::Low,
            VideoLayer::Medium => Self::Medium,
            VideoLayer::High => Self::High,
        }
    }
}

/// `--audio-in`: a WAV file, a tone, or a microphone.
fn parse_audio_in(s: &str) -> Result<SourceSpec, String> {
    Ok(match s {
        "" => return Err("give a WAV file, tone, default or a microphone id".into()),
        "tone" => SourceSpec::Tone(440.0),
        "default" => SourceSpec::Device("mic:default".into()),
        _ if s.starts_with("tone:") || s.starts_with("mic:") || s.starts_with("wav:") => {
            s.parse().map_err(|e| format!("{e}"))?
        }
        _ if s.ends_with(".wav") || std::path::Path::new(s).is_file() => SourceSpec::Wav(s.into()),
        _ => SourceSpec::Device(format!("mic:{s}")),
    })
}

/// `--video-in`: a Y4M file, a test pattern, or a camera.
fn parse_video_in(s: &str) -> Result<SourceSpec, String> {
    Ok(match s {
        "" => return Err("give a Y4M file, pattern, default or a camera id".into()),
        "pattern" => SourceSpec::Pattern {
            width: 640,
            height: 360,
            fps: 30,
        },
        "default" => SourceSpec::Device("camera:0".into()),
        _ if s.starts_with("pattern:") || s.starts_with("camera:") || s.starts_with("y4m:") => {
            s.parse().map_err(|e| format!("{e}"))?
        }
        _ if s.ends_with(".y4m") || std::path::Path::new(s).is_file() => SourceSpec::Y4m(s.into()),
        _ => SourceSpec::Device(format!("camera:{s}")),
    })
}

/// `--screen-in`: a monitor or a window.
fn parse_screen_in(s: &str) -> Result<SourceSpec, String> {
    Ok(match s {
        "" => return Err("give default, screen:ID or window:ID".into()),
        "default" | "primary" => SourceSpec::Device("screen:primary".into()),
        _ if s.starts_with("screen:") || s.starts_with("window:") => SourceSpec::Device(s.into()),
        _ => SourceSpec::Device(format!("screen:{s}")),
    })
}

fn parse_transport(s: &str) -> Result<Transport, String> {
    s.parse()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("confer").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_a_full_join() {
        let cli = parse(&[
            "join",
            "4821937650",
            "--name",
            "Bo",
            "--passcode",
            "p",
            "--transport",
            "tls",
            "--send-media",
            "synthetic",
            "--chat",
            "one",
            "--chat",
            "two",
            "--wait-for",
            "2",
            "--for",
            "1m",
            "--stats",
            "/tmp/s.json",
            "--server",
            "https://h:1",
            "--ca",
            "ca.pem",
            "--json",
        ])
        .unwrap();
        assert_eq!(cli.server.as_deref(), Some("https://h:1"));
        assert!(cli.json);
        let Command::Join(j) = cli.command else {
            panic!("not join")
        };
        assert_eq!(j.meeting, 4_821_937_650);
        assert_eq!(j.name.as_deref(), Some("Bo"));
        assert_eq!(j.transport, Transport::Tls);
        assert_eq!(j.send_media, Some(MediaSource::Synthetic));
        assert_eq!(j.chat, vec!["one", "two"]);
        assert_eq!(j.wait_for, Some(2));
        assert_eq!(j.stay_for, Some(Duration::from_secs(60)));
    }

    #[test]
    fn join_defaults() {
        let Command::Join(j) = parse(&["join", "7"]).unwrap().command else {
            panic!("not join")
        };
        assert_eq!(j.transport, Transport::Auto);
        assert!(j.stay_for.is_none() && j.chat.is_empty() && j.send_media.is_none());
    }

    #[test]
    fn rejects_bad_values() {
        assert!(parse(&["join", "7", "--transport", "carrier-pigeon"]).is_err());
        assert!(parse(&["join", "7", "--for", "soon"]).is_err());
        assert!(parse(&["join", "7", "--send-media", "camera"]).is_err());
        assert!(parse(&["join", "not-a-number"]).is_err());
        assert!(parse(&["join", "7", "--wait-for", "-1"]).is_err());
    }

    #[test]
    fn media_flags_name_sources() {
        let Command::Join(j) = parse(&[
            "join",
            "7",
            "--audio-in",
            "clip.wav",
            "--video-in",
            "pattern",
            "--screen-in",
            "window:42",
            "--save-received",
            "out",
        ])
        .unwrap()
        .command
        else {
            panic!("not join")
        };
        assert_eq!(j.audio_in, Some(SourceSpec::Wav("clip.wav".into())));
        assert_eq!(
            j.video_in,
            Some(SourceSpec::Pattern {
                width: 640,
                height: 360,
                fps: 30
            })
        );
        assert_eq!(j.screen_in, Some(SourceSpec::Device("window:42".into())));
        assert_eq!(j.save_received, Some(PathBuf::from("out")));
        let Command::Join(j) = parse(&["join", "7", "--audio-in", "tone", "--video-in", "default"])
            .unwrap()
            .command
        else {
            panic!("not join")
        };
        assert_eq!(j.audio_in, Some(SourceSpec::Tone(440.0)));
        assert_eq!(j.video_in, Some(SourceSpec::Device("camera:0".into())));
        assert!(parse(&["join", "7", "--audio-in", "tone:loud"]).is_err());
        assert!(parse(&["join", "7", "--video-in", ""]).is_err());
        let Command::Join(j) = parse(&["join", "7"]).unwrap().command else {
            panic!("not join")
        };
        assert_eq!(j.video_layer, VideoLayer::High);
        let Command::Join(j) = parse(&["join", "7", "--video-layer", "low"])
            .unwrap()
            .command
        else {
            panic!("not join")
        };
        assert_eq!(j.video_layer, VideoLayer::Low);
        assert!(parse(&["join", "7", "--video-layer", "huge"]).is_err());
    }

    #[test]
    fn passwords_come_only_from_stdin() {
        assert!(parse(&["login", "--email", "a@b"]).is_err());
        assert!(parse(&["login", "--email", "a@b", "--password", "x"]).is_err());
        assert!(parse(&["login", "--email", "a@b", "--password-stdin"]).is_ok());
        assert!(parse(&["account", "create", "--email", "a@b", "--name", "A"]).is_err());
        assert!(
            parse(&[
                "account",
                "create",
                "--email",
                "a@b",
                "--name",
                "A",
                "--password-stdin"
            ])
            .is_ok()
        );
    }

    #[test]
    fn parses_identity_and_chat() {
        let Command::Chat {
            command: ChatCommand::Send { to, text },
        } = parse(&["chat", "send", "--to", "bo@x", "hi there"])
            .unwrap()
            .command
        else {
            panic!("not chat send")
        };
        assert_eq!((to.as_str(), text.as_str()), ("bo@x", "hi there"));
        assert!(parse(&["chat", "send", "hi"]).is_err());
        let cli = parse(&["chat", "inbox", "--json", "--wait", "5s"]).unwrap();
        assert!(cli.json);
        let Command::Chat {
            command: ChatCommand::Inbox { wait },
        } = cli.command
        else {
            panic!("not chat inbox")
        };
        assert_eq!(wait, Some(Duration::from_secs(5)));
        assert!(parse(&["chat", "inbox", "--wait", "soon"]).is_err());
        assert!(matches!(
            parse(&["identity", "register", "--name", "laptop"])
                .unwrap()
                .command,
            Command::Identity {
                command: IdentityCommand::Register { name: Some(_) }
            }
        ));
        assert!(parse(&["identity", "revoke"]).is_err());
        // A base64url device id may start with '-' (1 in 64 do).
        assert!(matches!(
            parse(&["identity", "revoke", "-SKockN64-L590AuyVVA3w"])
                .unwrap()
                .command,
            Command::Identity {
                command: IdentityCommand::Revoke { device_id }
            } if device_id == "-SKockN64-L590AuyVVA3w"
        ));
    }

    #[test]
    fn global_flags_go_anywhere() {
        let cli = parse(&["--json", "meeting", "create", "--topic", "t"]).unwrap();
        assert!(cli.json);
        let cli = parse(&["meeting", "create", "--json", "--config-dir", "/x"]).unwrap();
        assert!(cli.json);
        assert_eq!(cli.config_dir, Some(PathBuf::from("/x")));
    }
}
