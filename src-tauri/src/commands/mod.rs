//! IPC commands, grouped by area. Each is a few lines: read the request,
//! call into `confer-client` or Tauri, return a serialisable answer or an
//! [`Error`](crate::error::Error). Their TypeScript shapes are in
//! `ui/src/bindings.ts`.

pub(crate) mod app;
