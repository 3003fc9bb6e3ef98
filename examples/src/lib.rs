//! Runnable sync binaries for the four reference schemes, a `demo` that
//! runs them all against the built-in fakes, and a `sandbox` that serves all
//! seven fakes on local ports. See `examples/README.md`.

pub mod progress;
pub mod runner;
pub mod schemes;
pub mod settings;
pub mod systems;
