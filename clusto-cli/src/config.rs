//! Which database the CLI opens, and who the changes are recorded for.
//!
//! Database, first found wins: `--dsn`, `$CLUSTODSN`, `dsn` in `[clusto]` of the config
//! file (`--config`, `$CLUSTOCONFIG`, else `/etc/clusto/clusto.conf` if it exists), then
//! `$XDG_DATA_HOME/clusto/db` (`~/.local/share/clusto/db`).

use std::path::{Path, PathBuf};

use clusto_core::{Error, OpenOptions, Result};

/// The system-wide config file of the original clusto.
pub const DEFAULT_CONFIG: &str = "/etc/clusto/clusto.conf";

/// The config file in use: `config`, else the system-wide one if it exists.
fn config_file(config: Option<&Path>) -> Option<PathBuf> {
    config.map(Path::to_path_buf).or_else(|| {
        let default = PathBuf::from(DEFAULT_CONFIG);
        default.exists().then_some(default)
    })
}

/// The DSN to open, from the sources above in order.
pub fn resolve_dsn(dsn: Option<&str>, config: Option<&Path>) -> Result<String> {
    if let Some(dsn) = dsn {
        return Ok(dsn.to_owned());
    }
    if let Some(path) = config_file(config) {
        return dsn_from_config(&path);
    }
    Ok(default_location().display().to_string())
}

/// The open options of the config file in use (`wait`, `durability` in `[clusto]`),
/// applied to `options` by the core, which decides what they mean.
pub fn apply_settings(config: Option<&Path>, options: &mut OpenOptions) -> Result<()> {
    let Some(path) = config_file(config) else {
        return Ok(());
    };
    let ini = load(&path)?;
    if let Some(section) = ini.section(Some("clusto")) {
        for (key, value) in section.iter() {
            options
                .set(key, value)
                .map_err(|e| Error::InvalidValue(format!("{}: {e}", path.display())))?;
        }
    }
    Ok(())
}

fn load(path: &Path) -> Result<ini::Ini> {
    ini::Ini::load_from_file(path)
        .map_err(|e| Error::InvalidValue(format!("cannot read config {}: {e}", path.display())))
}

/// The `dsn` of a legacy clusto.conf (`[clusto]` section).
pub fn dsn_from_config(path: &Path) -> Result<String> {
    let ini = load(path)?;
    let dsn = ini
        .section(Some("clusto"))
        .and_then(|s| s.get("dsn"))
        .ok_or_else(|| Error::InvalidValue(format!("{} has no dsn in [clusto]", path.display())))?;
    // A relative path in a config file is relative to the file, not to where we run.
    let relative = !dsn.contains("://") && !dsn.starts_with('/');
    Ok(match path.parent() {
        Some(dir) if relative && !dir.as_os_str().is_empty() => dir.join(dsn).display().to_string(),
        _ => dsn.to_owned(),
    })
}

/// What the original's clusto-apiserver read from the `[apiserver]` section.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ApiServerConf {
    /// `host`: the address to listen on.
    pub host: Option<String>,
    /// `port`.
    pub port: Option<u16>,
    /// `response_headers`: `Name:Value` pairs separated by commas.
    pub response_headers: Vec<(String, String)>,
}

/// The `[apiserver]` section of the config file in use, for `clusto serve`.
pub fn apiserver_settings(config: Option<&Path>) -> Result<ApiServerConf> {
    let Some(path) = config_file(config) else {
        return Ok(ApiServerConf::default());
    };
    let ini = load(&path)?;
    let Some(section) = ini.section(Some("apiserver")) else {
        return Ok(ApiServerConf::default());
    };
    let bad = |what: String| Error::InvalidValue(format!("{} [apiserver]: {what}", path.display()));
    let port = section
        .get("port")
        .map(|p| {
            p.trim()
                .parse()
                .map_err(|_| bad(format!("port '{p}' is not a port number")))
        })
        .transpose()?;
    let mut response_headers = Vec::new();
    for pair in section
        .get("response_headers")
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.trim().is_empty())
    {
        let (name, value) = pair
            .split_once(':')
            .ok_or_else(|| bad(format!("response header '{pair}' is not Name:Value")))?;
        response_headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(ApiServerConf {
        host: section.get("host").map(|h| h.trim().to_owned()),
        port,
        response_headers,
    })
}

/// The documented default database location.
pub fn default_location() -> PathBuf {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    data.join("clusto").join("db")
}

/// The login user, for the versions this command writes.
pub fn login_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_apiserver_section_of_the_original() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("clusto.conf");
        std::fs::write(
            &conf,
            "[clusto]\ndsn = db\n[apiserver]\nhost = 0.0.0.0\nport = 9999\n\
             response_headers = Access-Control-Allow-Origin:*, X-Site:lab\n",
        )
        .unwrap();
        let read = apiserver_settings(Some(&conf)).unwrap();
        assert_eq!(read.host.as_deref(), Some("0.0.0.0"));
        assert_eq!(read.port, Some(9999));
        assert_eq!(
            read.response_headers,
            [
                ("Access-Control-Allow-Origin".to_owned(), "*".to_owned()),
                ("X-Site".to_owned(), "lab".to_owned())
            ]
        );
        std::fs::write(&conf, "[apiserver]\nport = ninety\n").unwrap();
        let e = apiserver_settings(Some(&conf)).unwrap_err().to_string();
        assert!(e.contains("[apiserver]") && e.contains("ninety"), "{e}");
        std::fs::write(&conf, "[clusto]\ndsn = db\n").unwrap();
        assert_eq!(
            apiserver_settings(Some(&conf)).unwrap(),
            ApiServerConf::default()
        );
    }

    #[test]
    fn order_of_sources() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("clusto.conf");
        std::fs::write(&conf, "[clusto]\ndsn = inventory\nversioning = true\n").unwrap();
        assert_eq!(resolve_dsn(Some("/x"), Some(&conf)).unwrap(), "/x");
        assert_eq!(
            resolve_dsn(None, Some(&conf)).unwrap(),
            dir.path().join("inventory").display().to_string()
        );
        std::fs::write(&conf, "[other]\n").unwrap();
        assert!(
            resolve_dsn(None, Some(&conf))
                .unwrap_err()
                .to_string()
                .contains("no dsn")
        );
    }
}
