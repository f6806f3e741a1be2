//! Versions, transactions, as-of reads and the audit trail.

mod common;

use std::sync::{Arc, Barrier};

use clusto_core::{AttrFilter, Change, Error, NewAttr, Timestamp, TxMeta, VersionQuery};

#[test]
fn each_commit_that_changes_something_is_one_version() {
    let db = common::temporary().unwrap();
    assert_eq!(db.latest_version().unwrap(), 0);
    let mut tx = db.begin(TxMeta::new("alice", "racking")).unwrap();
    assert_eq!(tx.version().unwrap(), 1);
    let s = tx.create_entity("s1", "server", "basicserver").unwrap();
    tx.add_attr(s.id, NewAttr::new("owner", "alice")).unwrap();
    assert_eq!(
        tx.view().entity("s1").unwrap().id,
        s.id,
        "reads see the transaction's writes"
    );
    assert!(
        db.read(|v| v.find("s1")).unwrap().is_none(),
        "others do not, before commit"
    );
    assert_eq!(tx.commit().unwrap(), Some(1));
    let empty = db.begin(TxMeta::default()).unwrap();
    assert_eq!(
        empty.commit().unwrap(),
        None,
        "an empty commit uses no version"
    );
    let info = db.read(|v| v.version_info(1)).unwrap();
    assert_eq!(
        (info.user.as_deref(), info.description.as_deref()),
        (Some("alice"), Some("racking"))
    );
    assert!(info.timestamp.is_some());
}

#[test]
fn dropped_or_failed_transactions_leave_no_trace() {
    let db = common::temporary().unwrap();
    {
        let mut tx = db.begin(TxMeta::default()).unwrap();
        tx.create_entity("ghost", "t", "d").unwrap();
    }
    let failed: Result<(), Error> = db.write(TxMeta::default(), |tx| {
        tx.create_entity("ghost2", "t", "d")?;
        Err(Error::InvalidValue("caller gave up".into()))
    });
    assert!(failed.is_err());
    assert!(db.read(|v| v.all_entities()).unwrap().is_empty());
    assert_eq!(db.latest_version().unwrap(), 0);
    let e = db
        .write(TxMeta::default(), |tx| tx.create_entity("real", "t", "d"))
        .unwrap();
    assert_eq!(e.id.0, 1, "ids of rolled-back rows are not used up");
}

#[test]
fn a_failed_operation_inside_a_transaction_keeps_the_earlier_work() {
    let db = common::temporary().unwrap();
    let mut tx = db.begin(TxMeta::default()).unwrap();
    let a = tx.create_entity("a", "t", "d").unwrap();
    assert!(tx.add_attr(a.id, NewAttr::new("bad key", 1)).is_err());
    assert!(tx.create_entity("a", "t", "d").is_err());
    tx.add_attr(a.id, NewAttr::new("good", 1)).unwrap();
    assert_eq!(tx.commit().unwrap(), Some(1));
    db.read(|v| {
        assert_eq!(v.attrs(a.id, &AttrFilter::any())?.len(), 1);
        Ok(())
    })
    .unwrap();
    assert!(db.check().unwrap().is_clean());
}

#[test]
fn one_writer_at_a_time() {
    let db = common::temporary().unwrap();
    let tx = db.begin(TxMeta::default()).unwrap();
    let again = db.begin(TxMeta::default()).err().unwrap();
    assert!(
        matches!(&again, Error::Conflict(m) if m.contains("already has an open")),
        "{again}"
    );
    let barrier = Arc::new(Barrier::new(2));
    let other = {
        let (db, barrier) = (db.clone(), barrier.clone());
        std::thread::spawn(move || {
            barrier.wait();
            db.write(TxMeta::default(), |tx| {
                tx.create_entity("from-thread", "t", "d")
            })
            .unwrap();
        })
    };
    barrier.wait();
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert!(
        db.read(|v| v.find("from-thread")).unwrap().is_none(),
        "it waits for our transaction"
    );
    drop(tx);
    other.join().unwrap();
    assert!(db.read(|v| v.find("from-thread")).unwrap().is_some());
}

#[test]
fn as_of_reads_follow_deletes_and_recreations() {
    let db = common::temporary().unwrap();
    let w = |f: &dyn Fn(&mut clusto_core::Transaction) -> clusto_core::Result<()>| {
        db.write(TxMeta::default(), |tx| f(tx)).unwrap();
        db.latest_version().unwrap()
    };
    let v1 = w(&|tx| {
        let e = tx.create_entity("cache01", "server", "basicserver")?;
        tx.add_attr(e.id, NewAttr::new("gen", 1))?;
        Ok(())
    });
    let v2 = w(&|tx| tx.delete_entity("cache01"));
    let v3 = w(&|tx| {
        let e = tx.create_entity("cache01", "server", "basicserver")?;
        tx.add_attr(e.id, NewAttr::new("gen", 2))?;
        Ok(())
    });
    let gen_at = |v| {
        db.read_at(v, |view| {
            let Some(e) = view.find("cache01")? else {
                return Ok(None);
            };
            Ok(view.attrs(e.id, &AttrFilter::key("gen"))?[0].value.as_int())
        })
        .unwrap()
    };
    assert_eq!(gen_at(v1), Some(1));
    assert_eq!(
        gen_at(v2),
        None,
        "at the version that deleted it, it is gone"
    );
    assert_eq!(gen_at(v3), Some(2));
    assert_eq!(gen_at(0), None);
    let names_at = |v| db.read_at(v, |view| view.all_entities()).unwrap().len();
    assert_eq!((names_at(v1), names_at(v2), names_at(v3)), (1, 0, 1));
    assert_eq!(
        db.read(|v| v.entity_versions("cache01")).unwrap(),
        [v1, v2, v3]
    );
    assert!(matches!(
        db.read(|v| v.entity_versions("never")),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn history_queries() {
    let db = common::temporary().unwrap();
    let start = Timestamp::now();
    for (user, name) in [("alice", "a"), ("bob", "b"), ("alice", "c")] {
        db.write(TxMeta::new(user, format!("create {name}")), |tx| {
            let e = tx.create_entity(name, "t", "d")?;
            tx.add_attr(e.id, NewAttr::new("k", 1))
        })
        .unwrap();
    }
    db.write(TxMeta::new("bob", "drop a"), |tx| tx.delete_entity("a"))
        .unwrap();
    let versions = |q: VersionQuery| -> Vec<u64> {
        db.read(|v| v.versions(&q))
            .unwrap()
            .into_iter()
            .map(|i| i.version)
            .collect()
    };
    assert_eq!(versions(VersionQuery::default()), [1, 2, 3, 4]);
    assert_eq!(
        versions(VersionQuery {
            user: Some("alice".into()),
            ..Default::default()
        }),
        [1, 3]
    );
    assert_eq!(
        versions(VersionQuery {
            from: Some(2),
            to: Some(3),
            ..Default::default()
        }),
        [2, 3]
    );
    assert_eq!(
        versions(VersionQuery {
            user: Some("bob".into()),
            from: Some(3),
            ..Default::default()
        }),
        [4]
    );
    assert_eq!(
        versions(VersionQuery {
            since: Some(start),
            ..Default::default()
        }),
        [1, 2, 3, 4]
    );
    assert!(
        versions(VersionQuery {
            until: Some(Timestamp(start.0 - 1)),
            ..Default::default()
        })
        .is_empty()
    );
    assert_eq!(
        versions(VersionQuery {
            entity: Some("a".into()),
            ..Default::default()
        }),
        [1, 4],
        "the versions of one entity: its creation and its deletion"
    );
    assert_eq!(
        versions(VersionQuery {
            entity: Some("a".into()),
            user: Some("alice".into()),
            ..Default::default()
        }),
        [1]
    );
    let details = db.read(|v| v.change_details(4)).unwrap();
    assert!(matches!(details[0].change, Change::AttrDeleted { .. }));
    assert_eq!(details[0].attr.as_ref().unwrap().key, "k");
    assert!(matches!(
        details.last().unwrap().change,
        Change::EntityDeleted { .. }
    ));
    assert_eq!(details.last().unwrap().entity.name, "a");
    assert!(matches!(
        db.read(|v| v.changes(99)),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn adding_and_removing_in_one_transaction_is_a_version_without_changes() {
    let db = common::temporary().unwrap();
    let e = db
        .write(TxMeta::default(), |tx| tx.create_entity("d", "t", "d"))
        .unwrap();
    let mut tx = db.begin(TxMeta::default()).unwrap();
    tx.add_attr(e.id, NewAttr::new("_h", 0)).unwrap();
    tx.delete_attrs(e.id, &AttrFilter::key("_h")).unwrap();
    assert_eq!(tx.commit().unwrap(), Some(2));
    assert!(
        db.read(|v| v.changes(2)).unwrap().is_empty(),
        "the vanished row leaves no change"
    );
    assert!(
        db.read_at(2, |v| v.attrs(e.id, &AttrFilter::any().with_hidden()))
            .unwrap()
            .is_empty()
    );
    assert!(db.check().unwrap().is_clean());
}

/// Reading as of a version that does not exist yet is refused: it would read later
/// commits as they land.
#[test]
fn a_future_version_is_refused() {
    let db = common::temporary().unwrap();
    db.write(TxMeta::default(), |tx| tx.create_entity("a", "t", "d"))
        .unwrap();
    let err = db.read_at(2, |v| v.find("a")).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidValue(m) if m.contains("version 2 does not exist yet")),
        "{err}"
    );
    assert!(db.read_at(1, |v| v.find("a")).unwrap().is_some());
}

/// The last version number is no version (its key holds the store's counters since
/// format 2), and a range up to it lists every version (it overflowed before).
#[test]
fn the_last_version_number_is_not_a_version() {
    let db = common::temporary().unwrap();
    for name in ["a", "b"] {
        db.write(TxMeta::new("ops", "make"), |tx| {
            tx.create_entity(name, "server", "basicserver").map(drop)
        })
        .unwrap();
    }
    db.read(|v| {
        for missing in [
            v.version_info(u64::MAX).map(drop),
            v.changes(u64::MAX).map(drop),
        ] {
            assert!(matches!(missing, Err(Error::NotFound(_))), "{missing:?}");
        }
        let all = v.versions(&VersionQuery {
            to: Some(u64::MAX),
            ..Default::default()
        })?;
        assert_eq!(all.iter().map(|i| i.version).collect::<Vec<_>>(), [1, 2]);
        Ok(())
    })
    .unwrap();
}

/// An entity's history is every version whose changes name it, whether the change left
/// a row behind (the entity's own, an attribute added or deleted) or not (a driver
/// changed in place, a counter set): the first are read from the rows, the others from
/// the touched index.
#[test]
fn an_entitys_history_is_every_version_whose_changes_name_it() {
    let db = common::temporary().unwrap();
    let w = |f: &dyn Fn(&mut clusto_core::Transaction) -> clusto_core::Result<()>| {
        db.write(TxMeta::default(), |tx| f(tx)).unwrap();
    };
    let id = |name: &str| db.read(|v| v.entity(name)).unwrap().id;
    w(&|tx| {
        tx.create_entity("s1", "server", "basicserver")?;
        tx.create_entity("p1", "pool", "pool").map(drop)
    });
    let (s1, p1) = (id("s1"), id("p1"));
    w(&|tx| tx.add_attr(s1, NewAttr::new("owner", "a")).map(drop));
    w(&|tx| tx.set_attr(s1, NewAttr::new("owner", "b")).map(drop));
    w(&|tx| tx.counter_set(s1, "next", 5));
    w(&|tx| tx.change_driver("s1", "server", "appserver").map(drop));
    w(&|tx| tx.insert(p1, s1).map(drop));
    w(&|tx| {
        tx.counter_set(s1, "next", 6)?;
        tx.add_attr(s1, NewAttr::new("rack", "r1")).map(drop)
    });
    // An attribute added and deleted in one transaction leaves neither row nor change.
    w(&|tx| {
        tx.add_attr(s1, NewAttr::new("scratch", 1))?;
        tx.delete_attrs(s1, &AttrFilter::key("scratch"))?;
        tx.counter_set(p1, "next", 1)
    });
    w(&|tx| tx.delete_attrs(s1, &AttrFilter::key("owner")).map(drop));
    w(&|tx| tx.remove(p1, s1).map(drop));
    w(&|tx| tx.delete_entity("s1"));
    w(&|tx| {
        let again = tx.create_entity("s1", "server", "basicserver")?;
        tx.counter_set(again.id, "next", 1)
    });
    let s1_again = id("s1");
    w(&|tx| tx.counter_set(s1_again, "next", 2));

    let latest = db.latest_version().unwrap();
    let named = |entity| {
        (1..=latest)
            .filter(|&v| {
                db.read(|view| view.changes(v))
                    .unwrap()
                    .iter()
                    .any(|c| c.entity() == entity)
            })
            .collect::<Vec<_>>()
    };
    for entity in [s1, p1, s1_again] {
        let history = db.read(|v| v.versions_touching(entity)).unwrap();
        assert_eq!(history, named(entity), "entity {entity}");
    }
    let mut both = named(s1);
    both.extend(named(s1_again));
    assert_eq!(db.read(|v| v.entity_versions("s1")).unwrap(), both);
}
