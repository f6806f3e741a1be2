//! Rack slots, ports and device extras.

mod common;

use clusto_core::{Clusto, EntityId, Error, NewAttr, TxMeta, Value};

fn db_with(names: &[(&str, &str)]) -> (Clusto, Vec<EntityId>) {
    let db = common::temporary().unwrap();
    let ids = db
        .write(TxMeta::default(), |tx| {
            names
                .iter()
                .map(|(driver, name)| Ok(tx.create(driver, name, &[])?.id))
                .collect()
        })
        .unwrap();
    (db, ids)
}

#[test]
fn rack_slots_follow_the_original_rules() {
    let (db, ids) = db_with(&[
        ("basicrack", "r1"),
        ("basicserver", "s1"),
        ("basicserver", "s2"),
        ("basicserver", "s3"),
        ("pool", "p"),
        ("basicrack", "r2"),
    ]);
    let [r1, s1, s2, s3, p, r2] = ids[..] else {
        unreachable!()
    };
    let rack =
        |dev, units: &[i64]| db.write(TxMeta::default(), |tx| tx.rack_insert(r1, dev, units));
    rack(s1, &[3, 4]).unwrap();
    let slot = db.read(|v| v.rack_slot(s1)).unwrap().unwrap();
    assert_eq!((slot.rack.name.as_str(), slot.units), ("r1", vec![3, 4]));
    assert_eq!(db.read(|v| v.device_in(r1, 4)).unwrap().unwrap().name, "s1");
    // Stored once per unit, listed once: directly, and through a pool holding the rack.
    let direct = db
        .read(|v| v.contents(r1, &Default::default(), &clusto_core::Related::direct()))
        .unwrap();
    assert_eq!(
        direct.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["s1"]
    );
    db.write(TxMeta::default(), |tx| tx.insert(p, r1)).unwrap();
    let deep = db
        .read(|v| v.contents(p, &Default::default(), &clusto_core::Related::all_levels()))
        .unwrap();
    assert_eq!(
        deep.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["r1", "s1"]
    );
    db.write(TxMeta::default(), |tx| tx.remove(p, r1).map(drop))
        .unwrap();
    assert!(db.read(|v| v.device_in(r1, 5)).unwrap().is_none());
    assert!(matches!(
        db.read(|v| v.device_in(r1, 46)),
        Err(Error::InvalidValue(_))
    ));

    let occupied = rack(s2, &[4]).unwrap_err();
    assert!(
        matches!(&occupied, Error::Conflict(m) if m.contains("already has 's1' in RU 4")),
        "{occupied}"
    );
    assert!(matches!(rack(s2, &[5, 7]), Err(Error::InvalidValue(m)) if m.contains("adjacent")));
    assert!(matches!(rack(s2, &[0]), Err(Error::InvalidValue(m)) if m.contains("outside 1..=45")));
    assert!(matches!(rack(s2, &[]), Err(Error::InvalidValue(_))));
    assert!(matches!(rack(p, &[10]), Err(Error::TypeMismatch(m)) if m.contains("not a device")));
    let again = db.write(TxMeta::default(), |tx| tx.rack_insert(r2, s1, &[1]));
    assert!(matches!(again, Err(Error::Conflict(m)) if m.contains("already in rack 'r1'")));

    db.write(TxMeta::default(), |tx| {
        tx.add_attr(s3, NewAttr::new("rack_units", 2))
    })
    .unwrap();
    assert!(matches!(rack(s3, &[10]), Err(Error::InvalidValue(m)) if m.contains("takes 2")));
    rack(s3, &[10, 11]).unwrap();

    db.write(TxMeta::default(), |tx| {
        tx.set_property(r1, "maxu", Value::Int(48))
    })
    .unwrap();
    rack(s2, &[48]).unwrap();
    db.write(TxMeta::default(), |tx| tx.insert(p, s2))
        .expect("a racked device can join pools");

    let freed = db.write(TxMeta::default(), |tx| tx.remove(r1, s1)).unwrap();
    assert_eq!(freed, 2, "every unit is freed");
    assert!(db.read(|v| v.rack_slot(s1)).unwrap().is_none());
    assert!(db.check().unwrap().is_clean());
}

#[test]
fn ports_connect_both_ends_and_refuse_bad_ports() {
    let (db, ids) = db_with(&[
        ("basicserver", "s1"),
        ("basicnetworkswitch", "sw1"),
        ("pool", "p"),
        ("basicserver", "s2"),
    ]);
    let [s1, sw1, p, s2] = ids[..] else {
        unreachable!()
    };
    let connect = |a, n, b, m| {
        db.write(TxMeta::default(), |tx| {
            tx.connect_ports(a, "nic-eth", n, b, m)
        })
    };
    let connectable = |a, n, b, m| {
        db.read(|v| v.ports_connectable(a, "nic-eth", n, b, m))
            .unwrap()
    };
    assert!(connectable(s1, 1, sw1, 17));
    connect(s1, 1, sw1, 17).unwrap();
    assert!(!connectable(s1, 1, sw1, 18), "s1's port is taken");
    assert!(!connectable(s1, 2, sw1, 17), "the switch's port is taken");
    assert!(!connectable(s1, 99, sw1, 18), "no such port");
    assert!(connectable(s1, 2, sw1, 18));
    db.read(|v| {
        assert_eq!(v.connected(s1, "nic-eth", 1)?.unwrap().name, "sw1");
        assert_eq!(v.connected(sw1, "nic-eth", 17)?.unwrap().name, "s1");
        assert_eq!(
            v.port_attr(sw1, "nic-eth", 17, "otherportnum")?,
            Some(Value::Int(1))
        );
        assert!(v.port_free(s1, "nic-eth", 2)?);
        assert_eq!(v.connected_ports(s1)?, [("nic-eth".to_string(), vec![1])]);
        let free = v.free_ports(s1)?;
        assert_eq!(free.len(), 3, "pwr-nema-5:1, nic-eth:2, console-serial:1");
        assert!(v.port_exists(s1, "console-serial", 1)? && !v.port_exists(s1, "nic-eth", 3)?);
        Ok(())
    })
    .unwrap();
    let busy = connect(s2, 1, sw1, 17).unwrap_err();
    assert!(
        matches!(&busy, Error::Port(m) if m.contains("already in use")),
        "{busy}"
    );
    assert!(
        matches!(connect(s2, 3, sw1, 1), Err(Error::Port(m)) if m.contains("No port nic-eth:3"))
    );
    assert!(matches!(
        connect(s2, 0, sw1, 1),
        Err(Error::InvalidValue(_))
    ));
    assert!(matches!(connect(p, 1, sw1, 1), Err(Error::Port(m)) if m.contains("has no ports")));
    let power = db.write(TxMeta::default(), |tx| {
        tx.connect_ports(s2, "console-serial", 1, sw1, 1)
    });
    assert!(
        matches!(power, Err(Error::Port(_))),
        "a switch has no console ports"
    );

    db.write(TxMeta::default(), |tx| {
        tx.set_port_attr(s1, "nic-eth", 1, "mac", "00:11:22:33:44:55".into())
    })
    .unwrap();
    assert_eq!(
        db.read(|v| v.port_attr(s1, "nic-eth", 1, "mac")).unwrap(),
        Some(Value::from("00:11:22:33:44:55"))
    );
    db.write(TxMeta::default(), |tx| {
        tx.add_port_attr(s1, "nic-eth", 1, "mac", "x".into())
    })
    .unwrap();
    assert!(matches!(
        db.read(|v| v.port_attr(s1, "nic-eth", 1, "mac")),
        Err(Error::Port(_))
    ));
    assert_eq!(
        db.write(TxMeta::default(), |tx| tx
            .del_port_attr(s1, "nic-eth", 1, "mac"))
            .unwrap(),
        2
    );

    assert!(
        db.write(TxMeta::default(), |tx| tx
            .disconnect_port(sw1, "nic-eth", 17))
            .unwrap()
    );
    assert!(db.read(|v| v.port_free(s1, "nic-eth", 1)).unwrap());
    assert!(
        !db.write(TxMeta::default(), |tx| tx
            .disconnect_port(sw1, "nic-eth", 17))
            .unwrap()
    );
    assert!(db.check().unwrap().is_clean());
}

#[test]
fn deleting_a_device_leaves_the_peer_half_that_disconnect_clears() {
    let (db, ids) = db_with(&[("basicserver", "s1"), ("basicpowerstrip", "pdu")]);
    let [s1, pdu] = ids[..] else { unreachable!() };
    db.write(TxMeta::default(), |tx| {
        tx.connect_ports(s1, "pwr-nema-5", 1, pdu, 8)
    })
    .unwrap();
    db.write(TxMeta::default(), |tx| tx.delete_entity("s1"))
        .unwrap();
    db.read(|v| {
        assert!(
            v.port_free(pdu, "pwr-nema-5", 8)?,
            "the relation half went with the device"
        );
        assert_eq!(
            v.port_attr(pdu, "pwr-nema-5", 8, "otherportnum")?,
            Some(Value::Int(1))
        );
        Ok(())
    })
    .unwrap();
    db.write(TxMeta::default(), |tx| {
        tx.disconnect_port(pdu, "pwr-nema-5", 8)
    })
    .unwrap();
    assert_eq!(
        db.read(|v| v.port_attr(pdu, "pwr-nema-5", 8, "otherportnum"))
            .unwrap(),
        None
    );
}

#[test]
fn hostname_and_fqdns() {
    let (db, ids) = db_with(&[("basicserver", "s1")]);
    let s1 = ids[0];
    assert_eq!(db.read(|v| v.hostname(s1)).unwrap(), "s1");
    db.write(TxMeta::default(), |tx| {
        tx.set_hostname(s1, "web-1")?;
        assert!(tx.add_fqdn(s1, "web-1.example.com")?);
        assert!(!tx.add_fqdn(s1, "web-1.example.com")?);
        assert!(tx.add_fqdn(s1, "www.example.com")?);
        assert!(tx.remove_fqdn(s1, "web-1.example.com")?);
        Ok(())
    })
    .unwrap();
    assert_eq!(db.read(|v| v.hostname(s1)).unwrap(), "web-1");
    assert_eq!(db.read(|v| v.fqdns(s1)).unwrap(), ["www.example.com"]);
}

/// A rack's bounds are read from its properties as the original stored them (numbers
/// as text too); a bound that is not a number, or given twice, is an error that names it.
#[test]
fn rack_bounds_come_from_its_properties() {
    let (db, ids) = db_with(&[("basicrack", "r"), ("basicserver", "s")]);
    let [r, s] = ids[..] else { unreachable!() };
    let set_max = |v: Value| db.write(TxMeta::default(), |tx| tx.set_property(r, "maxu", v));
    set_max(Value::String(" 20 ".into())).unwrap();
    let props = db.read(|v| v.properties(r, &["maxu", "minu"])).unwrap();
    assert_eq!(
        props,
        [Some(Value::String(" 20 ".into())), Some(Value::Int(1))]
    );
    let rack = |u| db.write(TxMeta::default(), |tx| tx.rack_insert(r, s, &[u]));
    assert!(matches!(rack(21), Err(Error::InvalidValue(m)) if m.contains("outside 1..=20")));

    set_max(Value::String("high".into())).unwrap();
    let bad = rack(3).unwrap_err();
    assert!(
        matches!(&bad, Error::InvalidValue(m) if m.contains("property 'maxu' is 'high'")),
        "{bad}"
    );
    db.write(TxMeta::default(), |tx| {
        tx.add_attr(r, NewAttr::new("maxu", 30).subkey("property"))
    })
    .unwrap();
    let twice = db.read(|v| v.device_in(r, 3)).unwrap_err();
    assert!(
        matches!(&twice, Error::Ambiguous(m) if m.contains("2 values for property 'maxu'")),
        "{twice}"
    );
    let unknown = db
        .read(|v| v.properties(r, &["minu", "colour"]))
        .unwrap_err();
    assert!(
        matches!(&unknown, Error::InvalidName(m) if m.contains("no property 'colour'")),
        "{unknown}"
    );
    assert!(
        db.read(|v| v.rack_slot(s)).unwrap().is_none(),
        "nothing was racked"
    );
}

/// A transaction remembers the layouts of the racks it fills: every other change to a
/// rack's attributes inside the same transaction must still count.
#[test]
fn racking_inside_one_transaction_sees_every_change_to_the_rack() {
    let (db, ids) = db_with(&[
        ("basicrack", "r"),
        ("basicserver", "s1"),
        ("basicserver", "s2"),
        ("basicserver", "s3"),
        ("basicserver", "s4"),
    ]);
    let [r, s1, s2, s3, s4] = ids[..] else {
        unreachable!()
    };
    db.write(TxMeta::default(), |tx| {
        tx.rack_insert(r, s1, &[1])?;
        tx.rack_insert(r, s2, &[2, 3])?;
        // Taken by this transaction's own inserts.
        let taken = tx.rack_insert(r, s3, &[3]).unwrap_err();
        assert!(
            matches!(&taken, Error::Conflict(m) if m.contains("'s2' in RU 3")),
            "{taken}"
        );
        // Freed by a removal, not by a rack insert.
        tx.remove(r, s1)?;
        tx.rack_insert(r, s3, &[1])?;
        // Freed by deleting the device.
        tx.delete_entity("s2")?;
        tx.rack_insert(r, s4, &[2])?;
        // Bounds changed by a property.
        tx.set_property(r, "maxu", Value::Int(10))?;
        let outside = tx.rack_insert(r, s4, &[11]).unwrap_err();
        assert!(
            matches!(&outside, Error::InvalidValue(m) if m.contains("outside 1..=10")),
            "{outside}"
        );
        Ok(())
    })
    .unwrap();
    let units = db.read(|v| v.rack_units(r)).unwrap();
    let taken: Vec<(i64, &str)> = units
        .iter()
        .filter_map(|(u, e)| e.as_ref().map(|e| (*u, e.name.as_str())))
        .collect();
    assert_eq!(taken, [(2, "s4"), (1, "s3")]);
}
