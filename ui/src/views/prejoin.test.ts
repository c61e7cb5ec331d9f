// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { createStore } from "../store";
import { describeMeeting, initialPrejoin, meterPercent, mountPrejoin, type PrejoinActions, type PrejoinState } from "./prejoin";

afterEach(() => document.body.replaceChildren());
const flush = () => new Promise((r) => setTimeout(r, 0));

function mount() {
  const root = document.createElement("div");
  root.append(document.createElement("p"));
  document.body.append(root);
  const store = createStore<PrejoinState>(initialPrejoin("482 193 765", true, false));
  const canvas = document.createElement("canvas");
  canvas.hidden = true;
  const actions: PrejoinActions = {
    join: vi.fn(() => store.update((s) => ({ ...s, joining: true }))),
    cancel: vi.fn(),
    chooseDevice: vi.fn(),
    setMuted: vi.fn((muted: boolean) => store.update((s) => ({ ...s, muted }))),
    setVideoOff: vi.fn((videoOff: boolean) => store.update((s) => ({ ...s, videoOff }))),
    testSpeaker: vi.fn(async () => "No speaker found."),
    previewCanvas: () => canvas,
  };
  const unmount = mountPrejoin(root, store, actions);
  return { root, store, actions, unmount, canvas };
}

describe("pre-join screen", () => {
  it("draws over the screen that asked, with the preview and focus on Join", () => {
    const { root, canvas, unmount } = mount();
    expect(root.children).toHaveLength(2);
    expect(root.querySelector("#prejoin-preview canvas")).toBe(canvas);
    expect(root.querySelector("#prejoin-preview-note")?.textContent).toBe("Starting your camera…");
    expect(document.activeElement?.id).toBe("prejoin-join");
    expect(root.querySelector("#prejoin-devices")?.textContent).toMatch(/Looking for your devices/);
    unmount();
    expect(root.children).toHaveLength(1);
  });

  it("lists devices, and reports picks", () => {
    const { root, store, actions } = mount();
    store.update((s) => ({
      ...s,
      camera: "pattern",
      devices: { microphones: [{ id: "tone", name: "Test tone", isDefault: false }], cameras: [{ id: "pattern", name: "Test pattern", isDefault: false }], speakers: [] },
    }));
    const cam = root.querySelector<HTMLSelectElement>("#prejoin-camera");
    expect(cam?.value).toBe("pattern");
    expect(root.querySelector('label[for="prejoin-speaker"]')?.textContent).toBe("Speaker");
    if (cam === null) throw new Error("no camera picker");
    cam.value = "";
    cam.dispatchEvent(new Event("change"));
    expect(actions.chooseDevice).toHaveBeenCalledWith("camera", null);
  });

  it("offers every speaker, marks the system's, and reports the pick by id", async () => {
    const { root, store, actions } = mount();
    store.update((s) => ({
      ...s,
      speaker: "speaker:pulseaudio:unplugged",
      devices: {
        microphones: [],
        cameras: [],
        speakers: [
          { id: "speaker:pulseaudio:usb", name: "Headset", isDefault: false },
          { id: "speaker:pulseaudio:hdmi", name: "Monitor", isDefault: true },
          { id: "none", name: "No sound", isDefault: false },
        ],
      },
    }));
    const spk = root.querySelector<HTMLSelectElement>("#prejoin-speaker");
    if (spk === null) throw new Error("no speaker picker");
    expect([...spk.options].map((o) => [o.value, o.textContent])).toEqual([
      ["", "System default"],
      ["speaker:pulseaudio:usb", "Headset"],
      ["speaker:pulseaudio:hdmi", "Monitor (default)"],
      ["none", "No sound"],
      ["speaker:pulseaudio:unplugged", "speaker:pulseaudio:unplugged (not connected)"],
    ]);
    expect(spk.value).toBe("speaker:pulseaudio:unplugged");
    // A failed test of the old choice is cleared by picking another.
    root.querySelector<HTMLButtonElement>("#prejoin-test-speaker")?.click();
    await flush();
    expect(root.querySelector("#prejoin-speaker-status")?.textContent).toBe("No speaker found.");
    spk.value = "speaker:pulseaudio:usb";
    spk.dispatchEvent(new Event("change"));
    expect(actions.chooseDevice).toHaveBeenCalledWith("speaker", "speaker:pulseaudio:usb");
    expect(root.querySelector("#prejoin-speaker-status")?.textContent).toBe("");
    expect(root.querySelector("#prejoin-speaker-status")?.classList.contains("error")).toBe(false);
  });

  it("meters the microphone unless muted, and joins with the toggles", () => {
    const { root, store, actions } = mount();
    const meter = root.querySelector<HTMLElement>("#prejoin-level");
    store.update((s) => ({ ...s, level: 0.64 }));
    expect(meter?.getAttribute("aria-valuenow")).toBe("0");
    root.querySelector<HTMLInputElement>("#prejoin-muted")?.click();
    expect(meter?.getAttribute("aria-valuenow")).toBe("80");
    root.querySelector<HTMLInputElement>("#prejoin-video-off")?.click();
    expect(root.querySelector("#prejoin-preview")?.classList.contains("video-off")).toBe(true);
    expect(root.querySelector("#prejoin-preview-note")?.textContent).toBe("Your camera is off");
    root.querySelector("#prejoin-form")?.dispatchEvent(new Event("submit", { cancelable: true }));
    expect(actions.join).toHaveBeenCalledWith(false, true);
    expect(root.querySelector("#prejoin-join")?.textContent).toBe("Joining…");
    root.querySelector("#prejoin-form")?.dispatchEvent(new Event("submit", { cancelable: true }));
    expect(actions.join).toHaveBeenCalledTimes(1);
  });

  it("tests the speaker and shows what went wrong; Escape cancels", async () => {
    const { root, actions } = mount();
    root.querySelector<HTMLButtonElement>("#prejoin-test-speaker")?.click();
    expect(root.querySelector("#prejoin-speaker-status")?.textContent).toBe("Playing a tone…");
    await flush();
    expect(root.querySelector("#prejoin-speaker-status")?.textContent).toBe("No speaker found.");
    root.querySelector("#prejoin")?.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(actions.cancel).toHaveBeenCalled();
  });

  it("names the meeting by its grouped id, or as the invitation", () => {
    expect(describeMeeting("482193765")).toBe("Meeting 482 193 765");
    expect(describeMeeting("https://confer.example/invitations/abc")).toBe("The meeting from your invitation");
  });

  it("clamps the meter", () => {
    expect(meterPercent(-1)).toBe(0);
    expect(meterPercent(Number.NaN)).toBe(0);
    expect(meterPercent(4)).toBe(100);
    expect(meterPercent(0.25)).toBe(50);
  });
});
