/**
 * The share picker: a modal grid of the screens and windows the shell can
 * capture, each with a thumbnail and its name. Choosing one starts
 * sharing it; Escape or Cancel closes without sharing. Focus stays inside
 * while it is open (see `modal.ts`).
 */

import type { ShareSource } from "../bindings";
import { h } from "../dom";
import { focusables, openModal } from "./modal";

/** Every word the picker shows, in one place for translation. */
export const SHARE_TEXT = {
  title: "Share your screen",
  hint: "Choose what everyone will see.",
  loading: "Looking for screens and windows…",
  empty: "Nothing to share was found.",
  screens: "Screens",
  windows: "Windows",
  cancel: "Cancel",
  starting: "Starting…",
  noPreview: "No preview",
  choose: (name: string, kind: ShareSource["kind"]) => `Share ${kind === "screen" ? "screen" : "window"}: ${name}`,
};

/** What the picker needs from the app. */
export interface SharePickerActions {
  /** The sources to offer (the shell's `share_sources`). */
  sources(): Promise<ShareSource[]>;
  /** Starts sharing one; resolves to an error to show, or null. */
  choose(sourceId: string): Promise<string | null>;
}

/** Only `data:image/…` thumbnails are shown: the picker never loads a URL
 * a source name or a bug could point somewhere else. */
export function safeThumbnail(thumbnail: string | null): string | null {
  return thumbnail !== null && /^data:image\/(png|jpeg|webp);base64,[A-Za-z0-9+/=]+$/.test(thumbnail) ? thumbnail : null;
}

/** Opens the picker in `host`; resolves once it closes, to whether
 * sharing started. */
export function openSharePicker(host: HTMLElement, actions: SharePickerActions): Promise<boolean> {
  return new Promise((resolve) => {
    let started = false;
    const modal = openModal(host, "share-picker", "share-title", () => resolve(started));
    const status = h("p", { id: "share-status", class: "form-status", role: "status" }, SHARE_TEXT.loading);
    const grid = h("div", { id: "share-sources", class: "share-sources" });
    const cancel = h("button", { type: "button", class: "secondary", id: "share-cancel" }, SHARE_TEXT.cancel);
    cancel.addEventListener("click", () => modal.close());
    modal.dialog.classList.add("share-picker");
    modal.dialog.append(
      h("h2", { id: "share-title" }, SHARE_TEXT.title),
      h("p", { class: "field-hint" }, SHARE_TEXT.hint),
      status,
      grid,
      h("div", { class: "buttons end" }, cancel),
    );

    const card = (source: ShareSource): HTMLButtonElement => {
      const thumb = safeThumbnail(source.thumbnail);
      const button = h(
        "button",
        { type: "button", class: "share-source", "data-source-id": source.id, "aria-label": SHARE_TEXT.choose(source.name, source.kind) },
        thumb === null
          ? h("span", { class: "share-thumb empty", "aria-hidden": "true" }, SHARE_TEXT.noPreview)
          : h("img", { class: "share-thumb", src: thumb, alt: "" }),
        h("span", { class: "share-name" }, source.name),
      );
      button.addEventListener("click", () => {
        for (const b of grid.querySelectorAll("button")) b.disabled = true;
        status.classList.remove("error");
        status.textContent = SHARE_TEXT.starting;
        void actions.choose(source.id).then((error) => {
          if (error === null) {
            started = true;
            modal.close();
            return;
          }
          for (const b of grid.querySelectorAll("button")) b.disabled = false;
          status.textContent = error;
          status.classList.add("error");
        });
      });
      return button;
    };

    void actions.sources().then(
      (sources) => {
        const groups: Array<[string, ShareSource[]]> = [
          [SHARE_TEXT.screens, sources.filter((s) => s.kind === "screen")],
          [SHARE_TEXT.windows, sources.filter((s) => s.kind === "window")],
        ];
        for (const [label, list] of groups) {
          if (list.length === 0) continue;
          grid.append(h("h3", { class: "share-group" }, label), h("div", { class: "share-grid", role: "group", "aria-label": label }, ...list.map(card)));
        }
        status.textContent = sources.length === 0 ? SHARE_TEXT.empty : "";
        focusables(grid)[0]?.focus();
      },
      (err: unknown) => {
        status.textContent = err instanceof Error ? err.message : String(err);
        status.classList.add("error");
      },
    );
  });
}
