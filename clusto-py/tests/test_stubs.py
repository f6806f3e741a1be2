"""The type stubs of the native module name exactly what it has: a function or method
added in Rust without its stub (or a stub left behind) fails here."""

import ast
import inspect
import pathlib

import clusto._clusto as native

STUBS = pathlib.Path(__file__).resolve().parents[1] / "python" / "clusto" / "_clusto.pyi"


fields = {}


def _stubbed():
    tree = ast.parse(STUBS.read_text())
    top, classes = set(), {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            top.add(node.name)
        elif isinstance(node, ast.ClassDef):
            top.add(node.name)
            classes[node.name] = {
                n.name for n in node.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("__")
            }
            fields[node.name] = {
                n.target.id for n in node.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
            }
    return top, classes


def _public(obj):
    return {n for n in dir(obj) if not n.startswith("_")}


def test_every_native_name_has_a_stub_and_every_stub_a_name():
    top, classes = _stubbed()
    missing = _public(native) - top
    extra = {n for n in top if not hasattr(native, n)}
    assert not missing and not extra, (missing, extra)
    for name, methods in classes.items():
        cls = getattr(native, name)
        have = {n for n in _public(cls) if callable(getattr(cls, n)) or inspect.isroutine(getattr(cls, n))}
        assert methods == have, (name, "not stubbed:", sorted(have - methods), "stale:", sorted(methods - have))


def test_every_native_field_is_stubbed():
    """The rows' named fields (and the markers') are in the stubs, and no stale one."""
    _stubbed()
    for name, stubbed in fields.items():
        cls = getattr(native, name)
        have = {n for n in _public(cls) if inspect.isdatadescriptor(getattr(cls, n))}
        assert stubbed == have, (name, "not stubbed:", sorted(have - stubbed), "stale:", sorted(stubbed - have))


def test_rows_come_back_with_named_fields(db):
    """The native layer hands over named rows, not positional tuples."""
    import clusto
    from clusto.drivers import BasicServer

    server = BasicServer("named1")
    server.add_attr("owner", "alice", subkey="team", number=2)
    row = clusto.SESSION.db.find("named1")
    assert not isinstance(row, tuple)
    assert (row.name, row.type, row.driver, row.deleted_at) == ("named1", "server", "basicserver", None)
    assert row.id == server.entity.entity_id and "named1" in repr(row)
    (attr,) = [a for a in clusto.SESSION.db.attrs(row.id, clusto.drivers.base.make_filter(key="owner"))]
    assert (attr.key, attr.subkey, attr.number, attr.value, attr.entity_id) == ("owner", "team", 2, "alice", row.id)
    (version,) = clusto.SESSION.db.versions(row.version, row.version)
    assert version.version == row.version and version.timestamp > 0


def test_a_driver_spec_names_its_fields_and_its_behaviour():
    """driver_spec gives named fields and the core's behaviour name (it gave a tuple with
    Rust Debug text)."""
    spec = native.driver_spec("ipmanager")
    assert spec["type"] == "resourcemanager" and spec["behaviour"] == "ip_manager"
    assert any(name == "baseip" for name, _ in spec["properties"])
    assert native.driver_spec("basicserver")["ports"]
