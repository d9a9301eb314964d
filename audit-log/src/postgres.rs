//! The PostgreSQL backend: one log in one database, shared by every sender
//! process on every host that connects to it (feature `postgres`); see
//! [`PgStore`].

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use postgres::config::Host;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, Config, IsolationLevel, Transaction};
use pushseal::{Error, Result};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::checkpoint::{Checkpoint, LogSigningKey};
use crate::conninfo::{ConnInfo, Environment};
use crate::merkle::{self, HashReader, MemoryHashes};
use crate::record::{Anchor, AuditEvent, AuditRecord, Chain, Hash256, MAX_LINE_LEN};
use crate::store::{Decision, RecordStore};
use crate::transparency::{ConsistencyProof, InclusionProof};
use crate::verify::{Verifier, VerifyReport};

/// Creates the tables if they are missing. Run under a transaction-scoped
/// advisory lock, so that processes starting together do not race on
/// `CREATE TABLE IF NOT EXISTS`.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS pushseal_audit_head (
    one boolean PRIMARY KEY DEFAULT true CHECK (one)
);
INSERT INTO pushseal_audit_head (one) VALUES (true) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS pushseal_audit_records (
    seq bigint PRIMARY KEY CHECK (seq >= 0),
    event_key text UNIQUE,
    line bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS pushseal_shared_values (
    name text PRIMARY KEY,
    value bytea NOT NULL,
    expires_at bigint NOT NULL
);
";

/// The tree's table (see [`PgStore`]), created apart: a log made before it
/// existed gets it, filled from its records, when a store connects
/// ([`PgStore::connect`] or [`PgStore::connect_existing`]).
const TREE_TABLE: &str = "
CREATE TABLE pushseal_audit_tree (
    idx bigint PRIMARY KEY CHECK (idx >= 0),
    hash bytea NOT NULL CHECK (length(hash) = 32)
);
";

/// How many stored hashes one statement inserts when a tree is built.
const TREE_INSERT_CHUNK: u64 = 10_000;

/// The advisory lock key that serializes schema creation: the ASCII bytes of
/// "pushseal" as a big-endian integer.
const SCHEMA_LOCK: i64 = 0x7075_7368_7365_616c;

/// How long a connection attempt may take when the connection string does
/// not say (`connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A log in a PostgreSQL database, for a fleet of senders sharing one log.
/// Holds one connection, opened again after it is lost; appends through one
/// handle are serialized (an [`AuditLog`](crate::AuditLog) groups its
/// sealers' records into one transaction per group).
///
/// # Tables
///
/// ```text
/// pushseal_audit_head    (one boolean PRIMARY KEY)          -- one row: the appenders' lock
/// pushseal_audit_records (seq bigint PRIMARY KEY,           -- the record's seq
///                         event_key text UNIQUE,            -- "sealed <message id> <recipient> <envelope>", …
///                         line bytea NOT NULL)              -- the record's line, without its \n
/// pushseal_audit_tree    (idx bigint PRIMARY KEY,           -- a stored hash's index (merkle::stored_hash_index)
///                         hash bytea NOT NULL)              -- the Merkle tree's leaf and subtree hashes
/// ```
///
/// The Merkle tree (SPEC.md section 10.3) is stored as it grows: each
/// append also inserts the stored hashes its records add (their leaves and
/// the subtrees they complete), in the same transaction. So a tree head, an
/// inclusion proof or a consistency proof reads O(log n) rows, with one
/// query ([`PgStore::prove_inclusion`], [`PgStore::checkpoint`]).
///
/// `line` holds exactly the bytes the file backend would write (see the
/// [crate docs](crate#format)), so a log exported in `seq` order, each line
/// followed by `\n`, is a valid log file, and [`PgStore::verify`] applies the
/// file's checks to the same bytes.
///
/// # Appending
///
/// Each append (a group of records, see [Writing](crate#writing)) is one
/// transaction at `READ COMMITTED`: it locks the head row (`SELECT … FOR
/// UPDATE`), so the appends of every process and host are serialized by the
/// database and the order is the database's, whatever the writers' clocks
/// say; it reads the last stored line and encodes the new records after it,
/// inserts them with one statement, and commits. The session runs with
/// `synchronous_commit = on`, so the commit returns once the records are
/// durable on the server. A writer killed or cut off before its commit
/// leaves nothing: the server rolls the transaction back.
///
/// # Retries
///
/// A connection lost while the commit's answer was on its way leaves the
/// caller not knowing whether its records were stored. Appending the same
/// events again is safe: each `sealed` and `delivered` record has a key (its
/// type, message id and device, and a sealing's envelope hash), unique in
/// the table, and an event whose key
/// is already stored with the same content gets the stored record back
/// instead of a second one. The same key with other content is refused with
/// [`Error::Storage`]. A lost connection is opened again by the next call.
///
/// # Connecting
///
/// The connection string is libpq's, in either form, with libpq's TLS and
/// password settings:
///
/// - `sslmode`: `disable`; `prefer` (the default: TLS when the server
///   offers it); `require` (TLS, the server's certificate unchecked, as in
///   libpq); `verify-ca` (TLS, the certificate chained to `sslrootcert`);
///   `verify-full` (also naming the host connected to: what a database
///   across a network needs). `sslrootcert=FILE` is the CA certificate
///   (PEM); with it, `prefer` and `require` check as `verify-ca` does;
///   without it, `verify-ca` and `verify-full` read `~/.postgresql/root.crt`.
///   TLS is rustls (TLS 1.2 or 1.3).
/// - The password: the string's own, else `PGPASSWORD`, else the password
///   file (`passfile=FILE`, else `PGPASSFILE`, else `~/.pgpass`: lines
///   `host:port:database:user:password`, `*` for any), read once when the
///   store is made. A password file others can read is refused when it
///   holds the password.
///
/// ```text
/// postgres://sender@db.internal:5432/pushseal_audit?sslmode=verify-full&sslrootcert=/etc/pushseal/db-ca.pem
/// host=db.internal dbname=pushseal_audit user=sender sslmode=verify-full sslrootcert=/etc/pushseal/db-ca.pem
/// ```
///
/// # Errors
///
/// Every failure (no server, a refused login or certificate, a lost
/// connection, a damaged table) is [`Error::Storage`], with a message
/// naming the database (never its password) and what to do.
pub struct PgStore {
    config: Config,
    tls: MakeRustlsConnect,
    /// The database's name in messages: user, host, port and database, never the password.
    name: String,
    client: Mutex<Option<Client>>,
}

impl Drop for PgStore {
    /// Closes the connection on a thread of its own: the synchronous client
    /// closes through a runtime of its own, which cannot run on a thread
    /// that already drives an async runtime (a sender that delivers with
    /// tokio drops its store there). If no thread can be started, the
    /// connection is left for the server to notice, rather than panic.
    fn drop(&mut self) {
        let Some(client) = self.client.get_mut().unwrap_or_else(PoisonError::into_inner).take() else { return };
        let slot = Mutex::new(Some(client));
        let started = std::thread::scope(|scope| {
            let close = || drop(slot.lock().unwrap_or_else(PoisonError::into_inner).take());
            std::thread::Builder::new().spawn_scoped(scope, close).is_ok()
        });
        if !started {
            std::mem::forget(slot.into_inner().unwrap_or_else(PoisonError::into_inner));
        }
    }
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore").field("database", &self.name).finish_non_exhaustive()
    }
}

impl PgStore {
    /// The log in the database at `url` (`postgres://user@host:port/db`, or
    /// PostgreSQL's `key=value` form), to seal with: connects, and creates
    /// the tables if the database has none yet (and the tree table of a log
    /// made before the tree was stored, filled from its records). Fails with
    /// [`Error::Storage`] if the string is not a connection string (see
    /// [Connecting](PgStore#connecting)), or the server cannot be reached or
    /// refuses the login or its certificate.
    pub fn connect(url: &str) -> Result<Self> {
        let store = Self::new(url)?;
        store.with_client(|client| {
            let mut tx = client.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
            tx.batch_execute(SCHEMA)?;
            Self::add_tree(&mut tx)?;
            tx.commit()
        })?;
        Ok(store)
    }

    /// Inside `tx` (holding the schema lock): if the log has no tree table
    /// (it was made before the tree was stored), creates it and fills it
    /// with the stored hashes of every record, in `seq` order, holding the
    /// appenders' lock so that no record is added meanwhile. A log that has
    /// its table is left as it is.
    fn add_tree(tx: &mut Transaction<'_>) -> core::result::Result<(), postgres::Error> {
        let present: bool = tx.query_one("SELECT to_regclass('pushseal_audit_tree') IS NOT NULL", &[])?.try_get(0)?;
        if present {
            return Ok(());
        }
        tx.execute("SELECT one FROM pushseal_audit_head FOR UPDATE", &[])?;
        tx.batch_execute(TREE_TABLE)?;
        let mut tree = MemoryHashes::default();
        Self::scan(tx, |line, _| {
            // A memory tree holds every hash it reads.
            tree.append_leaf(merkle::leaf_hash(line)).expect("a memory tree appends");
        })?;
        let count = merkle::stored_hash_count(tree.size());
        let mut start = 0u64;
        while start < count {
            let end = count.min(start + TREE_INSERT_CHUNK);
            let indexes: Vec<u64> = (start..end).collect();
            // Every stored hash of a memory tree is in it.
            let hashes: Vec<Vec<u8>> = tree
                .read_hashes(&indexes)
                .expect("a memory tree holds its own hashes")
                .iter()
                .map(|h| h.to_bytes().to_vec())
                .collect();
            let indexes: Vec<i64> = indexes.iter().filter_map(|i| i64::try_from(*i).ok()).collect();
            tx.execute(
                "INSERT INTO pushseal_audit_tree (idx, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])",
                &[&indexes, &hashes],
            )?;
            start = end;
        }
        Ok(())
    }

    /// The log in the database at `url`, which must already hold one (to
    /// record deliveries in, or to verify): fails with [`Error::Storage`] if
    /// its tables are missing (a database without a log is not an empty log).
    /// A log made before the Merkle tree was stored gets its tree table,
    /// filled from its records, as with [`PgStore::connect`].
    pub fn connect_existing(url: &str) -> Result<Self> {
        let store = Self::new(url)?;
        store.require_tables()?;
        store.with_client(|client| {
            let mut tx = client.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
            Self::add_tree(&mut tx)?;
            tx.commit()
        })?;
        Ok(store)
    }

    fn new(url: &str) -> Result<Self> {
        let ConnInfo { mut config, tls } = ConnInfo::parse(url, &Environment::of_process(), describe)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("pushseal-audit");
        }
        let name = describe(&config);
        Ok(Self { config, tls, name, client: Mutex::new(None) })
    }

    /// Runs `f` with a connection, opening one if there is none; maps its
    /// error to [`Error::Storage`]. After any error the connection is dropped
    /// and the next call opens another: a server that terminated the session
    /// may answer with an error before the client sees the socket close, and
    /// a fresh connection costs little next to a call that failed.
    pub(crate) fn with_client<T>(
        &self,
        f: impl FnOnce(&mut Client) -> core::result::Result<T, postgres::Error>,
    ) -> Result<T> {
        let mut guard = self.lock();
        if guard.as_ref().is_none_or(Client::is_closed) {
            *guard = None;
            let mut client = self.config.connect(self.tls.clone()).map_err(|e| self.error("connect to", &e))?;
            // Commits return once durable, whatever the server's default.
            client.batch_execute("SET synchronous_commit = on").map_err(|e| self.error("configure", &e))?;
            *guard = Some(client);
        }
        let client = guard.as_mut().expect("a connection was just opened");
        let outcome = f(client);
        if outcome.is_err() || client.is_closed() {
            *guard = None;
        }
        outcome.map_err(|e| self.error("use", &e))
    }

    fn lock(&self) -> MutexGuard<'_, Option<Client>> {
        // A client left by a panic is either usable or closed (then replaced).
        self.client.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Fails if the database holds no log.
    fn require_tables(&self) -> Result<()> {
        let present = self.with_client(|client| {
            let row = client.query_one(
                "SELECT to_regclass('pushseal_audit_records') IS NOT NULL AND to_regclass('pushseal_audit_head') IS \
                 NOT NULL",
                &[],
            )?;
            row.try_get::<_, bool>(0)
        })?;
        if present {
            Ok(())
        } else {
            Err(Error::Storage(format!(
                "audit database {}: holds no audit log (its tables are missing); give the database the \
                 notifications were sealed with (a database without a log is not an empty log)",
                self.name
            )))
        }
    }

    fn error(&self, operation: &str, err: &postgres::Error) -> Error {
        // The client's own text ("db error") says little: the server's or the
        // system's reason follows it as its source.
        let err = match std::error::Error::source(err) {
            Some(source) => format!("{err}: {source}"),
            None => err.to_string(),
        };
        // A refused certificate is fixed in the connection string, not by waiting.
        let hint = if err.contains("certificate") {
            "check that sslrootcert is the CA that signed the server's certificate, and that the certificate names \
             the host connected to (sslmode=verify-full)"
        } else {
            "check that the server is up and the connection string is right, then try again: a retried append is \
             not recorded twice"
        };
        Error::Storage(format!(
            "audit database {}: cannot {operation} it: {err}; the records of this call may not be stored ({hint})",
            self.name
        ))
    }

    fn damaged(&self, what: &str) -> Error {
        Error::Storage(format!(
            "audit database {}: {what}; nothing was appended (check the log with audit verify --audit-db)",
            self.name
        ))
    }
}

/// The key that makes an event's record unique in the table: a `sealed`
/// record's message id, device and envelope hash (a batch seals one message
/// id to many devices, and may list a device twice: each sealing has its
/// own envelope), a `delivered` record's message id and device (one
/// delivery each), an outcome's (`sent`, `token_gone`, `rejected`,
/// `failed`) message id and device (one outcome each). `recovered` records (which only the file backend writes)
/// have none.
fn event_key(event: &AuditEvent) -> Option<String> {
    match event {
        AuditEvent::Sealed(s) => Some(format!("sealed {} {} {}", s.message_id, s.recipient, s.envelope_sha256)),
        AuditEvent::Delivered(d) => Some(format!("delivered {} {}", d.message_id, d.recipient)),
        AuditEvent::Sent(o) => Some(format!("sent {} {}", o.message_id, o.recipient)),
        AuditEvent::TokenGone(o) => Some(format!("token_gone {} {}", o.message_id, o.recipient)),
        AuditEvent::Rejected(o) => Some(format!("rejected {} {}", o.message_id, o.recipient)),
        AuditEvent::Failed(o) => Some(format!("failed {} {}", o.message_id, o.recipient)),
        AuditEvent::Recovered(_) => None,
    }
}

/// What an append decided inside its transaction, before any error mapping.
enum Planned {
    /// The records, one per event, in order.
    Records(Vec<AuditRecord>),
    /// The store is damaged or refuses the events: the message says how.
    Refused(String),
}

impl PgStore {
    /// Starts an appender's transaction: `READ COMMITTED` (each statement
    /// sees what was committed before it), holding the head row's lock.
    fn begin_append<'a>(client: &'a mut Client) -> core::result::Result<Transaction<'a>, postgres::Error> {
        let mut tx = client.build_transaction().isolation_level(IsolationLevel::ReadCommitted).start()?;
        tx.execute("SELECT one FROM pushseal_audit_head FOR UPDATE", &[])?;
        Ok(tx)
    }

    /// Inside `tx` (holding the head lock): the records of `events`, the
    /// stored ones for events already recorded and new ones after the last
    /// stored record, which it inserts with one statement.
    fn append_in(tx: &mut Transaction<'_>, events: Vec<AuditEvent>) -> core::result::Result<Planned, postgres::Error> {
        let keys: Vec<Option<String>> = events.iter().map(event_key).collect();
        let lookup: Vec<&str> = keys.iter().flatten().map(String::as_str).collect();
        let mut stored: HashMap<String, AuditRecord> = HashMap::new();
        if !lookup.is_empty() {
            for row in
                tx.query("SELECT event_key, line FROM pushseal_audit_records WHERE event_key = ANY($1)", &[&lookup])?
            {
                let key: String = row.try_get(0)?;
                let line: Vec<u8> = row.try_get(1)?;
                match AuditRecord::parse_line(&line) {
                    Ok(record) => stored.insert(key, record),
                    Err(_) => return Ok(Planned::Refused(format!("the stored record of {key} is damaged"))),
                };
            }
        }
        let last = match tx.query_opt("SELECT line FROM pushseal_audit_records ORDER BY seq DESC LIMIT 1", &[])? {
            None => None,
            Some(row) => match AuditRecord::parse_line(&row.try_get::<_, Vec<u8>>(0)?) {
                Ok(record) => Some(record.anchor()),
                Err(_) => return Ok(Planned::Refused("the last stored record is damaged".into())),
            },
        };
        let mut chain = Chain::after(last);
        let (mut seqs, mut new_keys, mut lines) = (Vec::new(), Vec::new(), Vec::new());
        let mut records = Vec::with_capacity(events.len());
        for (event, key) in events.into_iter().zip(keys) {
            if let Some(existing) = key.as_ref().and_then(|k| stored.get(k)) {
                if existing.event != event {
                    return Ok(Planned::Refused(format!(
                        "a record with the key {} is already stored with other content",
                        key.unwrap_or_default()
                    )));
                }
                records.push(existing.clone());
                continue;
            }
            let Some((record, mut line)) = chain.append(event) else {
                return Ok(Planned::Refused("the last stored seq cannot grow".into()));
            };
            let Ok(seq) = i64::try_from(record.seq) else {
                return Ok(Planned::Refused("the last stored seq cannot grow".into()));
            };
            line.pop(); // the `\n`: a row is one line
            if let Some(key) = &key {
                // The same event twice in one group is one record.
                stored.insert(key.clone(), record.clone());
            }
            seqs.push(seq);
            new_keys.push(key);
            lines.push(line);
            records.push(record);
        }
        if !seqs.is_empty() {
            let (indexes, hashes) = match Self::tree_growth(tx, &seqs, &lines)? {
                Ok(growth) => growth,
                Err(refused) => return Ok(Planned::Refused(refused)),
            };
            tx.execute(
                "INSERT INTO pushseal_audit_records (seq, event_key, line) \
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::bytea[])",
                &[&seqs, &new_keys, &lines],
            )?;
            tx.execute(
                "INSERT INTO pushseal_audit_tree (idx, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])",
                &[&indexes, &hashes],
            )?;
        }
        Ok(Planned::Records(records))
    }

    /// The stored hashes that the leaves `lines` (records `seqs`, which
    /// follow the stored ones) add to the tree, with their indexes: read from
    /// the table only the tree's right edge (the roots of its complete
    /// subtrees, at most 64 rows), compute the rest. `Err` if the table
    /// lacks one of them (a damaged tree).
    #[allow(clippy::type_complexity)]
    fn tree_growth(
        tx: &mut Transaction<'_>,
        seqs: &[i64],
        lines: &[Vec<u8>],
    ) -> core::result::Result<core::result::Result<(Vec<i64>, Vec<Vec<u8>>), String>, postgres::Error> {
        let Some(first) = seqs.first().and_then(|s| u64::try_from(*s).ok()) else {
            return Ok(Err("a record's seq is out of range".into()));
        };
        let edge: Vec<i64> = (0..64u8)
            .filter(|level| first >> level & 1 == 1)
            .filter_map(|level| i64::try_from(merkle::stored_hash_index(level, (first >> level) - 1)).ok())
            .collect();
        let mut known = KnownHashes::default();
        for row in tx.query("SELECT idx, hash FROM pushseal_audit_tree WHERE idx = ANY($1)", &[&edge])? {
            let (idx, hash): (i64, Vec<u8>) = (row.try_get(0)?, row.try_get(1)?);
            if let (Ok(idx), Ok(hash)) = (u64::try_from(idx), <[u8; 32]>::try_from(hash)) {
                known.0.insert(idx, Hash256::from_bytes(hash));
            }
        }
        if known.0.len() != edge.len() {
            return Ok(Err("the log's Merkle tree is missing stored hashes".into()));
        }
        let (mut indexes, mut hashes) = (Vec::new(), Vec::new());
        for (n, line) in (first..).zip(lines) {
            let Ok(added) = merkle::stored_hashes_for_leaf(n, merkle::leaf_hash(line), &known) else {
                return Ok(Err("the log's Merkle tree is missing stored hashes".into()));
            };
            for (idx, hash) in (merkle::stored_hash_count(n)..).zip(added) {
                let Ok(i) = i64::try_from(idx) else { return Ok(Err("the tree cannot grow".into())) };
                known.0.insert(idx, hash);
                indexes.push(i);
                hashes.push(hash.to_bytes().to_vec());
            }
        }
        Ok(Ok((indexes, hashes)))
    }

    /// Streams every stored line in `seq` order to `each`, inside `tx`,
    /// with the byte offset it would have in an exported file.
    fn scan(tx: &mut Transaction<'_>, mut each: impl FnMut(&[u8], u64)) -> core::result::Result<(), postgres::Error> {
        let params: [&(dyn postgres::types::ToSql + Sync); 0] = [];
        let mut rows = tx.query_raw("SELECT line FROM pushseal_audit_records ORDER BY seq", params)?;
        let mut offset = 0u64;
        while let Some(row) = rows.next()? {
            let line: &[u8] = row.try_get(0)?;
            // A line longer than any record fails to parse, as in a file.
            each(line.get(..MAX_LINE_LEN + 1).unwrap_or(line), offset);
            offset += line.len() as u64 + 1;
        }
        Ok(())
    }

    fn planned(&self, planned: Planned) -> Result<Vec<AuditRecord>> {
        match planned {
            Planned::Records(records) => Ok(records),
            Planned::Refused(what) => Err(self.damaged(&what)),
        }
    }
}

impl RecordStore for PgStore {
    fn append(&self, events: Vec<AuditEvent>) -> Result<Vec<AuditRecord>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let planned = self.with_client(|client| {
            let mut tx = Self::begin_append(client)?;
            let planned = Self::append_in(&mut tx, events)?;
            if matches!(planned, Planned::Records(_)) {
                tx.commit()?;
            }
            Ok(planned)
        })?;
        self.planned(planned)
    }

    fn append_after_scan(
        &self,
        visit: &mut dyn FnMut(AuditRecord),
        decide: &mut dyn FnMut() -> Result<Decision>,
    ) -> Result<AuditRecord> {
        let planned = self.with_client(|client| {
            let mut tx = Self::begin_append(client)?;
            Self::scan(&mut tx, |line, _| {
                if let Ok(record) = AuditRecord::parse_line(line) {
                    visit(record);
                }
            })?;
            // The decision's own error (an invalid receipt) is not a storage error.
            let planned = match decide() {
                Err(e) => Err(e),
                Ok(Decision::Existing(record)) => Ok(Planned::Records(vec![record])),
                Ok(Decision::Append(event)) => {
                    let planned = Self::append_in(&mut tx, vec![event])?;
                    if matches!(planned, Planned::Records(_)) {
                        tx.commit()?;
                    }
                    Ok(planned)
                }
            };
            Ok(planned)
        })?;
        // append_in returns one record per event.
        Ok(self.planned(planned?)?.into_iter().next().expect("one record for one event"))
    }

    /// Checks the chain as for a file, then the stored Merkle tree against
    /// the tree of the valid records: a stored hash that differs (which
    /// would make checkpoints and proofs disagree with the records) fails
    /// with [`Error::Storage`] naming it.
    fn verify(&self, anchor: Option<Anchor>) -> Result<VerifyReport> {
        self.require_tables()?;
        let mut verifier = Verifier::new(anchor);
        // The tree of every line; cut to the valid records (a prefix) after the scan.
        let mut tree = MemoryHashes::default();
        let mut end = 0u64;
        let mut tree_break = None;
        self.with_client(|client| {
            // One snapshot: records committed during the scan are not half-seen.
            let mut tx =
                client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start()?;
            Self::scan(&mut tx, |line, offset| {
                verifier.line(line, offset);
                // A memory tree holds every hash it reads.
                tree.append_leaf(merkle::leaf_hash(line)).expect("a memory tree appends");
                end = offset + line.len() as u64 + 1;
            })?;
            tree.truncate(verifier.records());
            let count = i64::try_from(merkle::stored_hash_count(tree.size())).unwrap_or(i64::MAX);
            let params: [&(dyn postgres::types::ToSql + Sync); 1] = [&count];
            let mut rows =
                tx.query_raw("SELECT idx, hash FROM pushseal_audit_tree WHERE idx < $1 ORDER BY idx", params)?;
            let mut expected_idx = 0u64;
            while let Some(row) = rows.next()? {
                let (idx, hash): (i64, &[u8]) = (row.try_get(0)?, row.try_get(1)?);
                let matches = u64::try_from(idx).is_ok_and(|i| i == expected_idx)
                    && tree
                        .read_hashes(&[expected_idx])
                        .is_ok_and(|h| h.first().is_some_and(|h| h.to_bytes()[..] == *hash));
                if !matches {
                    tree_break = Some(expected_idx);
                    break;
                }
                expected_idx += 1;
            }
            drop(rows);
            if tree_break.is_none() && i64::try_from(expected_idx).is_ok_and(|n| n < count) {
                tree_break = Some(expected_idx);
            }
            tx.commit()
        })?;
        if let Some(idx) = tree_break {
            return Err(self.damaged(&format!(
                "the stored Merkle tree differs from the records' at stored hash {idx}: checkpoints and proofs \
                 from it would not match the records"
            )));
        }
        Ok(verifier.finish(None, end))
    }
}

/// `user@host:port/database` from a connection string's settings.
fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("(default user)");
    let db = config.get_dbname().unwrap_or(user);
    format!("{user}@{host}:{port}/{db}")
}

/// Stored hashes at hand, by index: the tree's right edge and what an append adds.
#[derive(Default)]
struct KnownHashes(HashMap<u64, Hash256>);

impl HashReader for KnownHashes {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash256>> {
        indexes
            .iter()
            .map(|i| self.0.get(i).copied().ok_or_else(|| Error::Storage("a stored hash is missing".into())))
            .collect()
    }
}

/// The stored hashes in the table: each read is one query.
struct TableHashes<'a>(&'a PgStore);

impl HashReader for TableHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash256>> {
        let wanted: Vec<i64> = indexes.iter().filter_map(|i| i64::try_from(*i).ok()).collect();
        let rows = self.0.with_client(|client| {
            client.query("SELECT idx, hash FROM pushseal_audit_tree WHERE idx = ANY($1)", &[&wanted])
        })?;
        let mut found = KnownHashes::default();
        for row in rows {
            let (idx, hash): (i64, Vec<u8>) = (
                row.try_get(0).map_err(|e| self.0.error("read", &e))?,
                row.try_get(1).map_err(|e| self.0.error("read", &e))?,
            );
            if let (Ok(idx), Ok(hash)) = (u64::try_from(idx), <[u8; 32]>::try_from(hash)) {
                found.0.insert(idx, Hash256::from_bytes(hash));
            }
        }
        found.read_hashes(indexes).map_err(|_| self.0.damaged("the log's Merkle tree is missing stored hashes"))
    }
}

/// The log's Merkle tree, read from the table (SPEC.md sections 10.3 to 10.5).
impl PgStore {
    /// The number of records: the tree's size.
    pub fn tree_size(&self) -> Result<u64> {
        let size: i64 = self.with_client(|client| {
            client.query_one("SELECT coalesce(max(seq) + 1, 0) FROM pushseal_audit_records", &[])?.try_get(0)
        })?;
        u64::try_from(size).map_err(|_| self.damaged("a record's seq is out of range"))
    }

    /// The tree hash of the first `size` records, from at most 64 stored hashes.
    pub fn root_at(&self, size: u64) -> Result<Hash256> {
        merkle::tree_hash(size, &TableHashes(self))
    }

    /// The signed checkpoint of the whole log, as a note to keep and
    /// publish. It signs the tree as it was built at each append, from each
    /// record's line as it was written (a row edited later does not change
    /// it; `verify` finds that edit).
    pub fn checkpoint(&self, key: &LogSigningKey) -> Result<String> {
        let size = self.tree_size()?;
        Ok(key.sign(&Checkpoint::new(key.origin(), size, self.root_at(size)?)))
    }

    /// The inclusion proof of record `record` in the tree `checkpoint`
    /// signed, with the record's line: reads O(log n) rows. Fails if the
    /// log no longer has that tree.
    pub fn prove_inclusion(&self, record: u64, checkpoint: &Checkpoint) -> Result<InclusionProof> {
        self.check_matches(checkpoint)?;
        if record >= checkpoint.size {
            return Err(Error::Malformed("the record is not in the checkpoint's tree (records count from 0)"));
        }
        let hashes = merkle::prove_inclusion(checkpoint.size, record, &TableHashes(self))?;
        let seq = i64::try_from(record).map_err(|_| self.damaged("a record's seq is out of range"))?;
        let line: Option<Vec<u8>> = self.with_client(|client| {
            client
                .query_opt("SELECT line FROM pushseal_audit_records WHERE seq = $1", &[&seq])?
                .map(|r| r.try_get(0))
                .transpose()
        })?;
        let line = line.ok_or_else(|| self.damaged(&format!("record {record} is gone")))?;
        let line = String::from_utf8(line).map_err(|_| Error::Malformed("a record is not UTF-8"))?;
        Ok(InclusionProof { record, tree_size: checkpoint.size, line, hashes })
    }

    /// The consistency proof from the tree `old` signed to the tree `new`
    /// signed: reads O(log n) rows. Fails if the log no longer has either tree.
    pub fn prove_consistency(&self, old: &Checkpoint, new: &Checkpoint) -> Result<ConsistencyProof> {
        if old.origin != new.origin {
            return Err(Error::Malformed("the two checkpoints are of different logs"));
        }
        self.check_matches(old)?;
        self.check_matches(new)?;
        let hashes = merkle::prove_consistency(new.size, old.size, &TableHashes(self))?;
        Ok(ConsistencyProof { old_size: old.size, new_size: new.size, hashes })
    }

    /// Checks that the stored tree of `checkpoint.size` records is the one
    /// it signed: one query when it is (the log's size is read only to say
    /// how it is not).
    fn check_matches(&self, checkpoint: &Checkpoint) -> Result<()> {
        let root = self.root_at(checkpoint.size);
        if root.as_ref().is_ok_and(|root| *root == checkpoint.root) {
            return Ok(());
        }
        let size = self.tree_size()?;
        if checkpoint.size > size {
            return Err(self.damaged(&format!(
                "the log has {size} records, fewer than the {} the checkpoint signed: it was cut back",
                checkpoint.size
            )));
        }
        root?;
        Err(self.damaged(&format!(
            "the log's first {} records are not those the checkpoint signed: it was rewritten",
            checkpoint.size
        )))
    }
}
