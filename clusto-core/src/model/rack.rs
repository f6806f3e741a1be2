//! Rack slots: a device occupies one rack unit or several adjacent ones, stored as one
//! `_contains` attribute per unit with subkey `ru` and the unit as number (reference §9).

use std::ops::RangeInclusive;

use crate::drivers::{self, Behaviour};
use crate::error::{Error, Result};
use crate::filter::AttrFilter;
use crate::keys::space;
use crate::records::{Attribute, Entity, EntityId};
use crate::txn::{Derived, NewAttr, Transaction};
use crate::value::Value;
use crate::view::View;

use super::containment::{CONTAINS, Related};
use super::properties::{int_value, properties_among};

/// The subkey of rack-unit containment attributes.
const RU: &str = "ru";

/// Where a device is racked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RackSlot {
    /// The rack.
    pub rack: Entity,
    /// The units the device occupies, ascending.
    pub units: Vec<i64>,
}

/// A rack's unit range and which device holds each occupied unit.
#[derive(Debug)]
pub(crate) struct RackLayout {
    units: RangeInclusive<i64>,
    /// (unit, device), in the order the units were taken.
    occupants: Vec<(i64, EntityId)>,
}

/// A rack's attribute, as its layout needs it: a unit and its device, or anything else
/// (copied out, for the rack's properties).
enum RackRow {
    Occupied(i64, EntityId),
    Other(Attribute),
}

impl RackLayout {
    fn check_unit(&self, rack: &Entity, unit: i64) -> Result<()> {
        if !self.units.contains(&unit) {
            return Err(Error::InvalidValue(format!(
                "rack unit {unit} is outside {}..={} of rack '{}'",
                self.units.start(),
                self.units.end(),
                rack.name
            )));
        }
        Ok(())
    }

    fn occupant(&self, unit: i64) -> Option<EntityId> {
        self.occupants
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, device)| *device)
    }
}

impl View<'_> {
    fn rack(&self, rack: EntityId) -> Result<Entity> {
        let r = self.entity_by_id(rack)?;
        if drivers::spec_of(&r).behaviour != Behaviour::Rack {
            return Err(Error::TypeMismatch(format!(
                "'{}' is a {}, not a rack",
                r.name, r.driver
            )));
        }
        Ok(r)
    }

    /// A rack's units and their occupants, from one pass over its attributes (a rack
    /// holds an attribute per occupied unit, so every pass counts); only the attributes
    /// that are not unit slots are copied out.
    fn rack_layout(&self, rack: &Entity) -> Result<RackLayout> {
        let slot = AttrFilter::key(CONTAINS).subkey(RU);
        let rows = self.pick_attrs(rack.id, &AttrFilter::any().with_hidden(), |a| {
            match (slot.matches_ref(&a), a.number, a.value.as_relation()) {
                (true, Some(unit), Some(device)) => RackRow::Occupied(unit, device),
                _ => RackRow::Other(a.to_attribute()),
            }
        })?;
        let mut occupants = Vec::new();
        let mut others = Vec::new();
        for row in rows {
            match row {
                RackRow::Occupied(unit, device) => occupants.push((unit, device)),
                RackRow::Other(a) => others.push(a),
            }
        }
        let mut bounds = properties_among(rack, &["minu", "maxu"], &others)?.into_iter();
        let min = int_value("minu", bounds.next().flatten())?.unwrap_or(1);
        let max = int_value("maxu", bounds.next().flatten())?.unwrap_or(45);
        Ok(RackLayout {
            units: min..=max,
            occupants,
        })
    }

    /// The device in rack unit `unit` of `rack`, if any (the unit must be in range).
    pub fn device_in(&self, rack: EntityId, unit: i64) -> Result<Option<Entity>> {
        let r = self.rack(rack)?;
        let layout = self.rack_layout(&r)?;
        layout.check_unit(&r, unit)?;
        layout
            .occupant(unit)
            .map(|device| self.entity_by_id(device))
            .transpose()
    }

    /// Every unit of `rack` from its top (`maxu`) down to `minu`, with the device in it:
    /// the elevation, read in one pass over the rack's attributes.
    pub fn rack_units(&self, rack: EntityId) -> Result<Vec<(i64, Option<Entity>)>> {
        let r = self.rack(rack)?;
        let layout = self.rack_layout(&r)?;
        let units: Vec<i64> = layout.units.clone().rev().collect();
        let occupants: Vec<EntityId> = units.iter().filter_map(|u| layout.occupant(*u)).collect();
        let mut rows = self.entities_by_ids(&occupants)?.into_iter();
        Ok(units
            .into_iter()
            .map(|u| (u, layout.occupant(u).and_then(|_| rows.next())))
            .collect())
    }

    /// The rack and units a device occupies, if it is racked.
    pub fn rack_slot(&self, device: EntityId) -> Result<Option<RackSlot>> {
        let racks = self.direct_racks(device)?;
        let Some(rack) = racks.into_iter().next() else {
            return Ok(None);
        };
        let slot = AttrFilter::key(CONTAINS)
            .subkey(RU)
            .value(Value::Relation(device));
        let mut units: Vec<i64> = self
            .attrs(rack.id, &slot)?
            .iter()
            .filter_map(|a| a.number)
            .collect();
        units.sort_unstable();
        Ok(Some(RackSlot { rack, units }))
    }

    fn direct_racks(&self, device: EntityId) -> Result<Vec<Entity>> {
        Ok(self
            .parents(device, &Related::direct())?
            .into_iter()
            .filter(|p| drivers::spec_of(p).behaviour == Behaviour::Rack)
            .collect())
    }
}

impl Transaction {
    /// Racks `device` in `rack` at `units`: one unit or several adjacent ones, all within
    /// the rack's `minu..=maxu` and free; the device must be a device, in no rack yet,
    /// and, if it has a `rack_units` attribute, take exactly that many units.
    pub fn rack_insert(&mut self, rack: EntityId, device: EntityId, units: &[i64]) -> Result<()> {
        self.atomic(|tx| {
            let cached = match tx.derived.remove(&rack) {
                Some(Derived::Rack(layout)) => Some(layout),
                _ => None,
            };
            let view = tx.view();
            // The rack's record and slots; the device's record, attributes (its size)
            // and containers (no rack yet).
            view.read_ahead_of_all(
                &[
                    (rack, &[space::ENTITY, space::ATTR]),
                    (device, &[space::ENTITY, space::ATTR, space::REFERENCE]),
                ],
                &[],
            )?;
            let r = view.rack(rack)?;
            let d = tx.live_entity(device)?;
            if drivers::spec_of(&d).behaviour != Behaviour::Device {
                return Err(Error::TypeMismatch(format!(
                    "'{}' is a {}, not a device: only devices go in racks",
                    d.name, d.driver
                )));
            }
            let mut sorted = units.to_vec();
            sorted.sort_unstable();
            if sorted.is_empty() {
                return Err(Error::InvalidValue("no rack unit given".into()));
            }
            if sorted.windows(2).any(|w| w[1] != w[0] + 1) {
                return Err(Error::InvalidValue(format!(
                    "rack units {units:?} are not distinct and adjacent"
                )));
            }
            let mut layout = match cached {
                Some(layout) => layout,
                None => view.rack_layout(&r)?,
            };
            for &u in &sorted {
                layout.check_unit(&r, u)?;
            }
            if let Some(other) = view.direct_racks(device)?.first() {
                return Err(Error::Conflict(format!(
                    "'{}' is already in rack '{}'",
                    d.name, other.name
                )));
            }
            let size = view.attrs(device, &AttrFilter::key("rack_units"))?;
            if let Some(n) = size.first().and_then(|a| a.value.as_int())
                && n != sorted.len() as i64
            {
                return Err(Error::InvalidValue(format!(
                    "'{}' takes {n} rack units, not {}",
                    d.name,
                    sorted.len()
                )));
            }
            for &u in &sorted {
                if let Some(occupant) = layout.occupant(u) {
                    return Err(Error::Conflict(format!(
                        "rack '{}' already has '{}' in RU {u}",
                        r.name,
                        view.entity_by_id(occupant)?.name
                    )));
                }
            }
            for &u in &sorted {
                tx.insert_attr(rack, NewAttr::new(CONTAINS, device).subkey(RU).number(u))?;
            }
            layout.occupants.extend(sorted.iter().map(|&u| (u, device)));
            tx.derived.insert(rack, Derived::Rack(layout));
            Ok(())
        })
    }
}
