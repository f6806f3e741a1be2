//! The server's own routes: version, mounts, driver and type lists, docs, OPTIONS.

use std::collections::BTreeMap;

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use clusto_core::drivers::{self, DriverSpec};
use serde_json::json;

use crate::reply::{Outcome, Reply};

/// `HEAD /`, `GET /__version__` (and `/version`): the server's version as a JSON string.
pub(crate) async fn version() -> Outcome {
    Ok(Reply::ok(json!(env!("CARGO_PKG_VERSION"))))
}

/// `GET /__meta__` (and `/meta`): the mounted applications, by mount point.
pub(crate) async fn mounts() -> Outcome {
    Ok(Reply::ok(json!({
        "/attribute": "clustoapi.apps.attribute",
        "/entity": "clustoapi.apps.entity",
        "/resourcemanager": "clustoapi.apps.resourcemanager",
    })))
}

/// `GET /favicon.ico`: 410, so browsers stop asking.
pub(crate) async fn favicon() -> StatusCode {
    StatusCode::GONE
}

/// `OPTIONS` anywhere: 204 with no content, as clusto-apiserver answered it.
pub(crate) async fn answer_options(request: Request, next: Next) -> Response {
    if request.method() == Method::OPTIONS {
        return StatusCode::NO_CONTENT.into_response();
    }
    next.run(request).await
}

/// `GET /` and `/__doc__`: the routes, as plain text.
pub(crate) async fn docs() -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], DOCS).into_response()
}

const DOCS: &str = "\
clusto serve: the clusto HTTP API (the routes of clusto-apiserver, and more)

GET    /by-name/NAME[?driver=D]          one entity (expanded unless Clusto-Mode: compact)
GET    /by-names?name=A&name=B           several entities; 206 when some are missing
GET    /by-attr?key=K[&subkey=S&value=V] entities with a matching attribute
GET    /from-pools?pool=P[&pool=Q&type=T&driver=D&children=false]
GET    /entity[/DRIVER]                  entities, all or of one driver
POST   /entity/DRIVER  name=N...         create (201; 202 with Warnings when some existed)
GET    /entity/DRIVER/NAME               show
POST   /entity/DRIVER/NAME action=insert|remove&device=D...
DELETE /entity/DRIVER/NAME               delete (204)
GET    /attribute/NAME[/KEY[/SUBKEY[/NUMBER]]]
POST   /attribute/NAME[/KEY/SUBKEY[/NUMBER]] key=K&value=V[&subkey&number&datatype&mask], or JSON
PUT    /attribute/NAME/KEY[/SUBKEY[/NUMBER]] value=V   set
DELETE /attribute/NAME/KEY[/SUBKEY[/NUMBER]]           delete
GET    /resourcemanager[/DRIVER]         resource managers
POST   /resourcemanager/DRIVER name=N[&property=value...]
GET    /resourcemanager/DRIVER/NAME      show
POST   /resourcemanager/DRIVER/NAME driver=D | object=O [&resource=R]   allocate
DELETE /resourcemanager/DRIVER/NAME object=O [&resource=R]              deallocate
GET    /driverlist, /typelist, /__version__, /__meta__
POST   /api                              the JSON protocol (one operation or a batch)
GET    /history[?name=N&user=U&from=V&to=V]
GET    /diff?from=V[&to=V&name=N...]
GET    /watch[?since=V]                  the change feed, as Server-Sent Events
GET    /rack/NAME.svg                    a rack's elevation

Headers: Clusto-Mode: compact|expanded, Clusto-Page, Clusto-Per-Page, Clusto-Minify: true.
Writes need 'Authorization: Bearer TOKEN' (a token of the server's --token-file).
";

/// The Python class path the original gave a driver.
fn class_path(spec: &DriverSpec) -> String {
    let known = match spec.name.as_str() {
        "entity" => "clusto.drivers.base.driver.Driver",
        "device" => "clusto.drivers.base.device.Device",
        "location" => "clusto.drivers.base.location.Location",
        "resourcemanager" => "clusto.drivers.base.resourcemanager.ResourceManager",
        "clustometa" => "clusto.drivers.base.clustometa.ClustoMeta",
        "pool" => "clusto.drivers.categories.pool.Pool",
        "exclusive_pool" => "clusto.drivers.categories.pool.ExclusivePool",
        "unique_pool" => "clusto.drivers.categories.pool.UniquePool",
        "basicserver" => "clusto.drivers.devices.servers.basicserver.BasicServer",
        "basicvirtualserver" => "clusto.drivers.devices.servers.basicserver.BasicVirtualServer",
        "basicnetworkswitch" => {
            "clusto.drivers.devices.networkswitches.basicnetworkswitch.BasicNetworkSwitch"
        }
        "basicpowerstrip" => "clusto.drivers.devices.powerstrips.basicpowerstrip.BasicPowerStrip",
        "basicconsoleserver" => {
            "clusto.drivers.devices.consoleservers.basicconsoleserver.BasicConsoleServer"
        }
        "basicappliance" => "clusto.drivers.devices.appliance.basicappliance.BasicAppliance",
        "basicfirewall" => "clusto.drivers.devices.appliance.basicappliance.BasicFirewall",
        "basicloadbalancer" => "clusto.drivers.devices.appliance.basicappliance.BasicLoadBalancer",
        "basicdatacenter" => "clusto.drivers.locations.datacenters.basicdatacenter.BasicDatacenter",
        "basiccage" => "clusto.drivers.locations.datacenters.basiccage.BasicCage",
        "basicrack" => "clusto.drivers.locations.racks.basicrack.BasicRack",
        "basiczone" => "clusto.drivers.locations.zones.basiczone.BasicZone",
        "ipmanager" => "clusto.drivers.resourcemanagers.ipmanager.IPManager",
        "simplenamemanager" => {
            "clusto.drivers.resourcemanagers.simplenamemanager.SimpleNameManager"
        }
        "simpleentitynamemanager" => {
            "clusto.drivers.resourcemanagers.simplenamemanager.SimpleEntityNameManager"
        }
        "simplenummanager" => "clusto.drivers.resourcemanagers.simplenummanager.SimpleNumManager",
        other => return format!("clusto.drivers.{other}"),
    };
    known.to_owned()
}

/// `GET /driverlist`: every driver name with its class path.
pub(crate) async fn driverlist() -> Outcome {
    let list: BTreeMap<String, String> = drivers::all()
        .iter()
        .map(|s| (s.name.clone(), class_path(s)))
        .collect();
    Ok(Reply::ok(json!(list)))
}

/// Where several drivers share a type, the one the original's typelist names (the last
/// it registered).
const TYPE_DRIVERS: [(&str, &str); 4] = [
    ("generic", "device"),
    ("pool", "unique_pool"),
    ("resourcemanager", "ipmanager"),
    ("server", "basicvirtualserver"),
];

/// `GET /typelist`: each type with the class path of its driver.
pub(crate) async fn typelist() -> Outcome {
    let mut list: BTreeMap<String, String> = BTreeMap::new();
    for spec in drivers::all() {
        let preferred = TYPE_DRIVERS
            .iter()
            .find(|(t, _)| *t == spec.type_name)
            .map(|(_, d)| *d);
        if preferred.is_none_or(|d| d == spec.name) {
            list.insert(spec.type_name.clone(), class_path(&spec));
        }
    }
    Ok(Reply::ok(json!(list)))
}
