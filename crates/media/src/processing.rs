//! Capture-path audio processing: echo cancellation (AEC), noise
//! suppression (NS) and automatic gain control (AGC), each switchable at run
//! time, through WebRTC's AudioProcessing module as Debian packages it
//! (`libwebrtc-audio-processing` 0.3, bound by the `webrtc-audio-processing`
//! crate 0.5 over pkg-config; the crate's 1.x/2.x lines need a newer C++
//! library than Debian 12 ships).
//!
//! # Driving contract
//!
//! [`CaptureProcessor`] works on Confer's 20 ms, 48 kHz mono frames; the
//! library wants 10 ms, so each 20 ms frame is two library calls.
//!
//! - [`CaptureProcessor::handle_far_end`] with every frame handed to the
//!   speakers (the mixed playout stream), *before* the microphone frame that
//!   may contain its echo is processed: it is the reference the echo
//!   canceller subtracts.
//! - [`CaptureProcessor::process_capture`] with every microphone frame,
//!   in place, before it goes to the Opus encoder.
//! - [`CaptureProcessor::set_config`] at any time to switch AEC, NS or AGC.
//!
//! With everything switched off the frame is not touched at all (bit-exact
//! passthrough): no float round trip, no library call.

use webrtc_audio_processing as apm;

use crate::frame::FRAME_SAMPLES;

/// Samples in one 10 ms frame at 48 kHz, the unit the library processes.
pub const PROCESSING_FRAME_SAMPLES: usize = apm::NUM_SAMPLES_PER_FRAME as usize;

/// Why a frame could not be processed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessingError {
    /// A frame that is not a whole number of 10 ms blocks (480 samples).
    #[error("{len} samples is not a multiple of {PROCESSING_FRAME_SAMPLES}")]
    FrameLength {
        /// Samples handed in.
        len: usize,
    },
    /// The library refused to start or to process a frame (its error code).
    #[error("webrtc audio processing: {0}")]
    Library(#[from] apm::Error),
}

/// Which stages run; each can be changed while the processor runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessingConfig {
    /// Remove the far end's voice coming back through our microphone.
    pub echo_cancellation: bool,
    /// Attenuate stationary background noise (fans, hiss).
    pub noise_suppression: bool,
    /// Bring quiet and loud talkers to a common level.
    pub gain_control: bool,
    /// Delay from handing a frame to the speakers until its echo reaches
    /// the microphone, when the audio driver reports it. `None` lets the
    /// canceller estimate the delay itself (delay-agnostic mode).
    pub echo_delay_ms: Option<u16>,
}

impl Default for ProcessingConfig {
    /// Everything on, delay estimated: what a meeting client wants.
    fn default() -> Self {
        ProcessingConfig {
            echo_cancellation: true,
            noise_suppression: true,
            gain_control: true,
            echo_delay_ms: None,
        }
    }
}

impl ProcessingConfig {
    /// Everything off: frames pass through unchanged.
    pub fn off() -> Self {
        ProcessingConfig {
            echo_cancellation: false,
            noise_suppression: false,
            gain_control: false,
            echo_delay_ms: None,
        }
    }

    /// Whether any stage runs.
    pub fn any(&self) -> bool {
        self.echo_cancellation || self.noise_suppression || self.gain_control
    }

    /// The library's configuration for these switches.
    fn to_library(self) -> apm::Config {
        apm::Config {
            echo_cancellation: self.echo_cancellation.then(|| apm::EchoCancellation {
                suppression_level: apm::EchoCancellationSuppressionLevel::High,
                // The extended filter copes with the long and unreliable
                // delays of desktop audio stacks.
                enable_extended_filter: true,
                enable_delay_agnostic: self.echo_delay_ms.is_none(),
                stream_delay_ms: self.echo_delay_ms.map(i32::from),
            }),
            gain_control: self.gain_control.then_some(apm::GainControl {
                // Digital only: we do not drive the OS mixer's mic volume.
                mode: apm::GainControlMode::AdaptiveDigital,
                // -3 dBFS target and up to 9 dB of compression gain are the
                // library's own recommended defaults.
                target_level_dbfs: 3,
                compression_gain_db: 9,
                enable_limiter: true,
            }),
            noise_suppression: self.noise_suppression.then_some(apm::NoiseSuppression {
                suppression_level: apm::NoiseSuppressionLevel::High,
            }),
            voice_detection: None,
            enable_transient_suppressor: false,
            // Removes DC and rumble, which would otherwise steer the AGC.
            enable_high_pass_filter: self.noise_suppression || self.gain_control,
        }
    }
}

/// Processes one participant's microphone stream. See the module docs for
/// the driving contract.
pub struct CaptureProcessor {
    processor: apm::Processor,
    config: ProcessingConfig,
    /// One 10 ms block as floats, reused between calls.
    block: Vec<f32>,
}

impl std::fmt::Debug for CaptureProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureProcessor")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl CaptureProcessor {
    /// A mono 48 kHz processor running the stages `config` switches on.
    pub fn new(config: ProcessingConfig) -> Result<Self, ProcessingError> {
        let init = apm::InitializationConfig {
            num_capture_channels: 1,
            num_render_channels: 1,
            ..apm::InitializationConfig::default()
        };
        let mut processor = apm::Processor::new(&init)?;
        processor.set_config(config.to_library());
        Ok(CaptureProcessor {
            processor,
            config,
            block: vec![0.0; PROCESSING_FRAME_SAMPLES],
        })
    }

    /// The stages running now.
    pub fn config(&self) -> ProcessingConfig {
        self.config
    }

    /// Switches stages on or off from the next frame on.
    pub fn set_config(&mut self, config: ProcessingConfig) {
        if config != self.config {
            self.processor.set_config(config.to_library());
            self.config = config;
        }
    }

    /// Feeds one frame going to the speakers (any whole number of 10 ms
    /// blocks, normally one 20 ms frame) as the echo canceller's reference.
    /// Ignored while echo cancellation is off.
    pub fn handle_far_end(&mut self, samples: &[i16]) -> Result<(), ProcessingError> {
        check_len(samples.len())?;
        if !self.config.echo_cancellation {
            return Ok(());
        }
        for chunk in samples.chunks_exact(PROCESSING_FRAME_SAMPLES) {
            to_float(chunk, &mut self.block);
            self.processor.process_render_frame(&mut self.block)?;
        }
        Ok(())
    }

    /// Processes one microphone frame in place (any whole number of 10 ms
    /// blocks, normally one 20 ms frame of [`FRAME_SAMPLES`]).
    pub fn process_capture(&mut self, samples: &mut [i16]) -> Result<(), ProcessingError> {
        check_len(samples.len())?;
        if !self.config.any() {
            return Ok(());
        }
        for chunk in samples.chunks_exact_mut(PROCESSING_FRAME_SAMPLES) {
            to_float(chunk, &mut self.block);
            self.processor.process_capture_frame(&mut self.block)?;
            from_float(&self.block, chunk);
        }
        Ok(())
    }
}

/// Rejects frames that are not whole 10 ms blocks (the library would
/// otherwise assert and abort).
fn check_len(len: usize) -> Result<(), ProcessingError> {
    if len == 0 || !len.is_multiple_of(PROCESSING_FRAME_SAMPLES) {
        return Err(ProcessingError::FrameLength { len });
    }
    Ok(())
}

/// i16 PCM to the library's [-1, 1) floats.
fn to_float(src: &[i16], dst: &mut [f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = f32::from(*s) / 32_768.0;
    }
}

/// Floats back to i16 PCM, saturating.
fn from_float(src: &[f32], dst: &mut [i16]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = (s * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16;
    }
}

/// Two library blocks make one Confer frame; the contract above relies on it.
const _: () = assert!(FRAME_SAMPLES == 2 * PROCESSING_FRAME_SAMPLES);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// Seeded xorshift noise in [-1, 1), so the tests repeat exactly.
    struct Noise(u64);

    impl Noise {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        }
    }

    fn tone(i: usize, hz: f64, amplitude: f64) -> f64 {
        (i as f64 * hz * std::f64::consts::TAU / 48_000.0).sin() * amplitude
    }

    /// A voice-like signal: 150 Hz with harmonics, loudness varying at
    /// syllable rate.
    fn voice(i: usize, amplitude: f64) -> f64 {
        let t = i as f64 / 48_000.0;
        let mut v = 0.0;
        for h in 1..=5 {
            v += tone(i, 150.0 * h as f64, 1.0) / h as f64;
        }
        let envelope = 0.3 + 0.7 * (0.5 + 0.5 * (t * 3.0 * std::f64::consts::TAU).sin());
        v * envelope * amplitude / 1.5
    }

    fn pcm(x: f64) -> i16 {
        (x * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16
    }

    fn rms_db(s: &[i16]) -> f64 {
        let e: f64 = s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len().max(1) as f64;
        10.0 * (e.max(1e-9) / (32_768.0f64 * 32_768.0)).log10()
    }

    /// Runs `capture` through `p` in 20 ms frames, feeding `far_end` (same
    /// length) as the speaker reference first.
    fn process(p: &mut CaptureProcessor, capture: &[i16], far_end: Option<&[i16]>) -> Vec<i16> {
        let mut out = capture.to_vec();
        for (n, frame) in out.chunks_exact_mut(FRAME_SAMPLES).enumerate() {
            if let Some(far) = far_end {
                p.handle_far_end(&far[n * FRAME_SAMPLES..(n + 1) * FRAME_SAMPLES])
                    .unwrap();
            }
            p.process_capture(frame).unwrap();
        }
        out
    }

    fn only(echo: bool, noise: bool, gain: bool) -> ProcessingConfig {
        ProcessingConfig {
            echo_cancellation: echo,
            noise_suppression: noise,
            gain_control: gain,
            echo_delay_ms: None,
        }
    }

    /// White noise at -30 dBFS under a 440 Hz tone at -12 dBFS that is on
    /// for the first half of every second: the silent halves show the noise
    /// floor. Measured (NS High): floor -30.0 → -46.5 dBFS (16.5 dB lower), tone
    /// -12.0 → -12.2 dBFS.
    /// Asserted: floor down ≥ 10 dB, tone down ≤ 3 dB.
    #[test]
    fn noise_suppression_lowers_the_noise_floor() {
        let mut noise = Noise(0x5eed);
        let input: Vec<i16> = (0..48_000 * 4)
            .map(|i| {
                let on = (i / 24_000) % 2 == 0;
                let t = if on {
                    tone(i, 440.0, 0.25 * 2f64.sqrt())
                } else {
                    0.0
                };
                pcm(t + noise.next() * 0.0316 * 3f64.sqrt())
            })
            .collect();
        let mut p = CaptureProcessor::new(only(false, true, false)).unwrap();
        let output = process(&mut p, &input, None);
        // The last second: tone in [3.0, 3.5) s, noise only in [3.5, 4.0) s.
        let (tone_part, floor_part) = (144_000 + 4_800..168_000, 168_000 + 4_800..192_000);
        let floor_in = rms_db(&input[floor_part.clone()]);
        let floor_out = rms_db(&output[floor_part]);
        let tone_in = rms_db(&input[tone_part.clone()]);
        let tone_out = rms_db(&output[tone_part]);
        eprintln!(
            "NS: noise floor {floor_in:.1} → {floor_out:.1} dBFS, tone {tone_in:.1} → {tone_out:.1} dBFS"
        );
        assert!(
            floor_in - floor_out >= 10.0,
            "floor {floor_in} → {floor_out}"
        );
        assert!(tone_in - tone_out <= 3.0, "tone {tone_in} → {tone_out}");
    }

    /// The far end's voice comes back into the microphone 40 ms later at
    /// half amplitude (-6 dB), with faint room noise. Echo return loss
    /// enhancement over the last 2 of 8 s, once the filter has converged.
    /// Measured: 25.9 dB, with the 40 ms delay reported and estimated alike.
    /// Asserted: ≥ 15 dB with a reported delay and with the delay estimated.
    #[test]
    fn echo_cancellation_removes_the_far_end_echo() {
        let far: Vec<i16> = (0..48_000 * 8).map(|i| pcm(voice(i, 0.3))).collect();
        let mut noise = Noise(7);
        let delay = 48 * 40;
        let near: Vec<i16> = (0..far.len())
            .map(|i| {
                let echo = if i >= delay {
                    f64::from(far[i - delay]) / 32_768.0
                } else {
                    0.0
                };
                pcm(echo * 0.5 + noise.next() * 0.0005)
            })
            .collect();
        for delay_ms in [Some(40), None] {
            let mut p = CaptureProcessor::new(ProcessingConfig {
                echo_delay_ms: delay_ms,
                ..only(true, false, false)
            })
            .unwrap();
            let out = process(&mut p, &near, Some(&far));
            let tail = 48_000 * 6..48_000 * 8;
            let erle = rms_db(&near[tail.clone()]) - rms_db(&out[tail]);
            eprintln!("AEC (delay {delay_ms:?} ms): echo attenuated by {erle:.1} dB");
            assert!(erle >= 15.0, "ERLE {erle} dB with delay {delay_ms:?}");
        }
    }

    /// A quiet talker at -46.4 dBFS, measured over the last second of 5:
    /// raised to -39.3 dBFS (+7.1 dB). Asserted: raised by ≥ 6 dB.
    #[test]
    fn gain_control_raises_a_quiet_talker() {
        let input: Vec<i16> = (0..48_000 * 5).map(|i| pcm(voice(i, 0.012))).collect();
        let mut p = CaptureProcessor::new(only(false, false, true)).unwrap();
        let out = process(&mut p, &input, None);
        let tail = 48_000 * 4..48_000 * 5;
        let (before, after) = (rms_db(&input[tail.clone()]), rms_db(&out[tail]));
        eprintln!("AGC: {before:.1} → {after:.1} dBFS");
        assert!(after - before >= 6.0, "gain {before} → {after}");
    }

    /// All stages off: the output is the input, bit for bit, also after
    /// switching off at run time a processor that was running.
    #[test]
    fn disabled_processing_is_bit_exact_passthrough() {
        let mut noise = Noise(3);
        let input: Vec<i16> = (0..48_000).map(|_| pcm(noise.next() * 0.5)).collect();
        let mut p = CaptureProcessor::new(ProcessingConfig::off()).unwrap();
        assert_eq!(process(&mut p, &input, Some(&input)), input);

        let mut p = CaptureProcessor::new(ProcessingConfig::default()).unwrap();
        assert_ne!(
            process(&mut p, &input, Some(&input)),
            input,
            "stages on change the signal"
        );
        p.set_config(ProcessingConfig::off());
        assert_eq!(p.config(), ProcessingConfig::off());
        assert_eq!(process(&mut p, &input, Some(&input)), input);
    }

    /// Frames that are not whole 10 ms blocks are refused, not asserted on.
    #[test]
    fn wrong_frame_lengths_are_errors() {
        let mut p = CaptureProcessor::new(ProcessingConfig::default()).unwrap();
        for len in [0, 1, 479, 481, 959] {
            let mut frame = vec![0i16; len];
            assert!(matches!(
                p.process_capture(&mut frame),
                Err(ProcessingError::FrameLength { .. })
            ));
            assert!(matches!(
                p.handle_far_end(&frame),
                Err(ProcessingError::FrameLength { .. })
            ));
        }
        let mut ten_ms = vec![0i16; PROCESSING_FRAME_SAMPLES];
        assert!(p.process_capture(&mut ten_ms).is_ok());
    }
}
