import { describe, expect, it } from "vitest";
import { type DecoderLike, KEYFRAME_REQUEST_EVERY_MS, MAX_BACKLOG, StreamDecoder } from "./stream_decoder";

/** A stand-in for WebCodecs' VideoDecoder (no browser here): records what
 * it is given; its queue only grows when told to. */
class Recorder implements DecoderLike {
  state: "unconfigured" | "configured" | "closed" = "unconfigured";
  decodeQueueSize = 0;
  configs: string[] = [];
  chunks: string[] = [];
  constructor(readonly output: (f: string) => void) {}
  configure(config: { codec: string }): void {
    this.configs.push(config.codec);
    this.state = "configured";
  }
  decode(chunk: { type: "key" | "delta" }): void {
    this.chunks.push(chunk.type);
    this.output(chunk.type);
  }
  close(): void {
    this.state = "closed";
  }
}

const sps = (level: number) => new Uint8Array([0, 0, 0, 1, 0x67, 0x42, 0xc0, level, 0, 0, 1, 0x65]);
const delta = { keyframe: false, data: new Uint8Array([0, 0, 1, 0x41]) };

function setup() {
  let clock = 0;
  const made: Recorder[] = [];
  const frames: string[] = [];
  let asked = 0;
  const stream = new StreamDecoder<string>(
    (output) => {
      const r = new Recorder(output);
      made.push(r);
      return r;
    },
    (f) => frames.push(f),
    () => (asked += 1),
    () => clock,
  );
  return {
    stream,
    made,
    frames,
    asked: () => asked,
    tick: (ms: number) => (clock += ms),
  };
}

describe("StreamDecoder", () => {
  it("configures the codec its keyframe's SPS names", () => {
    const { stream, made, frames } = setup();
    stream.feed({ keyframe: true, data: sps(0x1e) });
    stream.feed(delta);
    expect(made[0]?.configs).toEqual(["avc1.42c01e"]);
    expect(frames).toEqual(["key", "delta"]);
  });

  it("reconfigures when a keyframe names another level (the sender changed size)", () => {
    const { stream, made } = setup();
    stream.feed({ keyframe: true, data: sps(0x1e) });
    stream.feed({ keyframe: true, data: sps(0x1e) });
    stream.feed({ keyframe: true, data: sps(0x1f) });
    expect(made.length).toBe(1);
    expect(made[0]?.configs).toEqual(["avc1.42c01e", "avc1.42c01f"]);
  });

  it("skips to the next keyframe when decoding falls behind, asking once a second", () => {
    const { stream, made, asked, tick } = setup();
    stream.feed({ keyframe: true, data: sps(0x1e) });
    const decoder = made[0];
    if (decoder === undefined) throw new Error("no decoder");
    decoder.decodeQueueSize = MAX_BACKLOG + 1;
    stream.feed(delta);
    decoder.decodeQueueSize = 0;
    stream.feed(delta); // still waiting for a keyframe
    expect(stream.counters).toMatchObject({ skipped: 2, keyframeRequests: 1 });
    expect(asked()).toBe(1);
    tick(KEYFRAME_REQUEST_EVERY_MS);
    stream.feed(delta);
    expect(asked()).toBe(2);
    stream.feed({ keyframe: true, data: sps(0x1e) });
    stream.feed(delta);
    expect(decoder.chunks).toEqual(["key", "key", "delta"]);
  });

  it("a decoder that throws is replaced at the next keyframe", () => {
    const { stream, made } = setup();
    stream.feed({ keyframe: true, data: sps(0x1e) });
    const first = made[0];
    if (first === undefined) throw new Error("no decoder");
    first.decode = () => {
      throw new Error("InvalidStateError");
    };
    stream.feed(delta);
    expect(stream.counters.errors).toBe(1);
    expect(first.state).toBe("closed");
    stream.feed(delta);
    stream.feed({ keyframe: true, data: sps(0x1e) });
    expect(made.length).toBe(2);
    expect(stream.counters).toMatchObject({ decoded: 2, skipped: 1 });
  });
});
