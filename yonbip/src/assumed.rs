//! Every fact about the YonBIP open API that the fact sheet marks unknown,
//! low-confidence or only medium-confidence, in one place.
//!
//! Change a value here (or the matching builder setting) when a tenant
//! proves it wrong; nothing else in the crate hard-codes these facts.

/// The public data-centre discovery host (Medium). Private deployments set
/// their own with [`crate::ClientBuilder::base_url`] or skip discovery
/// with [`crate::ClientBuilder::gateway_url`] + [`crate::ClientBuilder::token_url`].
pub const DISCOVERY_URL: &str = "https://apigateway.yonyoucloud.com";

/// Path of the discovery call under [`DISCOVERY_URL`] (Medium).
pub const DISCOVERY_PATH: &str = "/open-auth/dataCenter/getGatewayAddress";

/// Success code of the discovery and token calls (High for the token call).
pub const AUTH_SUCCESS_CODE: &str = "00000";

/// Success code of business calls (High).
pub const SUCCESS_CODE: &str = "200";

/// The code of an expired access token (Medium, corrected 2026-12: a public
/// client refreshes on it). With it, [`ILLEGAL_TOKEN_CODE`], or a message
/// for which [`mentions_expired_token`] holds, the client fetches a new
/// token once and repeats the call once, whatever the message says.
pub const TOKEN_EXPIRED_CODE: &str = "1090003500065";

/// The code of an illegal token, 非法token (Medium, corrected 2026-12: the
/// same public client refreshes on it). It is not a duplicate-code error.
pub const ILLEGAL_TOKEN_CODE: &str = "310036";

/// YonBIP's business refusal code (Medium, corrected 2026-12: YonBIP's own
/// pages show it for 客户名称已存在 and for a detail query without id). It
/// is not throttling: an answer with it is never retried, whatever its
/// message says (messages echo record data, e.g. a company name with 流量).
pub const BUSINESS_ERROR_CODE: &str = "999";

/// The code the token endpoint answers with for a wrong app key or
/// signature (Low; only the fake relies on it: the client treats every
/// non-success token answer as an authentication failure).
pub const BAD_SIGNATURE_CODE: &str = "1090003501";

/// The largest `pageSize` a list accepts (Medium: "≤ 500"). Larger requests
/// are clamped.
pub const MAX_PAGE_SIZE: u32 = 500;

/// How long before its announced expiry a token is replaced (the fact sheet
/// says "a few minutes early").
pub const TOKEN_REFRESH_MARGIN_SECS: u64 = 300;

/// Lifetime assumed for a token whose answer carries no `expire` (seconds;
/// the documented value is 7200).
pub const DEFAULT_TOKEN_LIFETIME_SECS: u64 = 7200;

/// The list field that carries a record's last modification time, as a
/// Beijing-time `yyyy-MM-dd HH:mm:ss` text (Low: the YonBIP platform's
/// `pubts` column). The merchant source filters and checkpoints on it.
pub const MODIFIED_TIME_FIELD: &str = "pubts";

/// The filter operator "greater than or equal" in a list's `simpleVOs`
/// conditions (Low).
pub const OP_GREATER_OR_EQUAL: &str = "egt";

/// Whether a message of a failed answer says the access token is invalid
/// or expired (Medium: it mentions `token` and 过期/失效/非法/invalid/expired,
/// or the synonyms 无效/illegal; codes differ between APIs).
pub fn mentions_expired_token(message: &str) -> bool {
    let lower = message.to_lowercase();
    lower.contains("token")
        && [
            "过期", "失效", "无效", "非法", "expired", "invalid", "illegal",
        ]
        .iter()
        .any(|w| lower.contains(w))
}

/// Whether a message of a failed answer says the caller is throttled
/// (Medium: there is no known throttling code): the workspace's one list,
/// [`integration_core::error::THROTTLE_WORDS`], narrow on purpose (a
/// business message mentioning 流量, a flow meter, or "too many rows" is not
/// throttling).
pub fn mentions_throttling(message: &str) -> bool {
    integration_core::error::mentions_throttling(message)
}
