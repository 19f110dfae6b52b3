//! Gatehouse's cookies, read and written in one place with the `cookie` crate (through
//! axum-extra's `CookieJar`), never parsed or formatted by hand.
//!
//! Every cookie Gatehouse sets is `HttpOnly` on `Path=/`, `Secure` unless the operator turned
//! it off for plain-HTTP loopback use (`auth.cookie_secure`), with the `SameSite` its purpose
//! needs.

use axum::http::HeaderMap;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};

/// A cookie's value by name, from a request's `Cookie` headers.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(name)
        .map(|cookie| cookie.value().to_owned())
}

/// A `Set-Cookie` value: `name=value`, for `max_age_secs` (a session cookie when `None`).
pub fn set(
    name: &'static str,
    value: String,
    same_site: SameSite,
    max_age_secs: Option<i64>,
    secure: bool,
) -> String {
    let mut cookie = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(same_site)
        .secure(secure);
    if let Some(seconds) = max_age_secs {
        cookie = cookie.max_age(cookie::time::Duration::seconds(seconds));
    }
    cookie.build().to_string()
}

/// A `Set-Cookie` value that removes the cookie `name`.
pub fn clear(name: &'static str, same_site: SameSite) -> String {
    Cookie::build((name, ""))
        .path("/")
        .http_only(true)
        .same_site(same_site)
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use axum::http::header::COOKIE;

    use super::*;

    #[test]
    fn a_cookie_is_found_by_name_among_several_headers() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("a=1; gatehouse_session=s3"),
        );
        headers.append(COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(read(&headers, "gatehouse_session").as_deref(), Some("s3"));
        assert_eq!(read(&headers, "b").as_deref(), Some("2"));
        assert_eq!(read(&headers, "gatehouse"), None);
    }

    #[test]
    fn set_cookies_carry_every_attribute_they_are_given() {
        let cookie = set("s", "v".into(), SameSite::Lax, Some(3600), true);
        for part in [
            "s=v",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Max-Age=3600",
        ] {
            assert!(cookie.split("; ").any(|p| p == part), "{part} in {cookie}");
        }
        let plain = set("c", "t".into(), SameSite::Strict, None, false);
        assert!(
            !plain.contains("Secure") && !plain.contains("Max-Age"),
            "{plain}"
        );
        assert!(plain.contains("SameSite=Strict"), "{plain}");
        let gone = clear("s", SameSite::Lax);
        assert!(
            gone.starts_with("s=;") && gone.contains("Max-Age=0"),
            "{gone}"
        );
    }
}
