//! Device extras: hostname and fully qualified names.

use crate::error::Result;
use crate::filter::AttrFilter;
use crate::records::EntityId;
use crate::txn::{NewAttr, Transaction};
use crate::value::Value;
use crate::view::View;

const HOSTNAME: &str = "hostname";
const FQDN: &str = "fqdn";

impl View<'_> {
    /// The `hostname` attribute, else the entity's name.
    pub fn hostname(&self, id: EntityId) -> Result<String> {
        match self.attrs(id, &AttrFilter::key(HOSTNAME))?.first() {
            Some(a) => Ok(a.value.to_string()),
            None => Ok(self.entity_by_id(id)?.name),
        }
    }

    /// The values of the numbered `fqdn` attributes, in order.
    pub fn fqdns(&self, id: EntityId) -> Result<Vec<String>> {
        Ok(self
            .attrs(id, &AttrFilter::key(FQDN))?
            .into_iter()
            .map(|a| a.value.to_string())
            .collect())
    }
}

impl Transaction {
    /// Sets the `hostname` attribute.
    pub fn set_hostname(&mut self, id: EntityId, hostname: &str) -> Result<()> {
        self.set_attr(id, NewAttr::new(HOSTNAME, hostname))
            .map(drop)
    }

    /// Adds a fully qualified name (auto-numbered) unless it is already there.
    pub fn add_fqdn(&mut self, id: EntityId, fqdn: &str) -> Result<bool> {
        let present = AttrFilter::key(FQDN).value(fqdn);
        if !self.view().attrs(id, &present)?.is_empty() {
            return Ok(false);
        }
        self.add_attr(id, NewAttr::new(FQDN, fqdn).next_number())?;
        Ok(true)
    }

    /// Removes a fully qualified name; returns whether it was there.
    pub fn remove_fqdn(&mut self, id: EntityId, fqdn: &str) -> Result<bool> {
        Ok(self.delete_attrs(id, &AttrFilter::key(FQDN).value(Value::from(fqdn)))? > 0)
    }
}
