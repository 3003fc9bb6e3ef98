//! One module per system: a client built from settings, or, when the system
//! has no settings, from its built-in fake (started and seeded here).

/// Applies `<SYSTEM>_TIMEOUT_SECS`, when set, to a connector's client
/// builder (every connector's builder has `timeout(Option<Duration>)`).
macro_rules! tuned {
    ($builder:expr, $settings:expr, $system:literal) => {
        match $settings.timeout($system)? {
            Some(timeout) => $builder.timeout(Some(timeout)),
            None => $builder,
        }
    };
}

pub mod huke;
pub mod jackyun;
pub mod jdy;
pub mod kingdee;
pub mod okki;
pub mod xbongbong;
pub mod yonbip;

/// The note printed when a system runs against its fake.
pub fn fake_note(system: &str, url: &str, seeded: &str) -> String {
    format!("{system}: no settings, using the built-in fake at {url} ({seeded})")
}

/// The note printed when a system runs against a real service.
pub fn real_note(system: &str, url: &str) -> String {
    format!("{system}: {url}")
}
