//! Group commit: sealers that append at the same time share one write and
//! one sync. The first sealer to find no append running becomes the leader:
//! it takes every queued event, appends them all to the store as one write
//! with one sync, and hands each sealer its records. Events queued while
//! that sync runs go together in the next. Between processes, the store's
//! file lock orders the groups: each process's leader waits for it while its
//! own queue fills.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use pushseal::{Error, Result};

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
    /// Finished appends not yet collected, by ticket.
    finished: HashMap<u64, Result<Vec<AuditRecord>>>,
}

impl GroupCommit {
    fn state(&self) -> MutexGuard<'_, State> {
        // The state is consistent between statements, so a poisoned lock is fine to use.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `events` to `store` with whatever else is queued, and returns
    /// their records once they are durable; the error of the group's append
    /// if it failed (then none of them is written, as far as anyone knows).
    pub(crate) fn append(&self, store: &dyn RecordStore, events: Vec<AuditEvent>) -> Result<Vec<AuditRecord>> {
        let mut state = self.state();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.queue.push((ticket, events));
        loop {
            if let Some(result) = state.finished.remove(&ticket) {
                return result;
            }
            if state.committing {
                state = self.done.wait(state).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state.committing = true;
            let group = std::mem::take(&mut state.queue);
            drop(state);
            let mut leader = Leader { commit: self, tickets: group.iter().map(|(t, e)| (*t, e.len())).collect() };
            let outcome = store.append(group.into_iter().flat_map(|(_, events)| events).collect());
            leader.finish(outcome);
            state = self.state();
        }
    }
}

/// The leader's duty: hand out every group member's result, even if the
/// store panicked.
struct Leader<'a> {
    commit: &'a GroupCommit,
    /// Each member's ticket and number of events, in order.
    tickets: Vec<(u64, usize)>,
}

impl Leader<'_> {
    fn finish(&mut self, outcome: Result<Vec<AuditRecord>>) {
        let mut state = self.commit.state();
        let tickets = std::mem::take(&mut self.tickets);
        match outcome {
            Ok(records) if records.len() == tickets.iter().map(|(_, n)| n).sum::<usize>() => {
                let mut records = records.into_iter();
                for (ticket, n) in tickets {
                    state.finished.insert(ticket, Ok(records.by_ref().take(n).collect()));
                }
            }
            Ok(_) => fail(&mut state, tickets, &Error::Storage("audit log: a store returned the wrong records".into())),
            Err(e) => fail(&mut state, tickets, &e),
        }
        state.committing = false;
        self.commit.done.notify_all();
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if !self.tickets.is_empty() {
            // The store panicked: its group gets an error, and the next waiter leads.
            self.finish(Err(Error::Storage("audit log: an append stopped unexpectedly".into())));
        }
    }
}

fn fail(state: &mut State, tickets: Vec<(u64, usize)>, error: &Error) {
    for (ticket, _) in tickets {
        state.finished.insert(ticket, Err(error.clone()));
    }
}
