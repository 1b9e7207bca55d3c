//! Which PostgreSQL server and schema the team store is, from `--store URL` and libpq's variables.
//!
//! A release engineer configures PostgreSQL clients the libpq way: a `postgres://` URL, and the
//! `PG*` variables (`PGHOST`, `PGUSER`, `PGPASSWORD`, …) for what the URL leaves out, so that a
//! password need not sit in a URL or a shell history. The Rust client reads only the URL, so this
//! module fills in the rest as libpq would, and takes out of the URL the TLS settings the client
//! does not know (`sslmode=verify-ca|verify-full`, `sslrootcert`), which [`super::tls`] applies.
//! The password is kept only in the client's configuration: [`Target::display`] never shows it.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use percent_encoding::percent_decode_str;
use postgres::config::{Host, SslMode};

/// How much TLS a connection insists on, as libpq's `sslmode` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Disable,
    /// TLS if the server offers it, unverified (libpq's default).
    Prefer,
    /// TLS, unverified unless a root certificate is given (then as `VerifyCa`).
    Require,
    /// TLS with a certificate signed by a trusted root, whatever name it is for.
    VerifyCa,
    /// TLS with a certificate signed by a trusted root, for the host connected to.
    VerifyFull,
}

impl TlsMode {
    fn parse(text: &str) -> Result<TlsMode, String> {
        match text {
            "disable" => Ok(TlsMode::Disable),
            // `allow` tries without TLS first; shipbook tries with it, which is never weaker.
            "allow" | "prefer" => Ok(TlsMode::Prefer),
            "require" => Ok(TlsMode::Require),
            "verify-ca" => Ok(TlsMode::VerifyCa),
            "verify-full" => Ok(TlsMode::VerifyFull),
            other => Err(format!(
                "sslmode `{other}` is not one of disable, allow, prefer, require, verify-ca, verify-full"
            )),
        }
    }
}

/// Where trusted root certificates come from (libpq's `sslrootcert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCertificates {
    /// A PEM file of certificates.
    File(PathBuf),
    /// `sslrootcert=system`: the well-known public roots.
    System,
    /// None given, and no `~/.postgresql/root.crt`.
    None,
}

/// A team store to connect to: the client's configuration, the TLS to use, and the schema.
#[derive(Clone)]
pub struct Target {
    pub(super) config: postgres::Config,
    pub(super) tls: TlsMode,
    pub(super) roots: RootCertificates,
    /// The PostgreSQL schema that holds shipbook's tables.
    pub schema: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the configuration itself: it holds the password.
        write!(formatter, "Target({})", self.display())
    }
}

/// The URL forms accepted, for every message that refuses one.
pub const ACCEPTED: &str = "postgres://[USER@]HOST[:PORT]/DATABASE or postgresql://…, with libpq's PG* variables (PGHOST, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, …) filling what it leaves out";

impl Target {
    /// Reads `url` and the `PG*` variables that `variable` looks up.
    pub fn parse(
        url: &str,
        schema: &str,
        variable: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Target, String> {
        check_schema_name(schema)?;
        let Some(rest) = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
        else {
            let shown = url.split('@').next_back().unwrap_or(url);
            return Err(format!(
                "`{shown}` is not a PostgreSQL URL (a team store is `postgres://…` or `postgresql://…`)"
            ));
        };
        let (base, query) = match rest.split_once('?') {
            Some((base, query)) => (base, query),
            None => (rest, ""),
        };
        // The settings the client does not know are taken out of the URL and applied here.
        let mut kept = Vec::new();
        let mut ssl_mode = None;
        let mut root_cert = None;
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode_str(value).decode_utf8_lossy().into_owned();
            match key {
                "sslmode" => ssl_mode = Some(value),
                "sslrootcert" => root_cert = Some(value),
                _ => kept.push(pair),
            }
        }
        let client_url = if kept.is_empty() {
            format!("postgres://{base}")
        } else {
            format!("postgres://{base}?{}", kept.join("&"))
        };
        let mut config = postgres::Config::from_str(&client_url)
            .map_err(|error| format!("cannot read the store URL: {error}"))?;
        fill_from_variables(&mut config, variable)?;
        let tls = TlsMode::parse(
            &ssl_mode
                .or_else(|| variable("PGSSLMODE"))
                .unwrap_or_else(|| "prefer".into()),
        )?;
        let roots = match root_cert.or_else(|| variable("PGSSLROOTCERT")) {
            Some(path) if path == "system" => RootCertificates::System,
            Some(path) => RootCertificates::File(PathBuf::from(path)),
            None => default_root_file(variable),
        };
        if matches!(tls, TlsMode::VerifyCa | TlsMode::VerifyFull) && roots == RootCertificates::None
        {
            return Err(
                "sslmode verify-ca and verify-full need trusted root certificates: sslrootcert=FILE (or PGSSLROOTCERT, or sslrootcert=system for the public roots), or ~/.postgresql/root.crt"
                    .into(),
            );
        }
        config.ssl_mode(match tls {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            _ => SslMode::Require,
        });
        Ok(Target {
            config,
            tls,
            roots,
            schema: schema.to_string(),
        })
    }

    /// The store as people may see it: user, host, port, database and schema; no password.
    pub fn display(&self) -> String {
        let user = self.config.get_user().unwrap_or("");
        let host = match self.config.get_hosts().first() {
            Some(Host::Tcp(name)) => name.clone(),
            Some(Host::Unix(path)) => path.display().to_string(),
            None => String::new(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        let database = self.config.get_dbname().unwrap_or("");
        format!(
            "postgres://{user}@{host}:{port}/{database} (schema {})",
            self.schema
        )
    }
}

/// The schema name goes into SQL as an identifier, so it is held to a plain one.
fn check_schema_name(schema: &str) -> Result<(), String> {
    let mut characters = schema.chars();
    let plain = characters
        .next()
        .is_some_and(|first| first.is_ascii_lowercase() || first == '_')
        && characters.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && schema.len() <= 63;
    if plain {
        Ok(())
    } else {
        Err(format!(
            "store schema `{schema}` is not a plain PostgreSQL name (lowercase letters, digits and _, not starting with a digit, at most 63 characters)"
        ))
    }
}

/// What libpq would take from its variables for whatever the URL left out.
fn fill_from_variables(
    config: &mut postgres::Config,
    variable: &dyn Fn(&str) -> Option<String>,
) -> Result<(), String> {
    let set = |name: &str| variable(name).filter(|value| !value.is_empty());
    if config.get_hosts().is_empty() {
        let hosts = set("PGHOST").unwrap_or_else(default_host);
        for host in hosts.split(',') {
            config.host(host);
        }
    }
    if config.get_ports().is_empty()
        && let Some(port) = set("PGPORT")
    {
        let port = port
            .parse()
            .map_err(|_| format!("PGPORT `{port}` is not a port number"))?;
        config.port(port);
    }
    if config.get_user().is_none() {
        let user = set("PGUSER").unwrap_or_else(|| whoami::username().unwrap_or_default());
        config.user(&user);
    }
    if config.get_password().is_none()
        && let Some(password) = set("PGPASSWORD")
    {
        config.password(password);
    }
    if config.get_dbname().is_none() {
        let database = set("PGDATABASE").or_else(|| config.get_user().map(str::to_string));
        if let Some(database) = database {
            config.dbname(&database);
        }
    }
    if config.get_application_name().is_none() {
        let name = set("PGAPPNAME").unwrap_or_else(|| "shipbook".into());
        config.application_name(&name);
    }
    if config.get_connect_timeout().is_none() {
        let seconds = match set("PGCONNECT_TIMEOUT") {
            Some(text) => text
                .parse()
                .map_err(|_| format!("PGCONNECT_TIMEOUT `{text}` is not a number of seconds"))?,
            None => 10,
        };
        config.connect_timeout(Duration::from_secs(seconds));
    }
    // A connection lost without a word (a network gone) is noticed within a minute or so.
    config.keepalives_idle(Duration::from_secs(30));
    Ok(())
}

/// libpq's default host: its socket directory where there is one, else this host.
fn default_host() -> String {
    if std::path::Path::new("/var/run/postgresql").is_dir() {
        "/var/run/postgresql".into()
    } else {
        "localhost".into()
    }
}

/// libpq's default root certificate file, when it exists.
fn default_root_file(variable: &dyn Fn(&str) -> Option<String>) -> RootCertificates {
    match variable("HOME") {
        Some(home) => {
            let path = PathBuf::from(home).join(".postgresql/root.crt");
            if path.is_file() {
                RootCertificates::File(path)
            } else {
                RootCertificates::None
            }
        }
        None => RootCertificates::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(known, _)| known == name)
                .map(|(_, value)| value.clone())
        }
    }

    #[test]
    fn the_variables_fill_what_the_url_leaves_out() {
        let target = Target::parse(
            "postgres://",
            "shipbook",
            &variables(&[
                ("PGHOST", "db.internal"),
                ("PGPORT", "6543"),
                ("PGUSER", "release"),
                ("PGPASSWORD", "s3cret"),
                ("PGDATABASE", "ops"),
                ("PGSSLMODE", "require"),
            ]),
        )
        .unwrap();
        assert_eq!(
            target.display(),
            "postgres://release@db.internal:6543/ops (schema shipbook)"
        );
        assert_eq!(target.config.get_password(), Some(&b"s3cret"[..]));
        assert_eq!(target.tls, TlsMode::Require);
    }

    #[test]
    fn the_url_wins_over_the_variables_and_its_password_is_never_shown() {
        let target = Target::parse(
            "postgresql://ann:hunter2@10.0.0.5/releases?sslmode=disable&application_name=x",
            "team_a",
            &variables(&[("PGHOST", "elsewhere"), ("PGUSER", "bob")]),
        )
        .unwrap();
        let shown = target.display();
        assert_eq!(
            shown,
            "postgres://ann@10.0.0.5:5432/releases (schema team_a)"
        );
        assert!(!format!("{target:?}").contains("hunter2"));
        assert_eq!(target.tls, TlsMode::Disable);
    }

    #[test]
    fn other_forms_and_odd_schemas_are_refused() {
        let none = variables(&[]);
        let error = Target::parse("mysql://ann:pw@host/db", "shipbook", &none).unwrap_err();
        assert!(error.contains("not a PostgreSQL URL"), "{error}");
        assert!(!error.contains("pw"), "{error}");
        let error = Target::parse("postgres://h/db", "Robert'); DROP", &none).unwrap_err();
        assert!(error.contains("not a plain PostgreSQL name"), "{error}");
        let error =
            Target::parse("postgres://h/db?sslmode=verify-full", "shipbook", &none).unwrap_err();
        assert!(error.contains("root certificates"), "{error}");
        let error = Target::parse("postgres://h/db?sslmode=maybe", "shipbook", &none).unwrap_err();
        assert!(error.contains("sslmode `maybe`"), "{error}");
    }

    #[test]
    fn a_root_certificate_in_the_url_is_taken_out_and_kept() {
        let target = Target::parse(
            "postgres://h/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem",
            "shipbook",
            &variables(&[]),
        )
        .unwrap();
        assert_eq!(target.tls, TlsMode::VerifyFull);
        assert_eq!(
            target.roots,
            RootCertificates::File(PathBuf::from("/etc/ca.pem"))
        );
    }
}
