//! libpq's password file (`PGPASSFILE`, else `~/.pgpass`), read as libpq reads it.
//!
//! Each line is `hostname:port:database:username:password`. A field that is only `*`
//! matches anything; `\:` and `\\` stand for `:` and `\` (a backslash makes any
//! character literal); a line that starts with `#` is a comment. The first line whose
//! four fields match gives the password. On Unix, a file that its group or others may
//! read or write is ignored, as libpq ignores it.
//!
//! (No maintained crate reads this format alone: the few that do carry a parser
//! framework or a whole DSN library, for some 40 lines.)

use std::fmt;
use std::path::{Path, PathBuf};

/// A password read from the file. Its `Debug` shows `***`.
pub(super) struct Password(Vec<u8>);

impl Password {
    /// The password's bytes, to give to the client.
    pub(super) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// What is matched against the file's lines.
pub(super) struct Wanted<'a> {
    pub host: &'a str,
    pub port: &'a str,
    pub database: &'a str,
    pub user: &'a str,
}

/// What the password file gave.
#[derive(Debug)]
pub(super) enum Lookup {
    /// No file, or no line matched.
    None,
    /// The password of the first line that matched.
    Found(Password),
    /// The file is not used: why (a sentence that names the file; never its content).
    Ignored(String),
}

/// The password file libpq would read: `PGPASSFILE` (`passfile`), else `.pgpass` in
/// `home` (`%APPDATA%\postgresql\pgpass.conf` on Windows).
pub(super) fn location(passfile: Option<&str>, home: Option<&Path>) -> Option<PathBuf> {
    if let Some(file) = passfile.filter(|f| !f.is_empty()) {
        return Some(PathBuf::from(file));
    }
    if cfg!(windows) {
        let appdata = std::env::var_os("APPDATA")?;
        return Some(Path::new(&appdata).join("postgresql").join("pgpass.conf"));
    }
    home.map(|h| h.join(".pgpass"))
}

/// Looks `wanted` up in the file at `path`.
pub(super) fn lookup(path: &Path, wanted: &Wanted<'_>) -> Lookup {
    let shown = path.display();
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(_) => return Lookup::None,
    };
    if !meta.is_file() {
        return Lookup::Ignored(format!(
            "the password file {shown} is not a plain file and was not read"
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Lookup::Ignored(format!(
                "the password file {shown} was ignored: group or others may read it \
                 (chmod 0600 it, as libpq asks)"
            ));
        }
    }
    match std::fs::read(path) {
        Ok(text) => find(&text, wanted).map_or(Lookup::None, Lookup::Found),
        Err(e) => Lookup::Ignored(format!("the password file {shown} cannot be read: {e}")),
    }
}

/// The password of the first line of `text` that matches `wanted`.
pub(super) fn find(text: &[u8], wanted: &Wanted<'_>) -> Option<Password> {
    text.split(|&b| b == b'\n').find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.starts_with(b"#") {
            return None;
        }
        let rest = field(line, wanted.host.as_bytes())?;
        let rest = field(rest, wanted.port.as_bytes())?;
        let rest = field(rest, wanted.database.as_bytes())?;
        let rest = field(rest, wanted.user.as_bytes())?;
        Some(password(rest))
    })
}

/// When the first field of `line` matches `value`, the rest of the line after its `:`
/// (libpq's `pwdfMatchesString`).
fn field<'a>(line: &'a [u8], value: &[u8]) -> Option<&'a [u8]> {
    if let Some(rest) = line.strip_prefix(b"*:") {
        return Some(rest);
    }
    let (mut i, mut j) = (0, 0);
    while i < line.len() {
        let mut escaped = false;
        if line[i] == b'\\' {
            i += 1;
            escaped = true;
            if i == line.len() {
                return None;
            }
        }
        if line[i] == b':' && !escaped && j == value.len() {
            return Some(&line[i + 1..]);
        }
        if j == value.len() || line[i] != value[j] {
            return None;
        }
        i += 1;
        j += 1;
    }
    None
}

/// The password field: up to an unescaped `:` or the end, escapes removed.
fn password(rest: &[u8]) -> Password {
    let mut out = Vec::with_capacity(rest.len());
    let mut i = 0;
    while i < rest.len() && rest[i] != b':' {
        if rest[i] == b'\\' && i + 1 < rest.len() {
            i += 1;
        }
        out.push(rest[i]);
        i += 1;
    }
    Password(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted<'a>(host: &'a str, port: &'a str, database: &'a str, user: &'a str) -> Wanted<'a> {
        Wanted {
            host,
            port,
            database,
            user,
        }
    }

    fn found(text: &str, w: &Wanted<'_>) -> Option<String> {
        find(text.as_bytes(), w).map(|p| String::from_utf8(p.bytes().to_vec()).unwrap())
    }

    #[test]
    fn the_first_matching_line_gives_the_password() {
        let text = "# a comment:*:*:*:not-this\n\
                    db1.example:5432:inv:alice:first\n\
                    *:5432:inv:alice:second\n\
                    *:*:*:*:fallback\n";
        let w = wanted("db1.example", "5432", "inv", "alice");
        assert_eq!(found(text, &w).as_deref(), Some("first"));
        let other_host = wanted("db2.example", "5432", "inv", "alice");
        assert_eq!(found(text, &other_host).as_deref(), Some("second"));
        let other_port = wanted("db1.example", "6000", "inv", "alice");
        assert_eq!(found(text, &other_port).as_deref(), Some("fallback"));
        assert_eq!(found("h:1:d:u:p\n", &other_port), None);
        assert_eq!(found("", &w), None);
    }

    #[test]
    fn a_field_matches_whole_values_only() {
        let w = wanted("db", "5432", "inv", "alice");
        for no in [
            "d:5432:inv:alice:p",
            "dbx:5432:inv:alice:p",
            "db:5432:inv:alic:p",
            "db:5432:inv:alice",
            "db:5432:inv",
            "*x:5432:inv:alice:p",
            " db:5432:inv:alice:p",
        ] {
            assert_eq!(found(no, &w), None, "{no}");
        }
        assert_eq!(found("db:5432:inv:alice:", &w).as_deref(), Some(""));
        // A `*` that is not the whole field is a plain character.
        let star = wanted("*x", "5432", "inv", "alice");
        assert_eq!(found("*x:5432:inv:alice:p", &star).as_deref(), Some("p"));
    }

    #[test]
    fn escapes_and_line_ends() {
        // A host with a colon (an IPv6 address), a user with a backslash.
        let w = wanted("::1", "5432", "inv", "dom\\al");
        let text = "\\:\\:1:5432:inv:dom\\\\al:pa\\:ss\\\\word:ignored\r\n";
        assert_eq!(found(text, &w).as_deref(), Some("pa:ss\\word"));
        let plain = wanted("h", "1", "d", "u");
        assert_eq!(
            found("h:1:d:u:secret\r\n", &plain).as_deref(),
            Some("secret")
        );
        assert_eq!(found("h:1:d:u:se\\cret", &plain).as_deref(), Some("secret"));
        // An escaped `*` is a literal star, not a wildcard.
        assert_eq!(found("\\*:1:d:u:p", &plain), None);
        // A comment only at the start of a line.
        assert_eq!(found("#h:1:d:u:p", &plain), None);
        assert_eq!(found("h:1:d:u:#p", &plain).as_deref(), Some("#p"));
        // A trailing backslash escapes nothing.
        assert_eq!(found("h\\", &plain), None);
    }

    #[test]
    fn debug_hides_the_password() {
        let p = || find(b"*:*:*:*:hunter2", &wanted("h", "1", "d", "u")).unwrap();
        let shown = format!("{:?} {:?}", p(), Lookup::Found(p()));
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn files_are_found_and_checked_as_libpq_does() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            location(Some("/etc/pass"), Some(dir.path())),
            Some(PathBuf::from("/etc/pass"))
        );
        if !cfg!(windows) {
            assert_eq!(
                location(Some(""), Some(dir.path())),
                Some(dir.path().join(".pgpass"))
            );
            assert_eq!(location(None, None), None);
        }
        let file = dir.path().join("pgpass");
        let w = wanted("h", "1", "d", "u");
        assert!(matches!(lookup(&file, &w), Lookup::None), "a missing file");
        std::fs::write(&file, "h:1:d:u:right\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            match lookup(&file, &w) {
                Lookup::Ignored(why) => {
                    assert!(why.contains("0600") && why.contains("pgpass"), "{why}");
                    assert!(!why.contains("right"), "{why}");
                }
                other => panic!("{other:?}"),
            }
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        match lookup(&file, &w) {
            Lookup::Found(p) => assert_eq!(p.bytes(), b"right"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            lookup(&file, &wanted("h", "2", "d", "u")),
            Lookup::None
        ));
        assert!(matches!(lookup(dir.path(), &w), Lookup::Ignored(_)));
    }
}
