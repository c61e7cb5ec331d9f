//! Device backends: screen capture under Xvfb of a known scene (a blue
//! background and an orange window), encoded in screen-content mode, sent
//! through the screen-share track and received; and the microphone and
//! camera paths on a machine that may have neither (they must fail with an
//! error naming the device, never panic).

// Test helpers outside #[test] fns: failing loudly is what a test wants.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(all(feature = "screen", feature = "mic", feature = "camera"))]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use confer_media::MediaError;
use confer_media::frame::VideoFrame;
use confer_media::h264_codec::{VideoDecoder, VideoEncoder, VideoEncoderConfig};
use confer_media::packet::MediaPacket;
use confer_media::source::{DeviceKind, Frame, ScreenSource, SourceSpec, list_devices, open};
use confer_media::video_track::{VideoReceiver, VideoSender};
use confer_wire::ids::ParticipantId;

/// The background colour painted on the root window.
const BACKGROUND: [u8; 3] = [0x33, 0x66, 0xcc];
/// The colour of the window drawn over it (background, text and border
/// alike, so the window is one flat rectangle).
const WINDOW: [u8; 3] = [0xcc, 0x99, 0x33];
/// Where the window is: x, y, width, height (its 1-pixel border included).
const WINDOW_RECT: (usize, usize, usize, usize) = (100, 80, 242, 162);

/// An Xvfb server on a free display, and the window drawn on it; both
/// killed on drop.
struct Xvfb {
    child: Child,
    window: Option<Child>,
    display: String,
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        if let Some(w) = &mut self.window {
            let _ = w.kill();
            let _ = w.wait();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hex(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// Opens a flat window of colour [`WINDOW`] at [`WINDOW_RECT`] with
/// `xmessage` (x11-utils) and waits until the server maps it.
fn draw_window(display: &str) -> Option<Child> {
    let colour = hex(WINDOW);
    let (x, y, w, h) = WINDOW_RECT;
    let child = Command::new("xmessage")
        .args(["-bg", &colour, "-fg", &colour, "-bd", &colour])
        .args(["-geometry", &format!("{}x{}+{x}+{y}", w - 2, h - 2)])
        .args(["-name", "confer-test-window", " "])
        .env("DISPLAY", display)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let mapped = Command::new("xwininfo")
            .args(["-name", "confer-test-window"])
            .env("DISPLAY", display)
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("IsViewable"));
        if mapped {
            // Let the toolkit finish painting after the map.
            std::thread::sleep(Duration::from_millis(300));
            return Some(child);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(child)
}

fn start_xvfb() -> Option<Xvfb> {
    // A display number unlikely to clash with other test runs.
    let n = 200 + std::process::id() % 500;
    let display = format!(":{n}");
    let child = Command::new("Xvfb")
        .args([
            display.as_str(),
            "-screen",
            "0",
            "640x480x24",
            "-nolisten",
            "tcp",
            "-noreset",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut xvfb = Xvfb {
        child,
        window: None,
        display,
    };
    // Wait until it accepts clients (xsetroot succeeds). `-noreset` keeps the
    // painted background after xsetroot disconnects.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if Command::new("xsetroot")
            .args(["-solid", &hex(BACKGROUND)])
            .env("DISPLAY", &xvfb.display)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            xvfb.window = draw_window(&xvfb.display);
            return Some(xvfb);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// Starts Xvfb, paints the root window blue, opens an orange window, and
/// runs the capture check in
/// a child process with `DISPLAY` pointing at it (a test cannot safely set
/// its own environment while other tests run).
#[test]
fn screen_capture_under_xvfb_sees_the_colour_drawn() {
    let have = |cmd: &str| {
        Command::new("which")
            .arg(cmd)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !have("Xvfb") || !have("xsetroot") || !have("xmessage") || !have("xwininfo") {
        eprintln!(
            "SKIPPED: needs Xvfb, xsetroot, xmessage and xwininfo \
             (apt-get install xvfb x11-xserver-utils x11-utils)"
        );
        return;
    }
    let Some(xvfb) = start_xvfb() else {
        eprintln!("SKIPPED: Xvfb did not start");
        return;
    };
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args([
            "--exact",
            "capture_drawn_scene_inner",
            "--ignored",
            "--nocapture",
        ])
        .env("DISPLAY", &xvfb.display)
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "inner capture test failed:\n{log}");
    assert!(log.contains("1 passed"), "inner test did not run:\n{log}");
    eprintln!("{log}");
}

/// Mean RGB of a `size`×`size` patch centred on (`cx`, `cy`) of an I420
/// picture, converted back with BT.601 limited range (the inverse of
/// [`confer_media::frame::VideoFrame::from_rgba`]).
fn mean_rgb(f: &VideoFrame, cx: usize, cy: usize, size: usize) -> [f64; 3] {
    let w = f.width as usize;
    let mut sum = [0.0; 3];
    let mut n = 0.0;
    for y in cy - size / 2..cy + size / 2 {
        for x in cx - size / 2..cx + size / 2 {
            let yy = f64::from(f.y()[y * w + x]) - 16.0;
            let u = f64::from(f.u()[(y / 2) * (w / 2) + x / 2]) - 128.0;
            let v = f64::from(f.v()[(y / 2) * (w / 2) + x / 2]) - 128.0;
            sum[0] += 1.164 * yy + 1.596 * v;
            sum[1] += 1.164 * yy - 0.392 * u - 0.813 * v;
            sum[2] += 1.164 * yy + 2.017 * u;
            n += 1.0;
        }
    }
    sum.map(|c| c / n)
}

/// Sends one captured picture as a screen share (screen-content encoder,
/// packetiser) and returns what a receiver decodes from the packets.
fn send_and_receive(picture: &VideoFrame) -> VideoFrame {
    let mut sender = VideoSender::screen(ParticipantId(1), 9).unwrap();
    let mut receiver = VideoReceiver::new(0x0200).unwrap();
    let t0 = Instant::now();
    for p in sender.send_frame(picture).unwrap() {
        receiver.handle_packet(t0, MediaPacket::parse(&p.to_bytes()).unwrap());
    }
    // Virtual clock: the receiver releases the frame after its buffer delay.
    (0..200)
        .find_map(|ms| receiver.poll_frame(t0 + Duration::from_millis(ms * 10)))
        .expect("the receiver decodes the screen frame")
}

/// Largest per-channel difference between a measured and a drawn colour.
fn colour_error(measured: [f64; 3], drawn: [u8; 3]) -> f64 {
    (0..3)
        .map(|i| (measured[i] - f64::from(drawn[i])).abs())
        .fold(0.0, f64::max)
}

/// The capture check proper; run by the test above inside Xvfb.
#[test]
#[ignore = "run by screen_capture_under_xvfb_sees_the_colour_drawn with DISPLAY set"]
fn capture_drawn_scene_inner() {
    let (devices, errors) = list_devices();
    eprintln!("devices: {devices:?}\nbackend errors: {errors:?}");
    let screen = devices
        .iter()
        .find(|d| d.kind == DeviceKind::Screen)
        .expect("Xvfb has a screen");
    let t0 = Instant::now();
    let source = ScreenSource::open(&screen.id, 5, t0).unwrap();
    let f = source.capture().unwrap();
    assert_eq!((f.width, f.height), (640, 480));
    // Screen-content mode at native resolution: encode and decode the capture.
    let mut enc = VideoEncoder::new(VideoEncoderConfig::screen()).unwrap();
    let encoded = enc.encode(&f).unwrap().expect("first frame is encoded");
    assert!(encoded.keyframe);
    let decoded = VideoDecoder::new()
        .unwrap()
        .decode(&encoded.nals, 0)
        .unwrap()
        .expect("a picture");
    assert_eq!((decoded.width, decoded.height), (640, 480));
    let psnr = decoded.psnr_y(&f);
    eprintln!(
        "screen-content encode: {} bytes, PSNR {psnr:.1} dB",
        encoded.to_annex_b().len()
    );
    assert!(psnr >= 40.0, "PSNR {psnr}");
    // What was drawn is what arrives: the background far from the window,
    // and the middle of the window, in the decoded picture. The tolerance
    // covers two rounding conversions (RGB → YUV → RGB) and the codec.
    let (x, y, w, h) = WINDOW_RECT;
    let checks = [
        ("background", (520, 380), BACKGROUND),
        ("background", (40, 440), BACKGROUND),
        ("window", (x + w / 2, y + h / 2), WINDOW),
        ("window", (x + 30, y + 30), WINDOW),
    ];
    // And received: the screen-share sender's packets, through the wire
    // format, into a receiver (jitter buffer, reassembly, decode).
    let received_frame = send_and_receive(&f);
    assert_eq!((received_frame.width, received_frame.height), (640, 480));
    for (what, (cx, cy), drawn) in checks {
        let captured = mean_rgb(&f, cx, cy, 16);
        let received = mean_rgb(&received_frame, cx, cy, 16);
        let local = mean_rgb(&decoded, cx, cy, 16);
        assert!(
            colour_error(local, drawn) <= 8.0,
            "{what}: decoded {local:?}"
        );
        let (ec, er) = (colour_error(captured, drawn), colour_error(received, drawn));
        eprintln!(
            "{what} at ({cx}, {cy}): drawn {} captured {captured:.0?} (off by {ec:.1}) \
             received {received:.0?} (off by {er:.1})",
            hex(drawn)
        );
        assert!(
            ec <= 6.0,
            "{what}: captured {captured:?} vs drawn {drawn:?}"
        );
        assert!(
            er <= 8.0,
            "{what}: received {received:?} vs drawn {drawn:?}"
        );
    }
    // Windows: without a window manager X11 may list none; say which.
    let windows: Vec<_> = devices
        .iter()
        .filter(|d| d.kind == DeviceKind::Window)
        .collect();
    eprintln!("windows listed: {windows:?}");
    // Through the trait and the spec parser too.
    let spec: SourceSpec = screen.id.parse().unwrap();
    let mut boxed = open(&spec, t0).unwrap();
    assert!(matches!(boxed.poll_frame(t0), Ok(Some(Frame::Video(_)))));
}

#[test]
fn a_missing_camera_is_a_named_error() {
    let err = open(&SourceSpec::Device("camera:97".into()), Instant::now()).err();
    match err {
        Some(MediaError::DeviceNotFound { kind, id }) => {
            assert_eq!((kind, id.as_str()), ("camera", "camera:97"))
        }
        Some(MediaError::DeviceUnavailable { kind, .. }) => assert_eq!(kind, "camera"),
        Some(other) => panic!("unexpected error {other}"),
        None => eprintln!("SKIPPED: a camera with index 97 exists"),
    }
    let (devices, _) = list_devices();
    if !devices.iter().any(|d| d.kind == DeviceKind::Camera) {
        eprintln!("SKIPPED: no camera on this machine; capture from a camera is not tested here");
    }
}

#[test]
fn a_missing_microphone_is_a_named_error() {
    let err = open(
        &SourceSpec::Device("mic:no-such-host:no-such-device".into()),
        Instant::now(),
    )
    .err();
    match err {
        Some(MediaError::DeviceNotFound { kind, .. })
        | Some(MediaError::DeviceUnavailable { kind, .. }) => {
            assert_eq!(kind, "microphone");
        }
        Some(other) => panic!("unexpected error {other}"),
        None => panic!("a made-up microphone opened"),
    }
}

#[test]
fn a_missing_screen_is_a_named_error() {
    let err = ScreenSource::open("window:4294967295", 5, Instant::now()).err();
    assert!(
        matches!(
            err,
            Some(
                MediaError::DeviceNotFound { kind: "screen", .. }
                    | MediaError::DeviceUnavailable { kind: "screen", .. }
            )
        ),
        "{err:?}"
    );
}
