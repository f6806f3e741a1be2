//! The original's command names: `clusto-info NAME` (a link to this binary named
//! `clusto-SUBCOMMAND`) runs `clusto info NAME`, and `clusto foo ...`, for a subcommand
//! this binary does not have, runs the site command `clusto-foo` from PATH, as the
//! original's `clusto` did.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// What to run for the command line `args` (argv[0] first), given this binary's
/// subcommand names.
#[derive(Debug, PartialEq, Eq)]
pub enum Dispatch {
    /// Parse these arguments as usual.
    Here(Vec<OsString>),
    /// Run this program with these arguments instead.
    External(PathBuf, Vec<OsString>),
}

/// Decides where a command line goes. `find` looks a program up on PATH.
pub fn route(
    mut args: Vec<OsString>,
    subcommands: &[String],
    find: impl Fn(&str) -> Option<PathBuf>,
) -> Dispatch {
    let invoked = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("clusto")
        .to_owned();
    if let Some(sub) = invoked.strip_prefix("clusto-")
        && subcommands.iter().any(|s| s == sub)
    {
        args[0] = OsString::from("clusto");
        args.insert(1, OsString::from(sub));
        return Dispatch::Here(args);
    }
    let Some(first) = args.get(1).and_then(|a| a.to_str()) else {
        return Dispatch::Here(args);
    };
    if first.starts_with('-') || subcommands.iter().any(|s| s == first) || first == "help" {
        return Dispatch::Here(args);
    }
    match find(&format!("clusto-{first}")) {
        Some(program) => Dispatch::External(program, args.split_off(2)),
        None => Dispatch::Here(args),
    }
}

/// The program `name` in a directory of PATH, if one is there and executable.
pub fn on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn subs() -> Vec<String> {
        ["info", "attr", "list-pool"].map(String::from).to_vec()
    }

    #[test]
    fn a_link_named_clusto_sub_runs_that_subcommand() {
        let none = |_: &str| None;
        assert_eq!(
            route(args(&["/usr/bin/clusto-info", "s1"]), &subs(), none),
            Dispatch::Here(args(&["clusto", "info", "s1"]))
        );
        assert_eq!(
            route(args(&["clusto-list-pool", "web"]), &subs(), none),
            Dispatch::Here(args(&["clusto", "list-pool", "web"]))
        );
        assert_eq!(
            route(args(&["clusto-nothing", "x"]), &subs(), none),
            Dispatch::Here(args(&["clusto-nothing", "x"]))
        );
    }

    #[test]
    fn an_unknown_subcommand_runs_the_site_command_from_path() {
        let find = |name: &str| {
            (name == "clusto-rack-report").then(|| PathBuf::from("/opt/bin/clusto-rack-report"))
        };
        assert_eq!(
            route(args(&["clusto", "rack-report", "-r", "r1"]), &subs(), find),
            Dispatch::External("/opt/bin/clusto-rack-report".into(), args(&["-r", "r1"]))
        );
        for line in [
            &["clusto", "info", "s1"][..],
            &["clusto", "--dsn", "x", "info"],
            &["clusto", "nope"],
        ] {
            assert_eq!(route(args(line), &subs(), find), Dispatch::Here(args(line)));
        }
    }
}
