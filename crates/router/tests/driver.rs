//! The router over real QUIC and TLS sockets on loopback: joins and their
//! refusals, chat and media between transports, bad framing, and that the
//! router keeps serving everyone else after each misbehaving client.

mod support;

use std::time::Duration;

use confer_wire::control::{ClientMessage, ErrorCode, LeaveReason, ServerMessage};
use confer_wire::frame::FrameKind;
use confer_wire::ids::{MeetingId, ssrc_for};
use confer_wire::rtp::{PT_SYNTHETIC, RtpHeader};

use support::{Signer, TestRouter, Transport, claims, unix_now};

/// Every test is bounded, whatever happens inside.
const TEST_LIMIT: Duration = Duration::from_secs(40);

fn rtp(ssrc: u32, seq: u16) -> Vec<u8> {
    let mut out = Vec::new();
    let header = RtpHeader {
        marker: true,
        payload_type: PT_SYNTHETIC,
        sequence: seq,
        timestamp: 90,
        ssrc,
    };
    header.write(b"opaque sealed frame", &mut out);
    out
}

/// Runs a test body under [`TEST_LIMIT`]; overrunning it fails the test.
#[allow(clippy::expect_used)] // called only from tests; failing is its job
async fn bounded(test: impl Future<Output = ()>) {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .expect("test finished in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_and_tls_participants_share_a_meeting() {
    bounded(async {
        let router = TestRouter::start().await;
        let meeting = MeetingId(4_821_937_650);
        let (mut ada, ada_id) = router.join(Transport::Quic, meeting, "Ada").await;
        let (mut bo, bo_id) = router.join(Transport::Tls, meeting, "Bo").await;
        match ada.next_control().await {
            Some(ServerMessage::ParticipantJoined { participant }) => {
                assert_eq!(
                    (participant.participant_id, participant.name.as_str()),
                    (bo_id, "Bo")
                );
            }
            other => panic!("{other:?}"),
        }

        // Chat: everyone once, the sender included.
        bo.send(&ClientMessage::Chat {
            to: None,
            text: "hello".into(),
        })
        .await;
        let chat = ServerMessage::Chat {
            id: 1,
            from: bo_id,
            to: None,
            text: "hello".into(),
        };
        assert_eq!(ada.next_control().await.as_ref(), Some(&chat));
        assert_eq!(bo.next_control().await.as_ref(), Some(&chat));

        // Media both ways, unchanged; a QUIC datagram arrives as a TLS media
        // frame and the other way round. Audio (track 0): camera video would
        // need `set_video` and a layer descriptor (`core/tests/simulcast.rs`).
        let from_ada = rtp(ssrc_for(ada_id, 0), 1);
        ada.send_media(&from_ada).await;
        assert_eq!(bo.next_media().await.as_ref(), from_ada.as_slice());
        let from_bo = rtp(ssrc_for(bo_id, 0), 1);
        bo.send_media(&from_bo).await;
        assert_eq!(ada.next_media().await.as_ref(), from_bo.as_slice());

        // On QUIC, media frames on the control stream are accepted too.
        let framed = rtp(ssrc_for(ada_id, 0), 2);
        ada.send_raw(&confer_wire::frame::frame_bytes(FrameKind::Media, &framed).unwrap())
            .await;
        assert_eq!(bo.next_media().await.as_ref(), framed.as_slice());

        // Spoofed media is not forwarded: Bo sends with Ada's SSRC, then a
        // genuine packet, and Ada gets only the genuine one.
        bo.send_media(&rtp(ssrc_for(ada_id, 0), 2)).await;
        let genuine = rtp(ssrc_for(bo_id, 0), 3);
        bo.send_media(&genuine).await;
        assert_eq!(ada.next_media().await.as_ref(), genuine.as_slice());

        // Leave: Bo is told, Ada's connection closes.
        ada.send(&ClientMessage::Leave).await;
        ada.expect_closed().await;
        assert_eq!(
            bo.next_control().await,
            Some(ServerMessage::ParticipantLeft {
                participant_id: ada_id,
                reason: LeaveReason::Left
            })
        );
        let stats = router.handle.stats();
        assert_eq!(stats.joins_admitted, 2);
        assert_eq!(stats.media_forwarded, 4);
        assert_eq!(stats.media_dropped_spoofed, 1);
        assert_eq!(stats.participants, 1);
        router.handle.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sender_never_gets_its_own_media() {
    bounded(async {
        let router = TestRouter::start().await;
        let meeting = MeetingId(77);
        let (mut a, a_id) = router.join(Transport::Tls, meeting, "A").await;
        let (mut b, b_id) = router.join(Transport::Tls, meeting, "B").await;
        a.send_media(&rtp(ssrc_for(a_id, 0), 1)).await;
        b.next_media().await;
        // A marker from B: if A's own packet had come back, it would arrive first.
        let marker = rtp(ssrc_for(b_id, 0), 9);
        b.send_media(&marker).await;
        assert_eq!(a.next_media().await.as_ref(), marker.as_slice());
        router.handle.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_token_is_refused_with_invalid_token() {
    bounded(async {
        let router = TestRouter::start().await;
        let forger = Signer::new("test-key"); // same kid, another key
        for transport in [Transport::Quic, Transport::Tls] {
            let mut client = router.connect(transport).await;
            let token = forger.token(MeetingId(1), "Mallory");
            client
                .send(&ClientMessage::Join {
                    version: 1,
                    meeting_id: MeetingId(1),
                    token,
                })
                .await;
            client.expect_fatal(ErrorCode::InvalidToken).await;
            router.assert_serving(transport).await;
        }
        assert_eq!(router.handle.stats().joins_refused, 2);
        router.handle.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_is_refused_with_token_expired() {
    bounded(async {
        let router = TestRouter::start().await;
        let issued = unix_now() - 3600;
        let token = router.signer.sign(&claims(MeetingId(2), "Late", issued)); // expired 50 min ago
        let mut client = router.connect(Transport::Quic).await;
        assert!(matches!(
            client.join(MeetingId(2), &token).await,
            ServerMessage::Error {
                code: ErrorCode::TokenExpired,
                fatal: true,
                ..
            }
        ));
        client.expect_closed().await;
        router.assert_serving(Transport::Quic).await;
        router.handle.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_admits_only_to_its_own_meeting() {
    bounded(async {
        let router = TestRouter::start().await;
        let token = router.signer.token(MeetingId(10), "Ada");
        let mut wrong = router.connect(Transport::Tls).await;
        assert!(matches!(
            wrong.join(MeetingId(11), &token).await,
            ServerMessage::Error {
                code: ErrorCode::WrongMeeting,
                fatal: true,
                ..
            }
        ));
        wrong.expect_closed().await;
        let mut right = router.connect(Transport::Tls).await;
        assert!(matches!(
            right.join(MeetingId(10), &token).await,
            ServerMessage::Joined {
                meeting_id: MeetingId(10),
                ..
            }
        ));
        router.handle.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_session_is_refused() {
    bounded(async {
        let router = TestRouter::start().await;
        let token = router.signer.token(MeetingId(3), "Ada");
        let mut first = router.connect(Transport::Quic).await;
        assert!(matches!(
            first.join(MeetingId(3), &token).await,
            ServerMessage::Joined { .. }
        ));
        let mut second = router.connect(Transport::Tls).await;
        assert!(matches!(
            second.join(MeetingId(3), &token).await,
            ServerMessage::Error {
                code: ErrorCode::SessionReused,
                fatal: true,
                ..
            }
        ));
        second.expect_closed().await;
        // The first session is unaffected.
        first.send(&ClientMessage::Ping { nonce: 3 }).await;
        assert_eq!(
            first.next_control().await,
            Some(ServerMessage::Pong { nonce: 3 })
        );
        router.handle.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_is_fatal_before_join_and_not_after() {
    bounded(async {
        let router = TestRouter::start().await;
        for transport in [Transport::Quic, Transport::Tls] {
            // An unknown frame kind.
            let mut client = router.connect(transport).await;
            client.send_raw(&[9, 0, 0, 0, 1, 0]).await;
            client.expect_fatal(ErrorCode::MalformedMessage).await;
            // A control frame that is not a control message.
            let mut client = router.connect(transport).await;
            client
                .send_raw(
                    &confer_wire::frame::frame_bytes(FrameKind::Control, br#"{"type":"fly"}"#)
                        .unwrap(),
                )
                .await;
            client.expect_fatal(ErrorCode::MalformedMessage).await;
            // After joining, the same is only an error.
            let (mut joined, _) = router.join(transport, MeetingId(4), "Ada").await;
            joined
                .send_raw(&confer_wire::frame::frame_bytes(FrameKind::Control, b"{}").unwrap())
                .await;
            assert!(matches!(
                joined.next_control().await,
                Some(ServerMessage::Error {
                    code: ErrorCode::MalformedMessage,
                    fatal: false,
                    ..
                })
            ));
            joined.send(&ClientMessage::Ping { nonce: 4 }).await;
            assert_eq!(
                joined.next_control().await,
                Some(ServerMessage::Pong { nonce: 4 })
            );
            router.assert_serving(transport).await;
        }
        router.handle.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_frame_is_refused_with_frame_too_large() {
    bounded(async {
        let router = TestRouter::start().await;
        for transport in [Transport::Quic, Transport::Tls] {
            let (mut client, _) = router.join(transport, MeetingId(5), "Big").await;
            // A media frame header announcing 64 KiB; the payload never comes.
            client.send_raw(&[2, 0, 1, 0, 0]).await;
            client.expect_fatal(ErrorCode::FrameTooLarge).await;
            // And a control frame over 256 KiB, before joining.
            let mut client = router.connect(transport).await;
            client.send_raw(&[1, 0, 0x04, 0, 1]).await;
            client.expect_fatal(ErrorCode::FrameTooLarge).await;
            router.assert_serving(transport).await;
        }
        router.handle.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_are_closed_after_the_join_timeout() {
    bounded(async {
        let router = TestRouter::start().await;
        let started = tokio::time::Instant::now();
        let mut tls = router.connect(Transport::Tls).await;
        let quic = router.connect(Transport::Quic).await;
        // Meanwhile others are served.
        router.assert_serving(Transport::Tls).await;
        router.assert_serving(Transport::Quic).await;
        // TLS gets the error on the stream, then the close.
        tls.expect_fatal(ErrorCode::JoinTimeout).await;
        // QUIC never opened a stream: the close itself says why.
        let connection = quic.quic.clone().unwrap();
        match tokio::time::timeout(support::STEP, connection.closed())
            .await
            .unwrap()
        {
            quinn::ConnectionError::ApplicationClosed(close) => {
                assert_eq!(&close.reason[..], b"join_timeout");
            }
            other => panic!("{other:?}"),
        }
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(4900),
            "closed after {waited:?}"
        );
        assert!(waited < Duration::from_secs(8), "closed after {waited:?}");
        router.assert_serving(Transport::Quic).await;
        router.handle.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_added_at_run_time_are_used() {
    bounded(async {
        let router = TestRouter::start().await;
        let rotated = Signer::new("next-key");
        let token = rotated.token(MeetingId(6), "Ada");
        let mut before = router.connect(Transport::Tls).await;
        assert!(matches!(
            before.join(MeetingId(6), &token).await,
            ServerMessage::Error {
                code: ErrorCode::InvalidToken,
                ..
            }
        ));
        router
            .handle
            .token_verifier()
            .write()
            .unwrap()
            .add_jwks(&rotated.jwks)
            .unwrap();
        let token = rotated.token(MeetingId(6), "Ada");
        let mut after = router.connect(Transport::Tls).await;
        assert!(matches!(
            after.join(MeetingId(6), &token).await,
            ServerMessage::Joined { .. }
        ));
        router.handle.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_vanishes_is_reported_disconnected() {
    bounded(async {
        let router = TestRouter::start().await;
        let (mut ada, _) = router.join(Transport::Tls, MeetingId(8), "Ada").await;
        let (bo, bo_id) = router.join(Transport::Quic, MeetingId(8), "Bo").await;
        assert!(matches!(
            ada.next_control().await,
            Some(ServerMessage::ParticipantJoined { .. })
        ));
        bo.quic.as_ref().unwrap().close(0u32.into(), b"bye");
        drop(bo);
        assert_eq!(
            ada.next_control().await,
            Some(ServerMessage::ParticipantLeft {
                participant_id: bo_id,
                reason: LeaveReason::Disconnected
            })
        );
        router.handle.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_loses_media_then_is_disconnected() {
    bounded(async {
        let router = TestRouter::start().await;
        let meeting = MeetingId(9);
        let (mut sender, sender_id) = router.join(Transport::Tls, meeting, "Sender").await;
        // Joins, then never reads again. It keeps pinging, as a live but
        // overwhelmed client would, so that on a slow machine the silence
        // timeout does not let it go before its queue overflows.
        let (mut stuck, stuck_id) = router.join(Transport::Tls, meeting, "Stuck").await;
        let pinger = tokio::spawn(async move {
            for nonce in 1.. {
                stuck.send(&ClientMessage::Ping { nonce }).await;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        assert!(matches!(
            sender.next_control().await,
            Some(ServerMessage::ParticipantJoined { .. })
        ));

        // 20 MB of media: far more than the stuck client's socket buffers
        // and media queue hold, so its copies are dropped.
        let packet = {
            let mut out = Vec::new();
            RtpHeader {
                marker: false,
                payload_type: PT_SYNTHETIC,
                sequence: 0,
                timestamp: 0,
                ssrc: ssrc_for(sender_id, 0),
            }
            .write(&[7; 1000], &mut out);
            confer_wire::frame::frame_bytes(FrameKind::Media, &out).unwrap()
        };
        let burst: Vec<u8> = packet
            .iter()
            .copied()
            .cycle()
            .take(packet.len() * 100)
            .collect();
        for _ in 0..200 {
            sender.send_raw(&burst).await;
        }
        // The sender is still served promptly.
        sender.send(&ClientMessage::Ping { nonce: 1 }).await;
        assert_eq!(
            sender.next_control().await,
            Some(ServerMessage::Pong { nonce: 1 })
        );
        assert!(router.handle.stats().media_dropped_queue_full > 0);

        // Chat until the stuck client's control queue overflows and the
        // router lets it go; the sender reads its own copies as it goes.
        let text = "x".repeat(confer_wire::control::MAX_CHAT_LEN);
        let mut left = false;
        for _ in 0..10_000 {
            sender
                .send(&ClientMessage::Chat {
                    to: None,
                    text: text.clone(),
                })
                .await;
            loop {
                match sender.next_control().await {
                    Some(ServerMessage::Chat { from, .. }) if from == sender_id => break,
                    Some(ServerMessage::ParticipantLeft {
                        participant_id,
                        reason,
                    }) => {
                        assert_eq!(
                            (participant_id, reason),
                            (stuck_id, LeaveReason::Disconnected)
                        );
                        left = true;
                    }
                    other => panic!("{other:?}"),
                }
            }
            if left {
                break;
            }
        }
        pinger.abort();
        assert!(left, "the stuck client was disconnected");
        assert_eq!(router.handle.stats().slow_clients_disconnected, 1);
        router.assert_serving(Transport::Tls).await;
        router.handle.shutdown().await;
    })
    .await;
}
