"""The type stubs of the native module name exactly what it has: a function or method
added in Rust without its stub (or a stub left behind) fails here."""

import ast
import inspect
import pathlib

import clusto._clusto as native

STUBS = pathlib.Path(__file__).resolve().parents[1] / "python" / "clusto" / "_clusto.pyi"


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
