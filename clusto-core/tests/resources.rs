//! Resource managers: IPv4/IPv6, names, entity names, numbers, explicit resources.

mod common;

use clusto_core::{AttrFilter, Clusto, EntityId, Error, NumberSpec, TxMeta, Value};

fn db() -> Clusto {
    let db = common::temporary().unwrap();
    db.write(TxMeta::default(), |tx| tx.init_clusto().map(drop))
        .unwrap();
    db
}

fn create(db: &Clusto, driver: &str, name: &str, props: &[(&str, Value)]) -> EntityId {
    db.write(TxMeta::default(), |tx| {
        Ok(tx.create(driver, name, props)?.id)
    })
    .unwrap()
}

fn ipman(db: &Clusto, name: &str, base: &str, mask: &str, gateway: Option<&str>) -> EntityId {
    let mut props = vec![
        ("baseip", Value::from(base)),
        ("netmask", Value::from(mask)),
    ];
    if let Some(g) = gateway {
        props.push(("gateway", Value::from(g)));
    }
    create(db, "ipmanager", name, &props)
}

fn alloc(
    db: &Clusto,
    m: EntityId,
    thing: EntityId,
    ip: Option<&str>,
) -> clusto_core::Result<String> {
    db.write(TxMeta::default(), |tx| {
        let a = tx.allocate(m, thing, ip.map(Value::from), NumberSpec::Next, false)?;
        Ok(tx.view().attrs(
            thing,
            &AttrFilter::key("ip")
                .subkey("ipstring")
                .number(a.number.unwrap()),
        )?[0]
            .value
            .to_string())
    })
}

#[test]
fn ipv4_allocation_is_sequential_and_stored_as_the_original() {
    let db = db();
    let net = ipman(&db, "prod", "10.20.0.5", "255.255.254.0", Some("10.20.0.1"));
    let s = create(&db, "basicserver", "s1", &[]);
    assert_eq!(
        alloc(&db, net, s, None).unwrap(),
        "10.20.0.2",
        "the network and gateway are skipped"
    );
    assert_eq!(alloc(&db, net, s, None).unwrap(), "10.20.0.3");
    db.read(|v| {
        let attrs = v.attrs(s, &AttrFilter::key("ip").number(0))?;
        let shape: Vec<_> = attrs
            .iter()
            .map(|a| (a.subkey.clone(), a.value.clone()))
            .collect();
        assert_eq!(
            shape,
            [
                (None, Value::Int(-1978400766)),
                (Some("manager".into()), Value::Relation(net)),
                (Some("ipstring".into()), Value::from("10.20.0.2")),
                (Some("cidr".into()), Value::from("10.20.0.2/23")),
            ]
        );
        let meta = v.clustometa()?.unwrap();
        assert_eq!(
            v.counter(meta.id, "ip")?,
            Some(1),
            "allocation numbers come from clustometa"
        );
        assert_eq!(v.ips_of(s)?, ["10.20.0.2", "10.20.0.3"]);
        assert_eq!(v.devices_with_ip("10.20.0.3")?[0].name, "s1");
        assert_eq!(v.allocation_count(net)?, 2);
        assert!(!v.resource_available(net, &"10.20.0.2".into())?);
        assert!(v.resource_available(net, &"10.20.0.4".into())?);
        let lastip = v.attrs(net, &AttrFilter::key("_lastip"))?;
        assert_eq!(lastip[0].value, Value::Int(-1978400765));
        Ok(())
    })
    .unwrap();
    let out = alloc(&db, net, s, Some("10.30.0.1")).unwrap_err();
    assert!(
        matches!(&out, Error::InvalidResource(m) if m.contains("outside 10.20.0.0/23")),
        "{out}"
    );
    assert!(matches!(
        alloc(&db, net, s, Some("nonsense")),
        Err(Error::InvalidResource(_))
    ));
    let taken = alloc(&db, net, s, Some("10.20.0.2")).unwrap_err();
    assert!(
        matches!(&taken, Error::ResourceUnavailable(m) if m.contains("not available")),
        "{taken}"
    );
    assert_eq!(
        alloc(&db, net, s, Some("10.20.0.0")).unwrap(),
        "10.20.0.0",
        "explicit: only the range is checked"
    );
    assert!(db.check().unwrap().is_clean());
}

#[test]
fn ipv4_allocation_wraps_and_reuses_freed_addresses() {
    let db = db();
    let net = ipman(&db, "tiny", "192.168.1.0", "255.255.255.248", None);
    let s = create(&db, "basicserver", "s1", &[]);
    let got: Vec<_> = (0..6).map(|_| alloc(&db, net, s, None).unwrap()).collect();
    assert_eq!(
        got,
        [
            "192.168.1.1",
            "192.168.1.2",
            "192.168.1.3",
            "192.168.1.4",
            "192.168.1.5",
            "192.168.1.6"
        ]
    );
    let full = alloc(&db, net, s, None).unwrap_err();
    assert!(
        matches!(&full, Error::ResourceUnavailable(m) if m.contains("out of available ips")),
        "{full}"
    );
    let freed = db
        .write(TxMeta::default(), |tx| {
            tx.deallocate(net, s, Some("192.168.1.3".into()))
        })
        .unwrap();
    assert_eq!(freed, 1);
    assert_eq!(
        alloc(&db, net, s, None).unwrap(),
        "192.168.1.3",
        "wraps to the freed address"
    );
    assert!(db.check().unwrap().is_clean());
    let all = db
        .write(TxMeta::default(), |tx| tx.deallocate(net, s, None))
        .unwrap();
    assert_eq!(all, 6);
    assert!(db.read(|v| v.ips_of(s)).unwrap().is_empty());
    assert_eq!(
        alloc(&db, net, s, None).unwrap(),
        "192.168.1.4",
        "continues after the last one handed out"
    );
    assert!(db.check().unwrap().is_clean());
}

#[test]
fn availability_is_shared_by_overlapping_managers_and_reservations() {
    let db = db();
    let a = ipman(&db, "a", "10.0.0.0", "255.255.255.0", None);
    let b = ipman(&db, "b", "10.0.0.0", "255.255.0.0", None);
    let s = create(&db, "basicserver", "s1", &[]);
    let t = create(&db, "basicserver", "t1", &[]);
    db.write(TxMeta::default(), |tx| {
        tx.allocate(a, a, Some("10.0.0.1".into()), NumberSpec::Next, false)
    })
    .expect("a manager reserves an address by allocating it to itself");
    assert_eq!(
        alloc(&db, b, s, None).unwrap(),
        "10.0.0.2",
        "the reservation counts for b too"
    );
    assert_eq!(db.read(|v| v.ip_managers_for("10.0.0.9")).unwrap().len(), 2);
    assert!(matches!(
        db.read(|v| v.ip_manager_for("10.0.0.9")),
        Err(Error::Ambiguous(_))
    ));
    assert_eq!(db.read(|v| v.ip_manager_for("10.0.9.9")).unwrap().name, "b");
    let not_mine = db
        .write(TxMeta::default(), |tx| {
            tx.deallocate(b, t, Some("10.0.0.2".into()))
        })
        .unwrap_err();
    assert!(
        matches!(&not_mine, Error::ResourceUnavailable(m) if m.contains("held by 's1'")),
        "{not_mine}"
    );
    let noop = db
        .write(TxMeta::default(), |tx| {
            tx.deallocate(b, t, Some("10.0.0.200".into()))
        })
        .unwrap();
    assert_eq!(noop, 0);
    let forced = db.write(TxMeta::default(), |tx| {
        tx.allocate(b, t, Some("10.0.0.2".into()), NumberSpec::Next, true)
    });
    assert!(forced.is_ok());
    assert_eq!(
        db.read(|v| v.resource_owners(b, &"10.0.0.2".into()))
            .unwrap()
            .len(),
        2
    );
    db.write(TxMeta::default(), |tx| {
        tx.add_ip(t, Some("10.0.5.5"), None).map(drop)
    })
    .unwrap();
    assert!(
        db.read(|v| v.ips_of(t))
            .unwrap()
            .contains(&"10.0.5.5".to_string())
    );
    assert!(db.check().unwrap().is_clean());
}

#[test]
fn ipv6_managers() {
    let db = db();
    let net = create(
        &db,
        "ipmanager",
        "v6",
        &[
            ("baseip", "2001:db8::".into()),
            ("netmask", "126".into()),
            ("gateway", "2001:db8::1".into()),
        ],
    );
    let s = create(&db, "basicserver", "s1", &[]);
    assert_eq!(alloc(&db, net, s, None).unwrap(), "2001:db8::2");
    assert!(
        matches!(alloc(&db, net, s, None), Err(Error::ResourceUnavailable(_))),
        "::3 is the last address of /126"
    );
    db.read(|v| {
        let main = v.attrs(s, &AttrFilter::key("ip").no_subkey())?;
        assert_eq!(
            main[0].value,
            Value::from("2001:0db8:0000:0000:0000:0000:0000:0002")
        );
        assert_eq!(
            v.attrs(s, &AttrFilter::key("ip").subkey("cidr"))?[0].value,
            Value::from("2001:db8::2/126")
        );
        assert_eq!(v.devices_with_ip("2001:db8::2")?[0].name, "s1");
        Ok(())
    })
    .unwrap();
    assert!(matches!(
        alloc(&db, net, s, Some("2001:db9::1")),
        Err(Error::InvalidResource(_))
    ));
}

#[test]
fn name_managers() {
    let db = db();
    let web = create(
        &db,
        "simplenamemanager",
        "names-web",
        &[("basename", "web".into()), ("digits", Value::Int(3))],
    );
    let bar = create(
        &db,
        "simplenamemanager",
        "names-bar",
        &[("basename", "bar".into()), ("next", Value::Int(98))],
    );
    let s = create(&db, "basicserver", "s1", &[]);
    let name = |m| {
        db.write(TxMeta::default(), |tx| {
            Ok(tx
                .allocate(m, s, None, NumberSpec::Next, false)?
                .value
                .to_string())
        })
    };
    assert_eq!(name(web).unwrap(), "web001");
    assert_eq!(name(web).unwrap(), "web002");
    assert_eq!(name(bar).unwrap(), "bar98");
    assert_eq!(name(bar).unwrap(), "bar99");
    let out = name(bar).unwrap_err();
    assert!(
        matches!(&out, Error::ResourceUnavailable(m) if m.contains("out of names")),
        "{out}"
    );
    assert!(
        matches!(name(bar), Err(Error::ResourceUnavailable(_))),
        "and it stays exhausted"
    );
    assert_eq!(
        db.read(|v| v.counter(bar, "next")).unwrap(),
        Some(100),
        "the failed call did not advance it"
    );
    let simplenames = db
        .read(|v| v.resources_of(s, Some("simplenamemanager")))
        .unwrap();
    assert_eq!(simplenames.len(), 4);

    let servers = create(
        &db,
        "simpleentitynamemanager",
        "servernames",
        &[("basename", "iad1-s".into()), ("digits", Value::Int(4))],
    );
    let made = db
        .write(TxMeta::default(), |tx| {
            let a = tx.allocate_entity(servers, "basicserver", None)?;
            let b = tx.allocate_entity(servers, "basicserver", Some("custom-1"))?;
            Ok((a.name, b.name))
        })
        .unwrap();
    assert_eq!(made, ("iad1-s0001".to_string(), "custom-1".to_string()));
    let dealloc = db.write(TxMeta::default(), |tx| tx.deallocate(servers, s, None));
    assert!(matches!(dealloc, Err(Error::TypeMismatch(_))));
}

#[test]
fn number_managers_hand_out_up_to_maxnum() {
    let db = db();
    let vlans = create(
        &db,
        "simplenummanager",
        "vlans",
        &[("maxnum", Value::Int(4)), ("next", Value::Int(3))],
    );
    let s = create(&db, "basicserver", "s1", &[]);
    let num = || {
        db.write(TxMeta::default(), |tx| {
            tx.allocate(vlans, s, None, NumberSpec::Next, false)
        })
    };
    assert_eq!(num().unwrap().value, Value::Int(3));
    assert_eq!(
        num().unwrap().value,
        Value::Int(4),
        "maxnum itself is handed out"
    );
    assert!(matches!(num(), Err(Error::ResourceUnavailable(m)) if m.contains("maxnum 4")));
    let explicit = db.write(TxMeta::default(), |tx| {
        tx.allocate(vlans, s, Some("x".into()), NumberSpec::Next, false)
    });
    assert!(matches!(explicit, Err(Error::InvalidResource(_))));
}

#[test]
fn plain_resource_managers_take_explicit_resources() {
    let db = db();
    let licenses = create(&db, "resourcemanager", "licenses", &[]);
    let s = create(&db, "basicserver", "s1", &[]);
    let auto = db.write(TxMeta::default(), |tx| {
        tx.allocate(licenses, s, None, NumberSpec::Next, false)
    });
    assert!(matches!(auto, Err(Error::InvalidResource(m)) if m.contains("name one")));
    let a = db
        .write(TxMeta::default(), |tx| {
            tx.allocate(
                licenses,
                s,
                Some("RHEL-123".into()),
                NumberSpec::Next,
                false,
            )
        })
        .unwrap();
    assert_eq!((a.key.as_str(), a.number), ("resource", Some(0)));
    assert_eq!(
        db.read(|v| v.manager_of(&a)).unwrap().unwrap().name,
        "licenses"
    );
    assert_eq!(db.read(|v| v.resources_of(s, None)).unwrap().len(), 1);
    let not_manager = db.write(TxMeta::default(), |tx| {
        tx.allocate(s, s, None, NumberSpec::Next, false)
    });
    assert!(matches!(not_manager, Err(Error::TypeMismatch(_))));
}

#[test]
fn concurrent_allocation_never_hands_out_an_address_twice() {
    let db = db();
    let net = ipman(&db, "net", "10.1.0.0", "255.255.255.0", None);
    let servers: Vec<_> = (0..4)
        .map(|i| create(&db, "basicserver", &format!("s{i}"), &[]))
        .collect();
    let handles: Vec<_> = servers
        .iter()
        .map(|&s| {
            let db = db.clone();
            std::thread::spawn(move || {
                (0..25)
                    .map(|_| alloc(&db, net, s, None).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort();
    let count = all.len();
    all.dedup();
    assert_eq!((count, all.len()), (100, 100));
    assert!(db.check().unwrap().is_clean());
}

#[test]
fn bind_ip_to_osport() {
    let db = db();
    let net = ipman(&db, "net", "10.2.0.0", "255.255.255.0", None);
    let s = create(&db, "basicserver", "s1", &[]);
    db.write(TxMeta::default(), |tx| {
        tx.bind_ip_to_osport(s, "10.2.0.7", "eth0", Some(net), Some(("nic-eth", 1)))
    })
    .unwrap();
    db.read(|v| {
        assert_eq!(v.ips_of(s)?, ["10.2.0.7"]);
        assert_eq!(
            v.attrs(s, &AttrFilter::key("ip").subkey("osportname"))?[0].value,
            Value::from("eth0")
        );
        assert_eq!(
            v.port_attr(s, "nic-eth", 1, "osportname")?,
            Some(Value::from("eth0"))
        );
        Ok(())
    })
    .unwrap();
    db.write(TxMeta::default(), |tx| {
        tx.bind_ip_to_osport(s, "10.2.0.7", "bond0", Some(net), None)
    })
    .unwrap();
    assert_eq!(
        db.read(|v| v.ips_of(s)).unwrap().len(),
        1,
        "an address held already is not allocated again"
    );
}

/// An IP operation names an IP manager: another resource manager would hand out its
/// next number or name as the "address". Refused in the core, so the Rust API, the JSON
/// protocol (C, HTTP) and every binding refuse it alike, changing nothing.
#[test]
fn ip_operations_refuse_other_resource_managers() {
    let db = db();
    create(
        &db,
        "simplenummanager",
        "vlans",
        &[("maxnum", Value::Int(9))],
    );
    let vlans = db.read(|v| v.entity("vlans")).unwrap().id;
    let s = create(&db, "basicserver", "s1", &[]);
    let before = db.latest_version().unwrap();
    let direct = db.write(TxMeta::default(), |tx| tx.add_ip(s, None, Some(vlans)));
    assert!(
        matches!(&direct, Err(Error::TypeMismatch(m)) if m.contains("'vlans'") && m.contains("not an IP manager")),
        "{direct:?}"
    );
    let removed = db.write(TxMeta::default(), |tx| tx.remove_ip(s, None, Some(vlans)));
    assert!(
        matches!(removed, Err(Error::TypeMismatch(_))),
        "{removed:?}"
    );
    let context = clusto_core::protocol::Context::default();
    let answer = clusto_core::protocol::run(
        &db,
        r#"{"op": "ip_allocate", "device": "s1", "manager": "vlans"}"#,
        &context,
    );
    assert!(matches!(answer, Err(Error::TypeMismatch(_))), "{answer:?}");
    assert_eq!(db.latest_version().unwrap(), before, "nothing changed");
}

/// A transaction remembers an IP manager between allocations: every other change to
/// the manager inside the same transaction must still count.
#[test]
fn allocations_inside_one_transaction_see_every_change_to_the_manager() {
    let db = db();
    let net = ipman(&db, "net", "10.0.0.0", "255.255.255.0", None);
    let s = create(&db, "basicserver", "s", &[]);
    let ip_of = |tx: &mut clusto_core::Transaction| -> clusto_core::Result<String> {
        let a = tx.allocate(net, s, None, NumberSpec::Next, false)?;
        let ip = clusto_core::resources::ip_address(&a.value)?;
        Ok(ip.to_string())
    };
    let ips = db
        .write(TxMeta::default(), |tx| {
            let mut ips = vec![ip_of(tx)?, ip_of(tx)?];
            // The last address handed out, set by hand.
            tx.set_attr(
                net,
                clusto_core::NewAttr::new("_lastip", Value::from("10.0.0.50")),
            )?;
            ips.push(ip_of(tx)?);
            // A new range.
            tx.set_property(net, "baseip", Value::from("10.9.0.0"))?;
            ips.push(ip_of(tx)?);
            tx.set_attr(
                net,
                clusto_core::NewAttr::new("_lastip", Value::from("10.9.0.50")),
            )?;
            ips.push(ip_of(tx)?);
            // The manager's last address (made by this transaction) removed: the range
            // starts again.
            tx.delete_attrs(net, &AttrFilter::key("_lastip"))?;
            ips.push(ip_of(tx)?);
            Ok(ips)
        })
        .unwrap();
    assert_eq!(
        ips,
        [
            "10.0.0.1",
            "10.0.0.2",
            "10.0.0.51",
            "10.9.0.1",
            "10.9.0.51",
            "10.9.0.2"
        ]
    );
    let last = db
        .read(|v| v.attrs(net, &AttrFilter::key("_lastip")))
        .unwrap();
    assert_eq!(last.len(), 1, "{last:?}");
}
