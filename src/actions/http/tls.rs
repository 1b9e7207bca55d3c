//! Which certificate authorities an https answer must chain to.
//!
//! The check should trust what the other tools on the release machine trust, no more and no
//! less, so that "the health check fails but curl works" never happens for a reason of trust;
//! and the log says which roots were used, because a failure of trust is otherwise hard to tell
//! from a service that is down.

use std::path::Path;

use ureq::tls::{Certificate, PemItem, RootCerts, parse_pem};

/// The certificates an https answer must chain to, and how to say so in the log.
///
/// Staging and internal services are often signed by a company's own certificate authority,
/// which Mozilla's list (ureq's default) does not know. `SSL_CERT_FILE` is where OpenSSL,
/// curl and most tools look for a replacement bundle, and machines with such an authority
/// usually set it; honouring it makes the check trust what `curl` on the same machine trusts.
pub(super) fn roots_of_trust() -> (RootCerts, String) {
    const MOZILLA: &str = "Mozilla's root certificates";
    let Some(path) = std::env::var_os("SSL_CERT_FILE") else {
        return (RootCerts::WebPki, MOZILLA.into());
    };
    let path = Path::new(&path);
    match std::fs::read(path) {
        Ok(pem) => {
            let certificates = certificates_in(&pem);
            if certificates.is_empty() {
                let why = format!("{} (SSL_CERT_FILE) holds no certificate", path.display());
                (RootCerts::WebPki, format!("{MOZILLA}: {why}"))
            } else {
                let described = format!(
                    "the {} certificates in {} (SSL_CERT_FILE)",
                    certificates.len(),
                    path.display()
                );
                (RootCerts::new_with_certs(&certificates), described)
            }
        }
        Err(error) => {
            let why = format!("cannot read {} (SSL_CERT_FILE): {error}", path.display());
            (RootCerts::WebPki, format!("{MOZILLA}: {why}"))
        }
    }
}

/// The certificates in a PEM bundle; anything else in it (keys, damaged sections) is skipped,
/// as OpenSSL does, so that one bad entry does not distrust the whole bundle.
fn certificates_in(pem: &[u8]) -> Vec<Certificate<'static>> {
    parse_pem(pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(certificate)) => Some(certificate),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_certificates_are_taken_from_a_bundle() {
        assert!(certificates_in(b"").is_empty());
        assert!(certificates_in(b"not a bundle at all").is_empty());
        let damaged = b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n";
        assert!(certificates_in(damaged).is_empty());
        let one = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(certificates_in(one).len(), 1);
    }
}
