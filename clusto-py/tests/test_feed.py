"""The change feed, diff, revert and restore from Python; a watcher in another process."""

import subprocess
import sys
import textwrap

import pytest

import clusto
from clusto.drivers import BasicServer, Pool


def test_changes_diff_revert_restore(db):
    start = clusto.get_latest_version_number()
    s1 = BasicServer("s1")
    s1.add_attr("owner", "alice")
    pool = Pool("web")
    pool.insert(s1)
    feed = clusto.feed(start)
    latest = clusto.get_latest_version_number()
    assert [e["version"] for e in feed] == list(range(start + 1, latest + 1))
    assert feed[0]["changes"][0] == {"entity": "s1", "type": "server", "kind": "entity_created", "change": "created"}
    assert clusto.feed(start, key="owner")[0]["changes"][0]["change"]["added"]["value"] == "alice"
    added = [c["change"]["added"] for c in clusto.feed(start, entity="web")[-1]["changes"] if "added" in c["change"]]
    assert added[0]["value"] == {"relation": "s1"}

    before = clusto.get_latest_version_number()
    s1.set_attr("owner", "bob")
    clusto.delete_entity(pool)
    d = clusto.diff(before)
    by = {e["name"]: e for e in d["entities"]}
    assert by["web"]["kind"] == "deleted"
    assert by["s1"]["changed"][0]["before"]["value"] == "alice"
    assert by["s1"]["changed"][0]["after"]["value"] == "bob"
    assert clusto.diff(before, names=["web"])["entities"][0]["name"] == "web"

    deleted = clusto.get_latest_version_number()
    clusto.revert(deleted)
    assert [m.name for m in clusto.get_by_name("web").contents()] == ["s1"]
    s1.set_attr("owner", "carol")
    with pytest.raises(clusto.ConflictException, match="later versions"):
        clusto.revert(before + 1)  # alice -> bob, overwritten since by carol
    clusto.restore(["s1"], before)
    assert clusto.get_by_name("s1").attr_value("owner") == "alice"
    with pytest.raises(LookupError):
        clusto.revert(10**9)
    assert clusto.check() == []


WATCHER = textwrap.dedent(
    """
    import sys
    import clusto
    clusto.connect(sys.argv[1])
    print("ready", flush=True)
    for entry in clusto.watch(timeout=20):
        print("saw", entry["version"], entry["changes"][0]["entity"], flush=True)
        break
    """
)


def test_a_watcher_in_another_process_sees_a_commit(db):
    watcher = subprocess.Popen(
        [sys.executable, "-c", WATCHER, str(db)], stdout=subprocess.PIPE, text=True
    )
    assert watcher.stdout.readline().strip() == "ready"
    BasicServer("late")
    out, _ = watcher.communicate(timeout=60)
    assert watcher.returncode == 0
    assert out.strip() == "saw %d late" % clusto.get_latest_version_number()


def test_watch_ends_after_a_quiet_timeout(db):
    assert list(clusto.watch(timeout=0.1)) == []


def test_changes_and_the_feed_name_kinds_alike(db):
    """clusto.changes(version) and the JSON feed take the kind of a change from the core,
    and a counter's detail is its value, not Rust's Debug text."""
    from clusto.schema import Counter

    start = clusto.get_latest_version_number()
    s1 = BasicServer("s1")
    s1.add_attr("owner", "alice")
    hits = Counter(s1.entity, "hits", start=3)
    hits.next()
    hits.delete()
    latest = clusto.get_latest_version_number()
    for version in range(start + 1, latest + 1):
        (entry,) = clusto.feed(version - 1, limit=1)
        assert [c["kind"] for c in clusto.changes(version)] == [c["kind"] for c in entry["changes"]]
    details = [c["detail"] for v in range(start + 1, latest + 1) for c in clusto.changes(v) if c["kind"] == "counter_set"]
    assert details and "Some(" not in "".join(details), details
    assert details[-1] == "hits deleted"
