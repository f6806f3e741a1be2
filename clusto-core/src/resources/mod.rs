//! Resource managers (reference §10): a manager hands out resources — IP addresses,
//! names, numbers, or anything given explicitly — and records each allocation on the
//! thing that holds it: `key = <manager's resource key>, number = n, value = resource`,
//! plus `subkey = manager` (a relation to the manager) and, for IPs, `ipstring` and
//! `cidr`, all with the same number. `n` comes from a global counter per resource key
//! on `clustometa`. A resource is available when no numbered attribute with the key
//! holds it, across every manager that shares the key.

mod ip;
mod runs;

use std::cell::OnceCell;
use std::net::IpAddr;
use std::sync::Arc;

use crate::drivers::{self, Behaviour, DriverSpec};
use crate::error::{Error, Result};
use crate::filter::{AttrFilter, NumberMatch};
use crate::keys::space;
use crate::model::CLUSTOMETA;
use crate::records::{Attribute, Entity, EntityId};
use crate::txn::{Derived, NewAttr, NumberSpec, Transaction};
use crate::value::Value;
use crate::view::{EntityQuery, View};

pub(crate) use runs::held_value;

use ip::{IP_KEY, IpRange, LAST_IP, ip_value, parse_ip};

const MANAGER: &str = "manager";

/// The address an IP allocation holds, from the value of its resource attribute (the
/// stored IPv4 integer or IPv6 text).
pub fn ip_address(value: &Value) -> Result<IpAddr> {
    parse_ip(value)
}

/// A resource manager as an allocation left it, kept for the transaction's next
/// allocation from it (see [`crate::txn::Derived`]).
pub(crate) struct ManagerState {
    manager: Manager,
    /// Its `_lastip` attributes, in creation order (`None`: not read yet).
    last_ip: Option<Vec<Attribute>>,
}

/// A resource manager entity with its spec.
struct Manager {
    entity: Entity,
    spec: Arc<DriverSpec>,
    key: String,
    /// An IP manager's range, read once per operation (it takes a pass over the
    /// manager's attributes, and an allocation needs it twice).
    ip_range: OnceCell<IpRange>,
}

impl Manager {
    /// The range of an IP manager, from its properties.
    fn ip_range(&self, view: &View) -> Result<&IpRange> {
        match self.ip_range.get() {
            Some(range) => Ok(range),
            None => {
                let range = view.ip_range(self.entity.id)?;
                Ok(self.ip_range.get_or_init(|| range))
            }
        }
    }
}

impl View<'_> {
    fn manager(&self, id: EntityId) -> Result<Manager> {
        let entity = self.entity_by_id(id)?;
        let spec = drivers::spec_of(&entity);
        match (&spec.resource_key, spec.behaviour.is_resource_manager()) {
            (Some(key), true) => Ok(Manager {
                key: key.clone(),
                entity,
                spec,
                ip_range: OnceCell::new(),
            }),
            _ => Err(Error::TypeMismatch(format!(
                "'{}' is a {}, not a resource manager",
                entity.name, entity.driver
            ))),
        }
    }

    /// The stored form of `resource` for this manager (an IP as its stored value…);
    /// `InvalidResource` when it is not of the manager's kind or out of its range.
    fn normalize(&self, m: &Manager, resource: &Value) -> Result<Value> {
        match m.spec.behaviour {
            Behaviour::IpManager => Ok(self.ensure_ip(m, resource)?.1),
            Behaviour::SimpleNumManager => match resource {
                Value::Int(_) => Ok(resource.clone()),
                other => Err(Error::InvalidResource(format!(
                    "'{}' hands out numbers, not {other}",
                    m.entity.name
                ))),
            },
            Behaviour::SimpleNameManager | Behaviour::SimpleEntityNameManager => match resource {
                Value::String(_) => Ok(resource.clone()),
                other => Err(Error::InvalidResource(format!(
                    "'{}' hands out names, not {other}",
                    m.entity.name
                ))),
            },
            _ => Ok(resource.clone()),
        }
    }

    fn holders(&self, key: &str, value: &Value) -> Result<Vec<Attribute>> {
        let f = AttrFilter::key(key)
            .value(value.clone())
            .number_match(NumberMatch::NotNull)
            .with_hidden();
        self.attr_query(&f)
    }

    /// Whether nobody holds `resource` (across every manager sharing the key).
    pub fn resource_available(&self, manager: EntityId, resource: &Value) -> Result<bool> {
        let m = self.manager(manager)?;
        let value = self.normalize(&m, resource)?;
        Ok(self.holders(&m.key, &value)?.is_empty())
    }

    /// The entities holding `resource`.
    pub fn resource_owners(&self, manager: EntityId, resource: &Value) -> Result<Vec<Entity>> {
        let m = self.manager(manager)?;
        let value = self.normalize(&m, resource)?;
        self.holders(&m.key, &value)?
            .into_iter()
            .map(|a| self.entity_by_id(a.entity))
            .collect()
    }

    /// How many allocations this manager has recorded.
    pub fn allocation_count(&self, manager: EntityId) -> Result<usize> {
        let m = self.manager(manager)?;
        let f = AttrFilter::key(m.key.as_str())
            .subkey(MANAGER)
            .with_hidden();
        Ok(self.references(manager, &f)?.len()
            + self
                .attrs(manager, &f.value(Value::Relation(manager)))?
                .len())
    }

    /// The resource attributes (value, no subkey) of every allocation `thing` holds from
    /// a manager whose driver is `manager_driver` or derives from it (`None`: any).
    pub fn resources_of(
        &self,
        thing: EntityId,
        manager_driver: Option<&str>,
    ) -> Result<Vec<Attribute>> {
        let mut out = Vec::new();
        let managed = AttrFilter::any()
            .subkey(MANAGER)
            .number_match(NumberMatch::NotNull)
            .with_hidden();
        for link in self.attrs(thing, &managed)? {
            let Some(manager) = link.value.as_relation() else {
                continue;
            };
            let m = self.entity_by_id(manager)?;
            if manager_driver.is_some_and(|d| !drivers::is_a(&m.driver, d)) {
                continue;
            }
            let value = AttrFilter::key(link.key.as_str())
                .number(link.number.expect("filtered on a number"))
                .no_subkey()
                .with_hidden();
            out.extend(self.attrs(thing, &value)?);
        }
        out.sort_by_key(|a| a.id);
        Ok(out)
    }

    /// The manager that recorded a resource attribute, if any.
    pub fn manager_of(&self, resource: &Attribute) -> Result<Option<Entity>> {
        let Some(n) = resource.number else {
            return Ok(None);
        };
        let f = AttrFilter::key(resource.key.as_str())
            .number(n)
            .subkey(MANAGER)
            .with_hidden();
        match self
            .attrs(resource.entity, &f)?
            .first()
            .and_then(|a| a.value.as_relation())
        {
            Some(m) => Ok(Some(self.entity_by_id(m)?)),
            None => Ok(None),
        }
    }

    /// Every IP manager whose network contains `ip` (one without `baseip` contains every
    /// address).
    pub fn ip_managers_for(&self, ip: &str) -> Result<Vec<Entity>> {
        let addr = parse_ip(&Value::from(ip))?;
        let ip_drivers: Vec<String> = drivers::all()
            .into_iter()
            .filter(|s| s.behaviour == Behaviour::IpManager)
            .map(|s| s.name.clone())
            .collect();
        let managers = self.entities(&EntityQuery {
            drivers: ip_drivers,
            ..Default::default()
        })?;
        let mut out = Vec::new();
        for m in managers {
            if self.ip_range(m.id)?.net.is_none_or(|n| n.contains(&addr)) {
                out.push(m);
            }
        }
        Ok(out)
    }

    /// The one IP manager whose network contains `ip`.
    pub fn ip_manager_for(&self, ip: &str) -> Result<Entity> {
        let mut managers = self.ip_managers_for(ip)?;
        match managers.len() {
            1 => Ok(managers.remove(0)),
            0 => Err(Error::NotFound(format!("no IP manager manages {ip}"))),
            n => Err(Error::Ambiguous(format!(
                "{n} IP managers manage {ip}: name one"
            ))),
        }
    }

    /// The addresses a device holds (its `ip/ipstring` values).
    pub fn ips_of(&self, device: EntityId) -> Result<Vec<String>> {
        let f = AttrFilter::key(IP_KEY).subkey("ipstring");
        Ok(self
            .attrs(device, &f)?
            .into_iter()
            .map(|a| a.value.to_string())
            .collect())
    }

    /// The entities holding address `ip`.
    pub fn devices_with_ip(&self, ip: &str) -> Result<Vec<Entity>> {
        let value = ip_value(parse_ip(&Value::from(ip))?);
        self.holders(IP_KEY, &value)?
            .into_iter()
            .map(|a| self.entity_by_id(a.entity))
            .collect()
    }

    fn int_or(&self, id: EntityId, name: &str, default: i64) -> Result<i64> {
        Ok(self.int_property(id, name)?.unwrap_or(default))
    }
}

impl Transaction {
    /// Allocates a resource from `manager` to `thing`: the given one (checked for the
    /// manager's kind and, unless `force`, availability) or the manager's next one.
    /// `number` is usually [`NumberSpec::Next`] (the global counter). Returns the
    /// resource attribute. Allocating to the manager itself reserves the resource.
    pub fn allocate(
        &mut self,
        manager: EntityId,
        thing: EntityId,
        resource: Option<Value>,
        number: NumberSpec,
        force: bool,
    ) -> Result<Attribute> {
        self.atomic(|tx| {
            let (m, mut last_ip) = match tx.derived.remove(&manager) {
                Some(Derived::Manager(state)) => (state.manager, state.last_ip),
                _ => {
                    // On a server, what an allocation reads first goes in one round trip:
                    // the manager and its attributes, the thing, and clustometa (its
                    // counters number the allocation).
                    let first: [(EntityId, &[u8]); 2] = [
                        (manager, &[space::ENTITY, space::ATTR]),
                        (thing, &[space::ENTITY]),
                    ];
                    tx.view().read_ahead_of_all(&first, &[CLUSTOMETA])?;
                    (tx.view().manager(manager)?, None)
                }
            };
            tx.live_entity(manager)?;
            tx.live_entity(thing)?;
            if m.spec.behaviour == Behaviour::SimpleEntityNameManager {
                return Err(Error::TypeMismatch(format!(
                    "'{}' creates entities: use allocate_entity",
                    m.entity.name
                )));
            }
            let value = match resource {
                Some(r) => {
                    let value = tx.view().normalize(&m, &r)?;
                    if !force && !tx.view().holders(&m.key, &value)?.is_empty() {
                        return Err(Error::ResourceUnavailable(format!(
                            "Requested resource is not available: {r} from '{}'",
                            m.entity.name
                        )));
                    }
                    value
                }
                None => tx.next_resource(&m, &mut last_ip)?,
            };
            let held = tx.record_allocation(&m, thing, value, number)?;
            // Kept unless the allocation wrote the manager's own attributes.
            if thing != manager {
                let state = ManagerState {
                    manager: m,
                    last_ip,
                };
                tx.derived.insert(manager, Derived::Manager(state));
            }
            Ok(held)
        })
    }

    fn record_allocation(
        &mut self,
        m: &Manager,
        thing: EntityId,
        value: Value,
        number: NumberSpec,
    ) -> Result<Attribute> {
        let n = match number {
            NumberSpec::Exact(n) => n,
            NumberSpec::None | NumberSpec::Next => {
                // The counters live on clustometa, made here if the database has none.
                let meta = match self.view().clustometa()? {
                    Some(meta) => meta,
                    None => self.init_clusto()?,
                };
                self.bump_counter(meta.id, &m.key, -1)?
            }
        };
        let key = m.key.as_str();
        let main = self.insert_attr(thing, NewAttr::new(key, value.clone()).number(n))?;
        self.insert_attr(
            thing,
            NewAttr::new(key, m.entity.id).number(n).subkey(MANAGER),
        )?;
        if m.spec.behaviour == Behaviour::IpManager {
            let addr = parse_ip(&value)?;
            let prefix = m.ip_range(&self.view())?.prefix;
            self.insert_attr(
                thing,
                NewAttr::new(key, addr.to_string())
                    .number(n)
                    .subkey("ipstring"),
            )?;
            self.insert_attr(
                thing,
                NewAttr::new(key, format!("{addr}/{prefix}"))
                    .number(n)
                    .subkey("cidr"),
            )?;
        }
        Ok(main)
    }

    /// The manager's next resource, by its kind.
    fn next_resource(
        &mut self,
        m: &Manager,
        last_ip: &mut Option<Vec<Attribute>>,
    ) -> Result<Value> {
        match m.spec.behaviour {
            Behaviour::IpManager => self.next_ip(m, last_ip),
            Behaviour::SimpleNameManager => self.next_name(m).map(Value::String),
            Behaviour::SimpleNumManager => self.next_number(m).map(Value::Int),
            _ => Err(Error::InvalidResource(format!(
                "'{}' ({}) cannot choose a resource: name one",
                m.entity.name, m.entity.driver
            ))),
        }
    }

    /// The next free address after the last one handed out, wrapping to the start of
    /// the range; skips the network, broadcast and gateway addresses. `last_ip`: the
    /// manager's `_lastip` attributes when known, as they are after this one.
    fn next_ip(&mut self, m: &Manager, last_ip: &mut Option<Vec<Attribute>>) -> Result<Value> {
        let view = self.view();
        let range = m.ip_range(&view)?;
        let Some((first, last)) = range.hosts() else {
            return Err(Error::InvalidResource(format!(
                "IP manager '{}' has no baseip (or no host addresses): name the address",
                m.entity.name
            )));
        };
        let known = match last_ip.take() {
            Some(known) => known,
            None => view.attrs(m.entity.id, &AttrFilter::key(LAST_IP))?,
        };
        let start = match known.first().map(|a| parse_ip(&a.value)) {
            Some(Ok(prev)) => IpRange::ordinal(prev).saturating_add(1),
            _ => first,
        };
        let start = if (first..=last).contains(&start) {
            start
        } else {
            first
        };
        let gateway = range.gateway.map(IpRange::ordinal);
        let free_from = |from: u128| -> Result<Option<u128>> {
            let mut c = from;
            while c <= last {
                if Some(c) == gateway {
                    c += 1;
                    continue;
                }
                let value = ip_value(range.address(c));
                match value {
                    // IPv4: one lookup in the runs of held values.
                    Value::Int(v) => {
                        let next = view
                            .first_unheld(IP_KEY, v)?
                            .map(|n| (n + (1 << 31)) as u128);
                        match next {
                            Some(n) if n == c => return Ok(Some(c)),
                            Some(n) => c = n,
                            None => return Ok(None),
                        }
                    }
                    // IPv6: a walk over held addresses (subnets are rarely full).
                    other => {
                        if !view.value_held(IP_KEY, &other)? {
                            return Ok(Some(c));
                        }
                        c += 1;
                    }
                }
            }
            Ok(None)
        };
        let found = match free_from(start)? {
            Some(c) => Some(c),
            None => free_from(first)?.filter(|&c| c < start),
        };
        let Some(c) = found else {
            return Err(Error::ResourceUnavailable(format!(
                "out of available ips in '{}'",
                m.entity.name
            )));
        };
        let value = ip_value(range.address(c));
        let last = NewAttr::new(LAST_IP, value.clone());
        let slot = last.same_slot();
        let (in_slot, mut now): (Vec<Attribute>, Vec<Attribute>) =
            known.into_iter().partition(|a| slot.matches(a));
        let kept = self.replace_in_slot(m.entity.id, last, in_slot)?;
        now.push(kept);
        now.sort_by_key(|a| a.id);
        *last_ip = Some(now);
        Ok(value)
    }

    /// `basename` + the `next` counter, zero-padded to `digits` when `leadingZeros`.
    fn next_name(&mut self, m: &Manager) -> Result<String> {
        let id = m.entity.id;
        let view = self.view();
        let basename = view.text_property(id, "basename")?.unwrap_or_default();
        let digits = view.int_or(id, "digits", 2)?.max(0) as usize;
        let padded = view.int_or(id, "leadingZeros", 1)? != 0;
        let k = match view.counter(id, "next")? {
            Some(k) => k,
            None => view.int_or(id, "next", 1)?,
        };
        let number = if padded {
            format!("{k:0digits$}")
        } else {
            k.to_string()
        };
        if number.len() > digits {
            return Err(Error::ResourceUnavailable(format!(
                "name manager '{}' is out of names: {k} needs more than {digits} digits",
                m.entity.name
            )));
        }
        self.write_counter(id, "next", Some(k + 1));
        Ok(format!("{basename}{number}"))
    }

    /// The `next` counter, up to and including `maxnum`.
    fn next_number(&mut self, m: &Manager) -> Result<i64> {
        let id = m.entity.id;
        let view = self.view();
        let k = match view.counter(id, "next")? {
            Some(k) => k,
            None => view.int_or(id, "next", 0)?,
        };
        if let Some(max) = view.int_property(id, "maxnum")?
            && k > max
        {
            return Err(Error::ResourceUnavailable(format!(
                "number manager '{}' is out of numbers: {k} is above maxnum {max}",
                m.entity.name
            )));
        }
        self.write_counter(id, "next", Some(k + 1));
        Ok(k)
    }

    /// Frees `resource` (or, with `None`, everything this manager allocated) held by
    /// `thing`: every attribute of the allocation's key and number. A resource `thing`
    /// does not hold is an error when someone else holds it, else a no-op. Returns the
    /// number of allocations freed.
    pub fn deallocate(
        &mut self,
        manager: EntityId,
        thing: EntityId,
        resource: Option<Value>,
    ) -> Result<usize> {
        self.atomic(|tx| {
            let view = tx.view();
            let m = view.manager(manager)?;
            if m.spec.behaviour == Behaviour::SimpleEntityNameManager {
                return Err(Error::TypeMismatch(format!(
                    "'{}' frees a name when its entity is deleted",
                    m.entity.name
                )));
            }
            let ours = |n: i64| {
                AttrFilter::key(m.key.as_str())
                    .subkey(MANAGER)
                    .value(Value::Relation(manager))
                    .number(n)
                    .with_hidden()
            };
            let numbers: Vec<i64> = match resource {
                None => {
                    let all = ours(0).number_match(NumberMatch::NotNull);
                    view.attrs(thing, &all)?
                        .iter()
                        .filter_map(|a| a.number)
                        .collect()
                }
                Some(r) => {
                    let value = view.normalize(&m, &r)?;
                    let holders = view.holders(&m.key, &value)?;
                    let mut mine = Vec::new();
                    for held in holders
                        .iter()
                        .filter(|a| a.entity == thing && a.subkey.is_none())
                    {
                        let n = held.number.expect("holders are numbered");
                        if !view.attrs(thing, &ours(n))?.is_empty() {
                            mine.push(n);
                        }
                    }
                    if mine.is_empty()
                        && let Some(other) = holders.iter().find(|a| a.entity != thing)
                    {
                        let owner = view.entity_by_id(other.entity)?.name;
                        return Err(Error::ResourceUnavailable(format!(
                            "{r} is held by '{owner}', not by the entity deallocating it"
                        )));
                    }
                    mine
                }
            };
            for &n in &numbers {
                let group = AttrFilter::key(m.key.as_str()).number(n).with_hidden();
                tx.delete_attrs(thing, &group)?;
            }
            Ok(numbers.len())
        })
    }

    /// A simple entity-name manager's allocation: creates an entity of `driver` named
    /// `name`, or the manager's next name. Records nothing: delete the entity to free it.
    pub fn allocate_entity(
        &mut self,
        manager: EntityId,
        driver: &str,
        name: Option<&str>,
    ) -> Result<Entity> {
        self.atomic(|tx| {
            let m = tx.view().manager(manager)?;
            if m.spec.behaviour != Behaviour::SimpleEntityNameManager {
                return Err(Error::TypeMismatch(format!(
                    "'{}' ({}) does not create entities",
                    m.entity.name, m.entity.driver
                )));
            }
            let name = match name {
                Some(n) => n.to_owned(),
                None => tx.next_name(&m)?,
            };
            tx.create(driver, &name, &[])
        })
    }

    /// The manager an IP operation uses: `manager`, else the one whose range holds `ip`.
    fn ip_operation_manager(
        &self,
        ip: Option<&str>,
        manager: Option<EntityId>,
    ) -> Result<EntityId> {
        match (ip, manager) {
            (_, Some(m)) => {
                let manager = self.view().entity_by_id(m)?;
                if drivers::spec_of(&manager).behaviour != Behaviour::IpManager {
                    return Err(Error::TypeMismatch(format!(
                        "'{}' is a {}, not an IP manager",
                        manager.name, manager.driver
                    )));
                }
                Ok(m)
            }
            (Some(ip), None) => Ok(self.view().ip_manager_for(ip)?.id),
            (None, None) => Err(Error::InvalidValue(
                "give an IP address or an IP manager".into(),
            )),
        }
    }

    /// Gives `device` an IP address: `ip` from `manager`, or from the one manager whose
    /// range holds `ip`, or the next free address of `manager`. At least one is needed.
    /// [`ip_address`] turns the returned attribute's value into the address.
    pub fn add_ip(
        &mut self,
        device: EntityId,
        ip: Option<&str>,
        manager: Option<EntityId>,
    ) -> Result<Attribute> {
        let manager = self.ip_operation_manager(ip, manager)?;
        self.allocate(
            manager,
            device,
            ip.map(Value::from),
            NumberSpec::Next,
            false,
        )
    }

    /// Frees `ip` held by `device` (with `None`, every address `manager` gave it), from
    /// `manager` or the one manager whose range holds `ip`. Returns how many allocations
    /// were freed.
    pub fn remove_ip(
        &mut self,
        device: EntityId,
        ip: Option<&str>,
        manager: Option<EntityId>,
    ) -> Result<usize> {
        let manager = self.ip_operation_manager(ip, manager)?;
        self.deallocate(manager, device, ip.map(Value::from))
    }

    /// Binds an address of `device` to an OS port name (e.g. `eth0`), allocating the
    /// address first if the device does not hold it, and names the physical port too
    /// when `port` (type, number) is given.
    pub fn bind_ip_to_osport(
        &mut self,
        device: EntityId,
        ip: &str,
        osport: &str,
        manager: Option<EntityId>,
        port: Option<(&str, i64)>,
    ) -> Result<()> {
        self.atomic(|tx| {
            let addr: IpAddr = parse_ip(&Value::from(ip))?;
            let f = AttrFilter::key(IP_KEY)
                .value(ip_value(addr))
                .no_subkey()
                .number_match(NumberMatch::NotNull);
            let held = tx.view().attrs(device, &f)?;
            let n = match held.first().and_then(|a| a.number) {
                Some(n) => n,
                None => tx
                    .add_ip(device, Some(ip), manager)?
                    .number
                    .expect("allocations are numbered"),
            };
            tx.set_attr(
                device,
                NewAttr::new(IP_KEY, osport).number(n).subkey("osportname"),
            )?;
            if let Some((port_type, number)) = port {
                tx.set_port_attr(device, port_type, number, "osportname", Value::from(osport))?;
            }
            Ok(())
        })
    }
}
