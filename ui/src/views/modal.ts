/**
 * A modal dialog shell shared by the settings dialog and the share picker:
 * a backdrop, a labelled `dialog` role, focus moved in on open, Tab kept
 * inside (focus trap), Escape closing, and focus given back to whatever
 * had it before. `askConfirm` (confirm.ts) stays separate: it is an
 * `alertdialog` with a fixed two-button shape.
 */

import { h } from "../dom";

/** An open dialog. */
export interface Modal {
  /** The dialog element; put the content in it. */
  dialog: HTMLElement;
  /** Closes the dialog (safe to call twice). */
  close(): void;
}

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** The elements Tab can reach inside `container`, in order. */
export function focusables(container: HTMLElement): HTMLElement[] {
  return [...container.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => !el.hidden && el.closest("[hidden]") === null);
}

/** Opens a modal in `host`, labelled by the element with id `labelledBy`
 * (which the caller puts in the dialog). `onClose` runs once, however the
 * dialog closes. */
export function openModal(host: HTMLElement, id: string, labelledBy: string, onClose: () => void = () => {}): Modal {
  const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const dialog = h("div", { id, class: "modal", role: "dialog", "aria-modal": "true", "aria-labelledby": labelledBy, tabindex: -1 });
  const backdrop = h("div", { class: "modal-backdrop" }, dialog);
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    backdrop.remove();
    onClose();
    before?.focus();
  };
  dialog.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      close();
      return;
    }
    if (e.key !== "Tab") return;
    // Keep Tab inside: wrap from the last control to the first and back.
    const items = focusables(dialog);
    const first = items[0];
    const last = items.at(-1);
    if (first === undefined || last === undefined) {
      e.preventDefault();
      return;
    }
    const active = document.activeElement;
    if (e.shiftKey && (active === first || active === dialog)) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && active === last) {
      e.preventDefault();
      first.focus();
    }
  });
  // A click on the backdrop (outside the dialog) closes, like Escape.
  backdrop.addEventListener("click", (e) => {
    if (e.target === backdrop) close();
  });
  host.append(backdrop);
  dialog.focus();
  return { dialog, close };
}
