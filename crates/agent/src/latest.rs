//! The latest `/metrics` body: rendered once per cycle by the collector thread, handed to every
//! scrape as a reference-counted buffer, so a scrape copies nothing and computes nothing.

use std::sync::RwLock;

use axum::body::Bytes;

/// The body most recently rendered.
#[derive(Debug, Default)]
pub struct Latest(RwLock<Bytes>);

impl Latest {
    /// Starts with `body`.
    pub fn new(body: impl Into<Bytes>) -> Self {
        Latest(RwLock::new(body.into()))
    }

    /// The current body (a cheap clone).
    pub fn get(&self) -> Bytes {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the body.
    pub fn set(&self, body: impl Into<Bytes>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = body.into();
    }
}
