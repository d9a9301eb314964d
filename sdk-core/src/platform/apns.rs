//! APNs, both directions: the request a sender makes ([`ApnsOptions`] to
//! [`ApnsRequest`], SPEC.md section 7.1) and the envelope text a device reads
//! from a delivered `userInfo` (section 7.4).
//!
//! An alert push carries `mutable-content: 1`, so that iOS runs the app's
//! Notification Service Extension, which opens the envelope and replaces the
//! alert with the real title and body. The alert in the payload is the
//! fallback that shows if the extension cannot: it must never carry
//! protected information, so its default says only "New message". A
//! background push carries `content-available: 1` instead, and no alert.

use std::borrow::Cow;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::platform::{GATEWAY_LIMIT, PAYLOAD_KEY, Target, parse_payload_json, private::Platform};

/// The fallback title when the sender sets none.
pub const DEFAULT_FALLBACK_TITLE: &str = "New message";

/// How to deliver through APNs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApnsOptions {
    /// Alert (shown, via the Notification Service Extension) or background (silent).
    pub push_type: ApnsPushType,
    /// The fallback title shown if the extension cannot open the envelope.
    /// Generic text only: the gateway and the lock screen see it.
    pub fallback_title: String,
    /// An optional fallback body, under the same rule.
    pub fallback_body: Option<String>,
    /// `apns-collapse-id`: at most 64 bytes, and nothing sensitive (the gateway sees it).
    pub collapse_id: Option<String>,
    /// `apns-topic`: the app's bundle id, if the sender wants it in the headers.
    pub topic: Option<String>,
}

impl Default for ApnsOptions {
    fn default() -> Self {
        Self {
            push_type: ApnsPushType::Alert,
            fallback_title: DEFAULT_FALLBACK_TITLE.to_owned(),
            fallback_body: None,
            collapse_id: None,
            topic: None,
        }
    }
}

impl ApnsOptions {
    /// A background (silent) push: `content-available`, priority 5, no alert.
    pub fn background() -> Self {
        Self { push_type: ApnsPushType::Background, ..Self::default() }
    }

    /// The body around an envelope's text.
    fn body<'a>(&'a self, envelope: &'a str) -> ApnsBody<'a> {
        let aps = match self.push_type {
            ApnsPushType::Alert => Aps {
                alert: Some(Alert { body: self.fallback_body.as_deref(), title: &self.fallback_title }),
                content_available: None,
                mutable_content: Some(1),
            },
            ApnsPushType::Background => Aps { alert: None, content_available: Some(1), mutable_content: None },
        };
        ApnsBody { aps, pushseal: envelope }
    }

    /// Bytes of the body that are not the envelope's text.
    fn overhead(&self) -> Result<usize> {
        self.validate()?;
        let empty = serde_json::to_vec(&self.body("")).map_err(|_| Error::InvalidNotification("APNs options"))?;
        // The empty envelope string's two quotes stay; its text goes between them.
        Ok(empty.len())
    }

    fn validate(&self) -> Result<()> {
        if self.collapse_id.as_ref().is_some_and(|c| c.len() > 64) {
            return Err(Error::InvalidNotification("apns-collapse-id is longer than 64 bytes"));
        }
        Ok(())
    }

    /// The request for one envelope (already base64url) that expires at `expires_at`.
    fn request(&self, envelope_text: &str, expires_at: u64) -> Result<ApnsRequest> {
        self.validate()?;
        let body = serde_json::to_string(&self.body(envelope_text))
            .map_err(|_| Error::InvalidNotification("APNs body cannot be encoded"))?;
        let (push_type, priority) = match self.push_type {
            ApnsPushType::Alert => ("alert", "10"),
            ApnsPushType::Background => ("background", "5"),
        };
        let mut headers = vec![
            ("apns-push-type".to_owned(), push_type.to_owned()),
            ("apns-priority".to_owned(), priority.to_owned()),
            ("apns-expiration".to_owned(), expires_at.to_string()),
        ];
        if let Some(id) = &self.collapse_id {
            headers.push(("apns-collapse-id".to_owned(), id.clone()));
        }
        if let Some(topic) = &self.topic {
            headers.push(("apns-topic".to_owned(), topic.clone()));
        }
        Ok(ApnsRequest { headers, body })
    }
}

impl Target for ApnsOptions {}

impl Platform for ApnsOptions {
    type Payload = ApnsRequest;

    fn payload_size(&self, envelope_text_len: usize) -> Result<(usize, Option<usize>)> {
        Ok((self.overhead()? + envelope_text_len, Some(GATEWAY_LIMIT)))
    }

    fn payload(&self, envelope_text: String, _ttl: u64, expires_at: u64) -> Result<ApnsRequest> {
        self.request(&envelope_text, expires_at)
    }

    fn for_device(&self, _token: Option<&str>, _fid: Option<&str>, collapse_id: Option<&str>) -> Result<Cow<'_, Self>> {
        // The device token goes in the request's path, which the caller builds.
        Ok(match collapse_id {
            Some(id) => Cow::Owned(Self { collapse_id: Some(id.to_owned()), ..self.clone() }),
            None => Cow::Borrowed(self),
        })
    }
}

/// The envelope text in an APNs payload (`userInfo` as JSON text), read as
/// SPEC.md section 7.4 says: the whole payload is parsed strictly, members
/// the device does not use included.
pub(crate) fn envelope_text(json: &str) -> Result<String> {
    let serde_json::Value::Object(mut info) = parse_payload_json(json)? else {
        return Err(Error::NotPushSeal("the APNs payload is not a JSON object"));
    };
    match info.remove(PAYLOAD_KEY) {
        Some(serde_json::Value::String(text)) => Ok(text),
        Some(_) => Err(Error::NotPushSeal("the APNs payload's \"pushseal\" member is not a string")),
        None => Err(Error::NotPushSeal("the APNs payload has no \"pushseal\" key")),
    }
}

/// The APNs body; fields in the byte order `SPEC.md` and the vectors fix.
/// `pushseal` is [`PAYLOAD_KEY`](crate::platform::PAYLOAD_KEY).
#[derive(Serialize)]
struct ApnsBody<'a> {
    aps: Aps<'a>,
    pushseal: &'a str,
}

#[derive(Serialize)]
struct Aps<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    alert: Option<Alert<'a>>,
    #[serde(rename = "content-available", skip_serializing_if = "Option::is_none")]
    content_available: Option<u8>,
    #[serde(rename = "mutable-content", skip_serializing_if = "Option::is_none")]
    mutable_content: Option<u8>,
}

#[derive(Serialize)]
struct Alert<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a str>,
    title: &'a str,
}

/// The two kinds of APNs push PushSeal sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApnsPushType {
    /// `apns-push-type: alert`, priority 10, `mutable-content: 1`, fallback alert.
    Alert,
    /// `apns-push-type: background`, priority 5, `content-available: 1`, no alert.
    Background,
}

/// An APNs request: POST it to `/3/device/<device token>` over HTTP/2 with
/// these headers, plus the sender's own `authorization` (token auth).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApnsRequest {
    /// Header names and values, in a fixed order.
    pub headers: Vec<(String, String)>,
    /// The JSON body (the APNs "payload"), at most 4096 bytes.
    pub body: String,
}

impl ApnsRequest {
    /// The value of one header, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}
