//! The real `clusto` binary against temporary databases: each command, each format,
//! errors and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Db {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Db {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        Db { _dir: dir, path }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_clusto"))
            .arg("--dsn")
            .arg(&self.path)
            .args(args)
            .env_remove("CLUSTODSN")
            .env_remove("CLUSTOCONFIG")
            .env("USER", "tester")
            .output()
            .unwrap()
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "clusto {args:?}: {}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut full = args.to_vec();
        full.extend(["--format", "json"]);
        serde_json::from_str(&self.ok(&full)).unwrap()
    }
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

/// A small site: datacenter, rack, two servers, a switch, a pool and an IP manager.
fn site() -> Db {
    site_on("lmdb")
}

/// [`site`] on the engine `scheme`; later commands open it by its path, which finds the
/// engine that made it.
fn site_on(scheme: &str) -> Db {
    let db = Db::new();
    let dsn = format!("{scheme}://{}", db.path.display());
    let made = Command::new(env!("CARGO_BIN_EXE_clusto"))
        .args(["--dsn", &dsn, "initdb"])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made));
    db.ok(&["create", "basicdatacenter", "sjc1"]);
    db.ok(&["create", "basicrack", "r1", "--prop", "maxu=10"]);
    db.ok(&["pool", "insert", "sjc1", "r1"]);
    for s in ["s1", "s2"] {
        db.ok(&["create", "basicserver", s]);
    }
    db.ok(&["create", "basicnetworkswitch", "sw1"]);
    db.ok(&["rack", "insert", "r1", "s1", "--ru", "3-4"]);
    db.ok(&["rack", "insert", "r1", "sw1", "--ru", "10"]);
    db.ok(&[
        "create",
        "ipmanager",
        "net",
        "--prop",
        "baseip=10.0.0.0",
        "--prop",
        "netmask=255.255.255.0",
        "--prop",
        "gateway=10.0.0.1",
    ]);
    db.ok(&["pool", "create", "web"]);
    db.ok(&["pool", "insert", "web", "s1", "s2"]);
    db
}

#[test]
fn initdb_create_and_info() {
    let db = site();
    let info = db.json(&["info", "s1"]);
    let s1 = &info[0];
    assert_eq!(
        (
            s1["name"].as_str(),
            s1["type"].as_str(),
            s1["driver"].as_str()
        ),
        (Some("s1"), Some("server"), Some("basicserver"))
    );
    assert_eq!(s1["parents"], serde_json::json!(["r1", "web"]));
    let table = db.ok(&["info", "s1", "s2"]);
    assert!(
        table.contains("parents : r1, web") && table.contains("name    : s2"),
        "{table}"
    );
    let rack = db.json(&["info", "r1"]);
    assert_eq!(
        rack[0]["contents"],
        serde_json::json!(["s1 (U3)", "s1 (U4)", "sw1 (U10)"])
    );
}

#[test]
fn attr_commands() {
    let db = site();
    db.ok(&["attr", "add", "s1", "-k", "owner", "-v", "alice"]);
    db.ok(&[
        "attr", "add", "s1", "-k", "cpucount", "-v", "16", "--type", "int",
    ]);
    db.ok(&[
        "attr",
        "add",
        "s1",
        "-k",
        "fqdn",
        "-v",
        "s1.example",
        "-n",
        "next",
    ]);
    db.ok(&[
        "attr",
        "add",
        "s1",
        "-k",
        "tags",
        "-v",
        "[\"a\",\"b\"]",
        "--type",
        "json",
    ]);
    db.ok(&[
        "attr", "add", "s1", "-k", "peer", "-v", "s2", "--type", "relation",
    ]);
    db.ok(&[
        "attr",
        "add",
        "s1",
        "-k",
        "bought",
        "-v",
        "2012-01-02T03:04:05",
        "--type",
        "datetime",
    ]);
    db.ok(&["attr", "set", "s1", "-k", "owner", "-v", "bob"]);
    let attrs = db.json(&["attr", "show", "s1"]);
    let find = |k: &str| {
        attrs
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == k)
            .unwrap()
            .clone()
    };
    assert_eq!(find("owner")["value"], "bob");
    assert_eq!(find("cpucount")["value"], 16);
    assert_eq!(find("fqdn")["number"], 0);
    assert_eq!(find("tags")["value"], serde_json::json!(["a", "b"]));
    assert_eq!(find("peer")["value"], serde_json::json!({"relation": "s2"}));
    assert_eq!(find("bought")["value"], "2012-01-02T03:04:05");
    let only = db.json(&["attr", "show", "s1", "-k", "cpucount"]);
    assert_eq!(only.as_array().unwrap().len(), 1);
    db.ok(&["attr", "delete", "s1", "-k", "tags"]);
    assert!(
        db.json(&["attr", "show", "s1", "-k", "tags"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    let hidden = db.json(&["attr", "show", "r1", "--all", "-k", "_contains"]);
    assert_eq!(hidden.as_array().unwrap().len(), 3);
    let merged = db.json(&["attr", "show", "s1", "--merge", "-k", "maxu"]);
    assert_eq!(merged[0]["value"], 10, "merged from the rack");
}

#[test]
fn pools_and_lists() {
    let db = site();
    let members = db.json(&["pool", "show", "web"]);
    assert_eq!(members.as_array().unwrap().len(), 2);
    db.ok(&["pool", "remove", "web", "s2"]);
    db.ok(&["pool", "create", "prod", "--driver", "unique_pool"]);
    db.ok(&["pool", "insert", "prod", "s1"]);
    let all = db.json(&["list-all", "--type", "server"]);
    assert_eq!(
        all.as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["s1", "s2"]
    );
    let by_driver = db.json(&["list-all", "--driver", "unique_pool"]);
    assert_eq!(by_driver[0]["name"], "prod");
    db.ok(&["ip", "allocate", "s1", "--manager", "net"]);
    let ips = db.json(&["list-pool", "web", "prod"]);
    assert_eq!(ips, serde_json::json!([{"name": "s1", "ip": "10.0.0.2"}]));
    let names = db.ok(&["list-pool", "web", "prod", "--names"]);
    assert!(names.contains("s1") && !names.contains("s2"));
    db.ok(&["pool", "delete", "prod"]);
    let bad = db.run(&["pool", "delete", "s1"]);
    assert_eq!(bad.status.code(), Some(3), "{}", text(&bad));
}

#[test]
fn tree_rename_delete_query() {
    let db = site();
    db.ok(&["attr", "add", "s1", "-k", "owner", "-v", "alice"]);
    let tree = db.ok(&["tree", "sjc1", "owner"]);
    assert!(
        tree.contains("└── r1 [basicrack]") && tree.contains("s1 [basicserver]  owner=alice"),
        "{tree}"
    );
    let up = db.json(&["tree", "s1", "-p"]);
    assert_eq!(up["parents"][0]["name"], "r1");
    db.ok(&["rename", "s1", "web01"]);
    assert!(db.ok(&["info", "web01"]).contains("r1"));
    let q = db.json(&["query", "owner=alice", "--type", "server", "--pool", "web"]);
    assert_eq!(q[0]["name"], "web01");
    assert!(
        db.json(&["query", "owner=bob"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    db.ok(&["delete", "web01"]);
    assert_eq!(db.run(&["info", "web01"]).status.code(), Some(2));
}

#[test]
fn racks_text_and_svg() {
    let db = site();
    let elevation = db.ok(&["rack", "show", "r1"]);
    assert!(
        elevation.contains("U4   | s1") && elevation.contains("U10  | sw1"),
        "{elevation}"
    );
    let svg = db._dir.path().join("r1.svg");
    db.ok(&["rack", "show", "r1", "--svg", svg.to_str().unwrap()]);
    let drawn = std::fs::read_to_string(&svg).unwrap();
    assert!(drawn.starts_with("<svg") && drawn.contains(">s1<"));
    let occupied = db.run(&["rack", "insert", "r1", "s2", "--ru", "4"]);
    assert_eq!(occupied.status.code(), Some(3));
    assert!(text(&occupied).contains("RU 4"));
    db.ok(&["rack", "remove", "r1", "s1"]);
    assert!(!db.ok(&["rack", "show", "r1"]).contains("s1"));
}

#[test]
fn ips_names_and_ports() {
    let db = site();
    let got = db.json(&["ip", "allocate", "s1", "--manager", "net"]);
    assert_eq!(got[0]["ip"], "10.0.0.2");
    db.ok(&["ip", "allocate", "s2", "--ip", "10.0.0.50"]);
    assert_eq!(db.json(&["ip", "show", "10.0.0.50"])[0]["name"], "s2");
    assert_eq!(db.json(&["ip", "show", "s1"])[0]["ip"], "10.0.0.2");
    db.ok(&["ip", "deallocate", "s2", "--ip", "10.0.0.50"]);
    assert!(
        db.json(&["ip", "show", "s2"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    let taken = db.run(&["ip", "allocate", "s2", "--ip", "10.0.0.2"]);
    assert_eq!(taken.status.code(), Some(1), "{}", text(&taken));

    db.ok(&[
        "create",
        "simpleentitynamemanager",
        "names",
        "--prop",
        "basename=web",
        "--prop",
        "digits=3",
    ]);
    let made = db.json(&["name", "allocate", "names", "basicserver"]);
    assert_eq!(made[0]["name"], "web001");

    db.ok(&["port", "connect", "s1", "nic-eth", "1", "sw1", "5"]);
    let ports = db.json(&["port", "show", "sw1"]);
    let p5 = ports
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == "nic-eth" && p["number"] == 5)
        .unwrap();
    assert_eq!(p5["connection"], "s1");
    let busy = db.run(&["port", "connect", "s2", "nic-eth", "1", "sw1", "5"]);
    assert_eq!(busy.status.code(), Some(3));
    db.ok(&["port", "disconnect", "s1", "nic-eth", "1"]);
}

#[test]
fn history_show_at_and_check() {
    let db = site();
    let out = Command::new(env!("CARGO_BIN_EXE_clusto"))
        .args([
            "--dsn",
            db.path.to_str().unwrap(),
            "--user",
            "alice",
            "-m",
            "owner change",
            "attr",
            "set",
            "s1",
            "-k",
            "owner",
            "-v",
            "x",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let history = db.json(&["history", "s1", "--changes"]);
    let last = history.as_array().unwrap().last().unwrap();
    assert_eq!(
        (last["user"].as_str(), last["description"].as_str()),
        (Some("alice"), Some("owner change"))
    );
    assert_eq!(last["changes"][0]["change"]["added"]["key"], "owner");
    let v = last["version"].as_u64().unwrap();
    let by_user = db.json(&["history", "--user", "alice"]);
    assert_eq!(by_user.as_array().unwrap().len(), 1);
    let since = db.json(&["history", "--since", &v.to_string()]);
    assert_eq!(since.as_array().unwrap().len(), 1);
    assert!(
        db.json(&["history", "--since", "2000-01-01"])
            .as_array()
            .unwrap()
            .len()
            > 5
    );
    let before = db.json(&["show", "s1", "--at", &(v - 1).to_string()]);
    assert!(before[0]["attrs"].as_array().unwrap().is_empty());
    assert!(db.json(&["show", "s1", "--at", &v.to_string()])[0]["attrs"][0]["value"] == "x");
    assert_eq!(
        db.run(&["show", "s1", "--at", "1"]).status.code(),
        Some(2),
        "s1 did not exist yet"
    );
    let check = db.json(&["check"]);
    assert_eq!(check[0]["status"], "clean");
}

#[test]
fn formats() {
    let db = site();
    let csv = db.ok(&["list-all", "--type", "server", "--format", "csv"]);
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        [
            "name,type,driver",
            "s1,server,basicserver",
            "s2,server,basicserver"
        ]
    );
    let yaml = db.ok(&["list-all", "--type", "server", "--format", "yaml"]);
    assert!(yaml.starts_with("- name: s1\n  type: server"), "{yaml}");
    let table = db.ok(&["list-all", "--type", "server"]);
    assert_eq!(table.lines().next().unwrap(), "name  type    driver");
    assert!(!table.contains('\u{1b}'), "no colour when not a terminal");
}

#[test]
fn errors_and_exit_codes() {
    let db = site();
    let missing = db.run(&["info", "nope"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing).contains("'nope' does not exist"));
    let usage = db.run(&["frobnicate"]);
    assert_eq!(usage.status.code(), Some(3));
    let bad_key = db.run(&["attr", "add", "s1", "-k", "9x", "-v", "1"]);
    assert_eq!(bad_key.status.code(), Some(3));
    let bad_int = db.run(&[
        "attr", "add", "s1", "-k", "n", "-v", "many", "--type", "int",
    ]);
    assert_eq!(bad_int.status.code(), Some(3));
    assert!(text(&bad_int).contains("'many' is not an integer"));
    let dup = db.run(&["create", "basicserver", "s1"]);
    assert_eq!(dup.status.code(), Some(3));
    let sql = Command::new(env!("CARGO_BIN_EXE_clusto"))
        .args(["--dsn", "sqlite:///old.db", "check"])
        .output()
        .unwrap();
    assert_eq!(sql.status.code(), Some(3));
    assert!(text(&sql).contains("clusto migrate"));
    assert!(db.run(&["--help"]).status.success());
    assert!(text(&db.run(&["rack", "--help"])).contains("elevation"));
}

/// While another process writes, a write waits `--wait` seconds and then fails as
/// locked; reads go on. sled, which admits one process, refuses even reads.
#[test]
fn locked_database_waits_then_fails() {
    let db = site();
    let holder = clusto_core::Clusto::open(&db.path).unwrap();
    let tx = holder.begin(Default::default()).unwrap();
    let out = db.run(&["--wait", "0.3", "attr", "add", "s1", "-k", "x", "-v", "1"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("locked"));
    assert!(db.run(&["check"]).status.success(), "reads go on");
    drop(tx);
    db.ok(&["attr", "add", "s1", "-k", "x", "-v", "1"]);
    drop(holder);

    let sled = site_on("sled");
    let holder = clusto_core::Clusto::open(&sled.path).unwrap();
    let out = sled.run(&["--wait", "0.3", "check"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("locked"));
    drop(holder);
}

#[test]
fn config_file_and_environment() {
    let db = site();
    let conf = db._dir.path().join("clusto.conf");
    std::fs::write(&conf, "[clusto]\ndsn = db\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_clusto"))
        .args(["--config", conf.to_str().unwrap(), "info", "s1"])
        .env_remove("CLUSTODSN")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let out = Command::new(env!("CARGO_BIN_EXE_clusto"))
        .args(["info", "s1"])
        .env("CLUSTODSN", &db.path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let completion = Command::new(env!("CARGO_BIN_EXE_clusto"))
        .args(["completion", "bash"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&completion.stdout).contains("_clusto"));
    let _ = Path::new("");
}

#[test]
fn migrate_the_legacy_sample() {
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../clusto-migrate/tests/fixtures/legacy/sample-clusto.db");
    let db = Db::new();
    let copy = db._dir.path().join("sample.db");
    std::fs::copy(&sample, &copy).unwrap();
    let report = db.json(&[
        "migrate",
        "--from",
        &format!("sqlite:///{}", copy.display()),
    ]);
    assert_eq!(report[0]["entities"], 368);
    assert_eq!(report[0]["check"], "clean");
    assert_eq!(db.json(&["info", "sjc1-www01"])[0]["driver"], "basicserver");
    let again = db.run(&["migrate", "--from", copy.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(3));
    assert!(text(&again).contains("not empty"));
    let conf = db._dir.path().join("legacy.conf");
    std::fs::write(&conf, "[clusto]\ndsn = oracle://u@h/clusto\n").unwrap();
    let other = Db::new();
    let out = other.run(&["migrate", "--legacy-config", conf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
}

#[test]
fn export_import_backup() {
    let db = site();
    db.ok(&["attr", "add", "s1", "-k", "owner", "-v", "alice"]);
    let dump = db._dir.path().join("dump.jsonl");
    let out = db.ok(&["export"]);
    assert!(out.starts_with("{\"clusto_dump\":1"), "{out}");
    std::fs::write(&dump, &out).unwrap();
    let other = Db::new();
    let imported = other.json(&["import", dump.to_str().unwrap()]);
    assert!(imported[0]["imported_rows"].as_u64().unwrap() > 10);
    assert_eq!(
        other.json(&["attr", "show", "s1", "-k", "owner"])[0]["value"],
        "alice"
    );
    assert_eq!(
        other.ok(&["export"]),
        out,
        "export → import → export is lossless"
    );
    let state = db.ok(&["export", "--at", "3"]);
    assert!(state.lines().count() < out.lines().count());
    let backup = db._dir.path().join("backup");
    db.ok(&["backup", backup.to_str().unwrap()]);
    let copy = Command::new(env!("CARGO_BIN_EXE_clusto"))
        .arg("--dsn")
        .arg(&backup)
        .args(["info", "s1"])
        .output()
        .unwrap();
    assert!(copy.status.success(), "{}", text(&copy));
    assert_eq!(
        other.run(&["import", dump.to_str().unwrap()]).status.code(),
        Some(3),
        "not into a non-empty database"
    );
}

#[test]
fn a_damaged_database_is_reported_and_salvage_exports_it() {
    // sled's log and commit mark: LMDB keeps neither.
    let db = site_on("sled");
    // The store's files as they were 20 changes ago, beside the newer commit mark: what
    // a log cut short or a partial file restore leaves.
    let older = db._dir.path().join("older");
    std::fs::create_dir(&older).unwrap();
    let copy_store = |from: &Path, to: &Path| {
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() && entry.file_name() != "clusto.commit" {
                std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
            }
        }
    };
    copy_store(&db.path, &older);
    for n in 0..20 {
        db.ok(&["attr", "add", "s1", "-k", "note", "-v", &format!("n{n}")]);
    }
    for entry in std::fs::read_dir(&db.path).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() && entry.file_name() != "clusto.commit" {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    copy_store(&older, &db.path);
    let refused = db.run(&["info", "s1"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("was committed"),
        "{}",
        text(&refused)
    );
    let salvaged = db.run(&["--salvage", "export"]);
    assert!(salvaged.status.success(), "{}", text(&salvaged));
    let report = String::from_utf8_lossy(&salvaged.stderr);
    assert!(
        report.contains("were committed and are lost"),
        "the salvage says what was lost: {report}"
    );
    let out = String::from_utf8_lossy(&salvaged.stdout).into_owned();
    assert!(out.starts_with("{\"clusto_dump\":1"), "{out}");
    assert!(
        out.contains("\"s1\"") && !out.contains("n19"),
        "what the store holds: {out}"
    );
    let write = db.run(&["--salvage", "attr", "add", "s1", "-k", "x", "-v", "y"]);
    assert!(!write.status.success());
    assert!(text(&write).contains("salvage"), "{}", text(&write));
}

/// `wait` and `durability` in clusto.conf reach the core, which refuses a bad one by name.
#[test]
fn config_file_settings() {
    let db = site();
    let conf = db._dir.path().join("clusto.conf");
    let run = |conf_text: &str, args: &[&str]| {
        std::fs::write(&conf, conf_text).unwrap();
        Command::new(env!("CARGO_BIN_EXE_clusto"))
            .args(["--config", conf.to_str().unwrap()])
            .args(args)
            .env_remove("CLUSTODSN")
            .output()
            .unwrap()
    };
    let holder = clusto_core::Clusto::open(&db.path).unwrap();
    let tx = holder.begin(Default::default()).unwrap();
    let started = std::time::Instant::now();
    let out = run(
        "[clusto]\ndsn = db\nwait = 0.4\ndurability = grouped:20\n",
        &["attr", "add", "s1", "-k", "x", "-v", "1"],
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(started.elapsed() >= std::time::Duration::from_millis(400));
    drop(tx);
    let out = run(
        "[clusto]\ndsn = db\ndurability = grouped:20\n",
        &["attr", "add", "s1", "-k", "x", "-v", "1"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = run("[clusto]\ndsn = db\ndurability = sometimes\n", &["check"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("durability 'sometimes'"),
        "{}",
        text(&out)
    );
    let out = run("[clusto]\ndsn = ftp:///x\n", &["check"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("unknown scheme 'ftp'"),
        "{}",
        text(&out)
    );
}

/// `clusto copy` moves a sled database to LMDB; the copy answers the same.
#[test]
fn copy_between_engines() {
    let old = site_on("sled");
    let new = old._dir.path().join("new");
    let out = Command::new(env!("CARGO_BIN_EXE_clusto"))
        .args([
            "copy",
            old.path.to_str().unwrap(),
            &format!("lmdb://{}", new.display()),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let copy = Db {
        _dir: tempfile::tempdir().unwrap(),
        path: new,
    };
    assert_eq!(copy.ok(&["export"]), old.ok(&["export"]));
    assert!(copy.path.join("data.mdb").exists());
    let again = Command::new(env!("CARGO_BIN_EXE_clusto"))
        .args([
            "copy",
            old.path.to_str().unwrap(),
            copy.path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(3), "{}", text(&again));
    assert!(text(&again).contains("not empty"));
}

/// `clusto watch` in one process streams the versions another process commits, as JSON
/// lines, filtered; `clusto diff` shows them; `clusto revert` undoes one.
#[test]
fn watch_diff_and_revert() {
    let db = site();
    let start: u64 = db.json(&["history"]).as_array().unwrap().len() as u64;
    let watcher = Command::new(env!("CARGO_BIN_EXE_clusto"))
        .arg("--dsn")
        .arg(&db.path)
        .args([
            "watch", "--count", "2", "--entity", "s1", "--format", "json",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    db.ok(&["attr", "add", "s2", "-k", "owner", "-v", "x"]); // filtered out
    db.ok(&["attr", "add", "s1", "-k", "owner", "-v", "alice"]);
    db.ok(&["attr", "set", "s1", "-k", "owner", "-v", "bob"]);
    let out = watcher.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["changes"][0]["entity"], "s1");
    assert_eq!(lines[0]["changes"][0]["change"]["added"]["value"], "alice");
    assert_eq!(lines[0]["user"], "tester");

    let latest = lines[1]["version"].as_u64().unwrap();
    let diff = db.json(&["diff", &start.to_string()]);
    let names: Vec<&str> = diff["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["s1", "s2"], "{diff}");
    let shown = db.ok(&["diff", &start.to_string(), &latest.to_string(), "s1"]);
    assert!(
        shown.contains("~ s1") && shown.contains("owner = \"bob\""),
        "{shown}"
    );

    let reverted = db.json(&["revert", &latest.to_string()]);
    assert_eq!(reverted[0]["version"], latest + 1);
    assert!(db.ok(&["info", "s1"]).contains("alice"));
    let conflict = db.run(&["revert", &(latest - 1).to_string()]);
    assert!(!conflict.status.success());
    assert!(
        text(&conflict).contains("later versions"),
        "{}",
        text(&conflict)
    );
    db.ok(&["revert", "--to", &start.to_string(), "s1", "s2"]);
    assert!(!db.ok(&["info", "s1"]).contains("alice"));
    let usage = db.run(&["revert"]);
    assert_eq!(usage.status.code(), Some(3), "{}", text(&usage));
}

/// The rack elevation's height is the core's reading of `maxu`, text or number.
#[test]
fn rack_show_reads_the_rack_height_the_core_reads() {
    let db = site();
    // A property stored as text, as legacy data and `attr set` may hold it.
    db.ok(&[
        "attr", "set", "r1", "-k", "maxu", "-s", "property", "-v", "12",
    ]);
    let shown = db.json(&["rack", "show", "r1"]);
    let units = shown["units"].as_array().unwrap();
    assert_eq!(units.len(), 12, "{shown}");
    assert_eq!(units[0]["unit"], 12);
    assert!(units.iter().any(|u| u["device"] == "s1"));
}

/// The original's executable names: a link `clusto-info` runs `clusto info`, and an
/// unknown subcommand runs the site command `clusto-NAME` from PATH with the rest of
/// the arguments.
#[test]
fn original_command_names_and_site_commands() {
    use std::os::unix::fs::PermissionsExt;
    let db = site();
    let bin = tempfile::tempdir().unwrap();
    let link = bin.path().join("clusto-info");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_clusto"), &link).unwrap();
    let out = Command::new(&link)
        .arg("--dsn")
        .arg(&db.path)
        .arg("s1")
        .env_remove("CLUSTODSN")
        .env_remove("CLUSTOCONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), db.ok(&["info", "s1"]));

    let site_command = bin.path().join("clusto-hello");
    std::fs::write(&site_command, "#!/bin/sh\necho \"hello $*\"\nexit 3\n").unwrap();
    std::fs::set_permissions(&site_command, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_clusto"))
        .args(["hello", "a", "--b"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello a --b\n");
    assert_eq!(out.status.code(), Some(3), "the site command's exit status");
    let out = Command::new(env!("CARGO_BIN_EXE_clusto"))
        .args(["nosuchcommand"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "usage error: {}", text(&out));
    assert!(text(&out).contains("nosuchcommand"));
}
