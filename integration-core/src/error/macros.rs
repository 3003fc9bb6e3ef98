//! The [`connector_error!`](crate::connector_error) macro that makes a
//! connector's error type one of the family (exported at the crate root).

#[cfg(doc)]
use super::{ConnectorError, ErrorMeta, Failure, Retry};

/// Makes a connector's error type one of the family: it names the system
/// and its variants holding a [`Failure`] (`Api`, `Auth`, `AuthExpired` and
/// `Throttled` are of their kinds; another says `Name => Kind`), and gets
/// [`ConnectorError`] (so [`ErrorMeta`] and [`Retry`]), the accessors as
/// inherent methods (`code`, `message`, `api`, `system`, `kind`,
/// `is_retryable`, `request_id`, `http_status`; no trait import needed) and
/// the conversions from and into the core error. The type has the variants
/// `Config(String)` and `Core(Box<integration_core::Error>)`.
///
/// Arms after `match` come first: the crate's other variants, or a
/// standard variant that a condition makes retryable. `login_may_fix`
/// overrides [`ConnectorError::login_may_fix`].
///
/// ```
/// use integration_core::error::{Failure, Meta};
/// use integration_core::{ErrorKind, ErrorMeta};
///
/// #[derive(Debug, thiserror::Error)]
/// enum Error {
///     #[error("acme API error in {0}")]
///     Api(Failure),
///     #[error("acme authentication failed in {0}")]
///     Auth(Failure),
///     #[error("acme throttled in {0}")]
///     Throttled(Failure),
///     #[error("acme refused in {0}")]
///     Refused(Failure),
///     #[error("acme webhook: {0}")]
///     Webhook(String),
///     #[error("acme: {0}")]
///     Config(String),
///     #[error(transparent)]
///     Core(Box<integration_core::Error>),
/// }
///
/// integration_core::connector_error! {
///     Error("acme") { Api, Auth, Throttled, Refused => Business }
///     match {
///         Error::Webhook(m) => Meta::new("webhook", ErrorKind::Auth, None, m),
///     }
///     login_may_fix = |e: &Error| matches!(e, Error::Auth(_));
/// }
///
/// let e = Error::Throttled(Failure::new("list", "slow down").with_code(429));
/// assert_eq!((e.kind(), e.code(), e.is_retryable()), (ErrorKind::RateLimited, Some("429"), true));
/// assert_eq!(e.to_string(), "acme throttled in list [code 429]: slow down");
/// let auth = Error::Auth(Failure::new("token", "bad secret"));
/// assert!(integration_core::Retry::is_auth_expired(&auth));
/// let core = integration_core::Error::from(Error::Refused(Failure::new("save", "no")));
/// assert_eq!((core.system(), ErrorMeta::kind(&core)), ("acme", ErrorKind::Business));
/// ```
#[macro_export]
macro_rules! connector_error {
    (
        $error:ident($system:expr) {
            $( $variant:ident $(=> $kind:ident)? ),+ $(,)?
        }
        $( match { $( $pat:pat $(if $guard:expr)? => $meta:expr ),+ $(,)? } )?
        $( login_may_fix = $login:expr; )?
    ) => {
        impl $crate::error::ConnectorError for $error {
            const SYSTEM: &'static str = $system;

            #[allow(unreachable_patterns)]
            fn meta(&self) -> $crate::error::Meta<'_> {
                match self {
                    $($( $pat $(if $guard)? => $meta, )+)?
                    $(
                        $error::$variant(failure) => {
                            failure.meta($crate::__standard_kind!($variant $(=> $kind)?))
                        }
                    )+
                    $error::Config(message) => $crate::error::Meta::config(message),
                    $error::Core(e) => $crate::error::Meta::Core(e),
                }
            }

            $(
                fn login_may_fix(&self) -> bool {
                    ($login)(self)
                }
            )?
        }

        /// The metadata every connector's error gives
        /// ([`ErrorMeta`](integration_core::ErrorMeta)).
        impl $error {
            /// The vendor's own error code, as text, when it gave one.
            pub fn code(&self) -> Option<&str> {
                <Self as $crate::error::ErrorMeta>::code(self)
            }
            /// The vendor's message, or ours for failures below the API.
            pub fn message(&self) -> &str {
                <Self as $crate::error::ErrorMeta>::message(self)
            }
            /// The API called (`"client"` before any call).
            pub fn api(&self) -> &str {
                <Self as $crate::error::ErrorMeta>::api(self)
            }
            /// The system, e.g. `"kingdee-cloud"`.
            pub fn system(&self) -> &'static str {
                <Self as $crate::error::ErrorMeta>::system(self)
            }
            /// What kind of failure this is.
            pub fn kind(&self) -> $crate::error::ErrorKind {
                <Self as $crate::error::ErrorMeta>::kind(self)
            }
            /// Whether sending the same request again may succeed.
            pub fn is_retryable(&self) -> bool {
                <Self as $crate::error::Retry>::is_retryable(self)
            }
            /// The vendor's request or trace id, when its answer had one.
            pub fn request_id(&self) -> Option<&str> {
                <Self as $crate::error::ErrorMeta>::request_id(self)
            }
            /// The HTTP status of the answer, when there was one.
            pub fn http_status(&self) -> Option<u16> {
                <Self as $crate::error::ErrorMeta>::http_status(self)
            }
        }

        impl From<$crate::Error> for $error {
            fn from(e: $crate::Error) -> Self {
                $error::Core(Box::new(e))
            }
        }

        impl From<$error> for $crate::Error {
            fn from(e: $error) -> Self {
                match e {
                    $error::Core(core) => *core,
                    other => $crate::Error::from_meta(&other),
                }
            }
        }
    };
}

/// The kind of a standard variant of [`connector_error!`](crate::connector_error).
#[doc(hidden)]
#[macro_export]
macro_rules! __standard_kind {
    ($variant:ident => $kind:ident) => {
        $crate::error::ErrorKind::$kind
    };
    (Api) => {
        $crate::error::ErrorKind::Business
    };
    (Auth) => {
        $crate::error::ErrorKind::Auth
    };
    (AuthExpired) => {
        $crate::error::ErrorKind::AuthExpired
    };
    (Throttled) => {
        $crate::error::ErrorKind::RateLimited
    };
}
