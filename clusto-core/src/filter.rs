//! Attribute filters: the `key`, `subkey`, `number`, `value` and hidden-key rules of the
//! original's `attrs()` and `attr_query()` (reference §6), decided here once.

use wildmatch::WildMatch;

use crate::records::{AttrRef, Attribute};
use crate::value::Value;

/// How a key or subkey is matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextMatch {
    /// Equal to the text.
    Exact(String),
    /// A glob: `*` matches any run of characters, `?` one character.
    Glob(String),
}

impl TextMatch {
    fn matches(&self, text: &str) -> bool {
        match self {
            TextMatch::Exact(t) => t == text,
            TextMatch::Glob(p) => WildMatch::new(p).matches(text),
        }
    }

    fn starts_hidden(&self) -> bool {
        match self {
            TextMatch::Exact(t) | TextMatch::Glob(t) => t.starts_with('_'),
        }
    }

    /// The literal text every match starts with.
    pub(crate) fn literal_prefix(&self) -> &str {
        match self {
            TextMatch::Exact(t) => t,
            TextMatch::Glob(p) => &p[..p.find(['*', '?']).unwrap_or(p.len())],
        }
    }
}

/// How the subkey is matched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SubkeyMatch {
    /// Any subkey, or none.
    #[default]
    Any,
    /// No subkey (SQL NULL).
    Null,
    /// A subkey matching the text.
    Is(TextMatch),
}

/// How the number is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NumberMatch {
    /// Any number, or none.
    #[default]
    Any,
    /// No number (the original's `number=None`/`False`).
    Null,
    /// Some number (the original's `number=True`).
    NotNull,
    /// Exactly this number.
    Is(i64),
}

/// A filter over attributes. Every part left unset matches everything; hidden keys
/// (starting with `_`) are left out unless asked for, or unless the key asked for
/// starts with `_`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttrFilter {
    /// The key to match, if any.
    pub key: Option<TextMatch>,
    /// The subkey rule.
    pub subkey: SubkeyMatch,
    /// The number rule.
    pub number: NumberMatch,
    /// The value to match (by datatype and content), if any.
    pub value: Option<Value>,
    /// Whether hidden keys are included.
    pub include_hidden: bool,
}

impl AttrFilter {
    /// A filter that matches every visible attribute.
    pub fn any() -> Self {
        Self::default()
    }

    /// Matches attributes with exactly this key.
    pub fn key(key: impl Into<String>) -> Self {
        AttrFilter {
            key: Some(TextMatch::Exact(key.into())),
            ..Self::default()
        }
    }

    /// Matches keys against a glob (`*`, `?`).
    pub fn key_glob(pattern: impl Into<String>) -> Self {
        AttrFilter {
            key: Some(TextMatch::Glob(pattern.into())),
            ..Self::default()
        }
    }

    /// Requires exactly this subkey.
    pub fn subkey(mut self, subkey: impl Into<String>) -> Self {
        self.subkey = SubkeyMatch::Is(TextMatch::Exact(subkey.into()));
        self
    }

    /// Requires the subkey to match a glob.
    pub fn subkey_glob(mut self, pattern: impl Into<String>) -> Self {
        self.subkey = SubkeyMatch::Is(TextMatch::Glob(pattern.into()));
        self
    }

    /// Requires no subkey.
    pub fn no_subkey(mut self) -> Self {
        self.subkey = SubkeyMatch::Null;
        self
    }

    /// Requires exactly this number.
    pub fn number(mut self, number: i64) -> Self {
        self.number = NumberMatch::Is(number);
        self
    }

    /// Sets the number rule.
    pub fn number_match(mut self, rule: NumberMatch) -> Self {
        self.number = rule;
        self
    }

    /// Requires this value.
    pub fn value(mut self, value: impl Into<Value>) -> Self {
        self.value = Some(value.into());
        self
    }

    /// Includes hidden keys.
    pub fn with_hidden(mut self) -> Self {
        self.include_hidden = true;
        self
    }

    /// Whether `attr` passes the filter.
    pub fn matches(&self, attr: &Attribute) -> bool {
        self.matches_ref(&attr.as_attr_ref())
    }

    /// Whether an attribute read in place passes the filter.
    pub(crate) fn matches_ref(&self, attr: &AttrRef<'_>) -> bool {
        if attr.is_hidden()
            && !self.include_hidden
            && !self.key.as_ref().is_some_and(TextMatch::starts_hidden)
        {
            return false;
        }
        if self.key.as_ref().is_some_and(|k| !k.matches(attr.key)) {
            return false;
        }
        let subkey_ok = match (&self.subkey, attr.subkey) {
            (SubkeyMatch::Any, _) => true,
            (SubkeyMatch::Null, s) => s.is_none(),
            (SubkeyMatch::Is(_), None) => false,
            (SubkeyMatch::Is(m), Some(s)) => m.matches(s),
        };
        let number_ok = match self.number {
            NumberMatch::Any => true,
            NumberMatch::Null => attr.number.is_none(),
            NumberMatch::NotNull => attr.number.is_some(),
            NumberMatch::Is(n) => attr.number == Some(n),
        };
        subkey_ok
            && number_ok
            && self
                .value
                .as_ref()
                .is_none_or(|v| v.as_value_ref() == attr.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{AttrId, EntityId};

    fn attr(key: &str, subkey: Option<&str>, number: Option<i64>, value: Value) -> Attribute {
        Attribute {
            id: AttrId(1),
            entity: EntityId(1),
            key: key.into(),
            subkey: subkey.map(str::to_owned),
            number,
            value,
            version: 1,
            deleted_at: None,
        }
    }

    #[test]
    fn hidden_keys_need_asking() {
        let a = attr("_contains", None, Some(0), Value::Int(1));
        assert!(!AttrFilter::any().matches(&a));
        assert!(AttrFilter::any().with_hidden().matches(&a));
        assert!(AttrFilter::key("_contains").matches(&a));
        assert!(AttrFilter::key_glob("_con*").matches(&a));
        assert!(!AttrFilter::key_glob("*").matches(&a));
    }

    #[test]
    fn number_and_subkey_rules() {
        let a = attr("ip", Some("ipstring"), Some(3), Value::from("10.0.0.1"));
        let b = attr("ip", None, None, Value::from("x"));
        let f = AttrFilter::key("ip");
        assert!(f.clone().number_match(NumberMatch::NotNull).matches(&a));
        assert!(!f.clone().number_match(NumberMatch::NotNull).matches(&b));
        assert!(f.clone().number_match(NumberMatch::Null).matches(&b));
        assert!(f.clone().number(3).matches(&a) && !f.clone().number(4).matches(&a));
        assert!(f.clone().no_subkey().matches(&b) && !f.clone().no_subkey().matches(&a));
        assert!(f.clone().subkey_glob("ip*").matches(&a));
        assert!(!f.clone().subkey("ip").matches(&b));
        assert!(f.clone().value("10.0.0.1").matches(&a));
        assert!(!f.value(1).matches(&a));
    }

    #[test]
    fn literal_prefix_stops_at_wildcards() {
        assert_eq!(TextMatch::Glob("port-*-x".into()).literal_prefix(), "port-");
        assert_eq!(TextMatch::Glob("a?".into()).literal_prefix(), "a");
        assert_eq!(TextMatch::Exact("a*".into()).literal_prefix(), "a*");
    }
}
