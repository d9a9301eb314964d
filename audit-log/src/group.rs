//! Group commit: sealers that append at the same time share one write and
//! one sync. The first sealer to find no append running becomes the leader:
//! it takes every queued event, appends them all to the store as one write
//! with one sync, and hands each sealer its records. Events queued while
//! that sync runs go together in the next. Between processes, the store's
//! file lock orders the groups: each process's leader waits for it while its
//! own queue fills.
//!
//! A store that panics, or returns other records than one per event, has a
//! bug: its leader's caller sees the panic, and the other members of its
//! group panic too, saying so (their records may or may not be written), as
//! they would calling the store themselves. Neither is an error kind a
//! caller could act on.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use pushseal::Result;

use crate::record::{AuditEvent, AuditRecord};
use crate::store::RecordStore;

/// The queue of one log's appends.
#[derive(Debug, Default)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    done: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Appends waiting for the next group, by ticket.
    queue: Vec<(u64, Vec<AuditEvent>)>,
    /// Whether a leader is appending a group now.
    committing: bool,
    next_ticket: u64,
    /// Finished appends not yet collected, by ticket; `None` when the store
    /// panicked during the append.
    finished: HashMap<u64, Option<Result<Vec<AuditRecord>>>>,
}

impl GroupCommit {
    fn state(&self) -> MutexGuard<'_, State> {
        // The state is consistent between statements, so a poisoned lock is fine to use.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `events` to `store` with whatever else is queued, and returns
    /// their records once they are durable; the error of the group's append
    /// if it failed (then none of them is written, as far as anyone knows).
    ///
    /// Panics if the store panicked while appending this group, or returned
    /// other records than one per event: a bug in the store.
    pub(crate) fn append(&self, store: &dyn RecordStore, events: Vec<AuditEvent>) -> Result<Vec<AuditRecord>> {
        let mut state = self.state();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.queue.push((ticket, events));
        loop {
            if let Some(outcome) = state.finished.remove(&ticket) {
                // A store that panicked on another thread has a bug: this
                // append's records may or may not be written, and no error
                // kind says that.
                return outcome.expect("the audit log's store panicked during an append (a bug in that store)");
            }
            if state.committing {
                state = self.done.wait(state).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state.committing = true;
            let group = std::mem::take(&mut state.queue);
            drop(state);
            let mut leader = Leader { commit: self, tickets: group.iter().map(|(t, e)| (*t, e.len())).collect() };
            let events: Vec<AuditEvent> = group.into_iter().flat_map(|(_, events)| events).collect();
            let count = events.len();
            let outcome = store.append(events);
            if let Ok(records) = &outcome {
                // RecordStore's contract; another count is a bug in the store
                // (the leader's drop then fails the rest of the group).
                assert_eq!(records.len(), count, "an audit log store returned another number of records than events");
            }
            leader.finish(Some(outcome));
            state = self.state();
        }
    }
}

/// The leader's duty: hand out every group member's result, even if the
/// store panicked (then `None`).
struct Leader<'a> {
    commit: &'a GroupCommit,
    /// Each member's ticket and number of events, in order.
    tickets: Vec<(u64, usize)>,
}

impl Leader<'_> {
    fn finish(&mut self, outcome: Option<Result<Vec<AuditRecord>>>) {
        let mut state = self.commit.state();
        let tickets = std::mem::take(&mut self.tickets);
        match outcome {
            Some(Ok(records)) => {
                let mut records = records.into_iter();
                for (ticket, n) in tickets {
                    state.finished.insert(ticket, Some(Ok(records.by_ref().take(n).collect())));
                }
            }
            Some(Err(e)) => {
                for (ticket, _) in tickets {
                    state.finished.insert(ticket, Some(Err(e.clone())));
                }
            }
            None => {
                for (ticket, _) in tickets {
                    state.finished.insert(ticket, None);
                }
            }
        }
        state.committing = false;
        self.commit.done.notify_all();
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if !self.tickets.is_empty() {
            // The store panicked: its group learns it, and the next waiter leads.
            self.finish(None);
        }
    }
}
