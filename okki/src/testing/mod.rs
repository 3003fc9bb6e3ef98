//! A stateful fake OKKI server (feature `testing`), built on
//! [`integration_core::testing`].
//!
//! It models what the client relies on:
//!
//! * `POST /v1/oauth2/access_token` (JSON or form; `client_credentials` and
//!   `password` with the SHA-256 password) and `POST /v1/oauth2/refresh_token`
//!   (form), answering with top-level token JSON or the real OAuth error
//!   objects (`invalid_client`, `invalid_scope`, `unsupported_grant_type`,
//!   `invalid_grant`, `invalid_request`);
//! * tokens as unsigned-looking RS256 JWTs with `exp`/`scopes` claims; a token
//!   asked for again keeps the first token's expiry, as OKKI documents;
//! * `Authorization: Bearer <jwt>` or the raw JWT; an unknown or expired
//!   token gets HTTP 401 `{"error":"access_denied",…}`; a missing scope gets
//!   `{"code":403,"message":"no permission <scope> scopes"}`;
//! * companies with contacts: the update list (paging by 1-based
//!   `start_index`/`count` ≤ 100, `removed`, `all`, `group_id`, `time_type`
//!   windows, ordered by update time, newest first), the detail (by
//!   `company_id` or `serial_id`; `404 Not Found Resource` for unknown or
//!   deleted ones), push (create/edit companies and contacts; the update
//!   time moves) and remove (public pool only);
//! * opportunities, sales orders (total in `data.count`, `removed`,
//!   `time_type` 1–4) and users (a plain array);
//! * every success as `{code:200,message:"success",now,data}`, with some
//!   numbers as strings and empty dates as `1970-01-01 00:00:00`, as OKKI does;
//! * faults through [`FakeOkki::faults`] (throttle = HTTP 429, auth expired =
//!   HTTP 401 `access_denied`, 5xx, HTML, truncated, empty, delays).

mod handlers;
mod seed;
mod state;

use integration_core::ClientConfig;
use integration_core::testing::{FakeServer, FaultStyle, ResponseTemplate, fast_retry};
use serde_json::json;

use crate::auth::Credentials;
use crate::client::ClientBuilder;

pub use state::{OkkiState, StoredCompany};

/// A company custom text field (its numeric field id; the fake keeps
/// any numeric key a push sends, as OKKI keeps custom fields): where the
/// demo writes the YonBIP merchant code back.
pub const MERCHANT_CODE_FIELD_ID: &str = "3500000001";
/// The client id the fake accepts.
pub const CLIENT_ID: &str = "efc1126d6";
/// The client secret the fake accepts.
pub const CLIENT_SECRET: &str = "dcc2228f1-fake-secret";
/// The login e-mail for the password grant.
pub const USERNAME: &str = "zhang.wei@mingyuan-trade.cn";
/// The plain password for the password grant (sent hashed).
pub const PASSWORD: &str = "Okki#2026";
/// The scopes the fake grants.
pub const SCOPES: &[&str] = &[
    "company",
    "lead",
    "opportunity",
    "product",
    "invoices",
    "user",
    "webhook",
];

/// OKKI's throttle and expired-token answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct OkkiFaultStyle;

impl FaultStyle for OkkiFaultStyle {
    fn throttled(&self) -> ResponseTemplate {
        ResponseTemplate::new(429)
            .set_body_json(json!({"code": 429, "message": "Too Many Requests", "data": []}))
    }
    fn auth_expired(&self) -> ResponseTemplate {
        handlers::access_denied()
    }
}

/// A running fake OKKI server.
pub struct FakeOkki {
    server: FakeServer<OkkiState>,
}

integration_core::fake_server_accessors!(FakeOkki, OkkiState,
    start: OkkiState::new(), OkkiFaultStyle, routes: handlers::mount);

impl FakeOkki {
    /// The `client_credentials` the fake accepts, with every typed scope.
    pub fn credentials() -> Credentials {
        Credentials::client_credentials(
            CLIENT_ID,
            CLIENT_SECRET,
            crate::auth::scopes::TYPED.iter().copied(),
        )
    }

    /// The `password` grant credentials the fake accepts.
    pub fn password_credentials() -> Credentials {
        Credentials::password(
            CLIENT_ID,
            CLIENT_SECRET,
            crate::auth::scopes::TYPED.iter().copied(),
            USERNAME,
            PASSWORD,
        )
    }

    /// A client builder pointed at this fake, with its credentials, fast
    /// retries ([`fast_retry`]) and no rate limit.
    pub fn client_builder(&self) -> ClientBuilder {
        let mut builder = crate::Client::builder()
            .base_url(self.uri())
            .credentials(Self::credentials())
            .retry(fast_retry());
        builder.settings_mut().rate_limit = None;
        builder
    }

    /// Makes every issued token expired: the next call gets HTTP 401.
    pub fn expire_tokens(&self) {
        self.state().expire_tokens();
    }
}

// The fake as every connector's fake is driven ([`Fake`]), with the
// `client_credentials` grant ([`FakeOkki::credentials`]).
integration_core::impl_fake!(FakeOkki {
    builder: ClientBuilder,
    credentials: Credentials = credentials(),
    base_url: uri(),
});
