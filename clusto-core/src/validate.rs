//! The naming rules, in one place.

use crate::error::{Error, Result};

/// Longest entity name, in characters (the original's column width).
pub const MAX_NAME_CHARS: usize = 128;
/// Longest type or driver name, in characters.
pub const MAX_TYPE_CHARS: usize = 32;
/// Longest attribute key or subkey, in characters.
pub const MAX_KEY_CHARS: usize = 256;

/// An entity name: non-empty, at most 128 characters, no control characters.
pub fn entity_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::InvalidName("an entity name cannot be empty".into()));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::InvalidName(format!(
            "entity name '{name}' is longer than {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::InvalidName(format!(
            "entity name {name:?} contains a control character"
        )));
    }
    Ok(())
}

/// A type or driver name: non-empty, at most 32 characters, no whitespace or control
/// characters. `what` is "type" or "driver", for the message.
pub fn type_name(what: &str, name: &str) -> Result<()> {
    if name.is_empty() || name.chars().count() > MAX_TYPE_CHARS {
        return Err(Error::InvalidName(format!(
            "{what} name {name:?} must have 1 to {MAX_TYPE_CHARS} characters"
        )));
    }
    if name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::InvalidName(format!(
            "{what} name {name:?} contains whitespace or a control character"
        )));
    }
    Ok(())
}

/// An attribute key or a non-empty subkey: `^[A-Za-z_][0-9A-Za-z_-]*$`, at most 256
/// characters. `what` is "key" or "subkey", for the message. (An empty subkey is a
/// valid value distinct from no subkey, as in the original; callers skip this check
/// for it.)
pub fn attr_key(what: &str, key: &str) -> Result<()> {
    let mut chars = key.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !first_ok || !rest_ok {
        return Err(Error::InvalidName(format!(
            "attribute {what} {key:?} is invalid: it must match ^[A-Za-z_][0-9A-Za-z_-]*$"
        )));
    }
    if key.len() > MAX_KEY_CHARS {
        return Err(Error::InvalidName(format!(
            "attribute {what} '{key}' is longer than {MAX_KEY_CHARS} characters"
        )));
    }
    Ok(())
}

/// A subkey: `None` and `Some("")` are always valid, anything else follows [`attr_key`].
pub fn attr_subkey(subkey: Option<&str>) -> Result<()> {
    match subkey {
        Some(s) if !s.is_empty() => attr_key("subkey", s),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(entity_name("café-ops").is_ok());
        assert!(entity_name("").is_err());
        assert!(entity_name(&"x".repeat(129)).is_err());
        assert!(entity_name(&"é".repeat(128)).is_ok());
        assert!(entity_name("a\nb").is_err());
    }

    #[test]
    fn keys() {
        for good in ["a", "_contains", "port-nic-eth", "A_9-"] {
            assert!(attr_key("key", good).is_ok(), "{good}");
        }
        for bad in ["", "9a", "-a", "a b", "a.b", "é"] {
            let err = attr_key("key", bad).unwrap_err().to_string();
            assert!(err.contains("^[A-Za-z_]"), "{bad}: {err}");
        }
        assert!(attr_subkey(Some("")).is_ok());
        assert!(attr_subkey(None).is_ok());
        assert!(attr_subkey(Some("1x")).is_err());
    }

    #[test]
    fn type_names() {
        assert!(type_name("driver", "exclusive_pool").is_ok());
        assert!(type_name("driver", "").is_err());
        assert!(type_name("type", "a b").is_err());
        assert!(type_name("type", &"t".repeat(33)).is_err());
    }
}
