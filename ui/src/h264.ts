/**
 * What the page needs to know about H.264 to hand access units to
 * WebCodecs: the RFC 6381 codec string (`avc1.PPCCLL`) read from a
 * keyframe's sequence parameter set.
 */

/** Codec string used before any SPS was seen, and to probe support:
 * Constrained Baseline, level 3.1 (what our encoder sends for 720p). */
export const DEFAULT_CODEC = "avc1.42e01f";

const hex = (b: number) => b.toString(16).padStart(2, "0");

/** The codec string of the first SPS (NAL type 7) in an Annex B access
 * unit: its profile_idc, constraint flags and level_idc bytes. Null when
 * there is none or it is cut short. */
export function codecOf(annexB: Uint8Array): string | null {
  for (let i = 0; i + 3 < annexB.length; i++) {
    // A start code is 00 00 01 (a four-byte 00 00 00 01 ends the same way).
    if (annexB[i] !== 0 || annexB[i + 1] !== 0 || annexB[i + 2] !== 1) continue;
    const header = i + 3;
    if (((annexB[header] ?? 0) & 0x1f) !== 7) continue;
    if (header + 3 >= annexB.length) return null;
    return `avc1.${hex(annexB[header + 1] ?? 0)}${hex(annexB[header + 2] ?? 0)}${hex(annexB[header + 3] ?? 0)}`;
  }
  return null;
}
