//! Model-based property test: random operation sequences are applied to the store and to
//! a plain in-memory model of clusto's semantics; after every step the two agree (live
//! state, counters, versions, as-of reads) and `check()` is clean, across reopen too.

use std::collections::BTreeMap;
use std::time::Duration;

use clusto_core::{
    AttrFilter, Clusto, EntityId, Error, NewAttr, NumberSpec, OpenOptions, Transaction, TxMeta,
    Value,
};
use proptest::prelude::*;

const NAMES: [&str; 4] = ["a", "b", "c", "d"];
const KEYS: [&str; 3] = ["k", "m", "_h"];

#[derive(Debug, Clone)]
enum Val {
    Int(i64),
    Str(&'static str),
    Rel(&'static str),
}

#[derive(Debug, Clone)]
enum Op {
    Create(&'static str, &'static str),
    Delete(&'static str),
    Rename(&'static str, &'static str),
    ChangeDriver(&'static str, &'static str),
    Add {
        on: &'static str,
        key: &'static str,
        subkey: Option<&'static str>,
        number: NumberSpec,
        value: Val,
    },
    Set {
        on: &'static str,
        key: &'static str,
        subkey: Option<&'static str>,
        number: NumberSpec,
        value: Val,
    },
    DeleteAttrs(&'static str, &'static str),
}

#[derive(Debug, Clone)]
enum Step {
    Tx { ops: Vec<Op>, commit: bool },
    Reopen,
}

fn name() -> impl Strategy<Value = &'static str> + Clone {
    prop::sample::select(&NAMES[..])
}

fn op() -> impl Strategy<Value = Op> {
    let key = prop::sample::select(&KEYS[..]);
    let subkey = prop::sample::select(vec![None, Some("s"), Some("")]);
    let number = prop_oneof![
        Just(NumberSpec::None),
        (0i64..3).prop_map(NumberSpec::Exact),
        Just(NumberSpec::Next)
    ];
    let value = prop_oneof![
        (0i64..3).prop_map(Val::Int),
        prop::sample::select(vec!["x", "y"]).prop_map(Val::Str),
        name().prop_map(Val::Rel)
    ];
    let attr = (name(), key, subkey, number, value);
    prop_oneof![
        3 => (name(), prop::sample::select(vec!["server", "pool"])).prop_map(|(n, t)| Op::Create(n, t)),
        1 => name().prop_map(Op::Delete),
        1 => (name(), name()).prop_map(|(a, b)| Op::Rename(a, b)),
        1 => (name(), prop::sample::select(vec!["server", "pool"])).prop_map(|(n, t)| Op::ChangeDriver(n, t)),
        4 => attr.clone().prop_map(|(on, key, subkey, number, value)| Op::Add { on, key, subkey, number, value }),
        2 => attr.prop_map(|(on, key, subkey, number, value)| Op::Set { on, key, subkey, number, value }),
        1 => (name(), prop::sample::select(&KEYS[..])).prop_map(|(n, k)| Op::DeleteAttrs(n, k)),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (prop::collection::vec(op(), 1..4), prop::bool::weighted(0.85))
            .prop_map(|(ops, commit)| Step::Tx { ops, commit }),
        1 => Just(Step::Reopen),
    ]
}

#[derive(Debug, Clone)]
struct MEntity {
    id: u64,
    name: String,
    kind: String,
    created: u64,
    deleted: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum MVal {
    Int(i64),
    Str(String),
    Rel(u64),
}

#[derive(Debug, Clone)]
struct MAttr {
    owner: u64,
    key: String,
    subkey: Option<String>,
    number: Option<i64>,
    value: MVal,
    created: u64,
    deleted: Option<u64>,
}

/// The reference model: plain vectors, linear scans, no indexes.
#[derive(Debug, Clone, Default)]
struct Model {
    entities: Vec<MEntity>,
    attrs: Vec<MAttr>,
    counters: BTreeMap<(u64, String), i64>,
    latest: u64,
}

type Tuple = (String, Option<String>, Option<i64>, MVal);

impl Model {
    fn live(&self, name: &str) -> Option<usize> {
        self.entities
            .iter()
            .position(|e| e.name == name && e.deleted.is_none())
    }

    fn value(&self, v: &Val) -> Option<MVal> {
        Some(match v {
            Val::Int(i) => MVal::Int(*i),
            Val::Str(s) => MVal::Str(s.to_string()),
            Val::Rel(n) => MVal::Rel(self.entities[self.live(n)?].id),
        })
    }

    fn new_entity(&mut self, name: &str, kind: &str, v: u64) -> u64 {
        let id = self.entities.len() as u64 + 1;
        self.entities.push(MEntity {
            id,
            name: name.into(),
            kind: kind.into(),
            created: v,
            deleted: None,
        });
        id
    }

    fn add(
        &mut self,
        owner: u64,
        key: &str,
        subkey: Option<&str>,
        number: Option<i64>,
        value: MVal,
        v: u64,
    ) {
        self.attrs.push(MAttr {
            owner,
            key: key.into(),
            subkey: subkey.map(Into::into),
            number,
            value,
            created: v,
            deleted: None,
        });
    }

    fn number(&mut self, owner: u64, key: &str, spec: NumberSpec) -> Option<i64> {
        match spec {
            NumberSpec::None => None,
            NumberSpec::Exact(n) => Some(n),
            NumberSpec::Next => {
                let c = self.counters.entry((owner, key.to_string())).or_insert(-1);
                *c += 1;
                Some(*c)
            }
        }
    }

    fn live_attrs_of(&self, owner: u64) -> Vec<usize> {
        (0..self.attrs.len())
            .filter(|&i| self.attrs[i].owner == owner && self.attrs[i].deleted.is_none())
            .collect()
    }

    fn retire_entity(&mut self, idx: usize, v: u64) {
        let id = self.entities[idx].id;
        self.counters.retain(|(owner, _), _| *owner != id);
        self.entities[idx].deleted = Some(v);
    }

    /// Applies `op` at version `v`; returns whether it changed anything, or the error
    /// kind the store must report.
    fn apply(&mut self, op: &Op, v: u64) -> Result<bool, &'static str> {
        match op {
            Op::Create(n, t) => {
                if self.live(n).is_some() {
                    return Err("exists");
                }
                self.new_entity(n, t, v);
                Ok(true)
            }
            Op::Delete(n) => {
                let idx = self.live(n).ok_or("missing")?;
                let id = self.entities[idx].id;
                for a in self.attrs.iter_mut() {
                    if a.deleted.is_none() && (a.owner == id || a.value == MVal::Rel(id)) {
                        a.deleted = Some(v);
                    }
                }
                self.retire_entity(idx, v);
                Ok(true)
            }
            Op::Rename(old, new) => {
                let idx = self.live(old).ok_or("missing")?;
                if self.live(new).is_some() {
                    return Err("exists");
                }
                let (old_id, kind) = (self.entities[idx].id, self.entities[idx].kind.clone());
                let new_id = self.new_entity(new, &kind, v);
                let repoint = |val: &MVal| {
                    if *val == MVal::Rel(old_id) {
                        MVal::Rel(new_id)
                    } else {
                        val.clone()
                    }
                };
                for i in 0..self.attrs.len() {
                    let a = self.attrs[i].clone();
                    if a.deleted.is_some() {
                        continue;
                    }
                    if a.owner == old_id {
                        self.attrs[i].deleted = Some(v);
                        self.add(
                            new_id,
                            &a.key,
                            a.subkey.as_deref(),
                            a.number,
                            repoint(&a.value),
                            v,
                        );
                    } else if a.value == MVal::Rel(old_id) {
                        self.attrs[i].deleted = Some(v);
                        self.add(
                            a.owner,
                            &a.key,
                            a.subkey.as_deref(),
                            a.number,
                            MVal::Rel(new_id),
                            v,
                        );
                    }
                }
                let moved: Vec<_> = self
                    .counters
                    .iter()
                    .filter(|((o, _), _)| *o == old_id)
                    .map(|((_, k), c)| (k.clone(), *c))
                    .collect();
                for (k, c) in moved {
                    self.counters.insert((new_id, k), c);
                }
                self.retire_entity(idx, v);
                Ok(true)
            }
            Op::ChangeDriver(n, t) => {
                let idx = self.live(n).ok_or("missing")?;
                let changed = self.entities[idx].kind != *t;
                self.entities[idx].kind = t.to_string();
                Ok(changed)
            }
            Op::Add {
                on,
                key,
                subkey,
                number,
                value,
            } => {
                let owner = self.entities[self.live(on).ok_or("missing")?].id;
                let value = self.value(value).ok_or("invalid")?;
                let number = self.number(owner, key, *number);
                self.add(owner, key, *subkey, number, value, v);
                Ok(true)
            }
            Op::Set {
                on,
                key,
                subkey,
                number,
                value,
            } => {
                let owner = self.entities[self.live(on).ok_or("missing")?].id;
                let value = self.value(value).ok_or("invalid")?;
                let matches: Vec<usize> = self
                    .live_attrs_of(owner)
                    .into_iter()
                    .filter(|&i| {
                        let a = &self.attrs[i];
                        a.key == *key
                            && a.subkey.as_deref() == *subkey
                            && match number {
                                NumberSpec::None => a.number.is_none(),
                                NumberSpec::Exact(n) => a.number == Some(*n),
                                NumberSpec::Next => a.number.is_some(),
                            }
                    })
                    .collect();
                match matches.as_slice() {
                    [_, _, ..] => Err("ambiguous"),
                    [i] if self.attrs[*i].value == value => Ok(false),
                    found => {
                        if let [i] = found {
                            self.attrs[*i].deleted = Some(v);
                        }
                        let number = self.number(owner, key, *number);
                        self.add(owner, key, *subkey, number, value, v);
                        Ok(true)
                    }
                }
            }
            Op::DeleteAttrs(on, key) => {
                let owner = self.entities[self.live(on).ok_or("missing")?].id;
                let doomed: Vec<usize> = self
                    .live_attrs_of(owner)
                    .into_iter()
                    .filter(|&i| self.attrs[i].key == *key)
                    .collect();
                for &i in &doomed {
                    self.attrs[i].deleted = Some(v);
                }
                Ok(!doomed.is_empty())
            }
        }
    }

    fn visible(created: u64, deleted: Option<u64>, at: Option<u64>) -> bool {
        clusto_core::visible(created, deleted, at)
    }

    fn entities_at(&self, at: Option<u64>) -> Vec<(u64, String, String)> {
        self.entities
            .iter()
            .filter(|e| Self::visible(e.created, e.deleted, at))
            .map(|e| (e.id, e.name.clone(), e.kind.clone()))
            .collect()
    }

    fn attrs_at(&self, owner: u64, at: Option<u64>) -> Vec<Tuple> {
        let mut out: Vec<Tuple> = self
            .attrs
            .iter()
            .filter(|a| a.owner == owner && Self::visible(a.created, a.deleted, at))
            .map(|a| (a.key.clone(), a.subkey.clone(), a.number, a.value.clone()))
            .collect();
        out.sort();
        out
    }
}

fn store_value(m: &Model, v: &Val) -> Option<Value> {
    Some(match m.value(v)? {
        MVal::Int(i) => Value::Int(i),
        MVal::Str(s) => Value::String(s),
        MVal::Rel(id) => Value::Relation(EntityId(id)),
    })
}

fn run_op(tx: &mut Transaction, model: &Model, op: &Op) -> Result<(), Error> {
    let id_of = |tx: &Transaction, n: &str| tx.view().entity(n).map(|e| e.id);
    let attr = |key: &str,
                subkey: Option<&str>,
                number: NumberSpec,
                value: &Val|
     -> Result<NewAttr, Error> {
        let value =
            store_value(model, value).ok_or_else(|| Error::InvalidValue("dangling".into()))?;
        Ok(NewAttr {
            key: key.into(),
            subkey: subkey.map(Into::into),
            number,
            value,
        })
    };
    match op {
        Op::Create(n, t) => tx.create_entity(n, t, t).map(drop),
        Op::Delete(n) => tx.delete_entity(n),
        Op::Rename(a, b) => tx.rename(a, b).map(drop),
        Op::ChangeDriver(n, t) => tx.change_driver(n, t, t).map(drop),
        Op::Add {
            on,
            key,
            subkey,
            number,
            value,
        } => {
            let id = id_of(tx, on)?;
            tx.add_attr(id, attr(key, *subkey, *number, value)?)
                .map(drop)
        }
        Op::Set {
            on,
            key,
            subkey,
            number,
            value,
        } => {
            let id = id_of(tx, on)?;
            tx.set_attr(id, attr(key, *subkey, *number, value)?)
                .map(drop)
        }
        Op::DeleteAttrs(on, key) => {
            let id = id_of(tx, on)?;
            tx.delete_attrs(id, &AttrFilter::key(*key)).map(drop)
        }
    }
}

fn error_kind(e: &Error) -> &'static str {
    match e {
        Error::AlreadyExists(_) => "exists",
        Error::NotFound(_) => "missing",
        Error::Ambiguous(_) => "ambiguous",
        Error::InvalidValue(_) => "invalid",
        _ => "other",
    }
}

fn store_tuple(a: &clusto_core::Attribute) -> Tuple {
    let value = match &a.value {
        Value::Int(i) => MVal::Int(*i),
        Value::String(s) => MVal::Str(s.clone()),
        Value::Relation(id) => MVal::Rel(id.0),
        other => panic!("unexpected value {other:?}"),
    };
    (a.key.clone(), a.subkey.clone(), a.number, value)
}

fn assert_agree(db: &Clusto, model: &Model, at: Option<u64>) -> Result<(), TestCaseError> {
    let read = |f: &dyn Fn(&clusto_core::View<'_>) -> clusto_core::Result<()>| match at {
        None => db.read(f),
        Some(v) => db.read_at(v, f),
    };
    let mut failure = None;
    read(&|view| {
        let got: Vec<_> = view
            .all_entities()?
            .into_iter()
            .map(|e| (e.id.0, e.name, e.driver))
            .collect();
        let want = model.entities_at(at);
        if got != want {
            return Err(Error::Corrupt(format!(
                "entities at {at:?}: {got:?} != {want:?}"
            )));
        }
        for (id, name, _) in &want {
            let mut attrs: Vec<Tuple> = view
                .attrs(EntityId(*id), &AttrFilter::any().with_hidden())?
                .iter()
                .map(store_tuple)
                .collect();
            attrs.sort();
            let expected = model.attrs_at(*id, at);
            if attrs != expected {
                return Err(Error::Corrupt(format!(
                    "attrs of {name} at {at:?}: {attrs:?} != {expected:?}"
                )));
            }
            if view.find(name)?.map(|e| e.id.0) != Some(*id) {
                return Err(Error::Corrupt(format!("find({name}) at {at:?}")));
            }
        }
        for key in KEYS {
            let mut owners: Vec<u64> = view
                .owners(&AttrFilter::key(key))?
                .iter()
                .map(|e| e.id.0)
                .collect();
            owners.sort();
            let mut expected: Vec<u64> = model
                .attrs
                .iter()
                .filter(|a| a.key == key && Model::visible(a.created, a.deleted, at))
                .map(|a| a.owner)
                .collect();
            expected.sort();
            if owners != expected {
                return Err(Error::Corrupt(format!(
                    "owners of {key} at {at:?}: {owners:?} != {expected:?}"
                )));
            }
        }
        Ok(())
    })
    .unwrap_or_else(|e| failure = Some(e.to_string()));
    if let Some(f) = failure {
        return Err(TestCaseError::fail(f));
    }
    Ok(())
}

fn open(path: &std::path::Path) -> Clusto {
    let opts = OpenOptions {
        lock_wait: Some(Duration::from_secs(10)),
        ..Default::default()
    };
    Clusto::open_with(path, &opts).unwrap()
}

proptest! {
    // 48 cases in `make test`; PROPTEST_CASES raises it (`make test-slow`).
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48),
        ..ProptestConfig::default()
    })]

    #[test]
    fn store_agrees_with_model(steps in prop::collection::vec(step(), 1..30)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let mut db = open(&path);
        let mut model = Model::default();
        for step in &steps {
            match step {
                Step::Reopen => {
                    drop(db);
                    db = open(&path);
                }
                Step::Tx { ops, commit } => {
                    let mut tx = db.begin(TxMeta::new("prop", "step")).unwrap();
                    let before = model.clone();
                    let version = model.latest + 1;
                    let mut changed = false;
                    for op in ops {
                        let mut attempt = model.clone();
                        let expected = attempt.apply(op, version);
                        let got = run_op(&mut tx, &model, op);
                        match (&expected, &got) {
                            (Ok(c), Ok(())) => { changed |= c; model = attempt; }
                            (Err(kind), Err(e)) => prop_assert_eq!(*kind, error_kind(e), "{:?}: {}", op, e),
                            _ => prop_assert!(false, "{:?}: model {:?}, store {:?}", op, expected, got),
                        }
                    }
                    if *commit {
                        let committed = tx.commit().unwrap();
                        prop_assert_eq!(committed, changed.then_some(version));
                        if changed { model.latest = version; }
                    } else {
                        drop(tx);
                        model = before;
                    }
                }
            }
            prop_assert_eq!(db.latest_version().unwrap(), model.latest);
            assert_agree(&db, &model, None)?;
            let report = db.check().unwrap();
            prop_assert!(report.is_clean(), "{:#?}", report.problems);
        }
        for v in 0..=model.latest {
            assert_agree(&db, &model, Some(v))?;
        }
        let counters: Vec<_> = model.counters.iter().collect();
        for ((owner, key), value) in counters {
            prop_assert_eq!(db.read(|v| v.counter(EntityId(*owner), key)).unwrap(), Some(*value));
        }
    }
}
