//! `confer join`: get a join token, connect, stay, leave, report.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::Duration;

use confer_client::api::{ApiClient, ApiError, JoinTokenRequest};
use confer_client::device_keys::{DeviceIdentity, DeviceKeyStore};
use confer_client::driver::{self, Command, ConnectOptions, MediaSetup};
use confer_client::media::playout::{FanOut, SpeakerSink};
use confer_client::media::save::SaveReceived;
use confer_client::media::{
    CaptureTrack, MediaConfig, MediaEngine, MediaSink, SourceSpec, probe_source,
};
use confer_client::session::{Event, Session, SessionConfig};
use confer_media::processing::ProcessingConfig;
use confer_wire::ids::{MeetingId, ParticipantId};
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::args::{Cli, JoinArgs, MediaSource};
use crate::config::Target;
use crate::events::EventPrinter;
use crate::script::Script;
use crate::script_runner::ScriptRunner;
use crate::stats::{StatsReport, WaitForReport};

/// How long the driver may take to finish after we asked it to leave. The
/// session bounds its own leave (2 s plus closing); this only guards against
/// a bug turning into a hang.
const FINISH_TIMEOUT: Duration = Duration::from_secs(15);

/// Exit status for a refused join.
const EXIT_REFUSED: u8 = 2;

/// Why a join did not get as far as a session.
enum Failure {
    /// The server or router said no.
    Refused(String),
    /// Anything else.
    Error(String),
}

/// Runs `confer join` and writes the stats file whatever happens.
pub(crate) async fn join(cli: &Cli, target: &Target, args: &JoinArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut report = StatsReport::new(args.meeting);
    let mut printer = EventPrinter::new(cli.json);
    let outcome = match install_signal_handlers() {
        Ok(mut signals) => run(target, args, &mut report, &mut printer, &mut signals).await,
        Err(e) => Err(Failure::Error(format!(
            "cannot install signal handlers: {e}"
        ))),
    };
    match outcome {
        Ok(()) => {}
        Err(Failure::Refused(text)) => {
            report.left_reason = "refused";
            report.error = Some(text);
        }
        Err(Failure::Error(text)) => {
            report.left_reason = "error";
            report.error = Some(text);
        }
    }
    report.set_duration(started.elapsed());
    let written = args.stats.as_ref().map(|path| report.write(path));
    printer.status(
        "finished",
        &format!("finished: {}", report.left_reason),
        json!({ "left_reason": report.left_reason, "error": report.error }),
    );
    if let Some(Err(e)) = written {
        eprintln!("error: {e:#}");
        return Ok(ExitCode::FAILURE);
    }
    Ok(match report.left_reason {
        "refused" => {
            eprintln!(
                "join refused: {}",
                report.error.as_deref().unwrap_or("no reason given")
            );
            ExitCode::from(EXIT_REFUSED)
        }
        "error" => {
            eprintln!("error: {}", report.error.as_deref().unwrap_or("unknown"));
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    })
}

async fn run(
    target: &Target,
    args: &JoinArgs,
    report: &mut StatsReport,
    printer: &mut EventPrinter,
    signals: &mut watch::Receiver<bool>,
) -> Result<(), Failure> {
    let error = |e: anyhow::Error| Failure::Error(format!("{e:#}"));
    let meeting_id = MeetingId(args.meeting);
    let api = target.api().map_err(error)?;
    if !api.is_logged_in() && args.name.is_none() {
        return Err(Failure::Error(
            "not logged in: give --name to join as a guest".into(),
        ));
    }
    // A bad script is refused before anything else happens.
    let script = match &args.script {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Failure::Error(format!("cannot read the script {}: {e}", path.display()))
            })?;
            Script::parse(&text).map_err(|e| Failure::Error(e.to_string()))?
        }
        None => Script { steps: Vec::new() },
    };
    // Bad media flags are refused before joining too.
    let media = media_setup(args).map_err(Failure::Error)?;
    let ca_pem = target.ca_pem().map_err(error)?.ok_or_else(|| {
        Failure::Error("router connections need a CA: give --ca (or log in with one)".into())
    })?;

    let request = JoinTokenRequest {
        display_name: args.name.clone(),
        passcode: args.passcode.clone(),
    };
    let ticket = tokio::select! {
        ticket = api.join_token(meeting_id, &request) => ticket.map_err(join_token_failure)?,
        () = signalled(signals) => return left_early(report),
    };

    let device = keyring_identity(&api, meeting_id).await;

    let mut options = ConnectOptions::new(ca_pem);
    options.transport = args.transport;
    let connection = tokio::select! {
        connection = driver::connect(&ticket.router, &options) => {
            connection.map_err(|e| Failure::Error(e.to_string()))?
        }
        () = signalled(signals) => return left_early(report),
    };
    let transport = connection.transport();
    report.transport = Some(transport.as_str());
    printer.status(
        "connected",
        &format!("connected to the router over {transport}"),
        json!({ "transport": transport.as_str() }),
    );

    let mut config = SessionConfig::new(meeting_id, ticket.token);
    config.synthetic_media = args.send_media == Some(MediaSource::Synthetic);
    let mut session = Session::new(config, Instant::now().into_std());
    if let Some(device) = device {
        session.set_device_identity(device);
    }
    let (commands, command_rx) = mpsc::channel(64);
    let (event_tx, mut events) = mpsc::unbounded_channel();
    let mut driver_task = tokio::spawn(async move {
        match media {
            Some(setup) => {
                driver::run_with_media(connection, session, command_rx, event_tx, setup).await
            }
            None => (
                driver::run(connection, session, command_rx, event_tx).await,
                None,
            ),
        }
    });

    let wait_for = args.wait_for.unwrap_or(0);
    let mut present = BTreeSet::<ParticipantId>::new();
    let mut joined_at: Option<Instant> = None;
    let mut leave_at: Option<Instant> = None;
    let mut chat_pending = !args.chat.is_empty();
    let mut wait_reached_ms: Option<u64> = None;
    let mut leave_requested = false;
    let mut runner = ScriptRunner::new(script);
    loop {
        let leave_timer = async {
            match leave_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let step_at = joined_at.and_then(|joined| runner.next_at(joined));
        let step_timer = async {
            match step_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { break };
                printer.print(&event);
                runner.observe(&event);
                match &event {
                    Event::Joined { roster, .. } => {
                        let now = Instant::now();
                        joined_at = Some(now);
                        leave_at = args.stay_for.map(|d| now + d);
                        present = roster.iter().map(|e| e.participant_id).collect();
                    }
                    Event::ParticipantJoined(e) => {
                        present.insert(e.participant_id);
                    }
                    Event::ParticipantLeft { participant_id, .. } => {
                        present.remove(participant_id);
                    }
                    _ => {}
                }
                if let Some(joined) = joined_at
                    && wait_reached_ms.is_none()
                    && present.len() >= wait_for
                {
                    wait_reached_ms = Some(u64::try_from(joined.elapsed().as_millis()).unwrap_or(u64::MAX));
                    if chat_pending && !leave_requested {
                        chat_pending = false;
                        for text in &args.chat {
                            let _ = commands.send(Command::Chat { to: None, text: text.clone() }).await;
                        }
                    }
                }
            }
            () = step_timer, if !leave_requested => {
                for command in runner.run_next() {
                    if matches!(command, Command::Leave) {
                        leave_requested = true;
                    }
                    let _ = commands.send(command).await;
                }
            }
            () = leave_timer, if !leave_requested => {
                leave_requested = true;
                let _ = commands.send(Command::Leave).await;
            }
            () = signalled(signals), if !leave_requested => {
                leave_requested = true;
                let _ = commands.send(Command::Leave).await;
            }
        }
    }
    drop(commands);
    let (session, engine) = match tokio::time::timeout(FINISH_TIMEOUT, &mut driver_task).await {
        Ok(Ok(finished)) => finished,
        Ok(Err(e)) => return Err(Failure::Error(format!("the connection driver failed: {e}"))),
        Err(_) => {
            driver_task.abort();
            return Err(Failure::Error(
                "the connection driver did not finish".into(),
            ));
        }
    };
    report.fill_from(&session);
    if let Some(engine) = engine {
        let stats = engine.stats();
        for e in &stats.source_errors {
            eprintln!("warning: capture failed: {e}");
        }
        report.fill_media(&stats);
    }
    report.refusals = runner.refusals;
    if args.wait_for.is_some() {
        report.wait_for = Some(WaitForReport {
            participants: wait_for,
            reached: wait_reached_ms.is_some(),
            after_ms: wait_reached_ms,
        });
    }
    Ok(())
}

/// In an E2E meeting, this device's identity from the OS keyring, so the
/// other members see the same device (and the keys registered in the
/// directory) meeting after meeting. `None` leaves the session its own
/// in-memory identity: not logged in, not an E2E meeting (or the meeting
/// cannot be looked up), or no keyring, which earns a one-line warning.
async fn keyring_identity(api: &ApiClient, meeting: MeetingId) -> Option<DeviceIdentity> {
    if !api.is_logged_in() {
        return None;
    }
    if !api.get_meeting(meeting).await.ok()?.e2e {
        return None;
    }
    match DeviceKeyStore::from_env().load_or_create() {
        Ok(identity) => Some(identity),
        Err(e) => {
            eprintln!("warning: using a throw-away device identity for this E2E meeting: {e}");
            None
        }
    }
}

/// The media engine, sources and sinks the media flags ask for; `None`
/// when no flag asks for real media.
fn media_setup(args: &JoinArgs) -> Result<Option<MediaSetup>, String> {
    let sources: Vec<(CaptureTrack, SourceSpec)> = [
        (CaptureTrack::Audio, &args.audio_in),
        (CaptureTrack::Camera, &args.video_in),
        (CaptureTrack::Screen, &args.screen_in),
    ]
    .into_iter()
    .filter_map(|(track, spec)| spec.clone().map(|s| (track, s)))
    .collect();
    if sources.is_empty() && args.save_received.is_none() && !args.play_audio {
        return Ok(None);
    }
    for (track, spec) in &sources {
        probe_source(spec).map_err(|e| format!("{track:?} source: {e}"))?;
    }
    let mut sinks: Vec<Box<dyn MediaSink>> = Vec::new();
    if let Some(dir) = &args.save_received {
        let save =
            SaveReceived::new(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        sinks.push(Box::new(save));
    }
    if args.play_audio {
        let speaker = SpeakerSink::open().map_err(|e| format!("cannot play audio: {e}"))?;
        sinks.push(Box::new(speaker));
    }
    let sink: Option<Box<dyn MediaSink>> = match sinks.len() {
        0 => None,
        1 => sinks.pop(),
        _ => Some(Box::new(FanOut(sinks))),
    };
    Ok(Some(MediaSetup {
        engine: MediaEngine::new(MediaConfig {
            video_layer: args.video_layer.into(),
            processing: audio_processing(args),
            ..MediaConfig::default()
        }),
        sources,
        sink,
    }))
}

/// What runs on captured audio: for a microphone, everything the flags
/// leave on (echo cancellation only when we play the others' audio: without
/// a speaker there is no echo); for a file or tone nothing, so what is sent
/// is exactly the file.
fn audio_processing(args: &JoinArgs) -> ProcessingConfig {
    if !matches!(args.audio_in, Some(SourceSpec::Device(_))) {
        return ProcessingConfig::off();
    }
    ProcessingConfig {
        echo_cancellation: args.play_audio && !args.no_echo_cancellation,
        noise_suppression: !args.no_noise_suppression,
        gain_control: !args.no_auto_gain,
        echo_delay_ms: None,
    }
}

/// Interrupted before the session started: that is leaving, not failing.
fn left_early(report: &mut StatsReport) -> Result<(), Failure> {
    report.left_reason = "left";
    report.error = None;
    Ok(())
}

/// A join-token request the server answered with a 4xx is a refusal (wrong
/// passcode, no such meeting, not allowed); anything else is an error.
fn join_token_failure(e: ApiError) -> Failure {
    match e.status() {
        Some(status) if (400..500).contains(&status) => Failure::Refused(e.to_string()),
        _ => Failure::Error(e.to_string()),
    }
}

/// Starts watching for Ctrl-C and SIGTERM; the receiver turns `true` on the
/// first one. A second one ends the process at once (exit status 130), for
/// when a person does not want to wait for the goodbye.
fn install_signal_handlers() -> std::io::Result<watch::Receiver<bool>> {
    let (tx, rx) = watch::channel(false);
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::spawn(async move {
        for first in [true, false] {
            #[cfg(unix)]
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
            if first {
                let _ = tx.send(true);
            } else {
                eprintln!("interrupted again: quitting without waiting");
                std::process::exit(130);
            }
        }
    });
    Ok(rx)
}

/// Completes once a signal has arrived (never, if the watcher is gone).
async fn signalled(signals: &mut watch::Receiver<bool>) {
    if signals.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::args::Command as CliCommand;

    fn processing_for(extra: &[&str]) -> ProcessingConfig {
        let argv = ["confer", "join", "7"].iter().chain(extra);
        let CliCommand::Join(args) = Cli::try_parse_from(argv).unwrap().command else {
            panic!("not join")
        };
        audio_processing(&args)
    }

    #[test]
    fn audio_processing_is_on_for_microphones_only_and_each_flag_turns_one_off() {
        // Files and tones are sent exactly as they are.
        assert_eq!(
            processing_for(&["--audio-in", "tone"]),
            ProcessingConfig::off()
        );
        assert_eq!(
            processing_for(&["--audio-in", "clip.wav", "--play-audio"]),
            ProcessingConfig::off()
        );
        assert_eq!(processing_for(&[]), ProcessingConfig::off());
        // A microphone: noise suppression and gain; echo cancellation only
        // when something plays.
        let mic = processing_for(&["--audio-in", "default"]);
        assert!(mic.noise_suppression && mic.gain_control && !mic.echo_cancellation);
        assert_eq!(
            processing_for(&["--audio-in", "default", "--play-audio"]),
            ProcessingConfig::default()
        );
        let off = |flag: &str| processing_for(&["--audio-in", "default", "--play-audio", flag]);
        assert!(!off("--no-echo-cancellation").echo_cancellation);
        assert!(!off("--no-noise-suppression").noise_suppression);
        assert!(!off("--no-auto-gain").gain_control);
        assert!(
            off("--no-auto-gain").noise_suppression,
            "one flag, one stage"
        );
    }
}
