//! One module per system: a client built from settings, or, when the system
//! has no settings, from its built-in fake (started and seeded here).

use integration_core::ClientConfig;

use crate::runner::SetupError;
use crate::settings::Settings;

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

/// `builder` with the system's `TIMEOUT_SECS` setting applied, if any: the
/// same for every connector, as every builder embeds the same settings.
pub fn tuned<B: ClientConfig>(
    mut builder: B,
    settings: &Settings,
    system: &'static str,
) -> Result<B, SetupError> {
    if let Some(timeout) = settings.timeout(system)? {
        builder.settings_mut().timeout = Some(timeout);
    }
    Ok(builder)
}
