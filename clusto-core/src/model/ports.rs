//! Ports: per-driver port types numbered 1..=n, stored as attributes
//! `port-<type>`/number/subkey; a connection is written on both devices (reference §11).

use crate::drivers;
use crate::error::{Error, Result};
use crate::filter::AttrFilter;
use crate::records::{Attribute, Entity, EntityId};
use crate::txn::{NewAttr, Transaction};
use crate::value::Value;
use crate::view::View;

const CONNECTION: &str = "connection";
const OTHER_PORT: &str = "otherportnum";

fn port_key(port_type: &str) -> String {
    format!("port-{port_type}")
}

fn port_filter(port_type: &str, number: i64, attr: &str) -> AttrFilter {
    AttrFilter::key(port_key(port_type))
        .number(number)
        .subkey(attr)
}

/// The state of one port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortInfo {
    /// The port type, e.g. `nic-eth`.
    pub port_type: String,
    /// The port number, from 1.
    pub number: i64,
    /// The device at the other end, if connected.
    pub connection: Option<Entity>,
    /// The port number at the other end, if recorded.
    pub other_port: Option<i64>,
}

impl View<'_> {
    /// Checks that `device` has port `port_type` number `number`.
    fn check_port(&self, device: &Entity, port_type: &str, number: i64) -> Result<()> {
        let spec = drivers::spec_of(device);
        if spec.ports.is_empty() {
            return Err(Error::Port(format!(
                "'{}' ({}) has no ports",
                device.name, device.driver
            )));
        }
        if number < 1 {
            return Err(Error::InvalidValue(format!(
                "port number {number} of '{}' must be 1 or more",
                device.name
            )));
        }
        match spec.port_count(port_type) {
            Some(count) if number <= i64::from(count) => Ok(()),
            _ => Err(Error::Port(format!(
                "No port {port_type}:{number} on '{}' ({})",
                device.name, device.driver
            ))),
        }
    }

    /// Whether the port exists on the device's driver.
    pub fn port_exists(&self, device: EntityId, port_type: &str, number: i64) -> Result<bool> {
        let d = self.entity_by_id(device)?;
        match self.check_port(&d, port_type, number) {
            Ok(()) => Ok(true),
            Err(Error::Port(_) | Error::InvalidValue(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Attribute `attr` of a port (e.g. `mac`), if set; several values are an error.
    pub fn port_attr(
        &self,
        device: EntityId,
        port_type: &str,
        number: i64,
        attr: &str,
    ) -> Result<Option<Value>> {
        let d = self.entity_by_id(device)?;
        self.check_port(&d, port_type, number)?;
        let mut found = self.attrs(device, &port_filter(port_type, number, attr))?;
        if found.len() > 1 {
            return Err(Error::Port(format!(
                "port {port_type}:{number} of '{}' has {} values for '{attr}'",
                d.name,
                found.len()
            )));
        }
        Ok(found.pop().map(|a| a.value))
    }

    /// The device connected to a port, if any.
    pub fn connected(
        &self,
        device: EntityId,
        port_type: &str,
        number: i64,
    ) -> Result<Option<Entity>> {
        match self.port_attr(device, port_type, number, CONNECTION)? {
            Some(Value::Relation(other)) => Ok(Some(self.entity_by_id(other)?)),
            _ => Ok(None),
        }
    }

    /// Whether a port has no connection.
    pub fn port_free(&self, device: EntityId, port_type: &str, number: i64) -> Result<bool> {
        Ok(self.connected(device, port_type, number)?.is_none())
    }

    /// Whether port `number` of `device` and port `other_number` of `other`, both of
    /// `port_type`, exist and are free: whether `connect_ports` would take them.
    pub fn ports_connectable(
        &self,
        device: EntityId,
        port_type: &str,
        number: i64,
        other: EntityId,
        other_number: i64,
    ) -> Result<bool> {
        Ok(self.port_exists(device, port_type, number)?
            && self.port_exists(other, port_type, other_number)?
            && self.port_free(device, port_type, number)?
            && self.port_free(other, port_type, other_number)?)
    }

    /// Every port of the device, by type (in driver order) and number.
    pub fn port_info(&self, device: EntityId) -> Result<Vec<PortInfo>> {
        let d = self.entity_by_id(device)?;
        let mut out = Vec::new();
        for port in &drivers::spec_of(&d).ports {
            for number in 1..=i64::from(port.count) {
                let other_port = self
                    .port_attr(device, &port.port_type, number, OTHER_PORT)?
                    .and_then(|v| v.as_int());
                out.push(PortInfo {
                    port_type: port.port_type.clone(),
                    number,
                    connection: self.connected(device, &port.port_type, number)?,
                    other_port,
                });
            }
        }
        Ok(out)
    }

    /// Ports with no recorded other end (the original's `free_ports`).
    pub fn free_ports(&self, device: EntityId) -> Result<Vec<(String, i64)>> {
        Ok(self
            .port_info(device)?
            .into_iter()
            .filter(|p| p.other_port.is_none())
            .map(|p| (p.port_type, p.number))
            .collect())
    }

    /// Connected port numbers by port type (the original's `connected_ports`).
    pub fn connected_ports(&self, device: EntityId) -> Result<Vec<(String, Vec<i64>)>> {
        let mut out: Vec<(String, Vec<i64>)> = Vec::new();
        for p in self.port_info(device)? {
            if p.connection.is_none() {
                continue;
            }
            match out.iter_mut().find(|(t, _)| *t == p.port_type) {
                Some((_, numbers)) => numbers.push(p.number),
                None => out.push((p.port_type, vec![p.number])),
            }
        }
        Ok(out)
    }
}

impl Transaction {
    fn checked_port(&self, device: EntityId, port_type: &str, number: i64) -> Result<Entity> {
        let d = self.live_entity(device)?;
        self.view().check_port(&d, port_type, number)?;
        Ok(d)
    }

    /// The attribute `attr` of a port with `value`, after checking the port exists.
    fn port_attr_row(
        &self,
        device: EntityId,
        port_type: &str,
        number: i64,
        attr: &str,
        value: Value,
    ) -> Result<NewAttr> {
        self.checked_port(device, port_type, number)?;
        Ok(NewAttr::new(port_key(port_type), value)
            .number(number)
            .subkey(attr))
    }

    /// Sets attribute `attr` of a port, replacing its value.
    pub fn set_port_attr(
        &mut self,
        device: EntityId,
        port_type: &str,
        number: i64,
        attr: &str,
        value: Value,
    ) -> Result<Attribute> {
        let row = self.port_attr_row(device, port_type, number, attr, value)?;
        self.set_attr(device, row)
    }

    /// Adds a value to attribute `attr` of a port.
    pub fn add_port_attr(
        &mut self,
        device: EntityId,
        port_type: &str,
        number: i64,
        attr: &str,
        value: Value,
    ) -> Result<Attribute> {
        let row = self.port_attr_row(device, port_type, number, attr, value)?;
        self.add_attr(device, row)
    }

    /// Deletes attribute `attr` of a port; returns how many values were deleted.
    pub fn del_port_attr(
        &mut self,
        device: EntityId,
        port_type: &str,
        number: i64,
        attr: &str,
    ) -> Result<usize> {
        self.checked_port(device, port_type, number)?;
        self.delete_attrs(device, &port_filter(port_type, number, attr))
    }

    /// Connects port `number` of `device` to port `other_number` of `other`, both of
    /// type `port_type`; both ports must exist and be free. Writes both ends.
    pub fn connect_ports(
        &mut self,
        device: EntityId,
        port_type: &str,
        number: i64,
        other: EntityId,
        other_number: i64,
    ) -> Result<()> {
        self.atomic(|tx| {
            for (dev, n) in [(device, number), (other, other_number)] {
                let d = tx.checked_port(dev, port_type, n)?;
                if let Some(peer) = tx.view().connected(dev, port_type, n)? {
                    return Err(Error::Port(format!(
                        "port {port_type}:{n} of '{}' is already in use (connected to '{}')",
                        d.name, peer.name
                    )));
                }
            }
            for (dev, n, peer, peer_n) in [
                (device, number, other, other_number),
                (other, other_number, device, number),
            ] {
                let key = port_key(port_type);
                tx.set_attr(
                    dev,
                    NewAttr::new(key.as_str(), peer)
                        .number(n)
                        .subkey(CONNECTION),
                )?;
                tx.set_attr(
                    dev,
                    NewAttr::new(key.as_str(), peer_n)
                        .number(n)
                        .subkey(OTHER_PORT),
                )?;
            }
            Ok(())
        })
    }

    /// Disconnects a port, clearing both ends; returns whether it was connected. A
    /// half left behind by a deleted peer (an `otherportnum` alone) is cleared too.
    pub fn disconnect_port(
        &mut self,
        device: EntityId,
        port_type: &str,
        number: i64,
    ) -> Result<bool> {
        self.atomic(|tx| {
            tx.checked_port(device, port_type, number)?;
            let view = tx.view();
            let peer = view.connected(device, port_type, number)?;
            let peer_port = view
                .port_attr(device, port_type, number, OTHER_PORT)?
                .and_then(|v| v.as_int());
            let clear = |tx: &mut Transaction, dev: EntityId, n: i64| -> Result<()> {
                for attr in [CONNECTION, OTHER_PORT] {
                    tx.delete_attrs(dev, &port_filter(port_type, n, attr))?;
                }
                Ok(())
            };
            clear(tx, device, number)?;
            if let (Some(peer), Some(n)) = (&peer, peer_port) {
                clear(tx, peer.id, n)?;
            }
            Ok(peer.is_some())
        })
    }
}
