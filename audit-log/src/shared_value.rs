//! Values a fleet of senders shares through the audit database, each
//! refreshed by one worker at a time: an APNs provider token (a signed JWT
//! that Apple wants reused for 20 to 60 minutes, not minted by every
//! process) is the case in point.
//!
//! A value has a name and an expiry (unix seconds). [`PgStore::shared_value`]
//! returns the stored value while it has more than `refresh_before` seconds
//! left; otherwise it takes a transaction-scoped PostgreSQL advisory lock on
//! the name, looks again (another worker may have refreshed it while this
//! one waited), and only if the value is still stale calls `refresh`, stores
//! its result and commits. So however many workers find the value stale at
//! once, one of them refreshes it and the others get its result.
//!
//! ```text
//! pushseal_shared_values (name text PRIMARY KEY, value bytea NOT NULL, expires_at bigint NOT NULL)
//! ```
//!
//! The value is stored in clear: anyone who can read that table can use it.
//! Keep only short-lived credentials there (a provider token, never the key
//! that signs it).

use std::fmt;

use pushseal::{Error, Result};
use zeroize::Zeroizing;

use crate::postgres::PgStore;

/// The longest name of a shared value, in bytes.
pub const MAX_SHARED_VALUE_NAME_LEN: usize = 128;

/// A value shared by a fleet (see [`PgStore::shared_value`]): its bytes,
/// wiped on drop and not shown by `Debug`, and when it expires.
#[derive(Clone, PartialEq, Eq)]
pub struct SharedValue {
    value: Zeroizing<Vec<u8>>,
    expires_at: u64,
}

impl SharedValue {
    /// A value that expires at `expires_at` (unix seconds).
    pub fn new(value: Vec<u8>, expires_at: u64) -> Self {
        Self { value: Zeroizing::new(value), expires_at }
    }

    /// The value's bytes.
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// When it expires, unix seconds.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }
}

impl fmt::Debug for SharedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedValue")
            .field("value", &format_args!("<{} bytes>", self.value.len()))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl PgStore {
    /// The fleet's value named `name`: the stored one if it expires more
    /// than `refresh_before` seconds after `now`; else, under an advisory
    /// lock on the name that one worker holds at a time, the value another
    /// worker stored meanwhile, or the one `refresh` returns (which is then
    /// stored for everyone). However many workers find the value stale at
    /// once, one refreshes it and the others get its result: for an APNs
    /// provider token, which Apple wants reused for 20 to 60 minutes rather
    /// than minted by every process. The value is stored in clear in the
    /// table `pushseal_shared_values`: keep only short-lived credentials
    /// there (a provider token, never the key that signs it).
    ///
    /// Fails with [`Error::InvalidEncoding`] if `name` is empty, longer than
    /// [`MAX_SHARED_VALUE_NAME_LEN`] bytes or has control characters; with
    /// `refresh`'s own error if it fails (nothing is stored); with
    /// [`Error::Storage`] if the database fails, or if `refresh` returns a
    /// value that is already stale (it would be refreshed at every call).
    pub fn shared_value(
        &self,
        name: &str,
        now: u64,
        refresh_before: u64,
        refresh: impl FnOnce() -> Result<SharedValue>,
    ) -> Result<SharedValue> {
        if name.is_empty() || name.len() > MAX_SHARED_VALUE_NAME_LEN || name.chars().any(char::is_control) {
            return Err(Error::InvalidEncoding(
                "a shared value's name is 1 to 128 bytes of text without control characters",
            ));
        }
        let fresh = |v: &SharedValue| v.expires_at > now.saturating_add(refresh_before);
        if let Some(value) = self.with_client(|client| read(client, name))?.filter(fresh) {
            return Ok(value);
        }
        let mut refresh = Some(refresh);
        self.with_client(|client| {
            let mut tx = client.transaction()?;
            // One lock per name; the key is the name's 64-bit hash, so two
            // names may rarely share a lock (they then refresh in turn).
            tx.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", &[&name])?;
            if let Some(value) = read(&mut tx, name)?.filter(fresh) {
                return Ok(Ok(value));
            }
            let Some(refresh) = refresh.take() else { return Ok(Err(stale_refresh())) };
            let value = match refresh() {
                Ok(value) => value,
                Err(e) => return Ok(Err(e)),
            };
            if !fresh(&value) {
                return Ok(Err(stale_refresh()));
            }
            let Ok(expires_at) = i64::try_from(value.expires_at) else { return Ok(Err(stale_refresh())) };
            tx.execute(
                "INSERT INTO pushseal_shared_values (name, value, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at",
                &[&name, &value.value(), &expires_at],
            )?;
            tx.commit()?;
            Ok(Ok(value))
        })?
    }
}

fn stale_refresh() -> Error {
    Error::Storage(
        "shared value: the refreshed value expires too soon (or too late to store); return one that lives longer \
         than the refresh margin"
            .into(),
    )
}

/// The stored value named `name`, if any.
fn read(
    client: &mut impl postgres::GenericClient,
    name: &str,
) -> core::result::Result<Option<SharedValue>, postgres::Error> {
    let row = client.query_opt("SELECT value, expires_at FROM pushseal_shared_values WHERE name = $1", &[&name])?;
    Ok(match row {
        None => None,
        Some(row) => {
            let value: Vec<u8> = row.try_get(0)?;
            let expires_at: i64 = row.try_get(1)?;
            // A negative expiry (written by hand) is long past.
            Some(SharedValue::new(value, u64::try_from(expires_at).unwrap_or(0)))
        }
    })
}
