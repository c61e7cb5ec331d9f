//! IPC commands, grouped by area. Each is a few lines: read the request,
//! call into `confer-client` or Tauri, return a serialisable answer or an
//! [`Error`](crate::error::Error). Their TypeScript shapes are generated
//! into `ui/src/bindings.ts` (see `bindings.rs`).

pub(crate) mod account;
pub(crate) mod app;
pub(crate) mod devices;
pub(crate) mod meeting_devices;
pub(crate) mod meeting_session;
pub(crate) mod meetings;
pub(crate) mod preview;
pub(crate) mod share;
