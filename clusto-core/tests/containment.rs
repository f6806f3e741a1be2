//! Containment: insert rules per container kind, contents, parents, pools, siblings,
//! merged attributes and the adjacency map.

mod common;

use clusto_core::{
    AttrFilter, Clusto, Entity, EntityId, Error, NewAttr, Related, Transaction, TxMeta,
};

fn setup(build: impl FnOnce(&mut Transaction) -> clusto_core::Result<()>) -> Clusto {
    let db = common::temporary().unwrap();
    db.write(TxMeta::default(), build).unwrap();
    db
}

fn id(db: &Clusto, name: &str) -> EntityId {
    db.read(|v| v.entity(name)).unwrap().id
}

fn names(list: Vec<Entity>) -> Vec<String> {
    list.into_iter().map(|e| e.name).collect()
}

fn insert(db: &Clusto, container: &str, thing: &str) -> clusto_core::Result<()> {
    let (c, t) = (id(db, container), id(db, thing));
    db.write(TxMeta::default(), |tx| tx.insert(c, t)).map(drop)
}

#[test]
fn pools_take_members_once_and_number_them() {
    let db = setup(|tx| {
        for n in ["web", "db"] {
            tx.create("pool", n, &[])?;
        }
        for s in ["s1", "s2", "s3"] {
            tx.create("basicserver", s, &[])?;
        }
        Ok(())
    });
    for s in ["s1", "s2", "s3"] {
        insert(&db, "web", s).unwrap();
    }
    insert(&db, "db", "s1").unwrap();
    let again = insert(&db, "web", "s1").unwrap_err();
    assert!(
        matches!(&again, Error::PoolRule(m) if m.contains("already in pool 'web'")),
        "{again}"
    );
    let web = id(&db, "web");
    let slots = db
        .read(|v| v.content_attrs(web, &AttrFilter::any()))
        .unwrap();
    assert_eq!(
        slots.iter().map(|a| a.number.unwrap()).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert_eq!(
        names(
            db.read(|v| v.contents(web, &AttrFilter::any(), &Related::direct()))
                .unwrap()
        ),
        ["s1", "s2", "s3"]
    );
    let s1 = id(&db, "s1");
    assert_eq!(
        names(db.read(|v| v.parents(s1, &Related::direct())).unwrap()),
        ["web", "db"]
    );
    assert!(db.read(|v| v.contains(web, s1)).unwrap());
    assert_eq!(
        names(db.read(|v| v.siblings(s1)).unwrap()),
        Vec::<String>::new(),
        "no one else is in both"
    );
    let s2 = id(&db, "s2");
    assert_eq!(names(db.read(|v| v.siblings(s2)).unwrap()), ["s1", "s3"]);
    let removed = db
        .write(TxMeta::default(), |tx| tx.remove(web, s2))
        .unwrap();
    assert_eq!(removed, 1);
    insert(&db, "web", "s2").unwrap();
    let slots = db
        .read(|v| v.content_attrs(web, &AttrFilter::any()))
        .unwrap();
    assert_eq!(
        slots.last().unwrap().number,
        Some(3),
        "numbers are never reused"
    );
}

#[test]
fn exclusive_and_unique_pools() {
    let db = setup(|tx| {
        tx.create("pool", "web", &[])?;
        tx.create("exclusive_pool", "spares", &[])?;
        tx.create("unique_pool", "env-prod", &[])?;
        tx.create("unique_pool", "env-dev", &[])?;
        for s in ["s1", "s2"] {
            tx.create("basicserver", s, &[])?;
        }
        Ok(())
    });
    insert(&db, "spares", "s1").unwrap();
    assert!(
        matches!(insert(&db, "web", "s1"), Err(Error::PoolRule(m)) if m.contains("exclusive pool 'spares'"))
    );
    insert(&db, "web", "s2").unwrap();
    assert!(matches!(
        insert(&db, "spares", "s2"),
        Err(Error::PoolRule(_))
    ));
    insert(&db, "env-prod", "s2").unwrap();
    let twice = insert(&db, "env-dev", "s2").unwrap_err();
    assert!(
        matches!(&twice, Error::PoolRule(m) if m.contains("unique_pool 'env-prod'")),
        "{twice}"
    );
}

#[test]
fn locations_allow_one_parent_of_each_driver() {
    let db = setup(|tx| {
        tx.create("basicdatacenter", "sjc1", &[])?;
        tx.create("basicdatacenter", "iad1", &[])?;
        tx.create("basiczone", "z1", &[])?;
        tx.create("basicrack", "r1", &[])?;
        tx.create("entity", "box", &[])?;
        tx.create("entity", "other-box", &[])?;
        tx.create("entity", "thing", &[])?;
        Ok(())
    });
    insert(&db, "sjc1", "r1").unwrap();
    assert!(
        matches!(insert(&db, "iad1", "r1"), Err(Error::TypeMismatch(m)) if m.contains("basicdatacenter 'sjc1'"))
    );
    insert(&db, "z1", "r1").unwrap();
    insert(&db, "box", "thing").unwrap();
    assert!(
        matches!(insert(&db, "other-box", "thing"), Err(Error::TypeMismatch(m)) if m.contains("already in 'box'"))
    );
    assert!(
        matches!(insert(&db, "r1", "thing"), Err(Error::TypeMismatch(m)) if m.contains("rack unit"))
    );
}

#[test]
fn cycles_are_refused() {
    let db = setup(|tx| {
        for p in ["a", "b", "c"] {
            tx.create("pool", p, &[])?;
        }
        Ok(())
    });
    insert(&db, "a", "b").unwrap();
    insert(&db, "b", "c").unwrap();
    for (container, thing) in [("c", "a"), ("a", "a"), ("c", "b")] {
        let err = insert(&db, container, thing).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidValue(m) if m.contains("contain itself")),
            "{container} <- {thing}: {err}"
        );
    }
}

#[test]
fn recursive_contents_parents_pools_and_intersections() {
    let db = setup(|tx| {
        for p in ["services", "frontend", "web", "api", "prod"] {
            tx.create("pool", p, &[])?;
        }
        for s in ["w1", "w2", "a1"] {
            tx.create("basicserver", s, &[])?;
        }
        tx.create("basicnetworkswitch", "sw1", &[])?;
        Ok(())
    });
    for (c, t) in [
        ("services", "frontend"),
        ("frontend", "web"),
        ("frontend", "api"),
        ("web", "w1"),
        ("web", "w2"),
        ("api", "a1"),
        ("prod", "w1"),
        ("prod", "a1"),
        ("prod", "sw1"),
    ] {
        insert(&db, c, t).unwrap();
    }
    let services = id(&db, "services");
    let all = db
        .read(|v| v.contents(services, &AttrFilter::any(), &Related::all_levels()))
        .unwrap();
    assert_eq!(names(all), ["frontend", "web", "w1", "w2", "api", "a1"]);
    let servers = Related {
        types: vec!["server".into()],
        recursive: true,
        ..Default::default()
    };
    assert_eq!(
        names(
            db.read(|v| v.contents(services, &AttrFilter::any(), &servers))
                .unwrap()
        ),
        ["w1", "w2", "a1"]
    );
    let w1 = id(&db, "w1");
    assert_eq!(
        names(db.read(|v| v.parents(w1, &Related::all_levels())).unwrap()),
        ["web", "frontend", "services", "prod"]
    );
    assert_eq!(
        names(db.read(|v| v.pools_of(w1, true)).unwrap()),
        ["web", "prod", "frontend", "services"]
    );
    let (frontend, prod) = (id(&db, "frontend"), id(&db, "prod"));
    let both = db
        .read(|v| v.from_pools(&[frontend, prod], &Related::all_levels()))
        .unwrap();
    assert_eq!(names(both), ["w1", "a1"]);
    let direct = db
        .read(|v| v.from_pools(&[frontend, prod], &Related::direct()))
        .unwrap();
    assert!(direct.is_empty(), "w1 is not directly in frontend");
    let not_pool = db
        .read(|v| v.from_pools(&[w1], &Related::direct()))
        .unwrap_err();
    assert!(matches!(not_pool, Error::TypeMismatch(m) if m.contains("not a pool")));
    let edges = db.read(|v| v.adjacency()).unwrap();
    assert_eq!(edges.len(), 9);
    assert!(
        edges
            .iter()
            .any(|e| e.parent.name == "prod" && e.child.name == "sw1")
    );
}

#[test]
fn merged_attributes_come_from_every_ancestor() {
    let db = setup(|tx| {
        let dc = tx.create("basicdatacenter", "sjc1", &[])?;
        let pool = tx.create("pool", "web", &[])?;
        let s = tx.create("basicserver", "s1", &[])?;
        tx.add_attr(dc.id, NewAttr::new("ntp", "10.0.0.1"))?;
        tx.add_attr(pool.id, NewAttr::new("ntp", "10.9.9.9"))?;
        tx.add_attr(s.id, NewAttr::new("owner", "web"))?;
        tx.insert(pool.id, s.id)?;
        tx.insert(dc.id, pool.id)?;
        Ok(())
    });
    let s1 = id(&db, "s1");
    let merged = db.read(|v| v.attrs_merged(s1, &AttrFilter::any())).unwrap();
    let values: Vec<_> = merged
        .iter()
        .map(|a| (a.key.as_str(), a.value.to_string()))
        .collect();
    assert_eq!(
        values,
        [
            ("owner", "web".into()),
            ("ntp", "10.9.9.9".into()),
            ("ntp", "10.0.0.1".into())
        ]
    );
}

#[test]
fn deleting_a_container_releases_its_members() {
    let db = setup(|tx| {
        let p = tx.create("pool", "p", &[])?;
        let s = tx.create("basicserver", "s", &[])?;
        tx.insert(p.id, s.id).map(drop)
    });
    db.write(TxMeta::default(), |tx| tx.delete_entity("p"))
        .unwrap();
    let s = id(&db, "s");
    assert!(
        db.read(|v| v.parents(s, &Related::direct()))
            .unwrap()
            .is_empty()
    );
    assert!(db.check().unwrap().is_clean());
}

/// Parents read inside a transaction follow its own inserts and removals, and a removal
/// made earlier in it is seen as of the version before (references hold their records).
#[test]
fn parents_inside_a_transaction_follow_its_writes() {
    let db = setup(|tx| {
        tx.create("pool", "web", &[])?;
        tx.create("basicserver", "s1", &[])?;
        Ok(())
    });
    insert(&db, "web", "s1").unwrap();
    let (web, s1) = (id(&db, "web"), id(&db, "s1"));
    db.write(TxMeta::default(), |tx| {
        let parents = |tx: &Transaction| names(tx.view().parents(s1, &Related::direct()).unwrap());
        assert_eq!(parents(tx), ["web"]);
        tx.remove(web, s1)?;
        assert!(parents(tx).is_empty());
        tx.create("pool", "db", &[])?;
        let db_pool = tx.view().entity("db")?.id;
        tx.insert(db_pool, s1)?;
        assert_eq!(parents(tx), ["db"]);
        tx.remove(db_pool, s1)?;
        assert!(parents(tx).is_empty());
        tx.insert(web, s1)?;
        assert_eq!(parents(tx), ["web"]);
        Ok(())
    })
    .unwrap();
    let before = db.latest_version().unwrap() - 1;
    let at_before = db
        .read_at(before, |v| v.parents(s1, &Related::direct()))
        .unwrap();
    assert_eq!(names(at_before), ["web"]);
    assert_eq!(
        names(db.read(|v| v.parents(s1, &Related::direct())).unwrap()),
        ["web"]
    );
    assert!(db.check().unwrap().is_clean());
}
