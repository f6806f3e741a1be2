//! Runs of held integer values, per attribute key: the maximal ranges of consecutive
//! integers that some live, numbered attribute with that key holds as its value (the
//! original's notion of an allocated resource). With them, "the first free value at or
//! after x" is one index lookup, so allocation does not slow down as a range fills.

use crate::codec::{decode, encode};
use crate::error::{Error, Result};
use crate::filter::{AttrFilter, NumberMatch};
use crate::keys::{Key, space};
use crate::records::Attribute;
use crate::storage::KvRead;
use crate::txn::Transaction;
use crate::value::Value;
use crate::view::View;

/// Whether an attribute's value counts as held: an int with a number.
pub(crate) fn held_value(a: &Attribute) -> Option<i64> {
    match (a.number, &a.value) {
        (Some(_), Value::Int(v)) => Some(*v),
        _ => None,
    }
}

pub(crate) fn run_key(key: &str, start: i64) -> Vec<u8> {
    Key::new(space::RUN).str(key).i64(start).into_bytes()
}

impl View<'_> {
    /// The run `(start, end)` of `key` that contains `v`, if `v` is held.
    pub(crate) fn run_containing(&self, key: &str, v: i64) -> Result<Option<(i64, i64)>> {
        Ok(self.last_run_from(key, v)?.filter(|&(_, end)| end >= v))
    }

    /// The run of `key` that starts last at or before `v`, held or not.
    fn last_run_from(&self, key: &str, v: i64) -> Result<Option<(i64, i64)>> {
        let low = Key::new(space::RUN).str(key).into_bytes();
        // An allocation looks up runs three times (choosing a value, then holding it:
        // this scan and a point read), each a round trip on a server; a key's runs are
        // few (held values merge into runs), read once.
        self.kv.prefetch_prefix(&low)?;
        let high = match v.checked_add(1) {
            Some(next) => run_key(key, next),
            None => crate::keys::prefix_end(&low).unwrap_or_default(),
        };
        let Some(entry) = self.kv.scan(&low, Some(&high), true).next() else {
            return Ok(None);
        };
        let (k, bytes) = entry?;
        let start = i64::from_be_bytes(k[k.len() - 8..].try_into().expect("8 bytes")) ^ i64::MIN;
        let end: i64 = decode(&bytes, &|| format!("run of '{key}' at {start}"))?;
        Ok(Some((start, end)))
    }

    /// The end of the run of `key` that starts at `start`, if one does.
    fn run_starting_at(&self, key: &str, start: i64) -> Result<Option<i64>> {
        match self.kv.get(&run_key(key, start))? {
            Some(bytes) => Ok(Some(decode(&bytes, &|| {
                format!("run of '{key}' at {start}")
            })?)),
            None => Ok(None),
        }
    }

    /// The first value at or after `from` that no numbered attribute with `key` holds;
    /// `None` past the end of the integers.
    pub(crate) fn first_unheld(&self, key: &str, from: i64) -> Result<Option<i64>> {
        match self.run_containing(key, from)? {
            Some((_, end)) => Ok(end.checked_add(1)),
            None => Ok(Some(from)),
        }
    }

    /// Whether a live numbered attribute with `key` has value `value`.
    pub(crate) fn value_held(&self, key: &str, value: &Value) -> Result<bool> {
        let held = AttrFilter::key(key)
            .value(value.clone())
            .number_match(NumberMatch::NotNull)
            .with_hidden();
        Ok(!self.attr_query(&held)?.is_empty())
    }
}

impl Transaction {
    /// Keeps the runs in step when a counted attribute appears or goes away.
    pub(crate) fn track_held_values(
        &mut self,
        old: Option<&Attribute>,
        new: &Attribute,
    ) -> Result<()> {
        match (old, new.deleted_at) {
            (None, None) => match held_value(new) {
                Some(v) => self.hold(&new.key, v),
                None => Ok(()),
            },
            (Some(old), Some(_)) if old.deleted_at.is_none() => match held_value(old) {
                Some(v) if !self.view().value_held(&old.key, &old.value)? => {
                    self.release(&old.key, v)
                }
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }

    fn hold(&mut self, key: &str, v: i64) -> Result<()> {
        let view = self.view();
        // One lookup answers both whether `v` is held and which run ends right before it.
        let before = view.last_run_from(key, v)?;
        if before.is_some_and(|(_, end)| end >= v) {
            return Ok(());
        }
        let left = before.filter(|&(_, end)| v.checked_sub(1) == Some(end));
        let right = match v.checked_add(1) {
            Some(r) => view.run_starting_at(key, r)?.map(|end| (r, end)),
            None => None,
        };
        if let Some((start, _)) = right {
            self.remove_key(run_key(key, start));
        }
        let start = left.map_or(v, |(s, _)| s);
        let end = right.map_or(v, |(_, e)| e);
        self.put_key(run_key(key, start), encode(&end));
        Ok(())
    }

    fn release(&mut self, key: &str, v: i64) -> Result<()> {
        let Some((start, end)) = self.view().run_containing(key, v)? else {
            return Err(Error::Corrupt(format!(
                "released value {v} of '{key}' was in no run"
            )));
        };
        self.remove_key(run_key(key, start));
        if start < v {
            self.put_key(run_key(key, start), encode(&(v - 1)));
        }
        if v < end {
            self.put_key(run_key(key, v + 1), encode(&end));
        }
        Ok(())
    }
}
