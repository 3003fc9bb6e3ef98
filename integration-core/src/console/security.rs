//! Who may see the console and who may change something: the access
//! token, the session cookie, the CSRF token and the response headers.

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;

use super::Shared;
use crate::secret::Secret;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "console_session";

/// The access token (if any) and the process's key for sessions and CSRF
/// tokens: a restart logs everybody out.
pub(crate) struct Access {
    token: Option<Secret>,
    key: [u8; 32],
}

impl Access {
    pub(crate) fn new(token: Option<Secret>) -> Self {
        Self {
            token,
            key: rand::random(),
        }
    }

    /// Whether pages need the token.
    pub(crate) fn has_token(&self) -> bool {
        self.token.is_some()
    }

    fn mac(&self, purpose: &str, value: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length fits HMAC");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The token forms carry: proof that the form came from one of our pages.
    pub(crate) fn csrf_token(&self) -> String {
        self.mac("csrf", "")
    }

    /// Whether `given` is the access token (compared in constant time).
    pub(crate) fn is_token(&self, given: &str) -> bool {
        self.token.as_ref().is_some_and(|token| {
            same(
                &self.mac("token", given),
                &self.mac("token", token.expose()),
            )
        })
    }

    /// The session cookie's value after a good login.
    pub(crate) fn session_value(&self) -> String {
        let token = self.token.as_ref().map_or("", Secret::expose);
        self.mac("session", token)
    }

    /// Whether the request may see pages: no token is set, or it has the
    /// session cookie or the bearer token.
    pub(crate) fn admits(&self, headers: &HeaderMap) -> bool {
        if self.token.is_none() {
            return true;
        }
        if let Some(bearer) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        {
            return self.is_token(bearer.trim());
        }
        cookie(headers, SESSION_COOKIE).is_some_and(|v| same(&v, &self.session_value()))
    }

    /// Why a change (a POST) must be refused, if it must: sent from another
    /// site, or without our CSRF token.
    pub(crate) fn refuses_change(
        &self,
        headers: &HeaderMap,
        csrf: Option<&str>,
    ) -> Option<&'static str> {
        if headers
            .get("sec-fetch-site")
            .is_some_and(|v| v != "same-origin" && v != "none")
        {
            return Some("the request came from another site");
        }
        let same_site = headers
            .get("sec-fetch-site")
            .is_some_and(|v| v == "same-origin");
        // A browser may send `Origin: null` for its own form (a privacy
        // setting); Sec-Fetch-Site then says where the form was.
        let origin = headers
            .get(header::ORIGIN)
            .filter(|o| !(same_site && o.as_bytes() == b"null"));
        if let (Some(origin), Some(host)) = (origin, headers.get(header::HOST)) {
            let origin = origin.to_str().unwrap_or_default();
            let host = host.to_str().unwrap_or_default();
            let bare = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                .unwrap_or(origin);
            if bare != host {
                return Some("the request came from another origin");
            }
        }
        match csrf {
            Some(given) if same(given, &self.csrf_token()) => None,
            _ => Some("the form's CSRF token is missing or wrong; reload the page"),
        }
    }
}

/// Compares in time independent of where the texts differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// A cookie's value from the request.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
}

/// Paths anyone may open: they show nothing of the data.
fn is_public(path: &str) -> bool {
    matches!(path, "/health" | "/ready" | "/login") || path.starts_with("/assets/")
}

/// Lets admitted requests through (others go to the login form, or get
/// 401), and sets the security headers on every answer.
pub(crate) async fn guard(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = if is_public(&path) || shared.access.admits(request.headers()) {
        next.run(request).await
    } else if request.method() == Method::GET && path != "/metrics" {
        let target = request
            .uri()
            .path_and_query()
            .map_or("/".to_owned(), |pq| pq.as_str().to_owned());
        let next = url::form_urlencoded::byte_serialize(target.as_bytes()).collect::<String>();
        Redirect::to(&format!("/login?next={next}")).into_response()
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "the console needs its access token\n",
        )
            .into_response()
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The `Set-Cookie` of a good login.
pub(crate) fn session_cookie(access: &Access) -> String {
    format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
        access.session_value()
    )
}

/// Where to go after logging in: a path of ours, never another site.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}
