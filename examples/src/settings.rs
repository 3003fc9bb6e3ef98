//! Settings of the scheme binaries: a TOML file (`--config`) and
//! environment variables named `<SYSTEM>_<SETTING>` (environment wins).
//!
//! A system with no settings at all runs against its built-in fake.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use integration_core::Secret;

/// The systems, by the name used in TOML sections and environment variables.
pub const SYSTEMS: &[&str] = &[
    "xbongbong",
    "kingdee",
    "jdy",
    "jackyun",
    "yonbip",
    "okki",
    "huke",
];

/// Settings that tune a client rather than point it at a service. They
/// apply to the built-in fake as well, so on their own they do not select
/// the real system.
const TUNING: &[&str] = &["timeout_secs"];

/// A setting is missing or malformed. Printed as one line; exit code 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {setting}: {problem}")]
pub struct SettingsError {
    /// The setting, as the user would write it (`KINGDEE_APP_SECRET`).
    pub setting: String,
    /// What is wrong with it.
    pub problem: String,
}

impl SettingsError {
    pub(crate) fn new(setting: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            setting: setting.into(),
            problem: problem.into(),
        }
    }
}

/// All settings, by system and key (lowercase, e.g. `kingdee` / `app_id`).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    systems: BTreeMap<String, BTreeMap<String, String>>,
}

impl Settings {
    /// No settings: every system runs against its fake.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Reads `config` (if given) and then the process environment.
    pub fn load(config: Option<&Path>) -> Result<Self, SettingsError> {
        let text = match config {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                SettingsError::new("--config", format!("cannot read {}: {e}", path.display()))
            })?),
            None => None,
        };
        Self::from_sources(text.as_deref(), std::env::vars())
    }

    /// Builds settings from a TOML text and environment pairs.
    pub fn from_sources(
        toml_text: Option<&str>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, SettingsError> {
        let mut settings = Self::default();
        if let Some(text) = toml_text {
            let table: toml::Table = toml::from_str(text).map_err(|e| {
                SettingsError::new("--config", format!("not valid TOML: {}", e.message()))
            })?;
            for (system, values) in table {
                let name = system.to_lowercase();
                if !SYSTEMS.contains(&name.as_str()) {
                    return Err(SettingsError::new(
                        format!("[{system}]"),
                        format!("unknown system (known: {})", SYSTEMS.join(", ")),
                    ));
                }
                let toml::Value::Table(values) = values else {
                    return Err(SettingsError::new(
                        format!("[{system}]"),
                        "must be a table of settings",
                    ));
                };
                let entry = settings.systems.entry(name).or_default();
                for (key, value) in values {
                    let text = match value {
                        toml::Value::String(s) => s,
                        toml::Value::Integer(n) => n.to_string(),
                        toml::Value::Float(n) => n.to_string(),
                        toml::Value::Boolean(b) => b.to_string(),
                        _ => {
                            return Err(SettingsError::new(
                                format!("[{system}] {key}"),
                                "must be a string, number or boolean",
                            ));
                        }
                    };
                    entry.insert(key.to_lowercase(), text);
                }
            }
        }
        for (name, value) in env {
            let Some((system, key)) = name.split_once('_') else {
                continue;
            };
            let system = system.to_lowercase();
            if SYSTEMS.contains(&system.as_str()) && !key.is_empty() {
                settings
                    .systems
                    .entry(system)
                    .or_default()
                    .insert(key.to_lowercase(), value);
            }
        }
        Ok(settings)
    }

    /// The settings of `system`, or `None` when it has none but tuning
    /// settings (use its fake).
    pub fn system(&self, system: &'static str) -> Option<SystemSettings<'_>> {
        self.systems
            .get(system)
            .filter(|v| v.keys().any(|k| !TUNING.contains(&k.as_str())))
            .map(|values| SystemSettings { system, values })
    }

    /// `<SYSTEM>_TIMEOUT_SECS`: the time one request may take, in seconds
    /// (fractions allowed), for the real system or its fake; `None` keeps
    /// the connector's default.
    pub fn timeout(&self, system: &'static str) -> Result<Option<Duration>, SettingsError> {
        let Some(values) = self.systems.get(system) else {
            return Ok(None);
        };
        let settings = SystemSettings { system, values };
        match settings.parse::<f64>("timeout_secs")? {
            None => Ok(None),
            Some(secs) if secs > 0.0 && secs <= 3600.0 => Ok(Some(Duration::from_secs_f64(secs))),
            Some(_) => Err(SettingsError::new(
                settings.name("timeout_secs"),
                "must be a number of seconds above 0 and at most 3600",
            )),
        }
    }
}

/// The settings of one system.
#[derive(Debug, Clone, Copy)]
pub struct SystemSettings<'a> {
    system: &'static str,
    values: &'a BTreeMap<String, String>,
}

impl SystemSettings<'_> {
    /// The environment-variable name of a setting, for messages.
    pub fn name(&self, key: &str) -> String {
        format!("{}_{}", self.system.to_uppercase(), key.to_uppercase())
    }

    /// An optional setting.
    pub fn optional(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// A required setting.
    pub fn required(&self, key: &str) -> Result<&str, SettingsError> {
        self.optional(key)
            .ok_or_else(|| SettingsError::new(self.name(key), "is missing"))
    }

    /// A required secret.
    pub fn secret(&self, key: &str) -> Result<Secret, SettingsError> {
        self.required(key).map(Secret::new)
    }

    /// A required `http(s)` URL.
    pub fn url(&self, key: &str) -> Result<String, SettingsError> {
        let text = self.required(key)?;
        match url::Url::parse(text) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                Ok(text.trim_end_matches('/').to_owned())
            }
            Ok(_) => Err(SettingsError::new(
                self.name(key),
                "must be an http or https URL",
            )),
            Err(e) => Err(SettingsError::new(
                self.name(key),
                format!("is not a valid URL ({e})"),
            )),
        }
    }

    /// An optional `http(s)` URL.
    pub fn optional_url(&self, key: &str) -> Result<Option<String>, SettingsError> {
        match self.optional(key) {
            Some(_) => self.url(key).map(Some),
            None => Ok(None),
        }
    }

    /// An optional setting parsed as `T`.
    pub fn parse<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>, SettingsError>
    where
        T::Err: std::fmt::Display,
    {
        self.optional(key)
            .map(|v| {
                v.trim().parse::<T>().map_err(|e| {
                    SettingsError::new(self.name(key), format!("{v:?} is invalid: {e}"))
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn environment_overrides_the_file_and_unknown_systems_are_rejected() {
        let s = Settings::from_sources(
            Some("[kingdee]\nserver_url = \"https://a/k3cloud\"\nlcid = 2052\n"),
            env(&[
                ("KINGDEE_SERVER_URL", "https://b/k3cloud"),
                ("PATH", "/bin"),
                ("HUKE_APP_KEY", "k"),
            ]),
        )
        .unwrap();
        let k = s.system("kingdee").unwrap();
        assert_eq!(k.url("server_url").unwrap(), "https://b/k3cloud");
        assert_eq!(k.parse::<u32>("lcid").unwrap(), Some(2052));
        assert_eq!(s.system("huke").unwrap().required("app_key").unwrap(), "k");
        assert!(s.system("okki").is_none());

        let e = Settings::from_sources(Some("[kingdee_cloud]\nx = 1\n"), env(&[])).unwrap_err();
        assert_eq!(e.setting, "[kingdee_cloud]");
        assert!(e.to_string().contains("unknown system"), "{e}");
    }

    #[test]
    fn missing_and_malformed_settings_name_the_setting() {
        let s = Settings::from_sources(
            None,
            env(&[("HUKE_BASE_URL", "not a url"), ("HUKE_APP_KEY", "k")]),
        )
        .unwrap();
        let huke = s.system("huke").unwrap();
        assert_eq!(
            huke.secret("app_secret").unwrap_err().to_string(),
            "setting HUKE_APP_SECRET: is missing"
        );
        assert!(
            huke.url("base_url")
                .unwrap_err()
                .to_string()
                .starts_with("setting HUKE_BASE_URL: is not a valid URL")
        );
        let secret = huke.secret("app_key").unwrap();
        assert_eq!(format!("{secret:?}"), "Secret(***)");
    }

    #[test]
    fn a_timeout_alone_keeps_the_fake_and_is_checked() {
        let s = Settings::from_sources(
            Some("[okki]\ntimeout_secs = 2.5\n"),
            env(&[("JDY_TIMEOUT_SECS", "0"), ("HUKE_TIMEOUT_SECS", "soon")]),
        )
        .unwrap();
        assert!(
            s.system("okki").is_none(),
            "a timeout alone selects the fake"
        );
        assert_eq!(
            s.timeout("okki").unwrap(),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(s.timeout("kingdee").unwrap(), None);
        assert_eq!(
            s.timeout("jdy").unwrap_err().to_string(),
            "setting JDY_TIMEOUT_SECS: must be a number of seconds above 0 and at most 3600"
        );
        assert!(
            s.timeout("huke")
                .unwrap_err()
                .to_string()
                .starts_with("setting HUKE_TIMEOUT_SECS: \"soon\" is invalid"),
        );
    }
}
