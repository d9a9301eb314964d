//! The notification inside an envelope: what the sender writes ([`Message`])
//! and what the device gets back ([`Notification`]).
//!
//! The plaintext is one JSON object whose fields, encoding and limits are
//! SPEC.md section 5; the device's time checks ([`CLOCK_SKEW_SECS`] each way,
//! a TTL of at most [`MAX_TTL_SECS`]) are section 8.1.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::encoding::hex_text_form;
use crate::error::{Error, Result};

/// The TTL a [`Message`] gets unless it says otherwise: one day.
pub const DEFAULT_TTL_SECS: u64 = 24 * 60 * 60;
/// The longest TTL: 28 days, the most FCM accepts.
pub const MAX_TTL_SECS: u64 = 28 * 24 * 60 * 60;
/// Seconds of clock skew a device allows each way when it checks `sent_at`
/// and `expires_at` (SPEC.md section 8.1).
pub const CLOCK_SKEW_SECS: u64 = 300;

/// A message id: 128 random bits, chosen by the sender for each notification.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId([u8; 16]);

impl MessageId {
    /// A new random id from the operating system's random number generator.
    pub fn random() -> Result<Self> {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|_| Error::Randomness)?;
        Ok(Self(id))
    }

    /// An id from its 16 bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 bytes of the id.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

hex_text_form!(MessageId, 16, "a message id: 32 lowercase hex digits");

/// What a sender writes: the text and data a device will show, and how long
/// it stays deliverable. Build one with [`Message::new`] and the `with_*` methods.
///
/// ```
/// let msg = pushseal::Message::new("Lab results", "Your results from Tuesday are ready.")
///     .with_data("ref", "lab-7731")
///     .with_ttl(3600);
/// assert_eq!(msg.ttl_secs, 3600);
/// ```
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// The notification's title.
    pub title: String,
    /// The notification's body text.
    pub body: String,
    /// Extra key-value data for the app (a deep link, a reference to fetch).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "map_without_duplicates")]
    pub data: BTreeMap<String, String>,
    /// Groups notifications (iOS `threadIdentifier`, Android group).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub thread_id: Option<String>,
    /// The category (iOS `categoryIdentifier`, Android channel).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub category: Option<String>,
    /// The app icon badge number.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub badge: Option<u32>,
    /// A sound name ("default" for the system sound).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub sound: Option<String>,
    /// Seconds the notification stays valid after it is sealed; 1 to
    /// [`MAX_TTL_SECS`]. Not encoded itself: it sets `expires_at`.
    #[serde(skip)]
    pub ttl_secs: u64,
}

/// An optional field that holds a value when it is there: `null` is refused
/// like any other value of the wrong type, and an absent field is `None`.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> core::result::Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A string map that refuses a key given twice: two parsers that kept the
/// first and the last of a duplicate would read different data.
fn map_without_duplicates<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> core::result::Result<BTreeMap<String, String>, D::Error> {
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = BTreeMap<String, String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of strings")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> core::result::Result<Self::Value, A::Error> {
            let mut map = BTreeMap::new();
            while let Some((key, value)) = access.next_entry::<String, String>()? {
                if map.insert(key, value).is_some() {
                    return Err(serde::de::Error::custom("a data key appears twice"));
                }
            }
            Ok(map)
        }
    }
    d.deserialize_map(Visitor)
}

impl Message {
    /// A message with a title and a body, and the default TTL of one day.
    pub fn new(title: impl Into<String>, body: impl Into<String>) -> Self {
        Self { title: title.into(), body: body.into(), ttl_secs: DEFAULT_TTL_SECS, ..Self::default() }
    }

    /// Adds one `data` entry.
    pub fn with_data(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.data.insert(key.into(), value.into());
        self
    }

    /// Sets the TTL in seconds.
    pub fn with_ttl(mut self, ttl_secs: u64) -> Self {
        self.ttl_secs = ttl_secs;
        self
    }

    /// Sets the thread (group) id.
    pub fn with_thread_id(mut self, thread_id: impl Into<String>) -> Self {
        self.thread_id = Some(thread_id.into());
        self
    }

    /// Sets the category.
    pub fn with_category(mut self, category: impl Into<String>) -> Self {
        self.category = Some(category.into());
        self
    }

    /// Sets the badge number.
    pub fn with_badge(mut self, badge: u32) -> Self {
        self.badge = Some(badge);
        self
    }

    /// Sets the sound.
    pub fn with_sound(mut self, sound: impl Into<String>) -> Self {
        self.sound = Some(sound.into());
        self
    }

    /// `ttl_secs`, or the default when it is 0 (as after deserializing).
    pub(crate) fn effective_ttl(&self) -> Result<u64> {
        match self.ttl_secs {
            0 => Ok(DEFAULT_TTL_SECS),
            t if t <= MAX_TTL_SECS => Ok(t),
            _ => Err(Error::InvalidNotification("the TTL is longer than 28 days")),
        }
    }

    /// Writes the plaintext JSON of this message, stamped with `id` and the
    /// sealing time `now`, to the end of `buf`.
    pub(crate) fn encode_into(&self, id: MessageId, now: u64, buf: &mut Vec<u8>) -> Result<()> {
        let expires_at =
            now.checked_add(self.effective_ttl()?).ok_or(Error::InvalidNotification("the expiry time overflows"))?;
        let stamped = Stamped { id, sent_at: now, expires_at, message: self };
        serde_json::to_writer(buf, &stamped)
            .map_err(|_| Error::InvalidNotification("the message cannot be encoded as JSON"))
    }
}

/// Shows sizes, never the text: messages hold protected information.
impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("title", &format_args!("[{} bytes]", self.title.len()))
            .field("body", &format_args!("[{} bytes]", self.body.len()))
            .field("data", &format_args!("[{} entries]", self.data.len()))
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Stamped<'a> {
    id: MessageId,
    sent_at: u64,
    expires_at: u64,
    #[serde(flatten)]
    message: &'a Message,
}

/// What the device gets from an envelope: the sender's [`Message`] with its
/// id and times. Only a notification that passed every check is returned.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notification {
    /// The message id the sender chose.
    pub id: MessageId,
    /// When it was sealed, unix seconds.
    pub sent_at: u64,
    /// When it stops being valid, unix seconds.
    pub expires_at: u64,
    /// Title, body, data and presentation fields.
    #[serde(flatten)]
    pub message: Message,
}

impl Notification {
    /// Parses the plaintext JSON of an envelope. The error never quotes the
    /// input: it is protected information.
    pub fn decode(plaintext: &[u8]) -> Result<Self> {
        // serde would also take a JSON array for a struct; the format is an object only.
        if plaintext.trim_ascii_start().first() != Some(&b'{') {
            return Err(Error::Malformed("the decrypted notification is not a JSON object"));
        }
        let mut n: Notification = serde_json::from_slice(plaintext)
            .map_err(|_| Error::Malformed("the decrypted notification is not valid PushSeal JSON"))?;
        let ttl = n.expires_at.checked_sub(n.sent_at);
        match ttl {
            None => return Err(Error::Malformed("the notification expires before it was sent")),
            Some(t) if t > MAX_TTL_SECS => {
                return Err(Error::Malformed("the notification's TTL is longer than 28 days (2419200 seconds)"));
            }
            Some(t) => n.message.ttl_secs = t,
        }
        Ok(n)
    }

    /// The device's time checks, with [`CLOCK_SKEW_SECS`] of allowance each way:
    /// `now > expires_at + 300` is [`Error::Expired`], `sent_at > now + 300`
    /// is [`Error::NotYetValid`]. The sums are exact (SPEC.md §8.1): saturating
    /// at `u64::MAX` gives the same answers, since no `u64` exceeds it.
    pub fn check_time(&self, now: u64) -> Result<()> {
        if now > self.expires_at.saturating_add(CLOCK_SKEW_SECS) {
            return Err(Error::Expired { expires_at: self.expires_at, now });
        }
        if self.sent_at > now.saturating_add(CLOCK_SKEW_SECS) {
            return Err(Error::NotYetValid { sent_at: self.sent_at, now });
        }
        Ok(())
    }
}

/// Shows the id and times, never the text.
impl fmt::Debug for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notification")
            .field("id", &self.id)
            .field("sent_at", &self.sent_at)
            .field("expires_at", &self.expires_at)
            .field("message", &self.message)
            .finish()
    }
}

/// The current time in unix seconds (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_decodes() {
        let msg = Message::new("Lab results", "Ready").with_data("ref", "7").with_badge(2).with_ttl(60);
        let mut buf = Vec::new();
        let id = MessageId::from_bytes([0xab; 16]);
        msg.encode_into(id, 1000, &mut buf).unwrap();
        assert_eq!(
            std::str::from_utf8(&buf).unwrap(),
            r#"{"id":"abababababababababababababababab","sent_at":1000,"expires_at":1060,"title":"Lab results","body":"Ready","data":{"ref":"7"},"badge":2}"#
        );
        let n = Notification::decode(&buf).unwrap();
        assert_eq!((n.id, n.sent_at, n.expires_at), (id, 1000, 1060));
        assert_eq!(n.message, msg);
    }

    #[test]
    fn decode_rejects_without_quoting_the_input() {
        for bad in [
            &br#"{"id":"00","sent_at":1,"expires_at":2,"title":"SECRET","body":"b"}"#[..],
            br#"{"id":"00000000000000000000000000000000","sent_at":1,"expires_at":2,"title":"SECRET","body":"b","x":1}"#,
            br#"{"id":"00000000000000000000000000000000","sent_at":3,"expires_at":2,"title":"SECRET","body":"b"}"#,
            br#"{"id":"00000000000000000000000000000000","sent_at":1,"expires_at":2,"title":5,"body":"SECRET"}"#,
            b"SECRET",
            br#"["00000000000000000000000000000000",1,2,"SECRET","b"]"#,
            br#"{"id":"00000000000000000000000000000000","sent_at":1,"expires_at":2,"title":"t","body":"b","data":{"k":"SECRET","k":"x"}}"#,
        ] {
            let e = Notification::decode(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Malformed);
            assert!(!e.to_string().contains("SECRET"));
        }
    }

    #[test]
    fn time_checks_allow_the_skew_and_no_more() {
        let n = Notification {
            id: MessageId::from_bytes([0; 16]),
            sent_at: 1000,
            expires_at: 2000,
            message: Message::default(),
        };
        assert!(n.check_time(2000 + CLOCK_SKEW_SECS).is_ok());
        assert_eq!(n.check_time(2001 + CLOCK_SKEW_SECS).unwrap_err().kind(), crate::ErrorKind::Expired);
        assert!(n.check_time(1000 - CLOCK_SKEW_SECS).is_ok());
        assert_eq!(n.check_time(999 - CLOCK_SKEW_SECS).unwrap_err().kind(), crate::ErrorKind::NotYetValid);
        assert_eq!(
            Message::new("", "").with_ttl(MAX_TTL_SECS + 1).effective_ttl().unwrap_err().kind(),
            crate::ErrorKind::InvalidNotification
        );
        // Exact sums: nothing wraps at the top of the range.
        let top = Notification { sent_at: 1000, expires_at: u64::MAX, ..n.clone() };
        assert!(top.check_time(u64::MAX).is_ok());
        let future = Notification { sent_at: u64::MAX, expires_at: u64::MAX, ..n };
        assert_eq!(future.check_time(1_767_225_600).unwrap_err().kind(), crate::ErrorKind::NotYetValid);
        assert!(future.check_time(u64::MAX - CLOCK_SKEW_SECS).is_ok());
    }

    #[test]
    fn a_ttl_beyond_28_days_is_malformed() {
        let json = |sent: u64, exp: u64| {
            format!(
                r#"{{"id":"00000000000000000000000000000000","sent_at":{sent},"expires_at":{exp},"title":"t","body":"b"}}"#
            )
        };
        assert_eq!(Notification::decode(json(5, 5 + MAX_TTL_SECS).as_bytes()).unwrap().message.ttl_secs, MAX_TTL_SECS);
        for (sent, exp) in [(5, 6 + MAX_TTL_SECS), (1_767_225_600, u64::MAX), (0, u64::MAX)] {
            let e = Notification::decode(json(sent, exp).as_bytes()).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Malformed, "{sent} {exp}");
        }
    }

    #[test]
    fn debug_never_shows_text() {
        let msg = Message::new("SECRET TITLE", "SECRET BODY").with_data("k", "SECRET VALUE");
        assert!(!format!("{msg:?}").contains("SECRET"));
    }
}
