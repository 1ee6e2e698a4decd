//! Memory the process holds but no longer uses.

/// Hands memory freed so far back to the operating system. Opening a large
/// database allocates and frees a few hundred MiB (sled's recovery), which
/// mimalloc would otherwise keep mapped for reuse (BENCHMARKS.md).
#[allow(unsafe_code)]
pub fn return_freed_memory() {
    // SAFETY: `mi_collect` takes no pointers and may be called at any time
    // from any thread; it only releases memory mimalloc holds free.
    unsafe { libmimalloc_sys::mi_collect(true) };
}
