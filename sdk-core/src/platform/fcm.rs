//! FCM, both directions: the HTTP v1 `message` object a sender makes
//! ([`FcmOptions`] to [`FcmMessage`], SPEC.md section 7.2) and the envelope
//! text a device reads from a delivered data map (section 7.4).
//!
//! Data-only, so the app's `FirebaseMessagingService.onMessageReceived` always
//! runs, even in the background, and can show the real text; high priority by
//! default so it is delivered at once ([`FcmPriority`] says when to choose
//! normal). The request body is `{"message": <this object>}`.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::platform::{GATEWAY_LIMIT, PAYLOAD_KEY, Target, private::Platform};

/// `android.priority`: when FCM delivers the message to a device in Doze.
///
/// Firebase delivers a high-priority message at once, waking the device, and
/// asks that every one of them lead to a notification the user sees; when an
/// app's high-priority messages often show nothing, FCM deprioritizes that
/// app's messages to normal. A PushSeal notification is shown as it arrives
/// (its real text, or the app's generic fallback when it cannot be opened),
/// so [`FcmPriority::High`] is the default. Choose [`FcmPriority::Normal`]
/// when the device will likely show nothing: the app reported that the user
/// turned its notifications off, or the message only tells the app to sync.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum FcmPriority {
    /// `"high"`: delivered at once, for a notification the user sees (the default).
    #[default]
    High,
    /// `"normal"`: may wait until the device leaves Doze.
    Normal,
}

impl FcmPriority {
    /// The value of `android.priority` in the message (`"high"` or `"normal"`).
    const fn name(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Normal => "normal",
        }
    }
}

/// How to deliver through FCM.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FcmOptions {
    /// The device's registration token, if the message should carry it.
    pub token: Option<String>,
    /// The device's Firebase Installation ID (FID), if the message should be
    /// addressed by it rather than by a registration token (SPEC.md section
    /// 7.2). A message carries at most one of `token` and `fid`.
    pub fid: Option<String>,
    /// `android.collapse_key`: nothing sensitive (the gateway sees it).
    pub collapse_key: Option<String>,
    /// `android.priority`: high (the default) or normal; see [`FcmPriority`].
    pub priority: FcmPriority,
}

impl FcmOptions {
    /// Options with the device's registration token.
    pub fn with_token(token: impl Into<String>) -> Self {
        Self { token: Some(token.into()), ..Self::default() }
    }

    /// Options with the device's Firebase Installation ID (FID) as the
    /// message's target, in place of a registration token.
    pub fn with_fid(fid: impl Into<String>) -> Self {
        Self { fid: Some(fid.into()), ..Self::default() }
    }

    /// These options with `android.priority` set to `priority`.
    #[must_use]
    pub fn with_priority(mut self, priority: FcmPriority) -> Self {
        self.priority = priority;
        self
    }

    /// Bytes of the data map that are not the envelope text: FCM's 4096-byte
    /// limit counts the data map's keys and values; this counts its JSON.
    fn data_overhead(&self) -> usize {
        // {"pushseal":""}
        PAYLOAD_KEY.len() + 7
    }

    /// The message object for one envelope (already base64url) with `ttl_secs` to live.
    fn message(&self, envelope_text: &str, ttl_secs: u64) -> Result<FcmMessage> {
        if self.token.is_some() && self.fid.is_some() {
            return Err(Error::InvalidNotification(
                "an FCM message targets one device: give its registration token or its installation id (fid), not both",
            ));
        }
        let message = Message {
            android: Android {
                collapse_key: self.collapse_key.as_deref(),
                priority: self.priority.name(),
                ttl: format!("{ttl_secs}s"),
            },
            data: Data { pushseal: envelope_text },
            fid: self.fid.as_deref(),
            token: self.token.as_deref(),
        };
        let json =
            serde_json::to_string(&message).map_err(|_| Error::InvalidNotification("FCM message cannot be encoded"))?;
        Ok(FcmMessage { json })
    }
}

impl Target for FcmOptions {}

impl Platform for FcmOptions {
    type Payload = FcmMessage;

    fn payload_size(&self, envelope_text_len: usize) -> Result<(usize, Option<usize>)> {
        Ok((self.data_overhead() + envelope_text_len, Some(GATEWAY_LIMIT)))
    }

    fn payload(&self, envelope_text: String, ttl: u64, _expires_at: u64) -> Result<FcmMessage> {
        self.message(&envelope_text, ttl)
    }

    fn for_device(&self, token: Option<&str>, fid: Option<&str>, collapse_id: Option<&str>) -> Result<Cow<'_, Self>> {
        if self.token.is_some() || self.fid.is_some() {
            // One token on every device's message would send them all to one device.
            return Err(Error::InvalidNotification(
                "a batch takes each device's FCM token or fid from its BatchDevice, not from the batch's FcmOptions",
            ));
        }
        if token.is_none() && fid.is_none() && collapse_id.is_none() {
            return Ok(Cow::Borrowed(self));
        }
        Ok(Cow::Owned(Self {
            token: token.map(str::to_owned),
            fid: fid.map(str::to_owned),
            collapse_key: collapse_id.map(str::to_owned).or_else(|| self.collapse_key.clone()),
            priority: self.priority,
        }))
    }
}

/// The envelope text in an FCM data map (SPEC.md section 7.4).
pub(crate) fn envelope_text(data: &HashMap<String, String>) -> Result<&str> {
    data.get(PAYLOAD_KEY).map(String::as_str).ok_or(Error::NotPushSeal("the FCM data has no \"pushseal\" key"))
}

/// The data map inside FCM JSON text already read by the strict rules
/// ([`parse_payload_json`](crate::parse_payload_json)), as SPEC.md section
/// 7.4 says: a request body's `message.data`, a message object's `data`, or
/// the object itself; every value of the data map a string.
pub fn data_map_in(value: serde_json::Value) -> Result<HashMap<String, String>> {
    use serde_json::Value;
    let object = |value: Value| match value {
        Value::Object(map) => Some(map),
        _ => None,
    };
    let mut outer = object(value).ok_or(Error::NotPushSeal("the FCM JSON text is not an object"))?;
    let is_object = |map: &serde_json::Map<String, Value>, name: &str| map.get(name).is_some_and(Value::is_object);
    let data = if is_object(&outer, "message") {
        // A request body: the data map is message.data.
        let mut message = outer.remove("message").and_then(object).unwrap_or_default();
        message
            .remove("data")
            .and_then(object)
            .ok_or(Error::NotPushSeal("the FCM request body's message has no \"data\" object"))?
    } else if is_object(&outer, "data") {
        // A message object.
        outer.remove("data").and_then(object).unwrap_or_default()
    } else {
        outer
    };
    data.into_iter()
        .map(|(key, value)| match value {
            Value::String(s) => Ok((key, s)),
            _ => Err(Error::NotPushSeal("the FCM data map holds a value that is not a string (FCM data values are strings)")),
        })
        .collect()
}

/// The `message` object; fields in the byte order `SPEC.md` and the vectors fix.
#[derive(Serialize)]
struct Message<'a> {
    android: Android<'a>,
    data: Data<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
}

#[derive(Serialize)]
struct Android<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    collapse_key: Option<&'a str>,
    priority: &'static str,
    ttl: String,
}

/// The data map: one key, [`PAYLOAD_KEY`].
#[derive(Serialize)]
struct Data<'a> {
    pushseal: &'a str,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_is_high_unless_asked_and_changes_only_its_value() {
        let high = FcmOptions::with_token("t").message("ENV", 60).unwrap().json;
        assert_eq!(high, r#"{"android":{"priority":"high","ttl":"60s"},"data":{"pushseal":"ENV"},"token":"t"}"#);
        let normal = FcmOptions::with_token("t").with_priority(FcmPriority::Normal).message("ENV", 60).unwrap().json;
        assert_eq!(normal, high.replace(r#""priority":"high""#, r#""priority":"normal""#));
        assert_eq!(FcmOptions::default().priority, FcmPriority::High);
    }

    #[test]
    fn the_data_map_in_json_text_is_found_by_shape_and_holds_only_strings() {
        let map = |text: &str| crate::parse_payload_json(text).and_then(data_map_in);
        let one = Ok(HashMap::from([("pushseal".to_owned(), "ENV".to_owned())]));
        // The data map, a message object, a request body (SPEC.md section 7.4).
        assert_eq!(map(r#"{"pushseal":"ENV"}"#), one);
        assert_eq!(map(r#"{"android":{"ttl":"60s"},"data":{"pushseal":"ENV"},"token":"t"}"#), one);
        assert_eq!(map(r#"{"message":{"data":{"pushseal":"ENV"},"token":"t"}}"#), one);
        // A data map may hold keys named "data" and "message": their values are strings.
        let named = map(r#"{"data":"d","message":"m","pushseal":"ENV"}"#).unwrap();
        assert_eq!((named.len(), named["data"].as_str()), (3, "d"));
        // A request body's data map is message.data, never the message itself.
        let not = |text: &str| map(text).unwrap_err().kind();
        assert_eq!(not(r#"{"message":{"pushseal":"ENV"}}"#), crate::ErrorKind::NotPushSeal);
        // A value that is not a string, in the data map at any of the three places.
        for text in [
            r#"{"pushseal":"ENV","x":1}"#,
            r#"{"data":{"pushseal":"ENV","x":null}}"#,
            r#"{"message":{"data":{"pushseal":"ENV","x":{}}}}"#,
            r#"{"pushseal":["ENV"]}"#,
            "[]",
        ] {
            assert_eq!(not(text), crate::ErrorKind::NotPushSeal, "{text}");
        }
        // Outside the data map, any valid JSON.
        assert_eq!(map(r#"{"android":{"ttl":1,"x":[null]},"data":{"pushseal":"ENV"}}"#), one);
    }

    #[test]
    fn an_fid_takes_the_place_of_the_token_and_never_stands_beside_it() {
        let fid = FcmOptions::with_fid("f").message("ENV", 60).unwrap().json;
        assert_eq!(fid, r#"{"android":{"priority":"high","ttl":"60s"},"data":{"pushseal":"ENV"},"fid":"f"}"#);
        let both = FcmOptions { fid: Some("f".into()), ..FcmOptions::with_token("t") };
        assert!(matches!(both.message("ENV", 60), Err(Error::InvalidNotification(_))));
        let batch = FcmOptions::default();
        let one = batch.for_device(None, Some("f"), None).unwrap();
        assert_eq!(one.fid.as_deref(), Some("f"));
        assert!(FcmOptions::with_fid("f").for_device(Some("t"), None, None).is_err());
    }
}
