//! Entities: create, look up, list, rename, change driver, delete.

mod common;

use clusto_core::{AttrFilter, Clusto, EntityId, EntityQuery, Error, NewAttr, TxMeta, Value};

fn meta() -> TxMeta {
    TxMeta::new("tester", "test")
}

fn db_with(names: &[(&str, &str, &str)]) -> Clusto {
    let db = common::temporary().unwrap();
    db.write(meta(), |tx| {
        for (n, t, d) in names {
            tx.create_entity(n, t, d)?;
        }
        Ok(())
    })
    .unwrap();
    db
}

#[test]
fn create_and_get_by_name() {
    let db = db_with(&[("s1", "server", "basicserver")]);
    let e = db.read(|v| v.entity("s1")).unwrap();
    assert_eq!(
        (e.name.as_str(), e.type_name.as_str(), e.driver.as_str()),
        ("s1", "server", "basicserver")
    );
    assert_eq!(e.version, 1);
    let missing = db.read(|v| v.entity("nope")).unwrap_err();
    assert!(
        matches!(&missing, Error::NotFound(m) if m.contains("'nope'")),
        "{missing}"
    );
}

#[test]
fn duplicate_live_name_is_refused_and_changes_nothing() {
    let db = db_with(&[("s1", "server", "basicserver")]);
    let err = db
        .write(meta(), |tx| {
            tx.create_entity("other", "server", "basicserver")?;
            tx.create_entity("s1", "pool", "pool")
        })
        .unwrap_err();
    assert!(
        matches!(&err, Error::AlreadyExists(m) if m.contains("'s1'")),
        "{err}"
    );
    assert!(db.read(|v| v.find("other")).unwrap().is_none());
    assert_eq!(db.latest_version().unwrap(), 1);
}

#[test]
fn invalid_names_are_refused() {
    let db = common::temporary().unwrap();
    let mut tx = db.begin(meta()).unwrap();
    for bad in ["", "a\u{7}b", &"x".repeat(129)] {
        assert!(
            matches!(tx.create_entity(bad, "t", "d"), Err(Error::InvalidName(_))),
            "{bad:?}"
        );
    }
    assert!(matches!(
        tx.create_entity("ok", "", "d"),
        Err(Error::InvalidName(_))
    ));
    assert!(matches!(
        tx.create_entity("ok", "t", "has space"),
        Err(Error::InvalidName(_))
    ));
    assert_eq!(tx.commit().unwrap(), None, "nothing was created");
}

#[test]
fn get_many_by_names_keeps_order_and_repeats() {
    let db = db_with(&[("a", "t", "d"), ("b", "t", "d")]);
    let got = db
        .read(|v| v.entities_by_names(&["b", "zz", "a", "b"]))
        .unwrap();
    let names: Vec<_> = got
        .iter()
        .map(|e| e.as_ref().map(|e| e.name.clone()))
        .collect();
    assert_eq!(
        names,
        [Some("b".into()), None, Some("a".into()), Some("b".into())]
    );
}

#[test]
fn list_and_filter_entities() {
    let db = db_with(&[
        ("s1", "server", "basicserver"),
        ("s2", "server", "acmeserver"),
        ("p1", "pool", "pool"),
    ]);
    let names = |q: EntityQuery| -> Vec<String> {
        db.read(|v| v.entities(&q))
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect()
    };
    assert_eq!(names(EntityQuery::default()), ["s1", "s2", "p1"]);
    assert_eq!(
        names(EntityQuery {
            types: vec!["server".into()],
            ..Default::default()
        }),
        ["s1", "s2"]
    );
    assert_eq!(
        names(EntityQuery {
            types: vec!["server".into()],
            drivers: vec!["acmeserver".into(), "pool".into()],
            ..Default::default()
        }),
        ["s2"]
    );
    assert_eq!(
        names(EntityQuery {
            names: vec!["p1".into(), "x".into()],
            ..Default::default()
        }),
        ["p1"]
    );
    db.write(meta(), |tx| {
        let s1 = tx.view().entity("s1")?.id;
        let p1 = tx.view().entity("p1")?.id;
        tx.add_attr(s1, NewAttr::new("owner", "alice"))?;
        tx.add_attr(p1, NewAttr::new("_hidden", "alice"))?;
        Ok(())
    })
    .unwrap();
    let by_attrs = EntityQuery {
        attrs: vec![
            AttrFilter::key("owner").value("alice"),
            AttrFilter::key("_hidden").value("alice"),
        ],
        ..Default::default()
    };
    assert_eq!(
        names(by_attrs.clone()),
        ["s1", "p1"],
        "attribute filters are ORed"
    );
    assert_eq!(
        names(EntityQuery {
            types: vec!["pool".into()],
            ..by_attrs
        }),
        ["p1"],
        "and ANDed with types"
    );
}

#[test]
fn delete_removes_attrs_counters_and_references() {
    let db = db_with(&[("pool1", "pool", "pool"), ("s1", "server", "basicserver")]);
    db.write(meta(), |tx| {
        let pool = tx.view().entity("pool1")?.id;
        let s1 = tx.view().entity("s1")?.id;
        tx.add_attr(pool, NewAttr::new("_contains", s1).next_number())?;
        tx.add_attr(s1, NewAttr::new("owner", "bob"))?;
        tx.counter_next(s1, "x", 0)?;
        Ok(())
    })
    .unwrap();
    let s1 = db.read(|v| v.entity("s1")).unwrap().id;
    db.write(meta(), |tx| tx.delete_entity("s1")).unwrap();
    db.read(|v| {
        assert!(v.find("s1")?.is_none());
        let pool = v.entity("pool1")?.id;
        assert!(
            v.attrs(pool, &AttrFilter::any().with_hidden())?.is_empty(),
            "membership is gone"
        );
        assert!(v.attrs(s1, &AttrFilter::any().with_hidden())?.is_empty());
        assert!(v.counters(s1)?.is_empty());
        assert!(v.owners(&AttrFilter::key("owner"))?.is_empty());
        Ok(())
    })
    .unwrap();
    let version_before_delete = db.latest_version().unwrap() - 1;
    db.read_at(version_before_delete, |v| {
        let old = v.entity("s1")?;
        let pool = v.entity("pool1")?.id;
        assert_eq!(v.attrs(pool, &AttrFilter::key("_contains"))?.len(), 1);
        assert_eq!(
            v.referencers(old.id, &AttrFilter::any().with_hidden())?[0].name,
            "pool1"
        );
        Ok(())
    })
    .unwrap();
    assert!(db.check().unwrap().is_clean());
    db.write(meta(), |tx| tx.create_entity("s1", "server", "basicserver"))
        .unwrap();
}

#[test]
fn rename_moves_attributes_counters_and_references() {
    let db = db_with(&[
        ("rack", "rack", "basicrack"),
        ("web01", "server", "basicserver"),
    ]);
    db.write(meta(), |tx| {
        let rack = tx.view().entity("rack")?.id;
        let web = tx.view().entity("web01")?.id;
        tx.add_attr(rack, NewAttr::new("_contains", web).subkey("ru").number(3))?;
        tx.add_attr(web, NewAttr::new("fqdn", "web01.example").next_number())?;
        tx.add_attr(web, NewAttr::new("self", web))?;
        Ok(())
    })
    .unwrap();
    let old_id = db.read(|v| v.entity("web01")).unwrap().id;
    let renamed = db.write(meta(), |tx| tx.rename("web01", "www01")).unwrap();
    assert_ne!(
        renamed.id, old_id,
        "a rename makes a new row, as the original did"
    );
    let v = db.latest_version().unwrap();
    db.read(|view| {
        assert!(view.find("web01")?.is_none());
        let rack = view.entity("rack")?.id;
        let slot = view.attrs(rack, &AttrFilter::key("_contains"))?;
        assert_eq!(slot[0].value, renamed.id.into());
        assert_eq!(
            (slot[0].subkey.as_deref(), slot[0].number),
            (Some("ru"), Some(3))
        );
        let attrs = view.attrs(renamed.id, &AttrFilter::any())?;
        assert_eq!(attrs.len(), 2);
        assert_eq!(attrs[0].number, Some(0));
        assert_eq!(
            attrs[1].value,
            renamed.id.into(),
            "self references follow the rename"
        );
        assert_eq!(view.counter(renamed.id, "fqdn")?, Some(0));
        Ok(())
    })
    .unwrap();
    db.read_at(v - 1, |view| {
        assert!(view.find("www01")?.is_none());
        assert_eq!(view.entity("web01")?.id, old_id);
        Ok(())
    })
    .unwrap();
    db.read_at(v, |view| {
        assert!(view.find("web01")?.is_none());
        assert_eq!(view.entity("www01")?.id, renamed.id);
        Ok(())
    })
    .unwrap();
    let taken = db
        .write(meta(), |tx| tx.rename("www01", "rack"))
        .unwrap_err();
    assert!(matches!(taken, Error::AlreadyExists(_)));
    assert!(db.check().unwrap().is_clean());
}

#[test]
fn change_driver_rewrites_in_place() {
    let db = db_with(&[("u1", "server", "basicserver")]);
    let before = db.read(|v| v.entity("u1")).unwrap();
    let after = db
        .write(meta(), |tx| {
            tx.change_driver("u1", "appliance", "basicappliance")
        })
        .unwrap();
    assert_eq!((after.id, after.version), (before.id, before.version));
    let found = db
        .read(|v| {
            v.entities(&EntityQuery {
                drivers: vec!["basicappliance".into()],
                ..Default::default()
            })
        })
        .unwrap();
    assert_eq!(found[0].name, "u1");
    let none = db
        .read(|v| {
            v.entities(&EntityQuery {
                types: vec!["server".into()],
                ..Default::default()
            })
        })
        .unwrap();
    assert!(none.is_empty());
    assert!(db.check().unwrap().is_clean());
}

/// `all_attrs` ANDs groups of filters and `in_pools` keeps members of pools (at any
/// depth): the CLI's `query` terms and `--pool`, decided here.
#[test]
fn queries_and_attribute_groups_and_pools() {
    let db = common::temporary().unwrap();
    db.write(TxMeta::default(), |tx| {
        let outer = tx.create("pool", "outer", &[])?;
        let inner = tx.create("pool", "inner", &[])?;
        tx.insert(outer.id, inner.id)?;
        for (name, owner, role) in [("a", "x", "web"), ("b", "x", "db"), ("c", "y", "web")] {
            let e = tx.create("basicserver", name, &[])?;
            tx.add_attr(e.id, NewAttr::new("owner", owner))?;
            tx.add_attr(e.id, NewAttr::new("role", role))?;
            if name != "c" {
                tx.insert(inner.id, e.id)?;
            }
        }
        Ok(())
    })
    .unwrap();
    let names = |q: EntityQuery| -> Vec<String> {
        db.read(|v| v.entities(&q))
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect()
    };
    let both = vec![
        vec![AttrFilter::key("owner").value("x")],
        vec![AttrFilter::key("role").value("web")],
    ];
    assert_eq!(
        names(EntityQuery {
            all_attrs: both.clone(),
            ..Default::default()
        }),
        ["a"]
    );
    assert_eq!(
        names(EntityQuery {
            attrs: vec![AttrFilter::key("owner").value("x")],
            all_attrs: vec![vec![AttrFilter::key("role").value("web")]],
            ..Default::default()
        }),
        ["a"],
        "the groups are checked on the candidates the ORed filters chose"
    );
    assert_eq!(
        names(EntityQuery {
            attrs: vec![
                AttrFilter::key("owner").value("y"),
                AttrFilter::key("role").value("db"),
            ],
            types: vec!["server".into()],
            ..Default::default()
        }),
        ["b", "c"]
    );
    let outer = db.read(|v| v.entity("outer")).unwrap().id;
    assert_eq!(
        names(EntityQuery {
            all_attrs: vec![vec![AttrFilter::key("role").value("web")]],
            in_pools: vec![outer],
            ..Default::default()
        }),
        ["a"],
        "c has the role but is in no pool"
    );
    assert_eq!(
        names(EntityQuery {
            in_pools: vec![outer],
            types: vec!["server".into()],
            ..Default::default()
        }),
        ["a", "b"]
    );
}

/// An id asked for twice gets its row twice, on every engine (PostgreSQL's batch read
/// answered the second with "does not exist").
#[test]
fn entities_by_ids_answers_repeated_ids() {
    let db = common::temporary().unwrap();
    let (a, b) = db
        .write(TxMeta::default(), |tx| {
            let a = tx.create_entity("a", "server", "basicserver")?.id;
            let b = tx.create_entity("b", "server", "basicserver")?.id;
            Ok((a, b))
        })
        .unwrap();
    let names: Vec<String> = db
        .read(|v| v.entities_by_ids(&[a, b, a, a]))
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["a", "b", "a", "a"]);
}

#[test]
fn an_entity_deleted_or_undone_earlier_in_a_transaction_is_not_live_for_later_calls() {
    let db = db_with(&[("pool1", "pool", "pool"), ("s1", "server", "basicserver")]);
    db.write(meta(), |tx| {
        let s = tx.view().entity("s1")?;
        let pool = tx.view().entity("pool1")?;
        // Read live by these calls first, then deleted: the later calls must not
        // take the entity for live.
        tx.add_attr(s.id, NewAttr::new("owner", "ops"))?;
        tx.insert(pool.id, s.id)?;
        tx.delete_entity("s1")?;
        let on_deleted = tx.add_attr(s.id, NewAttr::new("owner", "dev")).unwrap_err();
        assert!(
            matches!(&on_deleted, Error::NotFound(m) if m.contains("'s1'") && m.contains("deleted")),
            "{on_deleted}"
        );
        let relation = tx
            .add_attr(pool.id, NewAttr::new("backup", s.id))
            .unwrap_err();
        assert!(
            matches!(&relation, Error::InvalidValue(m) if m.contains("'s1'")),
            "{relation}"
        );
        Ok(())
    })
    .unwrap();
    // A failed call forgets what it read: the entity it made (and read live, to give it
    // its netmask) is gone with it.
    db.write(meta(), |tx| {
        let probe = tx.create_entity("probe", "server", "basicserver")?;
        let would_be = EntityId(probe.id.0 + 1);
        let failed = tx
            .create("ipmanager", "s2", &[("baseip", Value::Json("{".into()))])
            .unwrap_err();
        assert!(matches!(failed, Error::InvalidValue(_)), "{failed}");
        let gone = tx
            .add_attr(would_be, NewAttr::new("owner", "dev"))
            .unwrap_err();
        assert!(matches!(gone, Error::NotFound(_)), "{gone}");
        Ok(())
    })
    .unwrap();
    assert!(db.read(|v| v.find("s2")).unwrap().is_none());
}
