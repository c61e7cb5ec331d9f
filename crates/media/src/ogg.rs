//! A minimal Ogg Opus writer (RFC 3533 pages, RFC 7845 headers), so encoded
//! audio can be checked with `ffmpeg`/`opusdec` and kept as a recording.
//!
//! Written here because it is ~100 lines (a CRC, two header packets, one
//! page per packet) and the crates that do it pull in a whole demuxer.

use std::io::Write;

use crate::error::MediaError;
use crate::frame::{FRAME_SAMPLES, SAMPLE_RATE};

/// Writes Opus packets (20 ms, mono, 48 kHz) into an Ogg stream.
#[derive(Debug)]
pub struct OggOpusWriter<W: Write> {
    /// Where pages go.
    out: W,
    /// Logical stream serial number.
    serial: u32,
    /// Next page sequence number.
    page: u32,
    /// Granule position: samples at 48 kHz including pre-skip.
    granule: u64,
    /// The latest packet, held back so `finish` can mark it end-of-stream
    /// (an empty end-of-stream page upsets some demuxers).
    pending: Option<Vec<u8>>,
}

/// Encoder delay declared in the header (libopus's lookahead at 48 kHz).
const PRE_SKIP: u16 = 312;

impl<W: Write> OggOpusWriter<W> {
    /// Starts a stream and writes the two header pages.
    pub fn new(out: W, serial: u32) -> Result<Self, MediaError> {
        let mut w = OggOpusWriter {
            out,
            serial,
            page: 0,
            granule: 0,
            pending: None,
        };
        let mut head = Vec::with_capacity(19);
        head.extend_from_slice(b"OpusHead");
        head.push(1); // version
        head.push(1); // channels
        head.extend_from_slice(&PRE_SKIP.to_le_bytes());
        head.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
        head.extend_from_slice(&0i16.to_le_bytes()); // output gain
        head.push(0); // channel mapping family
        w.page_out(&head, 0x02, 0)?;
        let vendor = b"confer-media";
        let mut tags = Vec::new();
        tags.extend_from_slice(b"OpusTags");
        tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
        tags.extend_from_slice(vendor);
        tags.extend_from_slice(&0u32.to_le_bytes());
        w.page_out(&tags, 0x00, 0)?;
        w.granule = u64::from(PRE_SKIP);
        Ok(w)
    }

    /// Appends one 20 ms Opus packet.
    pub fn write_packet(&mut self, packet: &[u8]) -> Result<(), MediaError> {
        if let Some(previous) = self.pending.replace(packet.to_vec()) {
            self.granule += FRAME_SAMPLES as u64;
            self.page_out(&previous, 0x00, self.granule)?;
        }
        Ok(())
    }

    /// Ends the stream (the last packet's page carries the end-of-stream
    /// flag) and returns the writer.
    pub fn finish(mut self) -> Result<W, MediaError> {
        let last = self.pending.take().unwrap_or_default();
        self.granule += FRAME_SAMPLES as u64;
        self.page_out(&last, 0x04, self.granule)?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn page_out(&mut self, packet: &[u8], flags: u8, granule: u64) -> Result<(), MediaError> {
        if packet.len() > 255 * 254 {
            return Err(MediaError::Malformed(
                "Opus packet too large for one Ogg page",
            ));
        }
        let mut lacing = vec![255u8; packet.len() / 255];
        lacing.push((packet.len() % 255) as u8);
        let mut page = Vec::with_capacity(27 + lacing.len() + packet.len());
        page.extend_from_slice(b"OggS");
        page.push(0);
        page.push(flags);
        page.extend_from_slice(&granule.to_le_bytes());
        page.extend_from_slice(&self.serial.to_le_bytes());
        page.extend_from_slice(&self.page.to_le_bytes());
        page.extend_from_slice(&[0; 4]);
        page.push(lacing.len() as u8);
        page.extend_from_slice(&lacing);
        page.extend_from_slice(packet);
        let crc = ogg_crc(&page);
        page[22..26].copy_from_slice(&crc.to_le_bytes());
        self.out.write_all(&page)?;
        self.page += 1;
        Ok(())
    }
}

/// Ogg's CRC-32 (polynomial 0x04c11db7, no reflection, zero init).
fn ogg_crc(data: &[u8]) -> u32 {
    let mut crc = 0u32;
    for b in data {
        crc ^= u32::from(*b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_have_valid_structure() {
        let mut w = OggOpusWriter::new(Vec::new(), 7).unwrap();
        w.write_packet(&[0xf8, 1, 2]).unwrap();
        let bytes = w.finish().unwrap();
        assert_eq!(&bytes[..4], b"OggS");
        assert_eq!(&bytes[28..36], b"OpusHead");
        // Recomputing the first page's CRC with the field zeroed gives the stored value.
        let len = 27 + 1 + 19;
        let mut page = bytes[..len].to_vec();
        let stored = u32::from_le_bytes([page[22], page[23], page[24], page[25]]);
        page[22..26].fill(0);
        assert_eq!(ogg_crc(&page), stored);
        assert_eq!(w_count(&bytes), 3);
    }

    fn w_count(bytes: &[u8]) -> usize {
        bytes.windows(4).filter(|w| *w == b"OggS").count()
    }
}
