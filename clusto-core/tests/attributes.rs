//! Attributes: add, set, delete, the filters of reference §6, counters, typed values.

mod common;

use clusto_core::{
    AttrFilter, Clusto, Datatype, EntityId, Error, NewAttr, NumberMatch, Timestamp, TxMeta, Value,
};

fn setup() -> (Clusto, EntityId) {
    let db = common::temporary().unwrap();
    let id = db
        .write(TxMeta::default(), |tx| {
            Ok(tx.create_entity("s1", "server", "basicserver")?.id)
        })
        .unwrap();
    (db, id)
}

fn add(db: &Clusto, id: EntityId, attr: NewAttr) -> clusto_core::Result<clusto_core::Attribute> {
    db.write(TxMeta::default(), |tx| tx.add_attr(id, attr))
}

fn values(db: &Clusto, id: EntityId, f: AttrFilter) -> Vec<Value> {
    db.read(|v| v.attrs(id, &f))
        .unwrap()
        .into_iter()
        .map(|a| a.value)
        .collect()
}

#[test]
fn typed_values_round_trip() {
    let (db, id) = setup();
    let when = Timestamp::parse("2012-03-04 05:06:07.000008").unwrap();
    let cases = [
        Value::Int(-2147483648),
        Value::from("東京"),
        Value::Null,
        Value::Datetime(when),
        Value::Relation(id),
        Value::json(r#"{"a": [1, null, false]}"#).unwrap(),
    ];
    for (n, v) in cases.iter().enumerate() {
        add(&db, id, NewAttr::new("k", v.clone()).number(n as i64)).unwrap();
    }
    let back = db.read(|v| v.attrs(id, &AttrFilter::key("k"))).unwrap();
    assert_eq!(
        back.iter().map(|a| a.value.clone()).collect::<Vec<_>>(),
        cases
    );
    let types: Vec<_> = back.iter().map(|a| a.value.datatype()).collect();
    assert_eq!(
        types,
        [
            Datatype::Int,
            Datatype::String,
            Datatype::String,
            Datatype::Datetime,
            Datatype::Relation,
            Datatype::Json
        ]
    );
}

#[test]
fn bad_keys_and_values_are_refused_without_change() {
    let (db, id) = setup();
    let before = db.latest_version().unwrap();
    let bad_key = add(&db, id, NewAttr::new("9lives", 1)).unwrap_err();
    assert!(
        matches!(&bad_key, Error::InvalidName(m) if m.contains("9lives")),
        "{bad_key}"
    );
    assert!(matches!(
        add(&db, id, NewAttr::new("k", 1).subkey("a b")),
        Err(Error::InvalidName(_))
    ));
    assert!(matches!(
        add(&db, id, NewAttr::new("k", Value::Json("[".into()))),
        Err(Error::InvalidValue(_))
    ));
    let dangling = add(&db, id, NewAttr::new("k", EntityId(999))).unwrap_err();
    assert!(
        matches!(&dangling, Error::InvalidValue(m) if m.contains("999")),
        "{dangling}"
    );
    assert!(matches!(
        add(&db, EntityId(999), NewAttr::new("k", 1)),
        Err(Error::NotFound(_))
    ));
    assert_eq!(db.latest_version().unwrap(), before);
    assert!(
        add(&db, id, NewAttr::new("k", 1).subkey("")).is_ok(),
        "an empty subkey is allowed"
    );
}

#[test]
fn auto_numbers_count_from_zero_and_never_go_back() {
    let (db, id) = setup();
    for v in ["a", "b"] {
        add(&db, id, NewAttr::new("fqdn", v).next_number()).unwrap();
    }
    db.write(TxMeta::default(), |tx| {
        tx.delete_attrs(id, &AttrFilter::key("fqdn").number(1))
    })
    .unwrap();
    let c = add(&db, id, NewAttr::new("fqdn", "c").subkey("x").next_number()).unwrap();
    assert_eq!(
        c.number,
        Some(2),
        "the counter is per (entity, key), independent of subkey"
    );
    add(&db, id, NewAttr::new("fqdn", "d").number(10)).unwrap();
    let d = add(&db, id, NewAttr::new("fqdn", "e").next_number()).unwrap();
    assert_eq!(
        d.number,
        Some(3),
        "explicit numbers do not move the counter"
    );
}

#[test]
fn filters_follow_the_original() {
    let (db, id) = setup();
    for attr in [
        NewAttr::new("system", "P0000000001").subkey("serial"),
        NewAttr::new("system", 8).subkey("cpucount"),
        NewAttr::new("port-nic-eth", "00:11")
            .subkey("mac")
            .number(1),
        NewAttr::new("port-nic-eth", "00:22")
            .subkey("mac")
            .number(2),
        NewAttr::new("_provision", "tok").subkey("token"),
        NewAttr::new("owner", "1"),
    ] {
        add(&db, id, attr).unwrap();
    }
    let n = |f: AttrFilter| values(&db, id, f).len();
    assert_eq!(n(AttrFilter::any()), 5, "hidden keys are left out");
    assert_eq!(n(AttrFilter::any().with_hidden()), 6);
    assert_eq!(
        n(AttrFilter::key("_provision")),
        1,
        "asking for a hidden key finds it"
    );
    assert_eq!(n(AttrFilter::key("system").subkey("serial")), 1);
    assert_eq!(n(AttrFilter::key_glob("port-*")), 2);
    assert_eq!(n(AttrFilter::key_glob("port-*").number(2)), 1);
    assert_eq!(n(AttrFilter::any().number_match(NumberMatch::NotNull)), 2);
    assert_eq!(
        n(AttrFilter::key("owner")
            .no_subkey()
            .number_match(NumberMatch::Null)),
        1
    );
    assert_eq!(
        n(AttrFilter::key("owner").value(1)),
        0,
        "'1' is not the int 1"
    );
    assert_eq!(n(AttrFilter::key("owner").value("1")), 1);
    assert_eq!(n(AttrFilter::any().subkey_glob("c*")), 1);
}

#[test]
fn queries_across_entities_use_every_index() {
    let db = common::temporary().unwrap();
    let ids = db
        .write(TxMeta::default(), |tx| {
            let mut ids = Vec::new();
            for i in 0..5 {
                let e = tx.create_entity(&format!("s{i}"), "server", "basicserver")?;
                tx.add_attr(
                    e.id,
                    NewAttr::new("owner", if i % 2 == 0 { "alice" } else { "bob" }),
                )?;
                tx.add_attr(
                    e.id,
                    NewAttr::new("port-nic-eth", format!("mac{i}"))
                        .subkey("mac")
                        .number(1),
                )?;
                ids.push(e.id);
            }
            tx.add_attr(ids[0], NewAttr::new("peer", ids[1]))?;
            Ok(ids)
        })
        .unwrap();
    let names = |f: AttrFilter| -> Vec<String> {
        db.read(|v| v.owners(&f))
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect()
    };
    assert_eq!(
        names(AttrFilter::key("owner").value("alice")),
        ["s0", "s2", "s4"]
    );
    assert_eq!(
        names(AttrFilter::any().subkey("mac").value("mac3")),
        ["s3"],
        "by subkey, any key"
    );
    assert_eq!(
        names(AttrFilter::any().value(ids[1])),
        ["s0"],
        "by relation target"
    );
    assert_eq!(
        names(AttrFilter::key_glob("own*").value("bob")),
        ["s1", "s3"]
    );
    assert_eq!(
        names(AttrFilter::any().value("bob")),
        ["s1", "s3"],
        "no index: full read"
    );
    let refs = db
        .read(|v| v.referencers(ids[1], &AttrFilter::any()))
        .unwrap();
    assert_eq!(refs[0].name, "s0");
}

#[test]
fn set_attr_replaces_one_and_refuses_ambiguity() {
    let (db, id) = setup();
    let set = |a: NewAttr| db.write(TxMeta::default(), |tx| tx.set_attr(id, a));
    set(NewAttr::new("owner", "alice")).unwrap();
    let v = db.latest_version().unwrap();
    set(NewAttr::new("owner", "alice")).unwrap();
    assert_eq!(
        db.latest_version().unwrap(),
        v,
        "the same value is a no-op: no version"
    );
    set(NewAttr::new("owner", "bob")).unwrap();
    assert_eq!(
        db.latest_version().unwrap(),
        v + 1,
        "a replacement is one version"
    );
    assert_eq!(
        values(&db, id, AttrFilter::key("owner")),
        [Value::from("bob")]
    );
    db.read_at(v, |view| {
        assert_eq!(
            view.attrs(id, &AttrFilter::key("owner"))?[0].value,
            Value::from("alice")
        );
        Ok(())
    })
    .unwrap();
    add(&db, id, NewAttr::new("tag", "x")).unwrap();
    add(&db, id, NewAttr::new("tag", "y")).unwrap();
    let err = set(NewAttr::new("tag", "z")).unwrap_err();
    assert!(
        matches!(&err, Error::Ambiguous(m) if m.contains("'tag'") && m.contains("s1")
            && m.contains("subkey none and number none") && !m.contains("Some(") && !m.contains("None")),
        "{err}"
    );
    set(NewAttr::new("tag", "n").number(4)).unwrap();
    assert_eq!(
        values(&db, id, AttrFilter::key("tag")).len(),
        3,
        "a numbered slot is its own"
    );
}

#[test]
fn delete_attrs_by_filter() {
    let (db, id) = setup();
    for k in ["a", "b", "_c"] {
        add(&db, id, NewAttr::new(k, 1)).unwrap();
    }
    let n = db
        .write(TxMeta::default(), |tx| {
            tx.delete_attrs(id, &AttrFilter::any())
        })
        .unwrap();
    assert_eq!(
        n, 2,
        "hidden attributes survive a delete of everything visible"
    );
    assert_eq!(
        values(&db, id, AttrFilter::any().with_hidden()),
        [Value::Int(1)]
    );
}

#[test]
fn counters() {
    let (db, id) = setup();
    db.write(TxMeta::default(), |tx| {
        assert_eq!(tx.counter_next(id, "next", 0)?, 1);
        assert_eq!(tx.counter_next(id, "next", 0)?, 2);
        tx.counter_set(id, "other", 10)?;
        Ok(())
    })
    .unwrap();
    assert_eq!(
        db.read(|v| v.counters(id)).unwrap(),
        [("next".to_string(), 2), ("other".to_string(), 10)]
    );
    let deleted = db
        .write(TxMeta::default(), |tx| tx.counter_delete(id, "next"))
        .unwrap();
    assert!(deleted);
    assert_eq!(db.read(|v| v.counter(id, "next")).unwrap(), None);
}

#[test]
fn subkey_queries_find_relation_values_too() {
    let db = common::temporary().unwrap();
    db.write(TxMeta::default(), |tx| {
        let a = tx.create_entity("a", "t", "d")?;
        let b = tx.create_entity("b", "t", "d")?;
        tx.add_attr(a.id, NewAttr::new("link", b.id).subkey("peer"))?;
        tx.add_attr(a.id, NewAttr::new("link", "text").subkey("peer"))?;
        Ok(())
    })
    .unwrap();
    let b = db.read(|v| v.entity("b")).unwrap().id;
    let count = |f: AttrFilter| db.read(|v| v.attr_query(&f)).unwrap().len();
    assert_eq!(count(AttrFilter::any().subkey("peer")), 2);
    assert_eq!(count(AttrFilter::any().subkey("peer").value(b)), 1);
    assert_eq!(count(AttrFilter::any().subkey("peer").value("text")), 1);
    assert!(db.check().unwrap().is_clean());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Every datatype: a value written as JSON with its datatype and read back through
    /// `value_from_json` is the value itself.
    #[test]
    fn json_values_read_back_as_written(
        kind in 0u8..6,
        n in proptest::prelude::any::<i64>(),
        text in ".{0,12}",
        secs in 0i64..4_000_000_000,
    ) {
        let db = common::temporary().unwrap();
        let value = db.write(TxMeta::default(), |tx| {
            let target = tx.create_entity("target", "t", "d")?;
            Ok(match kind {
                0 => Value::Int(n),
                1 => Value::String(text.clone()),
                2 => Value::Null,
                3 => Value::Datetime(clusto_core::Timestamp(secs * 1_000_000)),
                4 => Value::Relation(target.id),
                _ => Value::json(serde_json::json!({"k": [n, text]}).to_string())?,
            })
        })
        .unwrap();
        let back = db
            .read(|v| v.value_from_json(Some(value.datatype()), &v.value_json(&value)?))
            .unwrap();
        proptest::prop_assert_eq!(back, value);
    }
}

/// `owners` answers some queries from the index keys alone (a live view, an exact key
/// with a value, a stated or any subkey, any number): it gives the same entities, in the
/// same order, as the owners of `attr_query`'s attributes, for every filter shape, live,
/// inside a transaction and as of an old version.
#[test]
fn owners_agree_with_the_attributes_they_own() {
    let db = common::temporary().unwrap();
    db.write(TxMeta::default(), |tx| {
        for i in 0..12u64 {
            let s = tx.create_entity(&format!("s{i}"), "server", "basicserver")?;
            let team = format!("team{}", i % 3);
            tx.add_attr(s.id, NewAttr::new("owner", team.as_str()))?;
            if i % 2 == 0 {
                tx.add_attr(s.id, NewAttr::new("owner", team.as_str()).subkey("backup"))?;
            }
            tx.add_attr(s.id, NewAttr::new("_secret", team.as_str()))?;
            tx.add_attr(
                s.id,
                NewAttr::new("slot", (i % 4) as i64).number((i % 2) as i64),
            )?;
        }
        Ok(())
    })
    .unwrap();
    let before = db.latest_version().unwrap();
    db.write(TxMeta::default(), |tx| {
        let s3 = tx.view().entity("s3")?.id;
        tx.delete_attrs(s3, &AttrFilter::key("owner"))?;
        Ok(())
    })
    .unwrap();
    let filters = [
        AttrFilter::key("owner").value("team0"),
        AttrFilter::key("owner").value("team0").subkey("backup"),
        AttrFilter::key("owner").value("team0").no_subkey(),
        AttrFilter::key("owner").value("team0").subkey_glob("b*"),
        AttrFilter::key("owner")
            .value("team1")
            .number_match(NumberMatch::Null),
        AttrFilter::key("_secret").value("team2"),
        AttrFilter::key("slot").value(1i64),
        AttrFilter::key("slot")
            .value(1i64)
            .number_match(NumberMatch::Is(1)),
        AttrFilter::key("owner"),
        AttrFilter::key("owner").value("nobody"),
    ];
    let check = |v: &clusto_core::View<'_>| {
        for f in &filters {
            let owners: Vec<String> = v.owners(f).unwrap().into_iter().map(|e| e.name).collect();
            let ids: Vec<EntityId> = v.attr_query(f).unwrap().iter().map(|a| a.entity).collect();
            let expected: Vec<String> = v
                .entities_by_ids(&ids)
                .unwrap()
                .into_iter()
                .map(|e| e.name)
                .collect();
            assert_eq!(owners, expected, "{f:?}");
        }
    };
    db.read(|v| {
        check(v);
        Ok(())
    })
    .unwrap();
    db.read_at(before, |v| {
        check(v);
        Ok(())
    })
    .unwrap();
    db.write(TxMeta::default(), |tx| {
        let s5 = tx.view().entity("s5")?.id;
        tx.add_attr(s5, NewAttr::new("owner", "team0"))?;
        tx.delete_attrs(tx.view().entity("s0")?.id, &AttrFilter::key("owner"))?;
        check(&tx.view());
        Ok(())
    })
    .unwrap();
    assert_eq!(
        db.read(|v| v.owners(&AttrFilter::key("owner").value("team0")))
            .unwrap()
            .len(),
        4,
        "s6 (twice, once with the backup subkey), s9 and s5 hold team0"
    );
}

/// A json value prints with its keys in the order it was stored with, whichever program
/// prints it: the CLI, the C library's JSON entry point, the HTTP server and exports all
/// go through `value_json`. With serde_json's key order left to the features other
/// crates of a build asked for, a C library built alone sorted the keys while the CLI
/// kept them (a `cargo test -p clusto-core` run of this test failed).
#[test]
fn json_values_print_their_keys_in_stored_order() {
    let text = r#"{"zone":"b","rack":{"u":4,"a":1},"id":7}"#;
    let db = common::temporary().unwrap();
    let printed = db
        .read(|v| v.value_json(&Value::json(text)?))
        .unwrap()
        .to_string();
    assert_eq!(printed, text);
}
