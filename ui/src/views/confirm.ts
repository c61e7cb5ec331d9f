/**
 * An in-page confirmation for destructive actions (expel, end for all,
 * delete): a modal `alertdialog` with the safe choice focused first.
 * In-page rather than `window.confirm` so it looks like the app, works the
 * same in every webview, and can be driven by tests.
 */

import { h } from "../dom";

/** Asks `question`; resolves true only when the user picks `confirmLabel`. */
export function askConfirm(host: HTMLElement, question: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = h("button", { type: "button", class: "secondary", id: "confirm-cancel" }, "Cancel");
    const ok = h("button", { type: "button", class: "danger", id: "confirm-ok" }, confirmLabel);
    const text = h("p", { id: "confirm-text" }, question);
    const dialog = h(
      "div",
      { class: "confirm", role: "alertdialog", "aria-modal": "true", "aria-describedby": "confirm-text" },
      text,
      h("div", { class: "confirm-buttons" }, cancel, ok),
    );
    const backdrop = h("div", { class: "confirm-backdrop" }, dialog);
    const done = (answer: boolean) => {
      backdrop.remove();
      resolve(answer);
    };
    cancel.addEventListener("click", () => done(false));
    ok.addEventListener("click", () => done(true));
    dialog.addEventListener("keydown", (e) => {
      if (e.key === "Escape") done(false);
    });
    host.append(backdrop);
    cancel.focus();
  });
}
