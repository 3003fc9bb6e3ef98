//! Request signing and the gateway's system parameters.
//!
//! Jackyun has no login: every call carries `appkey`, a Beijing-time
//! `timestamp` and an MD5 `sign` over all signed parameters, computed with the
//! app secret. Each attempt of a call is signed afresh (new timestamp), so a
//! retried request is never rejected as stale. In ISV (third-party) mode a
//! `token` is sent as well; it is not signed and not fetched by this crate
//! (the authorisation flow that issues it is not public).

use chrono::{DateTime, Utc};
use integration_core::Secret;
use integration_core::types::beijing;
use md5::{Digest, Md5};

/// Parameters that never take part in the sign.
pub const UNSIGNED_PARAMS: [&str; 3] = ["sign", "token", "contextid"];

/// The `contenttype` system parameter: always `json`.
pub const CONTENT_TYPE: &str = "json";

/// The `version` system parameter sent by default.
pub const DEFAULT_VERSION: &str = "v1.0";

/// The Jackyun sign of a request: lowercase hex MD5 of
/// `lowercase(secret + k1 + v1 + k2 + v2 + ... + secret)`.
///
/// * every parameter takes part except `sign`, `token`, `contextid` and
///   parameters whose value is empty;
/// * keys are sorted in ascending byte order and joined as `keyvalue` with no
///   separator;
/// * the app secret goes at **both** ends;
/// * the **whole** string is lowercased (secret and `bizcontent` included),
///   then hashed as UTF-8;
/// * values are the exact, *decoded* texts sent (form encoding comes after).
///
/// Pure: same input, same output; no clock, no I/O.
///
/// ```
/// let sign = jackyun::auth::sign(
///     &[
///         ("method", "erp.warehouse.get"),
///         ("appkey", "1"),
///         ("version", "v1.0"),
///         ("contenttype", "json"),
///         ("timestamp", "2020-01-01 00:00:00"),
///         ("bizcontent", "{}"),
///     ],
///     "s",
/// );
/// assert_eq!(sign, "7c8254a6e8589468eb737a29bfdb3892");
/// ```
pub fn sign(params: &[(&str, &str)], secret: &str) -> String {
    let mut signed: Vec<&(&str, &str)> = params
        .iter()
        .filter(|(k, v)| !v.is_empty() && !UNSIGNED_PARAMS.contains(k))
        .collect();
    signed.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut text = String::with_capacity(
        secret.len() * 2 + params.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>(),
    );
    text.push_str(secret);
    for (k, v) in signed {
        text.push_str(k);
        text.push_str(v);
    }
    text.push_str(secret);
    let digest = Md5::digest(text.to_lowercase().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `timestamp` system parameter for `now`: `yyyy-MM-dd HH:mm:ss` in
/// Beijing time (UTC+08:00), whatever the local zone of the machine.
pub fn timestamp(now: DateTime<Utc>) -> String {
    now.with_timezone(&beijing())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The credentials of a Jackyun open-platform app.
#[derive(Clone)]
pub struct Credentials {
    /// The app key (`appkey`), not secret.
    pub appkey: String,
    /// The app secret that signs every request.
    pub secret: Secret,
    /// ISV authorisation token, sent unsigned as `token` when set.
    pub token: Option<Secret>,
}

impl Credentials {
    /// Credentials of an app acting for its own company (no ISV token).
    pub fn new(appkey: impl Into<String>, secret: impl Into<Secret>) -> Self {
        Self {
            appkey: appkey.into(),
            secret: secret.into(),
            token: None,
        }
    }

    /// Adds an ISV token.
    pub fn with_token(mut self, token: impl Into<Secret>) -> Self {
        self.token = Some(token.into());
        self
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("appkey", &self.appkey)
            .field("secret", &self.secret)
            .field("token", &self.token)
            .finish()
    }
}

/// The complete, signed form of one request, in sending order.
///
/// `bizcontent` must be the exact JSON text that is sent.
pub fn signed_form(
    credentials: &Credentials,
    method: &str,
    version: &str,
    bizcontent: &str,
    now: DateTime<Utc>,
) -> Vec<(&'static str, String)> {
    let ts = timestamp(now);
    let mut form: Vec<(&'static str, String)> = vec![
        ("method", method.to_owned()),
        ("appkey", credentials.appkey.clone()),
        ("version", version.to_owned()),
        ("contenttype", CONTENT_TYPE.to_owned()),
        ("timestamp", ts),
        ("bizcontent", bizcontent.to_owned()),
    ];
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let signature = sign(&pairs, credentials.secret.expose());
    form.push(("sign", signature));
    if let Some(token) = &credentials.token {
        form.push(("token", token.expose().to_owned()));
    }
    form
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base<'a>(
        method: &'a str,
        appkey: &'a str,
        version: &'a str,
        ts: &'a str,
        biz: &'a str,
    ) -> Vec<(&'a str, &'a str)> {
        vec![
            ("method", method),
            ("appkey", appkey),
            ("version", version),
            ("contenttype", "json"),
            ("timestamp", ts),
            ("bizcontent", biz),
        ]
    }

    /// `crm.customer.add` by app `12345678` at 2024-01-02 03:04:05 (the
    /// vectors v1, v2, v3 and v5).
    fn customer_add(biz: &str) -> Vec<(&str, &str)> {
        base(
            "crm.customer.add",
            "12345678",
            "v1.0",
            "2024-01-02 03:04:05",
            biz,
        )
    }

    /// `erp.warehouse.get` by app `1` (vector v6).
    fn warehouse_get() -> Vec<(&'static str, &'static str)> {
        base(
            "erp.warehouse.get",
            "1",
            "v1.0",
            "2020-01-01 00:00:00",
            "{}",
        )
    }

    /// 2024-01-02 03:04:05 in Beijing.
    fn beijing_0304() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-01-01T19:04:05Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    const V1_SECRET: &str = "TestSecret0123456789abcdefABCDEF";
    const V1_BIZ: &str = r#"{"customerCode":"C001","nickname":"Zhang San"}"#;

    #[test]
    fn vector_v1() {
        let p = customer_add(V1_BIZ);
        assert_eq!(sign(&p, V1_SECRET), "d790618b94938fecf1b9fe99ea80309c");
    }

    #[test]
    fn vector_v2_token_and_contextid_are_not_signed() {
        let mut p = customer_add(V1_BIZ);
        p.push(("token", "tok_abc"));
        p.push(("contextid", "ctx_1"));
        assert_eq!(sign(&p, V1_SECRET), "d790618b94938fecf1b9fe99ea80309c");
    }

    #[test]
    fn vector_v3_case_of_bizcontent_does_not_matter() {
        let biz = r#"{"CUSTOMERCODE":"c001","NICKNAME":"zhang san"}"#;
        let p = customer_add(biz);
        assert_eq!(sign(&p, V1_SECRET), "d790618b94938fecf1b9fe99ea80309c");
    }

    const V4_BIZ: &str = r#"{"pageIndex":0,"pageSize":50,"startModified":"2026-05-06 00:00:00","endModified":"2026-05-06 23:59:59","fields":"tradeNo,tradeStatus"}"#;

    #[test]
    fn vector_v4() {
        let p = base(
            "oms.trade.fullinfoget",
            "87654321",
            "1.0",
            "2026-05-06 12:00:00",
            V4_BIZ,
        );
        assert_eq!(
            sign(&p, "0123456789abcdef0123456789abcdef"),
            "ea9cf738f003e063f0e77feb61910fdf"
        );
    }

    #[test]
    fn vector_v4b_version_case() {
        for version in ["v1.0", "V1.0"] {
            let p = base(
                "oms.trade.fullinfoget",
                "87654321",
                version,
                "2026-05-06 12:00:00",
                V4_BIZ,
            );
            assert_eq!(
                sign(&p, "0123456789abcdef0123456789abcdef"),
                "f3c537c3f14694dfeef4e87bbd9a2b6f"
            );
        }
    }

    #[test]
    fn vector_v5_chinese_bizcontent() {
        let biz = r#"{"nickname":"张三","customerCode":"KH0001","phone":"13800000000"}"#;
        let p = customer_add(biz);
        assert_eq!(sign(&p, "secret"), "22c1858ce82c845808ff3274feeb366a");
    }

    #[test]
    fn vector_v6() {
        let p = warehouse_get();
        assert_eq!(sign(&p, "s"), "7c8254a6e8589468eb737a29bfdb3892");
    }

    #[test]
    fn order_of_params_and_empty_values_do_not_matter() {
        let mut p = warehouse_get();
        p.reverse();
        p.push(("extra", ""));
        assert_eq!(sign(&p, "s"), "7c8254a6e8589468eb737a29bfdb3892");
    }

    #[test]
    fn v5_wire_encoding_signs_decoded_values() {
        let form = [
            ("timestamp", "2024-01-02 03:04:05"),
            ("bizcontent", r#"{"nickname":"张三"}"#),
        ];
        let encoded = serde_urlencoded::to_string(form).unwrap();
        assert_eq!(
            encoded,
            "timestamp=2024-01-02+03%3A04%3A05&bizcontent=%7B%22nickname%22%3A%22%E5%BC%A0%E4%B8%89%22%7D"
        );
    }

    #[test]
    fn timestamps_are_beijing_time() {
        assert_eq!(timestamp(beijing_0304()), "2024-01-02 03:04:05");
    }

    #[test]
    fn signed_form_matches_v1_and_keeps_token_out_of_the_sign() {
        let creds = Credentials::new("12345678", V1_SECRET).with_token("tok_abc");
        let form = signed_form(&creds, "crm.customer.add", "v1.0", V1_BIZ, beijing_0304());
        let get = |k: &str| form.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("sign"), Some("d790618b94938fecf1b9fe99ea80309c"));
        assert_eq!(get("token"), Some("tok_abc"));
        assert!(!format!("{creds:?}").contains(V1_SECRET));
        assert!(!format!("{creds:?}").contains("tok_abc"));
    }
}
