//! Publishing to a plumb server: batches in Atlas's JSON format ([`atlas_json`]), one HTTP
//! request each ([`client`]), an on-disk buffer for outages ([`spool`]) and the loop that ties
//! them together on the publisher thread ([`sender`]).

pub mod atlas_json;
pub mod client;
pub mod sender;
pub mod spool;

pub use client::{HttpTransport, Outcome, Transport};
pub use sender::Publisher;
pub use spool::Spool;
