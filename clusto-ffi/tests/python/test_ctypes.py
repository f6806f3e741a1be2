"""libclusto.so from a second language: Python's ctypes, through the JSON entry point
and a few struct functions. CLUSTO_LIB names the library (make test-c sets it)."""

import ctypes
import json
import subprocess
import os

import pytest

LIB_PATH = os.environ.get("CLUSTO_LIB")
pytestmark = pytest.mark.skipif(not LIB_PATH, reason="CLUSTO_LIB is not set (run through make test-c)")


@pytest.fixture
def lib():
    lib = ctypes.CDLL(LIB_PATH)
    lib.clusto_open.argtypes = [ctypes.c_char_p, ctypes.c_uint64, ctypes.POINTER(ctypes.c_void_p)]
    lib.clusto_close.argtypes = [ctypes.c_void_p]
    lib.clusto_json.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.clusto_string_free.argtypes = [ctypes.c_void_p]
    lib.clusto_last_error.restype = ctypes.c_char_p
    lib.clusto_version.restype = ctypes.c_char_p
    lib.clusto_exists.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_bool)]
    return lib


@pytest.fixture
def db(lib, tmp_path):
    handle = ctypes.c_void_p()
    assert lib.clusto_open(str(tmp_path / "db").encode(), 0, ctypes.byref(handle)) == 0
    yield handle
    lib.clusto_close(handle)


def call(lib, db, request):
    out = ctypes.c_void_p()
    status = lib.clusto_json(db, json.dumps(request).encode(), ctypes.byref(out))
    response = json.loads(ctypes.string_at(out.value).decode())
    lib.clusto_string_free(out)
    return status, response


def test_json_round_trip(lib, db):
    assert lib.clusto_version().decode()
    status, r = call(lib, db, {"op": "batch", "user": "py", "ops": [
        {"op": "init"},
        {"op": "create", "driver": "basicserver", "name": "s1"},
        {"op": "create", "driver": "pool", "name": "web"},
        {"op": "insert", "container": "web", "thing": "s1"},
        {"op": "attr_add", "name": "s1", "key": "tags", "value": ["a", "ü"]},
        {"op": "attr_add", "name": "s1", "key": "peer", "value": {"relation": "web"}},
    ]})
    assert status == 0 and r["ok"], r
    status, r = call(lib, db, {"op": "get", "name": "s1"})
    values = {a["key"]: a["value"] for a in r["result"]["attrs"]}
    assert values == {"tags": ["a", "ü"], "peer": {"relation": "web"}}
    status, r = call(lib, db, {"op": "history", "user": "py"})
    assert [v["user"] for v in r["result"]] == ["py"]
    exists = ctypes.c_bool()
    assert lib.clusto_exists(db, None, b"s1", ctypes.byref(exists)) == 0 and exists.value


def test_errors_come_back_as_codes(lib, db):
    status, r = call(lib, db, {"op": "get", "name": "nope"})
    assert status == 1 and r["error"]["code"] == "NOT_FOUND"
    assert b"nope" in lib.clusto_last_error()
    assert lib.clusto_exists(db, None, None, None) == 3
    assert b"NULL" in lib.clusto_last_error()


def test_a_value_read_and_written_back_keeps_its_type(lib, db):
    """Every datatype: what `attrs` gives (datatype and value), written back with
    `attr_set`, reads the same (a datetime came back a string)."""
    status, r = call(lib, db, {"op": "batch", "ops": [
        {"op": "create", "driver": "basicserver", "name": "t1"},
        {"op": "create", "driver": "pool", "name": "p1"},
        {"op": "attr_add", "name": "t1", "key": "born", "value": {"datetime": "2024-05-06T07:08:09"}},
        {"op": "attr_add", "name": "t1", "key": "cpus", "value": 8},
        {"op": "attr_add", "name": "t1", "key": "note", "value": "hi"},
        {"op": "attr_add", "name": "t1", "key": "none", "value": None},
        {"op": "attr_add", "name": "t1", "key": "peer", "value": {"relation": "p1"}},
        {"op": "attr_add", "name": "t1", "key": "facts", "value": {"a": [1, 2]}},
    ]})
    assert status == 0, r
    _, before = call(lib, db, {"op": "attrs", "name": "t1"})
    for a in before["result"]:
        status, r = call(lib, db, {"op": "attr_set", "name": "t1", "key": a["key"],
                                   "value": a["value"], "datatype": a["datatype"]})
        assert status == 0, r
    _, after = call(lib, db, {"op": "attrs", "name": "t1"})
    def shape(attrs):
        return sorted((a["key"], a["datatype"], json.dumps(a["value"])) for a in attrs)

    assert shape(after["result"]) == shape(before["result"])
    assert ("born", "datetime", '"2024-05-06T07:08:09"') in shape(after["result"])
    status, r = call(lib, db, {"op": "attr_set", "name": "t1", "key": "cpus", "value": "many", "datatype": "int"})
    assert status == 3 and "not an integer" in r["error"]["message"], r


def library_threads():
    names = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open("/proc/self/task/%s/comm" % task) as comm:
                names.append(comm.read().strip())
        except FileNotFoundError:
            continue
    return [n for n in names if n.startswith("clusto-")]


def test_closing_a_postgresql_handle_stops_its_thread(lib):
    """The connection pool's thread runs while the database is open and is gone when
    clusto_close returns, not some time later."""
    server = os.environ.get("CLUSTO_TEST_POSTGRES_DSN")
    if not server:
        pytest.fail("CLUSTO_TEST_POSTGRES_DSN is not set: run through make test-c")
    dsn = "%s?schema=threads_%d" % (server, os.getpid())
    subprocess.run([os.environ["CLUSTO_BIN"], "--dsn", dsn, "initdb"], check=True, capture_output=True)
    for _ in range(3):
        handle = ctypes.c_void_p()
        assert lib.clusto_open(dsn.encode(), 0, ctypes.byref(handle)) == 0, lib.clusto_last_error()
        exists = ctypes.c_bool(True)
        assert lib.clusto_exists(handle, None, b"nothing-here", ctypes.byref(exists)) == 0
        assert not exists.value
        assert library_threads() == ["clusto-pg-pool"]
        lib.clusto_close(handle)
        assert library_threads() == []
