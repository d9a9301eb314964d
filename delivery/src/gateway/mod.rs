//! Local test gateways: HTTP/2 over TLS on loopback, with a certificate
//! authority made at start and written to a file the client trusts
//! ([`Trust::CaFile`](crate::Trust::CaFile)). They check what the real
//! services check and answer every documented error, chosen by the device
//! token. For this crate's tests and `pushseal gateway`; never for sending.

pub mod apns;
pub mod fcm;
mod inbox;
mod server;

pub use inbox::inbox_path;
pub use server::TestCa;
