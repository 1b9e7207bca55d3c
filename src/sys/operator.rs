//! Who is running shipbook, and where: `user@host`, recorded with every run and confirmation.

/// The operator as `user@host`.
pub fn operator() -> String {
    format!("{}@{}", user(), hostname())
}

fn user() -> String {
    for name in ["USER", "LOGNAME"] {
        if let Ok(user) = std::env::var(name)
            && !user.is_empty()
        {
            return user;
        }
    }
    whoami::username()
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| format!("uid{}", rustix::process::getuid().as_raw()))
}

/// The name of this host, as `uname -n` gives it.
pub fn hostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}
