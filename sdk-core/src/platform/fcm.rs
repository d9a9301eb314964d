//! The FCM HTTP v1 `message` object (Firebase's `projects.messages.send`).
//!
//! ```json
//! {"android":{"priority":"high","ttl":"86400s"},"data":{"pushseal":"<envelope>"},"token":"<registration token>"}
//! ```
//!
//! Data-only, so the app's `FirebaseMessagingService.onMessageReceived` always
//! runs, even in the background, and can show the real text; high priority so
//! it is delivered at once. The request body is `{"message": <this object>}`.

use serde_json::json;

use crate::error::{Error, Result};
use crate::platform::{PAYLOAD_KEY, json_string_len};

/// How to deliver through FCM.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FcmOptions {
    /// The device's registration token, if the message should carry it.
    pub token: Option<String>,
    /// `android.collapse_key`: nothing sensitive (the gateway sees it).
    pub collapse_key: Option<String>,
}

impl FcmOptions {
    /// Options with the device's registration token.
    pub fn with_token(token: impl Into<String>) -> Self {
        Self { token: Some(token.into()), collapse_key: None }
    }

    /// Bytes of the data map that are not the envelope text: FCM's 4096-byte
    /// limit counts the data map's keys and values; this counts its JSON.
    pub(crate) fn data_overhead(&self) -> usize {
        // {"pushseal":""}
        PAYLOAD_KEY.len() + 7
    }

    /// The message object for one envelope (already base64url) with `ttl_secs` to live.
    pub(crate) fn message(&self, envelope_text: &str, ttl_secs: u64) -> Result<FcmMessage> {
        let mut android = json!({ "priority": "high", "ttl": format!("{ttl_secs}s") });
        if let Some(key) = &self.collapse_key {
            json_string_len(key)?;
            android["collapse_key"] = json!(key);
        }
        let mut message = json!({ "data": { PAYLOAD_KEY: envelope_text }, "android": android });
        if let Some(token) = &self.token {
            message["token"] = json!(token);
        }
        let json =
            serde_json::to_string(&message).map_err(|_| Error::InvalidNotification("FCM message cannot be encoded"))?;
        Ok(FcmMessage { json })
    }
}

/// An FCM HTTP v1 `message` object, as JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FcmMessage {
    /// The `message` object. Send `{"message": <json>}` to
    /// `https://fcm.googleapis.com/v1/projects/<project>/messages:send`.
    pub json: String,
}

impl FcmMessage {
    /// The full request body, `{"message": ...}`.
    pub fn request_body(&self) -> String {
        format!("{{\"message\":{}}}", self.json)
    }
}
