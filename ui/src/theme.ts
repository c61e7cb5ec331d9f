/**
 * Light and dark theme. "system" follows the OS; a choice is remembered in
 * local storage (a display preference, nothing secret).
 */

/** The user's choice. */
export type Theme = "system" | "light" | "dark";

const KEY = "confer.theme";

/** The remembered choice, "system" when none or unreadable. */
export function loadTheme(storage: Pick<Storage, "getItem"> | undefined): Theme {
  const v = storage?.getItem(KEY);
  return v === "light" || v === "dark" ? v : "system";
}

/** Applies a theme to the document and remembers it. */
export function applyTheme(
  theme: Theme,
  root: HTMLElement,
  storage: Pick<Storage, "setItem"> | undefined,
): void {
  if (theme === "system") delete root.dataset["theme"];
  else root.dataset["theme"] = theme;
  try {
    storage?.setItem(KEY, theme);
  } catch {
    // Storage full or disabled: the theme still applies for this run.
  }
}

/** The next choice in the toggle's cycle. */
export function nextTheme(theme: Theme): Theme {
  return theme === "system" ? "dark" : theme === "dark" ? "light" : "system";
}
