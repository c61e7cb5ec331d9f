//! The driver's capture control against a small fake router on loopback
//! (TLS): `Command::Capture` stops, starts and replaces our tracks while in
//! the meeting, the sink sees our own captured frames (the desktop app's
//! self view and level) and gets a live report about once a second, and a
//! source that does not parse is reported, not fatal. `Command::Processing`
//! leaves the test tone unprocessed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use confer_client::api::RouterAddresses;
use confer_client::driver::{self, Command, ConnectOptions, LiveReport, MediaSetup, Transport};
use confer_client::media::{CaptureTrack, MediaConfig, MediaEngine, MediaOutput, MediaSink};
use confer_client::session::{Event, Session, SessionConfig};
use confer_media::processing::ProcessingConfig;
use confer_media::source::Frame;
use confer_wire::control::{ClientMessage, RosterEntry, ServerMessage};
use confer_wire::frame::{FrameKind, decode_frame, frame_bytes};
use confer_wire::ids::{MeetingId, ParticipantId, Role};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

const MEETING: MeetingId = MeetingId(77);
const ME: ParticipantId = ParticipantId(2);
const TEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A router that admits us, answers pings and closes on `leave`.
async fn router() -> (RouterAddresses, Vec<u8>) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let mut server = rustls::ServerConfig::builder_with_provider(confer_client::tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(leaf.der().to_vec())], key)
        .unwrap();
    server.alpn_protocols = vec![confer_wire::ALPN.to_vec()];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    tokio::spawn(async move {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let Ok(tls) = acceptor.accept(tcp).await else {
            return;
        };
        let (mut reader, mut writer) = tokio::io::split(tls);
        let mut buf = BytesMut::new();
        let control =
            |m: &ServerMessage| -> Bytes { frame_bytes(FrameKind::Control, &m.encode()).unwrap() };
        loop {
            let frame = loop {
                match decode_frame(&mut buf) {
                    Ok(Some(f)) => break f,
                    Ok(None) => {}
                    Err(_) => return,
                }
                match reader.read_buf(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            };
            if frame.kind != FrameKind::Control {
                continue;
            }
            let Ok(msg) = ClientMessage::decode(&frame.payload) else {
                return;
            };
            let reply = match msg {
                ClientMessage::Join { .. } => ServerMessage::Joined {
                    version: 1,
                    participant_id: ME,
                    meeting_id: MEETING,
                    role: Role::Host,
                    roster: vec![RosterEntry {
                        participant_id: ME,
                        name: "Bo".into(),
                        role: Role::Host,
                        ..RosterEntry::default()
                    }],
                    keepalive_interval_ms: 200,
                    silence_timeout_ms: 5000,
                    settings: Default::default(),
                },
                ClientMessage::Ping { nonce } => ServerMessage::Pong { nonce },
                ClientMessage::Leave => {
                    let _ = writer.shutdown().await;
                    return;
                }
                _ => continue,
            };
            if writer.write_all(&control(&reply)).await.is_err() {
                return;
            }
        }
    });
    let addresses = RouterAddresses {
        quic: None,
        tls: Some(addr.to_string()),
        server_name: "localhost".into(),
    };
    (addresses, ca_cert.pem().into_bytes())
}

/// What the sink saw.
#[derive(Debug, Default)]
struct Seen {
    audio: u64,
    camera: u64,
    camera_sizes: Vec<(u32, u32)>,
    own: Option<ParticipantId>,
    reports: Vec<LiveReport>,
}

struct Recorder(Arc<Mutex<Seen>>);

impl MediaSink for Recorder {
    fn handle(&mut self, _output: MediaOutput) {}

    fn captured(&mut self, own: ParticipantId, track: CaptureTrack, frame: &Frame) {
        let mut s = self.0.lock().unwrap();
        s.own = Some(own);
        match (track, frame) {
            (CaptureTrack::Audio, Frame::Audio(_)) => s.audio += 1,
            (CaptureTrack::Camera, Frame::Video(v)) => {
                s.camera += 1;
                s.camera_sizes.push((v.width, v.height));
            }
            _ => {}
        }
    }

    fn live_report(&mut self, report: &LiveReport) {
        self.0.lock().unwrap().reports.push(report.clone());
    }
}

/// Waits until `cond` holds for what the sink saw.
async fn until(seen: &Arc<Mutex<Seen>>, what: &str, cond: impl Fn(&Seen) -> bool) {
    let waited = tokio::time::timeout(TEST_TIMEOUT, async {
        while !cond(&seen.lock().unwrap()) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "timed out waiting for {what}: {:?}",
        seen.lock().unwrap()
    );
}

#[tokio::test]
async fn capture_commands_stop_start_and_replace_tracks() {
    let (router, ca_pem) = router().await;
    let mut options = ConnectOptions::new(ca_pem);
    options.transport = Transport::Tls;
    let connection = driver::connect(&router, &options).await.unwrap();
    let session = Session::new(
        SessionConfig::new(MEETING, "join-token"),
        std::time::Instant::now(),
    );
    let seen = Arc::new(Mutex::new(Seen::default()));
    let media = MediaSetup {
        engine: MediaEngine::new(MediaConfig::default()),
        sources: vec![(CaptureTrack::Audio, "tone:440".parse().unwrap())],
        sink: Some(Box::new(Recorder(seen.clone()))),
    };
    let (commands, command_rx) = mpsc::channel(8);
    let (event_tx, mut events) = mpsc::unbounded_channel();
    let task = tokio::spawn(driver::run_with_media(
        connection, session, command_rx, event_tx, media,
    ));
    let joined = tokio::time::timeout(TEST_TIMEOUT, async {
        while let Some(e) = events.recv().await {
            if matches!(e, Event::Joined { .. }) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(joined.ok(), Some(true), "never admitted");

    // The tone runs from admission; our own frames reach the sink.
    until(&seen, "our audio", |s| s.audio >= 5).await;
    assert_eq!(seen.lock().unwrap().own, Some(ME));
    assert_eq!(seen.lock().unwrap().camera, 0);

    // Noise suppression asked for mid-meeting runs on a microphone only:
    // never on the tone (what is sent stays exactly the tone).
    let noise = ProcessingConfig {
        noise_suppression: true,
        ..ProcessingConfig::off()
    };
    commands.send(Command::Processing(noise)).await.unwrap();
    let audio_before = seen.lock().unwrap().audio;
    until(&seen, "audio after the switch", |s| {
        s.audio >= audio_before + 3
    })
    .await;

    // Stop the audio, then start a camera: commands apply in order, so once
    // camera frames arrive the audio has stopped for good.
    let capture = |track, source: Option<&str>| Command::Capture {
        track,
        source: source.map(str::to_owned),
    };
    commands
        .send(capture(CaptureTrack::Audio, None))
        .await
        .unwrap();
    commands
        .send(capture(CaptureTrack::Camera, Some("pattern:160x90@30")))
        .await
        .unwrap();
    until(&seen, "camera frames", |s| s.camera >= 3).await;
    let audio_after_stop = seen.lock().unwrap().audio;
    // A source that does not parse is reported and changes nothing.
    commands
        .send(capture(CaptureTrack::Camera, Some("bogus")))
        .await
        .unwrap();
    // Replace the camera with a larger pattern.
    commands
        .send(capture(CaptureTrack::Camera, Some("pattern:320x180@30")))
        .await
        .unwrap();
    until(&seen, "the replaced camera", |s| {
        s.camera_sizes.contains(&(320, 180))
    })
    .await;
    until(&seen, "a live report naming the bad source", |s| {
        s.reports
            .last()
            .is_some_and(|r| r.media.source_errors.iter().any(|e| e.contains("bogus")))
    })
    .await;
    {
        let s = seen.lock().unwrap();
        assert_eq!(s.audio, audio_after_stop, "audio captured after it stopped");
        assert!(s.reports.iter().any(|r| r.rtt.is_some()), "no RTT reported");
    }

    commands.send(Command::Leave).await.unwrap();
    let (session, engine) = tokio::time::timeout(TEST_TIMEOUT, task)
        .await
        .unwrap()
        .unwrap();
    assert!(session.is_ended());
    let engine = engine.expect("the engine comes back");
    assert_eq!(engine.processing(), None, "processing ran on the tone");
}
