//! Runnable sync binaries for the reference schemes (not written yet).
