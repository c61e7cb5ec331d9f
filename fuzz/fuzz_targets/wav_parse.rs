//! The WAV reader on arbitrary bytes: never panics or allocates beyond the
//! input; what it accepts is written back by `wav_bytes` and read again to
//! the same samples and rate.
#![no_main]

use confer_media::wav::{parse_wav, wav_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(wav) = parse_wav(data) else {
        return;
    };
    // Two bytes per 16-bit sample at least: nothing is invented.
    assert!(wav.samples.len() * 2 <= data.len());
    let again = parse_wav(&wav_bytes(&wav.samples, wav.sample_rate)).expect("our WAV parses");
    assert_eq!(again, wav);
});
