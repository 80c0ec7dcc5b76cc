//! Turning rustls and handshake I/O errors into sentences people can act on.
//!
//! rustls reports e.g. `InvalidCertificate(UnknownIssuer)`; a user needs "unknown issuer:
//! add the CA with extra_ca_file(...)". The original error stays available as the
//! `source` of [`Error::Tls`].

use std::io;

use rustls::{AlertDescription, CertificateError};
use rustls_pki_types::UnixTime;

use crate::error::Error;

/// Which end of the handshake we are: the advice differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Client,
    Server,
}

/// An [`Error::Tls`] for a failed handshake (or a TLS failure after it) with `peer`.
pub(crate) fn tls_error(side: Side, peer: String, source: io::Error) -> Error {
    let reason = describe(side, &source);
    Error::Tls {
        peer,
        reason,
        source,
    }
}

/// The rustls error inside an I/O error from tokio-rustls, if there is one.
pub(crate) fn rustls_error(e: &io::Error) -> Option<&rustls::Error> {
    e.get_ref()?.downcast_ref::<rustls::Error>()
}

/// Why a handshake failed, in words.
pub(crate) fn describe(side: Side, e: &io::Error) -> String {
    if let Some(tls) = rustls_error(e) {
        return describe_rustls(side, tls);
    }
    match e.kind() {
        io::ErrorKind::UnexpectedEof | io::ErrorKind::BrokenPipe => {
            "the peer closed the connection during the handshake \
             (it may not speak TLS, or it refused us without saying why)"
                .to_owned()
        }
        io::ErrorKind::ConnectionReset => {
            "the peer reset the connection during the handshake".to_owned()
        }
        _ => e.to_string(),
    }
}

fn describe_rustls(side: Side, e: &rustls::Error) -> String {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(c) => describe_certificate(side, c),
        E::NoCertificatesPresented => match side {
            Side::Server => {
                "the client sent no certificate, but this server requires one".to_owned()
            }
            Side::Client => "the server sent no certificate".to_owned(),
        },
        E::AlertReceived(alert) => describe_alert(side, *alert),
        E::NoApplicationProtocol => "no ALPN protocol in common: the client and the server \
             support none of the same protocols; check the alpn lists on both sides"
            .to_owned(),
        E::InvalidMessage(m) => format!(
            "the peer does not speak TLS, or sent a malformed TLS message ({m:?}); \
             is this a plain-text port?"
        ),
        E::PeerIncompatible(p) => format!("the peer is incompatible with us: {p:?}"),
        E::PeerMisbehaved(p) => format!("the peer broke the TLS protocol: {p:?}"),
        other => other.to_string(),
    }
}

fn describe_certificate(side: Side, e: &CertificateError) -> String {
    use CertificateError as C;
    let whose = match side {
        Side::Client => "the server's certificate",
        Side::Server => "the client's certificate",
    };
    match e {
        C::NotValidForNameContext {
            expected,
            presented,
        } => {
            let names: Vec<&str> = presented.iter().map(|n| clean_name(n)).collect();
            let names = if names.is_empty() {
                "no names".to_owned()
            } else {
                names.join(", ")
            };
            format!(
                "certificate for {names} is not valid for host {}",
                expected.to_str()
            )
        }
        C::NotValidForName => format!("{whose} is not valid for the host name we dialed"),
        C::ExpiredContext { not_after, .. } => format!(
            "certificate expired on {} ({whose}; renew it, or check this machine's clock)",
            format_utc(*not_after)
        ),
        C::Expired => format!("certificate expired ({whose}; renew it)"),
        C::NotValidYetContext { not_before, .. } => format!(
            "certificate is not valid until {} ({whose}; check this machine's clock)",
            format_utc(*not_before)
        ),
        C::NotValidYet => format!("{whose} is not valid yet (check this machine's clock)"),
        C::UnknownIssuer => match side {
            Side::Client => "unknown issuer: the server's certificate is not signed by a \
                 trusted CA; add the CA with extra_ca(...) (extra_ca_file or extra_ca_pem)"
                .to_owned(),
            Side::Server => "unknown issuer: the client's certificate is not signed by a CA \
                 given to client_ca_file(...) or client_ca_pem(...)"
                .to_owned(),
        },
        C::BadSignature => format!("{whose} has a bad signature (forged or corrupted)"),
        C::Revoked => format!("{whose} was revoked by its CA"),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            let purpose = match side {
                Side::Client => "server",
                Side::Server => "client",
            };
            format!("{whose} is not allowed for TLS {purpose} authentication (extended key usage)")
        }
        C::BadEncoding => format!("{whose} is malformed"),
        other => format!("{whose} was rejected: {other}"),
    }
}

fn describe_alert(side: Side, alert: AlertDescription) -> String {
    use AlertDescription as A;
    match (side, alert) {
        (Side::Client, A::CertificateRequired) => "the server requires a client certificate: \
             set one with client_cert_files(...) or client_cert_pem(...)"
            .to_owned(),
        (
            Side::Client,
            A::BadCertificate
            | A::UnknownCA
            | A::CertificateUnknown
            | A::UnsupportedCertificate
            | A::CertificateExpired
            | A::CertificateRevoked
            | A::AccessDenied,
        ) => format!(
            "the server rejected our client certificate ({alert:?}): is it signed by a CA the \
             server trusts, and still valid?"
        ),
        (
            Side::Server,
            A::BadCertificate
            | A::UnknownCA
            | A::CertificateUnknown
            | A::UnsupportedCertificate
            | A::CertificateExpired
            | A::CertificateRevoked,
        ) => format!(
            "the client rejected our certificate ({alert:?}): does it trust our CA, and is the \
             certificate valid for the name it dialed?"
        ),
        (_, A::NoApplicationProtocol) => "no ALPN protocol in common: the peer supports none \
             of our protocols; check the alpn lists on both sides"
            .to_owned(),
        (_, A::ProtocolVersion) => "no TLS version in common with the peer".to_owned(),
        (_, A::HandshakeFailure) => "the peer refused the handshake (no cipher suite, \
             signature scheme or protocol in common)"
            .to_owned(),
        (Side::Client, A::UnrecognisedName) => {
            "the server does not serve the host name we asked for (SNI)".to_owned()
        }
        (_, other) => format!("the peer sent the fatal alert {other:?}"),
    }
}

/// webpki reports names as `DnsName("localhost")` / `IpAddress(127.0.0.1)`; keep the name.
fn clean_name(n: &str) -> &str {
    for prefix in ["DnsName(\"", "UniformResourceIdentifier(\""] {
        if let Some(inner) = n.strip_prefix(prefix).and_then(|r| r.strip_suffix("\")")) {
            return inner;
        }
    }
    n.strip_prefix("IpAddress(")
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(n)
}

/// `2024-03-01 12:00:00 UTC` from a Unix time (proleptic Gregorian, no leap seconds).
pub(crate) fn format_utc(t: UnixTime) -> String {
    let secs = t.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::ServerName;
    use std::time::Duration;

    fn io(e: rustls::Error) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }

    #[test]
    fn dates() {
        let at = |s| format_utc(UnixTime::since_unix_epoch(Duration::from_secs(s)));
        assert_eq!(at(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(at(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(at(1_709_294_400), "2024-03-01 12:00:00 UTC");
        assert_eq!(at(4_102_444_799), "2099-12-31 23:59:59 UTC");
    }

    #[test]
    fn wrong_name_lists_the_certificate_names() {
        let e = io(CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("example.test").unwrap(),
            presented: vec![
                "DnsName(\"localhost\")".into(),
                "IpAddress(127.0.0.1)".into(),
            ],
        }
        .into());
        assert_eq!(
            describe(Side::Client, &e),
            "certificate for localhost, 127.0.0.1 is not valid for host example.test"
        );
    }

    #[test]
    fn expiry_has_a_date() {
        let e = io(CertificateError::ExpiredContext {
            time: UnixTime::since_unix_epoch(Duration::from_secs(1_709_294_400)),
            not_after: UnixTime::since_unix_epoch(Duration::from_secs(946_684_800)),
        }
        .into());
        let s = describe(Side::Client, &e);
        assert!(
            s.starts_with("certificate expired on 2000-01-01 00:00:00 UTC"),
            "{s}"
        );
    }

    #[test]
    fn unknown_issuer_advice_depends_on_side() {
        let e = io(CertificateError::UnknownIssuer.into());
        assert!(describe(Side::Client, &e).contains("extra_ca("));
        assert!(describe(Side::Server, &e).contains("client_ca_file("));
    }

    #[test]
    fn alerts_and_plain_io() {
        let e = io(rustls::Error::AlertReceived(
            AlertDescription::CertificateRequired,
        ));
        assert!(describe(Side::Client, &e).contains("client_cert_files("));
        let e = io(rustls::Error::NoCertificatesPresented);
        assert!(describe(Side::Server, &e).contains("requires one"));
        let e = io::Error::new(io::ErrorKind::UnexpectedEof, "tls handshake eof");
        assert!(describe(Side::Server, &e).contains("closed the connection"));
        let err = tls_error(Side::Client, "x:1".into(), e);
        assert!(
            err.to_string()
                .starts_with("TLS with x:1 failed: the peer closed")
        );
    }
}
