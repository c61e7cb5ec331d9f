//! Host controls enforced on media, through a real `confer-server`: once a
//! host mutes someone, the router stops forwarding their audio track to
//! everyone else, whatever their client keeps sending; unmuting resumes it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{Api, RawClient, Received, STEP_TIMEOUT, Server, wait_with_timeout};
use confer_wire::control::{ClientMessage, ServerMessage};
use confer_wire::host::HostAction;
use confer_wire::ids::{MeetingId, ParticipantId, participant_of_ssrc, ssrc_for, track};
use confer_wire::rtp::{PT_SYNTHETIC, RtpHeader};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery staple";

/// How long media already in flight when a mute takes effect may still arrive.
const IN_FLIGHT: Duration = Duration::from_millis(500);

/// Joins `meeting` as a raw protocol client with a token for `bearer` (or a guest).
async fn join(
    server: &Server,
    api: &Api,
    bearer: Option<&str>,
    meeting: u64,
    name: &str,
) -> (RawClient, ParticipantId) {
    let (status, body) = api
        .join_token(bearer, meeting, serde_json::json!({"display_name": name}))
        .await;
    assert_eq!(status, 200, "join token: {body}");
    let mut client = RawClient::connect(server.tls, &server.ca_pem()).await;
    client
        .send(&ClientMessage::Join {
            version: confer_wire::PROTOCOL_VERSION,
            meeting_id: MeetingId(meeting),
            token: body["token"].as_str().expect("token").into(),
        })
        .await;
    match client.recv_control(STEP_TIMEOUT).await {
        Some(ServerMessage::Joined { participant_id, .. }) => (client, participant_id),
        other => panic!("{name} not admitted: {other:?}"),
    }
}

/// Reads everything that arrives within `window`; returns the sequence
/// numbers of `from`'s audio packets and the control messages seen.
async fn collect(
    client: &mut RawClient,
    from: ParticipantId,
    window: Duration,
) -> (Vec<u16>, Vec<ServerMessage>) {
    let deadline = tokio::time::Instant::now() + window;
    let mut audio = Vec::new();
    let mut control = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match client.poll(left).await {
            None => return (audio, control),
            Some(Received::Media(p)) => {
                let Ok(packet) = confer_wire::rtp::RtpPacket::parse(&p) else {
                    continue;
                };
                if packet.header.ssrc == ssrc_for(from, track::AUDIO) {
                    audio.push(packet.header.sequence);
                }
            }
            Some(Received::Control(m)) => control.push(m),
            Some(Received::Closed) => panic!("the router closed the connection"),
        }
    }
}

/// Reads until `want` matches a control message; fails after `STEP_TIMEOUT`.
async fn until(client: &mut RawClient, what: &str, want: impl Fn(&ServerMessage) -> bool) {
    loop {
        match client.recv_control(STEP_TIMEOUT).await {
            Some(m) if want(&m) => return,
            Some(_) => continue,
            None => panic!("closed while waiting for {what}"),
        }
    }
}

fn muted(id: ParticipantId, muted: bool) -> impl Fn(&ServerMessage) -> bool {
    move |m| {
        matches!(m, ServerMessage::ParticipantUpdated { participant }
            if participant.participant_id == id && participant.muted == muted)
    }
}

fn audio_packet(from: ParticipantId, seq: u16) -> Vec<u8> {
    let mut out = Vec::new();
    RtpHeader {
        marker: false,
        payload_type: PT_SYNTHETIC,
        sequence: seq,
        timestamp: u32::from(seq) * 960,
        ssrc: ssrc_for(from, track::AUDIO),
    }
    .write(b"sealed audio", &mut out);
    out
}

/// A raw client keeps sending audio after the host muted it: none of it
/// reaches the others until it unmutes itself.
#[tokio::test]
async fn the_router_drops_a_muted_participants_audio_whatever_the_client_sends() {
    let server = Server::start();
    let api = Api::new(&server);
    let owner = api.sign_up("host@example.com", "Host", PASSWORD).await;
    let meeting = api.create_meeting(&owner, None).await;
    let (mut host, _) = join(&server, &api, Some(&owner), meeting, "Host").await;
    let (mut bo, bo_id) = join(&server, &api, None, meeting, "Bo").await;

    for seq in 0..10 {
        bo.send_media(&audio_packet(bo_id, seq)).await;
    }
    let (before, _) = collect(&mut host, bo_id, IN_FLIGHT).await;
    assert_eq!(before, (0..10).collect::<Vec<_>>(), "unmuted audio flows");

    host.send(&ClientMessage::Host(HostAction::Mute {
        participant_id: Some(bo_id),
    }))
    .await;
    until(&mut bo, "Bo muted", muted(bo_id, true)).await;
    for seq in 10..30 {
        bo.send_media(&audio_packet(bo_id, seq)).await;
    }
    let (during, _) = collect(&mut host, bo_id, IN_FLIGHT).await;
    assert!(
        during.is_empty(),
        "muted audio reached the host: {during:?}"
    );

    bo.send(&ClientMessage::SetAudio { muted: false }).await;
    until(&mut bo, "Bo unmuted", muted(bo_id, false)).await;
    for seq in 30..35 {
        bo.send_media(&audio_packet(bo_id, seq)).await;
    }
    let (after, _) = collect(&mut host, bo_id, IN_FLIGHT).await;
    assert_eq!(after, (30..35).collect::<Vec<_>>(), "unmuting resumes");
}

/// The real CLI streams its synthetic audio (track 0); a host mutes it; the
/// host stops receiving it and another CLI's `--stats` counts only what
/// came before the mute.
#[tokio::test]
async fn a_hosts_mute_stops_a_cli_participants_stream_reaching_others() {
    let server = Server::start();
    let api = Api::new(&server);
    let owner = api.sign_up("host@example.com", "Host", PASSWORD).await;
    let meeting = api.create_meeting(&owner, None).await;
    let (mut host, _) = join(&server, &api, Some(&owner), meeting, "Host").await;
    let meeting_arg = meeting.to_string();

    let homes: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let stats: Vec<_> = homes.iter().map(|h| h.path().join("stats.json")).collect();
    let spawn = |i: usize, name: &str, media: &[&str]| {
        server
            .cli(homes[i].path())
            .command(&["join", &meeting_arg, "--name", name, "--for", "8s"])
            .args(media)
            .arg("--stats")
            .arg(&stats[i])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn confer join")
    };
    // Cy only listens; Bo streams once Cy is in.
    let mut cy = spawn(0, "Cy", &[]);
    until(&mut host, "Cy joined", |m| {
        matches!(m, ServerMessage::ParticipantJoined { participant } if participant.name == "Cy")
    })
    .await;
    let mut bo = spawn(1, "Bo", &["--send-media", "synthetic"]);
    let bo_id = loop {
        match host.recv_control(STEP_TIMEOUT).await {
            Some(ServerMessage::ParticipantJoined { participant }) if participant.name == "Bo" => {
                break participant.participant_id;
            }
            Some(_) => continue,
            None => panic!("closed before Bo joined"),
        }
    };

    // Media flows until the host sees some of it, then the host mutes Bo.
    let mut seen = 0usize;
    while seen < 20 {
        match host.recv_within(STEP_TIMEOUT).await {
            Received::Media(p) => {
                let ssrc = confer_wire::rtp::ssrc(&p).expect("RTP from the router");
                if participant_of_ssrc(ssrc) == bo_id {
                    seen += 1;
                }
            }
            Received::Control(_) => {}
            Received::Closed => panic!("the router closed the host"),
        }
    }
    host.send(&ClientMessage::Host(HostAction::Mute {
        participant_id: Some(bo_id),
    }))
    .await;
    let (in_flight, control) = collect(&mut host, bo_id, IN_FLIGHT).await;
    assert!(
        control.iter().any(muted(bo_id, true)),
        "the mute took effect: {control:?}"
    );
    let (after, _) = collect(&mut host, bo_id, Duration::from_secs(2)).await;
    assert!(after.is_empty(), "{} packets after the mute", after.len());
    let host_total = seen + in_flight.len();

    for child in [&mut bo, &mut cy] {
        let status = wait_with_timeout(child, STEP_TIMEOUT);
        assert!(
            status.success(),
            "a client failed; server log:\n{}",
            server.log()
        );
    }
    let read = |p: &std::path::Path| -> Value {
        serde_json::from_slice(&std::fs::read(p).expect("stats file")).expect("stats JSON")
    };
    let (cy_stats, bo_stats) = (read(&stats[0]), read(&stats[1]));
    let cy_got = cy_stats["media"]["received"][bo_id.to_string()]["packets"]
        .as_u64()
        .unwrap_or(0);
    let bo_sent = bo_stats["media"]["sent_packets"].as_u64().unwrap_or(0);
    println!("Bo sent {bo_sent}, the host got {host_total}, Cy got {cy_got}");
    // Cy was in the meeting from before Bo's first packet, so it got what
    // the host got before the mute, and nothing after it.
    assert!(cy_got > 0, "Cy got none of Bo's stream: {cy_stats}");
    assert!(
        cy_got as usize <= host_total,
        "Cy got {cy_got} of Bo's packets, more than reached anyone before the mute ({host_total})"
    );
}
