//! The driver registry, creation by driver, properties and the clustometa singleton.

mod common;

use clusto_core::drivers::{self, DriverSpec};
use clusto_core::{AttrFilter, Behaviour, Error, NewAttr, TxMeta, Value};

#[test]
fn builtins_have_the_original_names() {
    let expected = [
        ("entity", "generic"),
        ("clustometa", "clustometa"),
        ("device", "generic"),
        ("location", "location"),
        ("basicdatacenter", "datacenter"),
        ("basiccage", "cage"),
        ("basiczone", "zone"),
        ("basicrack", "rack"),
        ("pool", "pool"),
        ("exclusive_pool", "pool"),
        ("unique_pool", "pool"),
        ("resourcemanager", "resourcemanager"),
        ("ipmanager", "resourcemanager"),
        ("simplenamemanager", "resourcemanager"),
        ("simpleentitynamemanager", "resourcemanager"),
        ("simplenummanager", "resourcemanager"),
        ("basicserver", "server"),
        ("basicvirtualserver", "server"),
        ("basicnetworkswitch", "networkswitch"),
        ("basicpowerstrip", "powerstrip"),
        ("basicconsoleserver", "consoleserver"),
        ("basicappliance", "appliance"),
        ("basicfirewall", "firewall"),
        ("basicloadbalancer", "loadbalancer"),
    ];
    for (driver, type_name) in expected {
        let spec = drivers::require(driver).unwrap();
        assert_eq!(spec.type_name, type_name, "{driver}");
    }
    let server = drivers::require("basicserver").unwrap();
    assert_eq!(server.port_count("nic-eth"), Some(2));
    assert_eq!(
        drivers::require("basicpowerstrip")
            .unwrap()
            .port_count("pwr-nema-5"),
        Some(24)
    );
    assert!(drivers::is_a("basicvirtualserver", "device"));
    assert!(!drivers::is_a("pool", "device"));
    assert!(matches!(drivers::require("nope"), Err(Error::NotFound(_))));
}

#[test]
fn create_stores_non_null_defaults_and_given_properties() {
    let db = common::temporary().unwrap();
    let (rack, ipm) = db
        .write(TxMeta::default(), |tx| {
            let rack = tx.create("basicrack", "r1", &[("maxu", Value::Int(42))])?;
            let ipm = tx.create("ipmanager", "net", &[("baseip", "10.0.0.0".into())])?;
            Ok((rack, ipm))
        })
        .unwrap();
    assert_eq!(
        (rack.type_name.as_str(), rack.driver.as_str()),
        ("rack", "basicrack")
    );
    db.read(|v| {
        assert_eq!(v.property(rack.id, "minu")?, Some(Value::Int(1)));
        assert_eq!(v.property(rack.id, "maxu")?, Some(Value::Int(42)));
        let stored = v.attrs(rack.id, &AttrFilter::any().subkey("property"))?;
        assert_eq!(stored.len(), 2);
        assert_eq!(
            v.property(ipm.id, "gateway")?,
            None,
            "a NULL default is not stored"
        );
        assert_eq!(
            v.property(ipm.id, "netmask")?,
            Some(Value::from("255.255.255.255"))
        );
        assert!(matches!(
            v.property(rack.id, "colour"),
            Err(Error::InvalidName(_))
        ));
        Ok(())
    })
    .unwrap();
    let bad = db.write(TxMeta::default(), |tx| {
        tx.create("basicrack", "r2", &[("colour", "red".into())])
    });
    assert!(matches!(bad, Err(Error::InvalidName(m)) if m.contains("colour")));
    assert!(matches!(
        db.write(TxMeta::default(), |tx| tx.create("warpdrive", "x", &[])),
        Err(Error::NotFound(_))
    ));
    db.write(TxMeta::default(), |tx| {
        tx.set_property(rack.id, "maxu", Value::Int(47))
    })
    .unwrap();
    assert_eq!(
        db.read(|v| v.property(rack.id, "maxu")).unwrap(),
        Some(Value::Int(47))
    );
}

#[test]
fn runtime_drivers_inherit_and_unknown_drivers_load_as_generic() {
    let parent = drivers::require("basicserver").unwrap();
    let spec = DriverSpec::derive(&parent, "testgpuserver", "server")
        .property("gpus", Some(Value::Int(8)))
        .property("_tier", Some(Value::from("gold")))
        .ports(&[("nic-eth", 4)]);
    drivers::register(spec.clone()).unwrap();
    assert!(matches!(
        drivers::register(spec),
        Err(Error::AlreadyExists(_))
    ));
    let registered = drivers::require("testgpuserver").unwrap();
    assert_eq!(registered.behaviour, Behaviour::Device);
    assert!(drivers::is_a("testgpuserver", "basicserver"));

    let db = common::temporary().unwrap();
    db.write(TxMeta::default(), |tx| {
        let gpu = tx.create("testgpuserver", "g1", &[])?;
        assert_eq!(tx.view().property(gpu.id, "gpus")?, Some(Value::Int(8)));
        // A property's name may be hidden (start with `_`): it is read like any other.
        tx.set_property(gpu.id, "_tier", Value::from("silver"))?;
        assert_eq!(
            tx.view().properties(gpu.id, &["_tier", "gpus"])?,
            [Some(Value::from("silver")), Some(Value::Int(8))]
        );
        assert_eq!(tx.view().port_info(gpu.id)?.len(), 4);
        let odd = tx.create_entity("acme1", "server", "acmeserver")?;
        tx.add_attr(odd.id, NewAttr::new("x", 1))?;
        let spec = tx.view().spec_of(&odd);
        assert_eq!(
            (spec.behaviour, spec.type_name.as_str()),
            (Behaviour::Generic, "server")
        );
        Ok(())
    })
    .unwrap();
}

#[test]
fn init_clusto_is_idempotent() {
    let db = common::temporary().unwrap();
    let meta = db.write(TxMeta::default(), |tx| tx.init_clusto()).unwrap();
    assert_eq!(
        (meta.name.as_str(), meta.driver.as_str()),
        ("clustometa", "clustometa")
    );
    let v = db.latest_version().unwrap();
    db.write(TxMeta::default(), |tx| tx.init_clusto()).unwrap();
    assert_eq!(
        db.latest_version().unwrap(),
        v,
        "no version for a second init"
    );
    assert_eq!(
        db.read(|view| view.property(meta.id, "schemaversion"))
            .unwrap(),
        Some(Value::Int(3))
    );
}

/// Outside a transaction, `init_clusto` takes the original's two versions (the entity,
/// then its schema version), so a new database is at version 2, as scripts of the
/// original expect; every consumer (CLI, C, Python) calls this one.
#[test]
fn init_clusto_takes_the_originals_two_versions() {
    let db = common::temporary().unwrap();
    let meta = db.init_clusto(TxMeta::new("ops", "init")).unwrap();
    assert_eq!(db.latest_version().unwrap(), 2);
    let changes = db.read(|v| Ok((v.changes(1)?, v.changes(2)?))).unwrap();
    assert_eq!((changes.0.len(), changes.1.len()), (1, 1), "{changes:?}");
    assert_eq!(
        db.read(|v| v.property(meta.id, "schemaversion")).unwrap(),
        Some(Value::Int(3))
    );
    db.init_clusto(TxMeta::default()).unwrap();
    assert_eq!(db.latest_version().unwrap(), 2, "idempotent: no version");
    // A clustometa made without its schema version gets it.
    let other = common::temporary().unwrap();
    other
        .write(TxMeta::default(), |tx| {
            tx.create("clustometa", "clustometa", &[])
        })
        .unwrap();
    other.init_clusto(TxMeta::default()).unwrap();
    assert_eq!(other.latest_version().unwrap(), 2);
}
