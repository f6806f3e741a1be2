//! `clusto serve` as a real process on a free loopback port, driven with a real HTTP
//! client: clusto-apiserver's documented statuses and bodies, tokens, bad input,
//! concurrent allocation, the change feed, shutdown, and a server beside the CLI on one
//! database.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::blocking::{Client, Response};
use serde_json::{Value as Json, json};

const TOKEN: &str = "alice-0123456789abcdef";
const OTHER_TOKEN: &str = "robot-0123456789abcdef";

fn clusto(dsn: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_clusto"))
        .args(["--dsn", dsn])
        .args(args)
        .env_remove("CLUSTODSN")
        .env_remove("CLUSTOCONFIG")
        .env("USER", "tester")
        .output()
        .unwrap()
}

fn clusto_ok(dsn: &str, args: &[&str]) -> String {
    let out = clusto(dsn, args);
    assert!(
        out.status.success(),
        "clusto {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A running `clusto serve`.
struct Server {
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `clusto --dsn DSN serve --listen 127.0.0.1:0 ARGS` and waits until it
    /// listens.
    fn start(dsn: &str, args: &[&str]) -> Server {
        let mut all = vec!["--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        Server::start_plain(dsn, &all)
    }

    /// Starts `clusto --dsn DSN serve ARGS` (ARGS say where to listen, or the config
    /// file does).
    fn start_plain(dsn: &str, args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_clusto"))
            .args(["--dsn", dsn, "serve"])
            .args(args)
            .env_remove("CLUSTODSN")
            .env_remove("CLUSTOCONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        stderr.read_line(&mut first).unwrap();
        let address = first
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("clusto serve did not start: {first}"))
            .to_owned();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut rest = String::new();
            for line in stderr.lines() {
                let Ok(line) = line else { break };
                rest.push_str(&line);
                rest.push('\n');
                *sink.lock().unwrap() = rest.clone();
            }
        });
        Server {
            child,
            base: address,
            log,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits for the exit status.
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "clusto serve did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One answer: status, headers and body.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Json {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl From<Response> for Answer {
    fn from(r: Response) -> Answer {
        Answer {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            text: r.text().unwrap(),
        }
    }
}

/// A request builder with clusto-apiserver's conventions.
struct Call<'a> {
    server: &'a Server,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    form: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

fn call<'a>(server: &'a Server, method: Method, path: &str) -> Call<'a> {
    Call {
        server,
        method,
        path: path.into(),
        query: Vec::new(),
        form: Vec::new(),
        headers: Vec::new(),
        body: None,
    }
}

impl Call<'_> {
    fn q(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    fn f(mut self, name: &str, value: &str) -> Self {
        self.form.push((name.into(), value.into()));
        self
    }

    fn h(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn token(self, token: &str) -> Self {
        self.h("Authorization", &format!("Bearer {token}"))
    }

    fn json_body(mut self, body: &str) -> Self {
        self.body = Some(body.into());
        self.h("Content-Type", "application/json")
    }

    fn send(self) -> Answer {
        let client = Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let mut request = client
            .request(self.method, self.server.url(&self.path))
            .query(&self.query);
        for (n, v) in &self.headers {
            request = request.header(n, v);
        }
        if let Some(body) = self.body {
            request = request.body(body);
        } else if !self.form.is_empty() {
            request = request.form(&self.form);
        }
        request.send().unwrap().into()
    }
}

fn get<'a>(s: &'a Server, path: &str) -> Call<'a> {
    call(s, Method::GET, path)
}

fn post<'a>(s: &'a Server, path: &str) -> Call<'a> {
    call(s, Method::POST, path).token(TOKEN)
}

/// A database directory with a token file beside it.
struct Site {
    _dir: tempfile::TempDir,
    db: PathBuf,
    tokens: PathBuf,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        let tokens = dir.path().join("tokens");
        std::fs::write(
            &tokens,
            format!("# who may write\nalice {TOKEN}\nrobot {OTHER_TOKEN}\n"),
        )
        .unwrap();
        clusto_ok(db.to_str().unwrap(), &["initdb"]);
        Site {
            _dir: dir,
            db,
            tokens,
        }
    }

    fn dsn(&self) -> &str {
        self.db.to_str().unwrap()
    }

    fn serve(&self) -> Server {
        Server::start(self.dsn(), &["--token-file", self.tokens.to_str().unwrap()])
    }
}

/// The data of clusto-apiserver's documentation examples.
fn documented_data(s: &Server) {
    assert_eq!(
        post(s, "/entity/pool")
            .f("name", "singlepool")
            .f("name", "multipool")
            .f("name", "emptypool")
            .send()
            .status,
        201
    );
    let created = post(s, "/entity/basicserver")
        .f("name", "testserver1")
        .f("name", "testserver2")
        .send();
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(
        created.json(),
        json!(["/basicserver/testserver1", "/basicserver/testserver2"])
    );
    for (server, subkey, value, pools) in [
        (
            "testserver1",
            "subkey1",
            "value1",
            &["singlepool", "multipool"][..],
        ),
        ("testserver2", "subkey2", "value2", &["multipool"][..]),
    ] {
        let added = post(s, &format!("/attribute/{server}"))
            .f("key", "key1")
            .f("subkey", subkey)
            .f("value", value)
            .send();
        assert_eq!(added.status, 201, "{}", added.text);
        for pool in pools {
            let inserted = post(s, &format!("/entity/pool/{pool}"))
                .f("device", server)
                .f("action", "insert")
                .send();
            assert_eq!(inserted.status, 200, "{}", inserted.text);
        }
    }
}

fn testserver1() -> Json {
    json!({
        "attrs": [{"datatype": "string", "key": "key1", "number": null, "subkey": "subkey1", "value": "value1"}],
        "contents": [],
        "driver": "basicserver",
        "ips": [],
        "name": "testserver1",
        "parents": ["/pool/singlepool", "/pool/multipool"],
        "type": "server",
    })
}

#[test]
fn the_lookups_answer_as_clusto_apiserver_documents() {
    let site = Site::new();
    let s = site.serve();
    documented_data(&s);

    // /by-name
    let a = get(&s, "/by-name/nonserver").send();
    assert_eq!(
        (a.status, a.json()),
        (
            404,
            json!("Object \"nonserver\" not found (nonserver does not exist.)")
        )
    );
    let a = get(&s, "/by-name/testserver1")
        .h("Clusto-Mode", "compact")
        .send();
    assert_eq!(
        (a.status, a.json()),
        (200, json!("/basicserver/testserver1"))
    );
    let a = get(&s, "/by-name/testserver1").send();
    assert_eq!((a.status, a.json()), (200, testserver1()));
    assert_eq!(a.header("content-type"), Some("application/json"));
    assert!(
        a.text.contains("\n    \"attrs\": ["),
        "indented by four: {}",
        a.text
    );
    let a = get(&s, "/by-name/testserver1").q("driver", "pool").send();
    assert_eq!(
        (a.status, a.json()),
        (
            409,
            json!("The driver for object \"testserver1\" is not \"pool\"")
        )
    );
    let a = get(&s, "/by-name/testserver1")
        .q("driver", "nondriver")
        .send();
    assert_eq!(
        (a.status, a.json()),
        (412, json!("The driver \"nondriver\" is not a valid driver"))
    );
    assert_eq!(
        get(&s, "/by-name/testserver1")
            .q("driver", "device")
            .send()
            .status,
        200,
        "a parent driver matches"
    );

    // /by-names
    let a = get(&s, "/by-names").send();
    assert_eq!(
        (a.status, a.json()),
        (412, json!("Provide at least one name to get data from"))
    );
    let a = get(&s, "/by-names").q("name", "nonserver").send();
    assert_eq!((a.status, a.json()), (404, json!([null])));
    let a = get(&s, "/by-names")
        .q("name", "testserver1")
        .q("name", "nonserver")
        .send();
    assert_eq!(
        (a.status, a.json()),
        (206, json!(["/basicserver/testserver1", null]))
    );
    let a = get(&s, "/by-names")
        .q("name", "testserver1")
        .q("name", "testserver2")
        .h("Clusto-Mode", "expanded")
        .send();
    assert_eq!(a.status, 200);
    assert_eq!(a.json()[0], testserver1());
    assert_eq!(a.json()[1]["parents"], json!(["/pool/multipool"]));

    // /by-attr
    let a = get(&s, "/by-attr").send();
    assert_eq!(
        (a.status, a.json()),
        (412, json!("Provide a key to use get_by_attr"))
    );
    let a = get(&s, "/by-attr").q("key", "nonkey").send();
    assert_eq!((a.status, a.json()), (200, json!([])));
    let a = get(&s, "/by-attr")
        .q("key", "key1")
        .q("subkey", "subkey1")
        .q("value", "value1")
        .send();
    assert_eq!(
        (a.status, a.json()),
        (200, json!(["/basicserver/testserver1"]))
    );
    let a = get(&s, "/by-attr")
        .q("key", "key1")
        .h("Clusto-Mode", "expanded")
        .send();
    assert_eq!(a.json().as_array().unwrap().len(), 2);
    assert_eq!(a.json()[0], testserver1());

    // /from-pools
    let a = get(&s, "/from-pools").send();
    assert_eq!(
        (a.status, a.json()),
        (412, json!("Provide at least one pool to get data from"))
    );
    let a = get(&s, "/from-pools")
        .q("pool", "emptypool")
        .h("Clusto-Page", "notanint")
        .send();
    assert_eq!(
        (a.status, a.json()),
        (
            400,
            json!("invalid literal for int() with base 10: 'notanint'")
        )
    );
    let a = get(&s, "/from-pools").q("pool", "emptypool").send();
    assert_eq!((a.status, a.json()), (200, json!([])));
    let a = get(&s, "/from-pools")
        .q("pool", "singlepool")
        .q("pool", "multipool")
        .send();
    assert_eq!(
        (a.status, a.json()),
        (200, json!(["/basicserver/testserver1"]))
    );
    let a = get(&s, "/from-pools")
        .q("pool", "multipool")
        .h("Clusto-Page", "1")
        .h("Clusto-Per-Page", "1")
        .send();
    assert_eq!(a.json(), json!(["/basicserver/testserver1"]));
    assert_eq!(
        (a.header("clusto-pages"), a.header("clusto-page")),
        (Some("2"), Some("1"))
    );
    let a = get(&s, "/from-pools")
        .q("pool", "multipool")
        .h("Clusto-Page", "100")
        .h("Clusto-Per-Page", "100")
        .send();
    assert_eq!(a.json(), json!([]));
    let a = get(&s, "/from-pools")
        .q("pool", "multipool")
        .h("Clusto-Minify", "True")
        .send();
    assert_eq!(
        a.text,
        r#"["/basicserver/testserver1", "/basicserver/testserver2"]"#
    );
    let a = get(&s, "/from-pools").q("pool", "nopool").send();
    assert_eq!(a.status, 404, "{}", a.text);
    let a = get(&s, "/from-pools")
        .q("pool", "multipool")
        .h("Clusto-Mode", "sideways")
        .send();
    assert_eq!(
        a.status, 409,
        "an unknown mode, as clusto-apiserver answered it"
    );
}

#[test]
fn entities_and_attributes_are_managed_as_clusto_apiserver_documents() {
    let site = Site::new();
    let s = site.serve();

    let a = get(&s, "/entity/clustometa").send();
    assert_eq!(
        (a.status, a.json()),
        (200, json!(["/clustometa/clustometa"]))
    );
    let a = get(&s, "/entity/nondriver").send();
    assert_eq!(
        (a.status, a.json()),
        (
            412,
            json!("The requested driver \"nondriver\" does not exist")
        )
    );

    // create: 201, then 202 with a Warnings header
    let a = post(&s, "/entity/pool").f("name", "createpool1").send();
    assert_eq!((a.status, a.json()), (201, json!(["/pool/createpool1"])));
    let a = post(&s, "/entity/pool")
        .f("name", "createpool1")
        .f("name", "createpool2")
        .send();
    assert_eq!(
        (a.status, a.json()),
        (202, json!(["/pool/createpool1", "/pool/createpool2"]))
    );
    assert_eq!(
        a.header("warnings"),
        Some("Entity(s) /pool/createpool1 already exist(s)")
    );
    let a = post(&s, "/entity/nondriver")
        .f("name", "createobject")
        .send();
    assert_eq!(
        (a.status, a.json()),
        (412, json!("Requested driver \"nondriver\" does not exist"))
    );
    assert_eq!(
        get(&s, "/entity").send().json().as_array().unwrap().len(),
        3
    );

    // show
    let a = get(&s, "/entity/pool/createpool1").send();
    assert_eq!(
        a.json(),
        json!({"attrs": [], "contents": [], "driver": "pool", "name": "createpool1", "parents": [], "type": "pool"})
    );
    let a = get(&s, "/entity/basicserver/createpool1").send();
    assert_eq!(
        (a.status, a.json()),
        (
            409,
            json!("The driver for object \"createpool1\" is not \"basicserver\"")
        )
    );

    // insert and remove
    post(&s, "/entity/basicserver")
        .f("name", "server2")
        .f("name", "server3")
        .send();
    let a = post(&s, "/entity/pool/createpool2")
        .f("device", "server2")
        .f("device", "server3")
        .f("action", "insert")
        .send();
    assert_eq!(
        a.json()["contents"],
        json!(["/basicserver/server2", "/basicserver/server3"])
    );
    let a = post(&s, "/entity/pool/createpool2")
        .f("device", "server2")
        .f("action", "remove")
        .send();
    assert_eq!(
        (a.status, a.json()["contents"].clone()),
        (200, json!(["/basicserver/server3"]))
    );
    let a = post(&s, "/entity/pool/createpool2")
        .f("device", "ghost")
        .f("action", "insert")
        .send();
    assert_eq!(a.status, 404, "{}", a.text);
    let a = post(&s, "/entity/pool/createpool2")
        .f("device", "server2")
        .send();
    assert_eq!(
        (a.status, a.json()),
        (400, json!("Parameter 'action' is required."))
    );

    // attributes
    let a = get(&s, "/attribute/server2").send();
    assert_eq!((a.status, a.json()), (200, json!([])));
    let a = get(&s, "/attribute/createpool1")
        .q("driver", "basicserver")
        .send();
    assert_eq!(a.status, 409);
    let a = post(&s, "/attribute/server2")
        .f("key", "group")
        .f("value", "web")
        .send();
    assert_eq!(
        (a.status, a.json()),
        (
            201,
            json!([{"datatype": "string", "key": "group", "number": null, "subkey": null, "value": "web"}])
        )
    );
    let a = post(&s, "/attribute/server2")
        .f("key", "group")
        .f("subkey", "id")
        .f("value", "6")
        .f("datatype", "int")
        .send();
    assert!(a.json().as_array().unwrap().contains(
        &json!({"datatype": "int", "key": "group", "number": null, "subkey": "id", "value": 6})
    ));
    let a = post(&s, "/attribute/server2")
        .f("key", "inception")
        .f("value", "/basicserver/server2")
        .f("datatype", "relation")
        .send();
    assert!(a.json().as_array().unwrap().contains(
        &json!({"datatype": "relation", "key": "inception", "number": null, "subkey": null, "value": "/basicserver/server2"})
    ));
    let a = post(&s, "/attribute/server2")
        .f("key", "birthday")
        .f("subkey", "jtcunning")
        .f("value", "1991-07-09T14:46:51.321435")
        .f("datatype", "datetime")
        .send();
    assert!(a.json().as_array().unwrap().contains(
        &json!({"datatype": "datetime", "key": "birthday", "number": null, "subkey": "jtcunning", "value": "1991-07-09T14:46:51.321435"})
    ));
    let a = post(&s, "/attribute/server2")
        .json_body(r#"[{"key":"group","subkey":"admin","value":"apache"},{"key":"group","subkey":"member","value":"webapp"}]"#)
        .send();
    assert_eq!(a.status, 201);
    let a = get(&s, "/attribute/server2/group").send();
    assert_eq!(a.json().as_array().unwrap().len(), 4, "{}", a.text);
    let a = get(&s, "/attribute/server2/group/admin").send();
    assert_eq!(a.json()[0]["value"], json!("apache"));

    // set replaces; delete leaves the rest
    let a = call(&s, Method::PUT, "/attribute/server3/group/owner")
        .token(TOKEN)
        .f("value", "joe")
        .send();
    assert_eq!(
        (a.status, a.json()),
        (
            200,
            json!([{"datatype": "string", "key": "group", "number": null, "subkey": "owner", "value": "joe"}])
        )
    );
    let a = call(&s, Method::PUT, "/attribute/server3/group/owner")
        .token(TOKEN)
        .f("value", "bob")
        .send();
    assert_eq!(
        a.json(),
        json!([{"datatype": "string", "key": "group", "number": null, "subkey": "owner", "value": "bob"}])
    );
    call(&s, Method::PUT, "/attribute/server3/group")
        .token(TOKEN)
        .f("value", "engineering")
        .send();
    let a = call(&s, Method::DELETE, "/attribute/server3/group/owner")
        .token(TOKEN)
        .send();
    assert_eq!(
        (a.status, a.json()),
        (
            200,
            json!([{"datatype": "string", "key": "group", "number": null, "subkey": null, "value": "engineering"}])
        )
    );

    // delete: 204, then 404
    let a = call(&s, Method::DELETE, "/entity/basicserver/server3")
        .token(TOKEN)
        .send();
    assert_eq!((a.status, a.text.as_str()), (204, ""));
    let a = call(&s, Method::DELETE, "/entity/basicserver/server3")
        .token(TOKEN)
        .send();
    assert_eq!(a.status, 404);
    let a = call(&s, Method::DELETE, "/entity/nondriver/server2")
        .token(TOKEN)
        .send();
    assert_eq!(a.status, 412);

    // every write recorded the token's name; the CLI sees the server's writes
    let history: Json =
        serde_json::from_str(&clusto_ok(site.dsn(), &["history", "--format", "json"])).unwrap();
    let users: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["user"].as_str())
        .collect();
    assert!(
        users.iter().filter(|u| **u == "alice").count() >= 10,
        "{users:?}"
    );
    assert!(clusto_ok(site.dsn(), &["info", "server2"]).contains("apache"));
}

#[test]
fn resource_managers_allocate_as_clusto_apiserver_documents() {
    let site = Site::new();
    let s = site.serve();
    let a = post(&s, "/resourcemanager/simplenamemanager")
        .f("name", "zmanager")
        .send();
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(
        (a.json()["count"].clone(), a.json()["type"].clone()),
        (json!(0), json!("resourcemanager"))
    );
    post(&s, "/resourcemanager/simpleentitynamemanager")
        .f("name", "testnames")
        .send();
    let a = get(&s, "/resourcemanager").send();
    assert_eq!(
        a.json(),
        json!([
            "/simplenamemanager/zmanager",
            "/simpleentitynamemanager/testnames"
        ]),
        "in the order they were made"
    );
    let a = get(&s, "/resourcemanager/simpleentitynamemanager").send();
    assert_eq!(a.json(), json!(["/simpleentitynamemanager/testnames"]));
    let a = get(&s, "/resourcemanager/notadriver").send();
    assert_eq!(
        (a.status, a.json()),
        (
            404,
            json!("Not a valid driver \"notadriver\" (driver name notadriver doesn't exist.)")
        )
    );
    let a = post(&s, "/resourcemanager/simplenamemanager")
        .f("name", "zmanager")
        .send();
    assert_eq!(a.status, 202);
    assert_eq!(
        a.header("warnings"),
        Some("Resource manager \"/simplenamemanager/zmanager\" already exists")
    );

    let a = get(&s, "/resourcemanager/simpleentitynamemanager/nonames").send();
    assert_eq!(
        (a.status, a.json()),
        (
            404,
            json!("Object \"nonames\" not found (nonames does not exist.)")
        )
    );
    let a = get(&s, "/resourcemanager/nomanager/testnames").send();
    assert_eq!(
        (a.status, a.json()),
        (412, json!("The driver \"nomanager\" is not a valid driver"))
    );
    post(&s, "/entity/basicserver")
        .f("name", "testserver1")
        .send();
    let a = get(&s, "/resourcemanager/basicserver/testserver1").send();
    assert_eq!(
        (a.status, a.json()),
        (
            409,
            json!("The object \"testserver1\" is not a resource manager")
        )
    );

    // names: a new entity per allocation; a given name is used as is
    let a = post(&s, "/resourcemanager/simpleentitynamemanager/testnames")
        .f("driver", "basicserver")
        .send();
    assert_eq!((a.status, a.json()), (201, json!("/basicserver/01")));
    let a = post(&s, "/resourcemanager/simpleentitynamemanager/testnames")
        .f("driver", "basicserver")
        .f("resource", "99")
        .send();
    assert_eq!((a.status, a.json()), (201, json!("/basicserver/99")));
    post(&s, "/resourcemanager/simpleentitynamemanager")
        .f("name", "names2")
        .f("basename", "a")
        .send();
    let a = post(&s, "/resourcemanager/simpleentitynamemanager/names2")
        .f("driver", "basicserver")
        .send();
    assert_eq!(a.json(), json!("/basicserver/a01"));
    let a = post(&s, "/resourcemanager/simpleentitynamemanager/testnames").send();
    assert_eq!(a.status, 404);

    // IPs: the attribute recording the allocation, then a deallocation
    let a = post(&s, "/resourcemanager/ipmanager")
        .f("name", "ipman2")
        .f("gateway", "192.168.1.1")
        .f("netmask", "255.255.255.0")
        .f("baseip", "192.168.1.10")
        .send();
    assert_eq!(a.status, 201);
    assert!(a.json()["attrs"].as_array().unwrap().contains(
        &json!({"datatype": "string", "key": "baseip", "number": null, "subkey": "property", "value": "192.168.1.10"})
    ));
    let a = post(&s, "/resourcemanager/ipmanager/ipman2")
        .f("object", "a01")
        .send();
    assert_eq!(
        (a.status, a.json()),
        (
            201,
            json!({"datatype": "int", "key": "ip", "number": 0, "subkey": null, "value": 1084752130})
        )
    );
    assert_eq!(
        get(&s, "/by-name/a01").send().json()["ips"],
        json!(["192.168.1.2"])
    );
    assert_eq!(
        get(&s, "/resourcemanager/ipmanager/ipman2").send().json()["count"],
        json!(1)
    );
    let a = call(&s, Method::DELETE, "/resourcemanager/ipmanager/ipman2")
        .token(TOKEN)
        .f("object", "a01")
        .send();
    assert_eq!(a.status, 204, "{}", a.text);
    assert_eq!(get(&s, "/by-name/a01").send().json()["ips"], json!([]));
    let a = call(&s, Method::DELETE, "/resourcemanager/ipmanager/ipman2")
        .token(TOKEN)
        .send();
    assert_eq!(a.status, 404);
}

#[test]
fn the_server_routes_of_clusto_apiserver_answer() {
    let site = Site::new();
    let s = Server::start(site.dsn(), &["--header", "Access-Control-Allow-Origin: *"]);
    let a = get(&s, "/__version__").send();
    assert_eq!(
        (a.status, a.json()),
        (200, json!(env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(a.header("access-control-allow-origin"), Some("*"));
    assert_eq!(call(&s, Method::HEAD, "/").send().status, 200);
    assert_eq!(get(&s, "/favicon.ico").send().status, 410);
    for path in ["/", "/entity/", "/attribute/who/knows/where"] {
        let a = call(&s, Method::OPTIONS, path).send();
        assert_eq!((a.status, a.text.as_str()), (204, ""), "{path}");
    }
    let a = get(&s, "/__meta__").send();
    assert_eq!(a.json()["/entity"], json!("clustoapi.apps.entity"));
    let a = get(&s, "/driverlist").send();
    assert_eq!(
        a.json()["basicserver"],
        json!("clusto.drivers.devices.servers.basicserver.BasicServer")
    );
    assert_eq!(
        a.json()["entity"],
        json!("clusto.drivers.base.driver.Driver")
    );
    let a = get(&s, "/typelist").send();
    assert_eq!(
        a.json()["pool"],
        json!("clusto.drivers.categories.pool.UniquePool")
    );
    assert_eq!(
        a.json()["server"],
        json!("clusto.drivers.devices.servers.basicserver.BasicVirtualServer")
    );
    let a = get(&s, "/__doc__").send();
    assert!(
        a.text.contains("/by-name/NAME")
            && a.header("content-type").unwrap().starts_with("text/plain")
    );
    let a = get(&s, "/no/such/route").send();
    assert_eq!(a.status, 404);
    assert!(a.json().as_str().unwrap().contains("/no/such/route"));
}

/// The original's `[apiserver]` section: `host` and `port` say where to listen when
/// `--listen` does not, and `response_headers` go on every response.
#[test]
fn the_config_files_apiserver_section_is_read() {
    let site = Site::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = site.db.with_file_name("clusto.conf");
    std::fs::write(
        &conf,
        format!(
            "[clusto]\ndsn = db\n[apiserver]\nhost = 127.0.0.1\nport = {port}\n\
             response_headers = X-Site:lab\n"
        ),
    )
    .unwrap();
    let s = Server::start_plain(site.dsn(), &["--config", conf.to_str().unwrap()]);
    assert_eq!(s.base, format!("http://127.0.0.1:{port}"));
    let a = get(&s, "/__version__").send();
    assert_eq!((a.status, a.header("x-site")), (200, Some("lab")));
}

#[test]
fn writes_need_a_valid_token_and_the_log_names_the_user_not_the_token() {
    let site = Site::new();
    let version = || clusto_ok(site.dsn(), &["history", "--format", "json"]);
    let before = version();

    // no token file: every write is 403, reads work
    let s = Server::start(site.dsn(), &[]);
    let a = post(&s, "/entity/pool").f("name", "p").send();
    assert_eq!(a.status, 403, "{}", a.text);
    assert!(a.json().as_str().unwrap().contains("--token-file"));
    assert_eq!(get(&s, "/entity").send().status, 200);
    let a = call(&s, Method::POST, "/api")
        .body_text(r#"{"op":"create","driver":"pool","name":"p"}"#)
        .send();
    assert_eq!(a.status, 403);
    assert_eq!(a.json()["ok"], json!(false));
    let a = call(&s, Method::POST, "/api")
        .body_text(r#"{"op":"version"}"#)
        .send();
    assert_eq!(
        (a.status, a.json()["ok"].clone()),
        (200, json!(true)),
        "reads need no token"
    );
    drop(s);

    // --read-only: refused even with a valid token
    let s = Server::start(
        site.dsn(),
        &["--read-only", "--token-file", site.tokens.to_str().unwrap()],
    );
    assert_eq!(post(&s, "/entity/pool").f("name", "p").send().status, 403);
    drop(s);

    // tokens: none, a wrong one, a malformed header are 401; a valid one writes as its name
    let s = site.serve();
    let a = call(&s, Method::POST, "/entity/pool").f("name", "p").send();
    assert_eq!(a.status, 401);
    assert_eq!(a.header("www-authenticate"), Some("Bearer"));
    assert_eq!(
        call(&s, Method::POST, "/entity/pool")
            .token("not-a-token-at-all")
            .f("name", "p")
            .send()
            .status,
        401
    );
    assert_eq!(
        call(&s, Method::POST, "/entity/pool")
            .h("Authorization", "Basic abc")
            .f("name", "p")
            .send()
            .status,
        401
    );
    assert_eq!(
        call(&s, Method::DELETE, "/entity/clustometa/clustometa")
            .send()
            .status,
        401
    );
    assert_eq!(version(), before, "no refused request changed anything");
    assert_eq!(
        call(&s, Method::POST, "/entity/pool")
            .token(OTHER_TOKEN)
            .f("name", "p")
            .send()
            .status,
        201
    );
    let a = call(&s, Method::POST, "/api")
        .token(OTHER_TOKEN)
        .body_text(r#"{"op":"attr_add","name":"p","key":"owner","value":"ops","user":"mallory"}"#)
        .send();
    assert_eq!(a.status, 200, "{}", a.text);
    let history: Json = serde_json::from_str(&version()).unwrap();
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["user"],
        json!("robot"),
        "the token's name, not the request's 'user'"
    );

    let log = s.log();
    assert!(
        log.contains("POST /entity/pool 201") && log.contains("user=robot"),
        "{log}"
    );
    assert!(
        log.contains("POST /entity/pool 401") && log.contains("user=-"),
        "{log}"
    );
    assert!(
        !log.contains(TOKEN) && !log.contains(OTHER_TOKEN) && !log.contains("not-a-token"),
        "{log}"
    );
}

impl Call<'_> {
    fn body_text(mut self, body: &str) -> Self {
        self.body = Some(body.into());
        self
    }
}

#[test]
fn malformed_requests_get_400_and_change_nothing() {
    let site = Site::new();
    let s = site.serve();
    post(&s, "/entity/basicserver").f("name", "s1").send();
    let before = clusto_ok(site.dsn(), &["history", "--format", "json"]);
    let cases: Vec<(&str, Call<'_>)> = vec![
        (
            "a page that is not a number",
            get(&s, "/from-pools").q("pool", "p").h("Clusto-Page", "x"),
        ),
        (
            "a per-page of zero",
            get(&s, "/entity")
                .h("Clusto-Page", "1")
                .h("Clusto-Per-Page", "0"),
        ),
        (
            "an unknown list parameter",
            get(&s, "/entity").q("colour", "red"),
        ),
        (
            "an unknown datatype",
            post(&s, "/attribute/s1")
                .f("key", "k")
                .f("value", "v")
                .f("datatype", "float"),
        ),
        (
            "an int that is not one",
            post(&s, "/attribute/s1")
                .f("key", "k")
                .f("value", "six")
                .f("datatype", "int"),
        ),
        (
            "a datetime that is not one",
            post(&s, "/attribute/s1")
                .f("key", "k")
                .f("value", "noon")
                .f("datatype", "datetime"),
        ),
        (
            "a relation that is not /driver/name",
            post(&s, "/attribute/s1")
                .f("key", "k")
                .f("value", "s1")
                .f("datatype", "relation"),
        ),
        (
            "bad JSON",
            post(&s, "/attribute/s1").json_body("[{\"key\": "),
        ),
        (
            "JSON of the wrong shape",
            post(&s, "/attribute/s1").json_body("42"),
        ),
        (
            "JSON with query parameters",
            post(&s, "/attribute/s1")
                .q("key", "k")
                .json_body(r#"{"key":"k","value":"v"}"#),
        ),
        (
            "two values for one part",
            post(&s, "/attribute/s1/k/sub")
                .f("subkey", "other")
                .f("value", "v"),
        ),
        (
            "a number that is not one",
            post(&s, "/attribute/s1/k/sub/x").f("value", "v"),
        ),
        (
            "a bad key",
            post(&s, "/attribute/s1")
                .f("key", "bad key!")
                .f("value", "v"),
        ),
        (
            "an unknown action",
            post(&s, "/entity/basicserver/s1")
                .f("action", "squash")
                .f("device", "s1"),
        ),
        (
            "a request that is not JSON",
            post(&s, "/api").body_text("op=version"),
        ),
        (
            "an unknown op",
            post(&s, "/api").body_text(r#"{"op":"explode"}"#),
        ),
        (
            "a version that is not one",
            get(&s, "/diff").q("from", "yesterday"),
        ),
        ("a future version", get(&s, "/diff").q("from", "999999")),
    ];
    for (what, request) in cases {
        let a = request.send();
        assert_eq!(a.status, 400, "{what}: {}", a.text);
        let message = if a.json().is_object() {
            a.json()["error"]["message"].as_str().unwrap().to_owned()
        } else {
            a.json()
                .as_str()
                .unwrap_or_else(|| panic!("{what}: {}", a.text))
                .to_owned()
        };
        assert!(!message.is_empty(), "{what}");
    }
    let big = "x".repeat(2 << 20);
    let a = post(&s, "/attribute/s1")
        .f("key", "k")
        .f("value", &big)
        .send();
    assert_eq!(a.status, 413, "a body over --max-body-kib");
    let a = post(&s, "/attribute/s1").f("key", "k").send();
    assert_eq!(a.status, 412);
    let a = post(&s, "/entity/basicserver")
        .f("name", "bad\tname")
        .send();
    assert_eq!(a.status, 400, "{}", a.text);
    assert_eq!(
        clusto_ok(site.dsn(), &["history", "--format", "json"]),
        before
    );
}

#[test]
fn rule_refusals_are_409_and_change_nothing() {
    let site = Site::new();
    let s = site.serve();
    let a = post(&s, "/api")
        .body_text(
            r#"{"op":"batch","ops":[
                {"op":"create","driver":"basicrack","name":"r1"},
                {"op":"create","driver":"basicserver","name":"s1"},
                {"op":"create","driver":"basicserver","name":"s2"},
                {"op":"create","driver":"exclusive_pool","name":"only"},
                {"op":"create","driver":"pool","name":"other"},
                {"op":"rack_insert","rack":"r1","device":"s1","units":[3]},
                {"op":"insert","container":"only","thing":"s2"}]}"#,
        )
        .send();
    assert_eq!(a.status, 200, "{}", a.text);
    let before = clusto_ok(site.dsn(), &["history", "--format", "json"]);
    let a = post(&s, "/api")
        .body_text(r#"{"op":"rack_insert","rack":"r1","device":"s2","units":[3]}"#)
        .send();
    assert_eq!(
        (a.status, a.json()["error"]["code"].clone()),
        (409, json!("CONFLICT")),
        "{}",
        a.text
    );
    let a = post(&s, "/entity/pool/other")
        .f("device", "s2")
        .f("action", "insert")
        .send();
    assert_eq!(
        a.status, 409,
        "an exclusive pool's member goes nowhere else: {}",
        a.text
    );
    let a = post(&s, "/api")
        .body_text(r#"{"op":"batch","ops":[{"op":"create","driver":"pool","name":"p9"},{"op":"create","driver":"pool","name":"p9"}]}"#)
        .send();
    assert_eq!(a.status, 409, "{}", a.text);
    assert_eq!(
        get(&s, "/by-name/p9").send().status,
        404,
        "a failed batch leaves nothing"
    );
    assert_eq!(
        clusto_ok(site.dsn(), &["history", "--format", "json"]),
        before
    );
    let svg = get(&s, "/rack/r1.svg").send();
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    assert!(svg.text.contains(">s1</text>"));
    assert_eq!(get(&s, "/rack/nothere.svg").send().status, 404);
}

#[test]
fn history_diff_and_the_watch_stream_follow_commits_of_other_processes() {
    let site = Site::new();
    let s = site.serve();
    assert_eq!(get(&s, "/api").send().status, 405, "POST only");
    let v0 = call(&s, Method::POST, "/api")
        .body_text(r#"{"op":"version"}"#)
        .send()
        .json()["result"]
        .as_u64()
        .unwrap();

    // a watcher from now on
    let url = s.url("/watch");
    let watcher = std::thread::spawn(move || {
        let client = Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let mut response = client.get(url).send().unwrap();
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let mut seen = String::new();
        let mut buffer = [0u8; 4096];
        while seen.matches("event: version").count() < 2 {
            let n = response.read(&mut buffer).unwrap();
            assert!(n > 0, "the stream ended early: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
        seen
    });
    std::thread::sleep(Duration::from_millis(300));
    clusto_ok(site.dsn(), &["create", "pool", "web"]);
    clusto_ok(
        site.dsn(),
        &["attr", "add", "web", "-k", "owner", "-v", "ops"],
    );
    let seen = watcher.join().unwrap();
    assert!(
        seen.contains(&format!("id: {}", v0 + 1)) && seen.contains(&format!("id: {}", v0 + 2)),
        "{seen}"
    );
    assert!(
        seen.contains(r#""entity":"web""#) && seen.contains(r#""user":"tester""#),
        "{seen}"
    );

    let a = get(&s, "/history").q("name", "web").send();
    assert_eq!(a.json().as_array().unwrap().len(), 2, "{}", a.text);
    let a = get(&s, "/diff").q("from", &v0.to_string()).send();
    assert_eq!(a.json()["entities"][0]["name"], json!("web"));
    assert_eq!(a.json()["entities"][0]["kind"], json!("created"));
    assert_eq!(get(&s, "/diff").send().status, 412);

    // `since` replays what came after it
    let url = s.url(&format!("/watch?since={v0}"));
    let mut response = Client::new().get(url).send().unwrap();
    let mut seen = String::new();
    let mut buffer = [0u8; 4096];
    while seen.matches("event: version").count() < 2 {
        let n = response.read(&mut buffer).unwrap();
        assert!(n > 0);
        seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }

    // SIGTERM ends open streams and the server, with status 0
    let status = s.terminate();
    assert!(status.success(), "{status:?}");
    let mut rest = Vec::new();
    let _ = response.read_to_end(&mut rest);
}

/// 8 clients for a bounded time, mixing reads and IP allocations: no address is given
/// twice, every allocation acknowledged is in the database, and `check` is clean.
#[test]
fn concurrent_clients_never_get_one_address_twice() {
    let site = Site::new();
    let s = Arc::new(site.serve());
    let a = post(&s, "/resourcemanager/ipmanager")
        .f("name", "net")
        .f("baseip", "10.1.0.0")
        .f("netmask", "255.255.0.0")
        .send();
    assert_eq!(a.status, 201);
    let deadline = Instant::now() + Duration::from_secs(3);
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let s = s.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                let mut i = 0;
                while Instant::now() < deadline {
                    let name = format!("w{w}-{i}");
                    let a = post(&s, "/entity/basicserver").f("name", &name).send();
                    assert_eq!(a.status, 201, "{}", a.text);
                    let a = post(&s, "/resourcemanager/ipmanager/net")
                        .f("object", &name)
                        .send();
                    assert_eq!(a.status, 201, "{}", a.text);
                    got.push((name.clone(), a.json()["value"].as_i64().unwrap()));
                    let a = get(&s, &format!("/by-name/{name}")).send();
                    assert_eq!(a.status, 200);
                    assert_eq!(a.json()["ips"].as_array().unwrap().len(), 1);
                    i += 1;
                }
                got
            })
        })
        .collect();
    let mut all: Vec<(String, i64)> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert!(all.len() >= 16, "each client did some work: {}", all.len());
    let count = all.len();
    all.sort_by_key(|(_, ip)| *ip);
    all.dedup_by_key(|(_, ip)| *ip);
    assert_eq!(all.len(), count, "an address was given twice");
    let a = get(&s, "/resourcemanager/ipmanager/net").send();
    assert_eq!(a.json()["count"], json!(count));
    let a = call(&s, Method::POST, "/api")
        .body_text(r#"{"op":"check"}"#)
        .send();
    assert_eq!(a.json()["result"]["clean"], json!(true), "{}", a.text);
    eprintln!("{count} allocations by 8 clients in 3 s");
}

/// Two servers on one PostgreSQL inventory (as on two hosts): what one writes, the
/// other serves at once.
#[test]
fn two_servers_share_one_postgresql_inventory() {
    let Ok(dsn) = std::env::var("CLUSTO_TEST_POSTGRES_DSN") else {
        eprintln!("skipped: CLUSTO_TEST_POSTGRES_DSN is not set (make test sets it)");
        return;
    };
    let schema = format!("serve_{}", std::process::id());
    let sep = if dsn.contains('?') { '&' } else { '?' };
    let dsn = format!("{dsn}{sep}schema={schema}");
    clusto_ok(&dsn, &["initdb"]);
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, format!("alice {TOKEN}\n")).unwrap();
    let token_file = tokens.to_str().unwrap();
    let a = Server::start(&dsn, &["--token-file", token_file]);
    let b = Server::start(&dsn, &["--token-file", token_file]);
    assert_eq!(
        post(&a, "/entity/pool").f("name", "common").send().status,
        201
    );
    assert_eq!(
        get(&b, "/by-name/common").send().json()["driver"],
        json!("pool")
    );
    assert_eq!(
        post(&b, "/attribute/common")
            .f("key", "owner")
            .f("value", "b")
            .send()
            .status,
        201
    );
    assert_eq!(
        get(&a, "/attribute/common/owner").send().json()[0]["value"],
        json!("b")
    );
    assert!(clusto_ok(&dsn, &["info", "common"]).contains("owner"));
}
