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

/// A system's client and, when running against it, its fake.
pub struct Connected<C, F> {
    /// The client.
    pub client: C,
    /// The fake, when the system has no settings.
    pub fake: Option<F>,
    /// Where it runs ([`fake_note`], [`real_note`]).
    pub note: String,
}

impl<C, F> Connected<C, F> {
    /// A client of the started `fake`.
    pub fn on_fake(client: C, fake: F, note: String) -> Self {
        Self {
            client,
            fake: Some(fake),
            note,
        }
    }

    /// A client of the real service.
    pub fn on_service(client: C, note: String) -> Self {
        Self {
            client,
            fake: None,
            note,
        }
    }
}

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
