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
    // SAFETY: getuid cannot fail.
    format!("uid{}", unsafe { libc::getuid() })
}

pub fn hostname() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length, and gethostname writes at most that.
    let result = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if result != 0 {
        return "localhost".into();
    }
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    String::from_utf8_lossy(&buffer[..end]).into_owned()
}
