//! The freed-heap scanner that `zeroize_heap.rs` (here and in `bindings/tests/`)
//! installs as the test binary's global allocator: it wraps the system
//! allocator and, while a test thread has armed it, scans every block that
//! thread frees, *before* handing it back, for the bytes of known secrets.
//! Freed memory is never read: the block still belongs to the program when it
//! is scanned. This file holds the test suites' only `unsafe`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Mutex;

/// Up to this many byte patterns, each up to `MAX_PATTERN` bytes, are searched for.
const MAX_PATTERNS: usize = 8;
const MAX_PATTERN: usize = 64;

/// The patterns of the armed thread, and what was found. Set only while the
/// allocator is disarmed on this thread, read while it is armed; the lock is
/// never held across an allocation.
struct Watch {
    patterns: [([u8; MAX_PATTERN], usize); MAX_PATTERNS],
    count: usize,
    /// (pattern index, freed block size) of every hit.
    hits: [(usize, usize); 16],
    hit_count: usize,
}

static WATCH: Mutex<Watch> =
    Mutex::new(Watch { patterns: [([0; MAX_PATTERN], 0); MAX_PATTERNS], count: 0, hits: [(0, 0); 16], hit_count: 0 });

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
}

struct ScanningAllocator;

#[global_allocator]
static ALLOCATOR: ScanningAllocator = ScanningAllocator;

// SAFETY: every method forwards to `System` with the caller's arguments; the
// only addition reads a block the caller still owns, before it is freed.
unsafe impl GlobalAlloc for ScanningAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.with(Cell::get) {
            // SAFETY: `ptr` is a live allocation of `layout.size()` bytes
            // (the caller's contract for `dealloc`), not yet released.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            scan(block);
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Records every pattern found in `block`. Allocates nothing.
fn scan(block: &[u8]) {
    let Ok(mut watch) = WATCH.try_lock() else { return };
    for i in 0..watch.count {
        let (bytes, len) = watch.patterns[i];
        let pattern = &bytes[..len];
        if block.windows(len).any(|w| w == pattern) && watch.hit_count < watch.hits.len() {
            let n = watch.hit_count;
            watch.hits[n] = (i, block.len());
            watch.hit_count += 1;
        }
    }
}

/// Runs `f` with the allocator armed on this thread for `patterns`, and
/// returns the hits as (pattern name, freed block size).
pub fn freed_blocks_holding<'a>(patterns: &[(&'a str, &[u8])], f: impl FnOnce()) -> Vec<(&'a str, usize)> {
    assert!(patterns.len() <= MAX_PATTERNS);
    {
        let mut watch = WATCH.lock().unwrap();
        for (slot, (_, p)) in watch.patterns.iter_mut().zip(patterns) {
            assert!(p.len() >= 16 && p.len() <= MAX_PATTERN, "patterns must be distinctive and short");
            slot.0[..p.len()].copy_from_slice(p);
            slot.1 = p.len();
        }
        watch.count = patterns.len();
        watch.hit_count = 0;
    }
    ARMED.with(|a| a.set(true));
    f();
    ARMED.with(|a| a.set(false));
    let watch = WATCH.lock().unwrap();
    watch.hits[..watch.hit_count].iter().map(|&(i, size)| (patterns[i].0, size)).collect()
}

/// One test at a time: the watch list is shared by the whole binary.
pub static SERIAL: Mutex<()> = Mutex::new(());
