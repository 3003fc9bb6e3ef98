//! Every fact about the YonBIP open API that the fact sheet marks unknown,
//! low-confidence or only medium-confidence, in one place.
//!
//! Change a value here (or the matching builder setting) when a tenant
//! proves it wrong; nothing else in the crate hard-codes these facts.

/// The public data-centre discovery host (Medium). Private deployments set
/// their own with [`crate::ClientBuilder::discovery_url`] or skip discovery
/// with [`crate::ClientBuilder::gateway_url`] + [`crate::ClientBuilder::token_url`].
pub const DISCOVERY_URL: &str = "https://apigateway.yonyoucloud.com";

/// Path of the discovery call under [`DISCOVERY_URL`] (Medium).
pub const DISCOVERY_PATH: &str = "/open-auth/dataCenter/getGatewayAddress";

/// Success code of the discovery and token calls (High for the token call).
pub const AUTH_SUCCESS_CODE: &str = "00000";

/// Success code of business calls (High).
pub const SUCCESS_CODE: &str = "200";

/// The code clients report for an invalid or expired access token (Low).
/// A business answer with this code, or any failure whose message mentions
/// the token and says it is invalid or expired, makes the client fetch a new
/// token once and repeat the call once.
pub const TOKEN_EXPIRED_CODE: &str = "1090003500";

/// The throttling code (Low). HTTP 429 is treated the same way.
pub const THROTTLED_CODE: &str = "999";

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
/// or expired (Low: the wording is not documented).
pub fn mentions_expired_token(message: &str) -> bool {
    let lower = message.to_lowercase();
    lower.contains("token")
        && [
            "过期", "失效", "无效", "非法", "expired", "invalid", "illegal",
        ]
        .iter()
        .any(|w| lower.contains(w))
}

/// Whether a message of a failed answer says the caller is throttled (Low).
pub fn mentions_throttling(message: &str) -> bool {
    let lower = message.to_lowercase();
    ["频繁", "限流", "too many", "rate limit", "流量"]
        .iter()
        .any(|w| lower.contains(w))
}
