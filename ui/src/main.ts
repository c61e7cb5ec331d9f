/**
 * Entry point: starts the app controller in `#app` with the real shell.
 */

import "./styles.css";
import { startApp } from "./app";
import { tauriShell } from "./ipc";

const root = document.getElementById("app");
if (root !== null) {
  let storage: Storage | undefined;
  try {
    storage = window.localStorage;
  } catch {
    storage = undefined;
  }
  startApp(root, tauriShell, storage);
}
