//! The driver registry: what each driver name means — its type, behaviour, properties,
//! ports and resource key. The built-in drivers are the original clusto's; bindings
//! register more at run time (Python subclasses do), inheriting a parent's spec.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, LazyLock, RwLock};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::records::Entity;
use crate::validate;
use crate::value::Value;

/// The behaviour a driver inherits: which containment, rack, port and resource rules
/// apply to its entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// A plain entity; as a container it takes only things that have no parent.
    Generic,
    /// The `clustometa` singleton.
    Meta,
    /// A location (datacenter, cage, zone): a thing may be in one location per driver.
    Location,
    /// A rack: devices occupy rack units.
    Rack,
    /// A device (servers, switches…): can be racked, has ports per its driver.
    Device,
    /// A pool: a thing may be in many pools, but not twice in one.
    Pool,
    /// A pool whose members may be in no other pool.
    ExclusivePool,
    /// A pool of which a thing may be in only one of the same driver.
    UniquePool,
    /// A resource manager with explicit resources only.
    ResourceManager,
    /// An IPv4/IPv6 address manager.
    IpManager,
    /// Hands out names (`basename` + number) recorded on the thing.
    SimpleNameManager,
    /// Hands out names by creating entities.
    SimpleEntityNameManager,
    /// Hands out numbers up to `maxnum`.
    SimpleNumManager,
}

impl Behaviour {
    /// Whether this is one of the pool behaviours.
    pub fn is_pool(self) -> bool {
        matches!(
            self,
            Behaviour::Pool | Behaviour::ExclusivePool | Behaviour::UniquePool
        )
    }

    /// Whether this is a location (racks are locations too).
    pub fn is_location(self) -> bool {
        matches!(self, Behaviour::Location | Behaviour::Rack)
    }

    /// Whether this is a resource manager of any kind.
    pub fn is_resource_manager(self) -> bool {
        matches!(
            self,
            Behaviour::ResourceManager
                | Behaviour::IpManager
                | Behaviour::SimpleNameManager
                | Behaviour::SimpleEntityNameManager
                | Behaviour::SimpleNumManager
        )
    }
}

/// One kind of port a driver has, numbered 1..=count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortSpec {
    /// The port type, e.g. `nic-eth`.
    pub port_type: String,
    /// How many ports of this type.
    pub count: u32,
}

/// Everything the registry knows about one driver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverSpec {
    /// The driver name, unique in the registry.
    pub name: String,
    /// The clusto type of its entities.
    pub type_name: String,
    /// The driver it was derived from, if any.
    pub parent: Option<String>,
    /// Its behaviour.
    pub behaviour: Behaviour,
    /// Property names and defaults (`None`: no default stored).
    pub properties: Vec<(String, Option<Value>)>,
    /// Its ports.
    pub ports: Vec<PortSpec>,
    /// For resource managers: the attribute key allocations are recorded under.
    pub resource_key: Option<String>,
}

impl DriverSpec {
    fn root(name: &str, type_name: &str, behaviour: Behaviour) -> Self {
        DriverSpec {
            name: name.into(),
            type_name: type_name.into(),
            parent: None,
            behaviour,
            properties: Vec::new(),
            ports: Vec::new(),
            resource_key: None,
        }
    }

    /// A new driver derived from `parent`: it inherits behaviour, properties, ports and
    /// resource key, and may add or override any of them.
    pub fn derive(parent: &DriverSpec, name: &str, type_name: &str) -> Self {
        DriverSpec {
            name: name.into(),
            type_name: type_name.into(),
            parent: Some(parent.name.clone()),
            ..parent.clone()
        }
    }

    /// Adds or replaces a property with its default.
    pub fn property(mut self, name: &str, default: Option<Value>) -> Self {
        match self.properties.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = default,
            None => self.properties.push((name.into(), default)),
        }
        self
    }

    /// Replaces the port list.
    pub fn ports(mut self, ports: &[(&str, u32)]) -> Self {
        self.ports = ports
            .iter()
            .map(|(t, n)| PortSpec {
                port_type: (*t).into(),
                count: *n,
            })
            .collect();
        self
    }

    /// Sets the resource key of a resource manager.
    pub fn resource_key(mut self, key: &str) -> Self {
        self.resource_key = Some(key.into());
        self
    }

    /// The default of property `name`; `Err` when the driver has no such property.
    pub fn property_default(&self, name: &str) -> Result<Option<&Value>> {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.as_ref())
            .ok_or_else(|| {
                Error::InvalidName(format!("driver '{}' has no property '{name}'", self.name))
            })
    }

    /// The number of ports of `port_type`, if the driver has that port type.
    pub fn port_count(&self, port_type: &str) -> Option<u32> {
        self.ports
            .iter()
            .find(|p| p.port_type == port_type)
            .map(|p| p.count)
    }
}

fn builtins() -> Vec<DriverSpec> {
    use Behaviour::*;
    let s = |v: &str| Some(Value::from(v));
    let i = |v: i64| Some(Value::Int(v));
    let entity = DriverSpec::root("entity", "generic", Generic);
    let meta =
        DriverSpec::derive(&entity, "clustometa", "clustometa").property("schemaversion", None);
    let meta = DriverSpec {
        behaviour: Meta,
        ..meta
    };
    let device = DriverSpec {
        behaviour: Device,
        ..DriverSpec::derive(&entity, "device", "generic")
            .property("model", None)
            .property("serialnum", None)
            .property("manufacturer", None)
    };
    let location = DriverSpec {
        behaviour: Location,
        ..DriverSpec::derive(&entity, "location", "location")
    };
    let rack = DriverSpec {
        behaviour: Rack,
        ..DriverSpec::derive(&location, "basicrack", "rack")
            .property("minu", i(1))
            .property("maxu", i(45))
    };
    let pool = DriverSpec {
        behaviour: Pool,
        ..DriverSpec::derive(&entity, "pool", "pool")
    };
    let rm = DriverSpec {
        behaviour: ResourceManager,
        ..DriverSpec::derive(&entity, "resourcemanager", "resourcemanager")
    }
    .resource_key("resource");
    let ipm = DriverSpec {
        behaviour: IpManager,
        ..DriverSpec::derive(&rm, "ipmanager", "resourcemanager")
            .property("gateway", None)
            .property("netmask", s("255.255.255.255"))
            .property("baseip", None)
            .resource_key("ip")
    };
    let names = DriverSpec {
        behaviour: SimpleNameManager,
        ..DriverSpec::derive(&rm, "simplenamemanager", "resourcemanager")
            .property("basename", s(""))
            .property("digits", i(2))
            .property("next", i(1))
            .property("leadingZeros", i(1))
            .resource_key("simplename")
    };
    let entity_names = DriverSpec {
        behaviour: SimpleEntityNameManager,
        ..DriverSpec::derive(&names, "simpleentitynamemanager", "resourcemanager")
    };
    let nums = DriverSpec {
        behaviour: SimpleNumManager,
        ..DriverSpec::derive(&rm, "simplenummanager", "resourcemanager")
            .property("maxnum", None)
            .property("next", i(0))
            .resource_key("simplenum")
    };
    // The original BasicServer declares only these two of Device's properties.
    let server = DriverSpec {
        properties: vec![("model".into(), None), ("manufacturer".into(), None)],
        ..DriverSpec::derive(&device, "basicserver", "server").ports(&[
            ("pwr-nema-5", 1),
            ("nic-eth", 2),
            ("console-serial", 1),
        ])
    };
    let appliance_ports = [("pwr-nema-5", 2), ("nic-eth", 1), ("console-serial", 1)];
    vec![
        DriverSpec::derive(&location, "basicdatacenter", "datacenter"),
        DriverSpec::derive(&location, "basiccage", "cage"),
        DriverSpec::derive(&location, "basiczone", "zone"),
        DriverSpec {
            behaviour: ExclusivePool,
            ..DriverSpec::derive(&pool, "exclusive_pool", "pool")
        },
        DriverSpec {
            behaviour: UniquePool,
            ..DriverSpec::derive(&pool, "unique_pool", "pool")
        },
        DriverSpec::derive(&server, "basicvirtualserver", "server"),
        DriverSpec::derive(&device, "basicnetworkswitch", "networkswitch")
            .ports(&[("pwr-nema-5", 1), ("nic-eth", 48)]),
        DriverSpec::derive(&device, "basicpowerstrip", "powerstrip")
            .ports(&[("pwr-nema-5", 24), ("nic-eth", 1)]),
        DriverSpec::derive(&device, "basicconsoleserver", "consoleserver").ports(&[
            ("pwr-nema-5", 1),
            ("nic-eth", 1),
            ("console-serial", 24),
        ]),
        DriverSpec::derive(&device, "basicappliance", "appliance").ports(&appliance_ports),
        DriverSpec::derive(&device, "basicfirewall", "firewall").ports(&appliance_ports),
        DriverSpec::derive(&device, "basicloadbalancer", "loadbalancer").ports(&appliance_ports),
        entity,
        meta,
        device,
        location,
        rack,
        pool,
        rm,
        ipm,
        names,
        entity_names,
        nums,
        server,
    ]
}

// The process-wide tables are B-trees rather than hash maps: a hash table's pointer
// aims inside its allocation, so a leak checker calls the whole table "possibly lost"
// at exit, and a C user's valgrind run would blame this library.

/// The names of the built-in drivers, which every build knows and no database stores.
static BUILTIN: LazyLock<BTreeSet<String>> =
    LazyLock::new(|| builtins().into_iter().map(|s| s.name).collect());

/// Whether `name` is one of the built-in drivers.
pub fn is_builtin(name: &str) -> bool {
    BUILTIN.contains(name)
}

static REGISTRY: LazyLock<RwLock<BTreeMap<String, Arc<DriverSpec>>>> = LazyLock::new(|| {
    RwLock::new(
        builtins()
            .into_iter()
            .map(|s| (s.name.clone(), Arc::new(s)))
            .collect(),
    )
});

/// The spec registered under `name`.
pub fn lookup(name: &str) -> Option<Arc<DriverSpec>> {
    REGISTRY
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(name)
        .cloned()
}

/// The spec registered under `name`; `NotFound` names the driver.
pub fn require(name: &str) -> Result<Arc<DriverSpec>> {
    lookup(name).ok_or_else(|| Error::NotFound(format!("driver '{name}' is not registered")))
}

/// The spec an entity behaves by: its driver's, or generic behaviour (with the
/// entity's own type) for a driver this process does not know.
pub fn spec_of(entity: &Entity) -> Arc<DriverSpec> {
    lookup(&entity.driver).unwrap_or_else(|| {
        Arc::new(DriverSpec::root(
            &entity.driver,
            &entity.type_name,
            Behaviour::Generic,
        ))
    })
}

/// Registers a new driver. Its name must be new; its type and driver names follow the
/// naming rules. A binding derives specs with [`DriverSpec::derive`].
pub fn register(spec: DriverSpec) -> Result<Arc<DriverSpec>> {
    validate::type_name("driver", &spec.name)?;
    validate::type_name("type", &spec.type_name)?;
    let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    if registry.contains_key(&spec.name) {
        return Err(Error::AlreadyExists(format!(
            "driver '{}' is already registered",
            spec.name
        )));
    }
    let spec = Arc::new(spec);
    registry.insert(spec.name.clone(), spec.clone());
    Ok(spec)
}

/// Every registered driver, by name.
pub fn all() -> Vec<Arc<DriverSpec>> {
    let mut specs: Vec<_> = REGISTRY
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .values()
        .cloned()
        .collect();
    specs.sort_by(|a, b| a.name.cmp(&b.name));
    specs
}

/// Whether driver `name` is `ancestor` or derives from it (through registered parents).
pub fn is_a(name: &str, ancestor: &str) -> bool {
    let mut current = Some(name.to_owned());
    while let Some(n) = current {
        if n == ancestor {
            return true;
        }
        current = lookup(&n).and_then(|s| s.parent.clone());
    }
    false
}
