//! Which URLs the `http` action accepts.
//!
//! A typo in a runbook's URL should be one clear message when the runbook is checked, not a
//! minute of failed attempts at release time; so the URL is checked up front, by the loader and
//! the planner as well as by the action itself.

use ureq::http::Uri;

/// Says why `url` cannot be polled, if it cannot: it must parse, be http or https, and name a
/// host. Checking up front turns a typo into one clear message instead of a minute of failed
/// attempts that all say the same thing.
pub fn check_url(url: &str) -> Result<(), String> {
    const EXPECTED: &str =
        "expected an http:// or https:// URL such as \"https://example.test/health\"";
    let uri: Uri = url
        .parse()
        .map_err(|error| format!("it is not a URL ({error}); {EXPECTED}"))?;
    match uri.scheme_str() {
        Some(scheme) if scheme.eq_ignore_ascii_case("http") => {}
        Some(scheme) if scheme.eq_ignore_ascii_case("https") => {}
        Some(scheme) => return Err(format!("{scheme}:// is not supported; {EXPECTED}")),
        None => return Err(format!("it has no scheme; {EXPECTED}")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("it has no host; {EXPECTED}"));
    }
    if let Some(port) = invalid_port(&uri) {
        return Err(format!("port {port} is out of range; {EXPECTED}"));
    }
    Ok(())
}

/// The port of `uri` when it is not a number from 0 to 65535. The URL parser accepts any digits
/// as a port and then reports none, so that "http://host:99999/" would quietly poll the
/// scheme's default port instead.
fn invalid_port(uri: &Uri) -> Option<&str> {
    let authority = uri.authority()?.as_str();
    let host_and_port = authority.rsplit('@').next().unwrap_or(authority);
    // An IPv6 host is bracketed and full of colons; the port can only follow the bracket.
    let after_host = host_and_port
        .rsplit_once(']')
        .map_or(host_and_port, |(_, rest)| rest);
    let (_, port) = after_host.rsplit_once(':')?;
    (!port.is_empty() && port.parse::<u16>().is_err()).then_some(port)
}

/// Whether `url` is an https URL (it has been checked to be http or https).
pub fn is_https(url: &str) -> bool {
    url.get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_url_accepts_http_and_https() {
        for url in [
            "http://127.0.0.1:8080/health",
            "https://billing.example.test/health?deep=1",
            "HTTPS://EXAMPLE.TEST",
            "http://[::1]:8080/",
            "http://user:secret@127.0.0.1:65535/",
            "http://127.0.0.1:/health",
        ] {
            assert_eq!(check_url(url), Ok(()), "{url}");
        }
    }

    #[test]
    fn https_is_recognised_in_any_case() {
        assert!(is_https("https://example.test/"));
        assert!(is_https("HTTPS://example.test/"));
        assert!(!is_https("http://example.test/"));
        assert!(!is_https("https"));
        assert!(!is_https("ht\u{e9}tps://"));
    }
}
