//! The behaviour of drivers on top of entities and attributes: properties,
//! containment, racks, ports and devices. Each module adds methods to [`crate::View`]
//! (reads) and [`crate::Transaction`] (writes).

mod containment;
mod device;
mod ports;
pub(crate) mod properties;
mod rack;
mod stored_drivers;

pub use containment::{Edge, Related};
pub use ports::PortInfo;
pub use properties::{CLUSTOMETA, SCHEMA_VERSION};
pub(crate) use rack::RackLayout;
pub use rack::RackSlot;
pub use stored_drivers::DRIVER_KEY;
