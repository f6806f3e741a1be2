//! IP address managers (IPv4 and IPv6).
//!
//! Storage, as the original for IPv4: the address is the int `address − 2^31` under key
//! `ip`, with `ipstring` (dotted) and `cidr` (`address/prefix`) beside it. An IPv6 address
//! does not fit that integer, so it is stored as a string in full, zero-padded form
//! (`2001:0db8:0000:…`), which sorts in address order; `ipstring` holds the usual
//! compressed form. The managed network is `baseip/netmask` made into a network, so
//! `baseip` need not be the network address; for IPv6 the netmask is a prefix length.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::error::{Error, Result};
use crate::model::properties::text_value;
use crate::records::EntityId;
use crate::value::Value;
use crate::view::View;

use super::Manager;

/// The key of IP allocations.
pub(crate) const IP_KEY: &str = "ip";
/// The hidden attribute where a manager remembers the last address it handed out.
pub(crate) const LAST_IP: &str = "_lastip";
const V4_OFFSET: i64 = 1 << 31;

/// The stored value of an address.
pub(crate) fn ip_value(addr: IpAddr) -> Value {
    match addr {
        IpAddr::V4(a) => Value::Int(i64::from(u32::from(a)) - V4_OFFSET),
        IpAddr::V6(a) => {
            let s = a.segments();
            Value::String(
                s.iter()
                    .map(|g| format!("{g:04x}"))
                    .collect::<Vec<_>>()
                    .join(":"),
            )
        }
    }
}

/// The address of a stored value (or of a value a user gave: dotted, compressed or
/// full IPv6 text, or the internal int).
pub(crate) fn parse_ip(value: &Value) -> Result<IpAddr> {
    match value {
        Value::Int(i) => i
            .checked_add(V4_OFFSET)
            .and_then(|n| u32::try_from(n).ok())
            .map(|n| IpAddr::V4(Ipv4Addr::from(n)))
            .ok_or_else(|| Error::InvalidResource(format!("{i} is not a stored IPv4 address"))),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| Error::InvalidResource(format!("'{s}' is not an IP address"))),
        other => Err(Error::InvalidResource(format!(
            "{other} is not an IP address"
        ))),
    }
}

/// The number of an address in its family, for walking ranges.
fn ordinal(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn from_ordinal(v6: bool, n: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(n))
    } else {
        IpAddr::V4(Ipv4Addr::from(n as u32))
    }
}

/// What a manager manages.
pub(crate) struct IpRange {
    /// The network, `None` when the manager has no `baseip` (it accepts any address).
    pub net: Option<IpNet>,
    /// The prefix length written in `cidr`.
    pub prefix: u8,
    /// The gateway, never handed out automatically.
    pub gateway: Option<IpAddr>,
}

impl IpRange {
    /// The first and last address automatic allocation may hand out: the network and
    /// broadcast addresses are excluded.
    pub fn hosts(&self) -> Option<(u128, u128)> {
        let net = self.net?;
        let (first, last) = (ordinal(net.network()) + 1, ordinal(net.broadcast()));
        (first < last).then(|| (first, last - 1))
    }

    pub fn is_v6(&self) -> bool {
        matches!(self.net, Some(IpNet::V6(_)))
    }

    pub fn address(&self, ordinal: u128) -> IpAddr {
        from_ordinal(self.is_v6(), ordinal)
    }

    pub fn ordinal(addr: IpAddr) -> u128 {
        ordinal(addr)
    }
}

fn prefix_of(netmask: &str, v6: bool) -> Result<u8> {
    let mask = netmask.trim().trim_start_matches('/');
    if let Ok(prefix) = mask.parse::<u8>() {
        return Ok(prefix);
    }
    match mask.parse::<Ipv4Addr>() {
        // The IPv4 default mask on an IPv6 manager means a single address.
        Ok(m) if v6 && m == Ipv4Addr::BROADCAST => Ok(128),
        Ok(m) if !v6 => ipnet::ipv4_mask_to_prefix(m)
            .map_err(|_| Error::InvalidResource(format!("netmask '{netmask}' is not contiguous"))),
        _ => Err(Error::InvalidResource(format!(
            "netmask '{netmask}' is not a netmask"
        ))),
    }
}

impl View<'_> {
    /// The range an IP manager manages, from its properties.
    pub(crate) fn ip_range(&self, manager: EntityId) -> Result<IpRange> {
        let mut values = self
            .properties(manager, &["gateway", "netmask", "baseip"])?
            .into_iter()
            .map(text_value);
        let mut next = || values.next().flatten();
        let (gateway, netmask, base) = (next(), next(), next());
        let gateway = match gateway {
            Some(g) => Some(parse_ip(&Value::String(g))?),
            None => None,
        };
        let netmask = netmask.unwrap_or_else(|| "255.255.255.255".into());
        let Some(base) = base else {
            return Ok(IpRange {
                net: None,
                prefix: prefix_of(&netmask, false)?,
                gateway,
            });
        };
        let base = parse_ip(&Value::String(base))?;
        let prefix = prefix_of(&netmask, base.is_ipv6())?;
        let net = match base {
            IpAddr::V4(a) => Ipv4Net::new(a, prefix).map(|n| IpNet::V4(n.trunc())),
            IpAddr::V6(a) => Ipv6Net::new(a, prefix).map(|n| IpNet::V6(n.trunc())),
        }
        .map_err(|_| Error::InvalidResource(format!("prefix /{prefix} does not fit {base}")))?;
        Ok(IpRange {
            net: Some(net),
            prefix,
            gateway,
        })
    }

    /// Checks an address for a manager: a valid address, inside its network when it has
    /// a `baseip`. Returns the address and its stored value.
    pub(super) fn ensure_ip(&self, manager: &Manager, resource: &Value) -> Result<(IpAddr, Value)> {
        let addr = parse_ip(resource)?;
        if let Some(net) = manager.ip_range(self)?.net
            && !net.contains(&addr)
        {
            return Err(Error::InvalidResource(format!(
                "{addr} is outside {net}, the range of IP manager '{}'",
                manager.entity.name
            )));
        }
        Ok((addr, ip_value(addr)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_is_stored_as_the_original_did() {
        let v = ip_value("10.20.0.9".parse().unwrap());
        assert_eq!(v, Value::Int(-1978400759));
        assert_eq!(parse_ip(&v).unwrap().to_string(), "10.20.0.9");
        assert!(parse_ip(&Value::Int(i64::MAX)).is_err());
    }

    #[test]
    fn ipv6_is_stored_in_full_form_that_sorts() {
        let a = ip_value("2001:db8::9".parse().unwrap());
        let b = ip_value("2001:db8::10".parse().unwrap());
        assert_eq!(a, Value::from("2001:0db8:0000:0000:0000:0000:0000:0009"));
        assert!(a.as_str() < b.as_str());
        assert_eq!(parse_ip(&a).unwrap().to_string(), "2001:db8::9");
    }

    #[test]
    fn netmasks() {
        assert_eq!(prefix_of("255.255.252.0", false).unwrap(), 22);
        assert_eq!(prefix_of("64", true).unwrap(), 64);
        assert_eq!(prefix_of("/48", true).unwrap(), 48);
        assert_eq!(prefix_of("255.255.255.255", true).unwrap(), 128);
        assert!(prefix_of("255.0.255.0", false).is_err());
    }
}
