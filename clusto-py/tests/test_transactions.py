import threading

import pytest

import clusto
from clusto.drivers import BasicServer, Pool


def test_each_call_is_one_version(db):
    v = clusto.get_latest_version_number()
    BasicServer("s1")
    assert clusto.get_latest_version_number() == v + 1
    clusto.get_by_name("s1").attrs()
    assert clusto.get_latest_version_number() == v + 1, "reads make no version"


def test_commit_stats_count_the_commits_and_their_time(db):
    commits, seconds = clusto.commit_stats()
    s = BasicServer("s1")
    s.add_attr("a", 1)
    s.attrs()
    s.set_attr("a", 1)
    after, after_seconds = clusto.commit_stats()
    assert after == commits + 2, "two writes commit, a read and a write that changes nothing do not"
    assert after_seconds > seconds


def test_explicit_transaction_is_one_version_and_reads_its_writes(db):
    v = clusto.get_latest_version_number()
    clusto.begin_transaction()
    s = BasicServer("s1")
    s.add_attr("a", 1)
    assert clusto.get_by_name("s1").attr_values("a") == [1]
    clusto.begin_transaction()
    Pool("p").insert(s)
    clusto.commit()
    assert clusto.get_latest_version_number() == v, "nothing lands before the outer commit"
    clusto.commit()
    assert clusto.get_latest_version_number() == v + 1


def test_rollback_leaves_no_trace(db):
    clusto.begin_transaction()
    BasicServer("ghost")
    clusto.rollback_transaction()
    with pytest.raises(LookupError):
        clusto.get_by_name("ghost")
    with pytest.raises(clusto.TransactionException, match="no transaction started"):
        clusto.rollback_transaction()
    with pytest.raises(clusto.TransactionException):
        clusto.commit()


def test_inner_rollback_kills_the_outer_levels(db):
    clusto.begin_transaction()
    BasicServer("a")
    clusto.begin_transaction()
    clusto.rollback_transaction()
    with pytest.raises(clusto.TransactionException):
        BasicServer("b")
    with pytest.raises(clusto.TransactionException, match="rolled back"):
        clusto.commit()
    clusto.begin_transaction()
    BasicServer("c")
    clusto.commit()
    assert clusto.get_by_names(["a", "b", "c"])[2] is not None
    assert clusto.get_by_names(["a", "b"]) == [None, None]


def test_with_transaction(db):
    with clusto.transaction(user="alice", description="two servers"):
        BasicServer("s1")
        BasicServer("s2")
    last = clusto.history()[-1]
    assert (last["user"], last["description"]) == ("alice", "two servers")
    with pytest.raises(RuntimeError):
        with clusto.transaction():
            BasicServer("s3")
            raise RuntimeError("boom")
    with pytest.raises(LookupError):
        clusto.get_by_name("s3")


def test_session_user_and_description(db):
    clusto.SESSION.clusto_user = "bob"
    clusto.SESSION.clusto_description = "racking"
    try:
        BasicServer("s1")
        last = clusto.history()[-1]
        assert (last["user"], last["description"]) == ("bob", "racking")
    finally:
        clusto.SESSION.clusto_user = None
        clusto.SESSION.clusto_description = None


def test_as_of_reads(db):
    s = BasicServer("cache01")
    s.set_attr("gen", 1)
    v1 = clusto.get_latest_version_number()
    clusto.delete_entity(s)
    v2 = clusto.get_latest_version_number()
    BasicServer("cache01").set_attr("gen", 2)
    with clusto.at_version(v1):
        assert clusto.get_by_name("cache01").attr_values("gen") == [1]
    with clusto.at_version(v2):
        with pytest.raises(LookupError):
            clusto.get_by_name("cache01")
    assert clusto.get_by_name("cache01").attr_values("gen") == [2]
    with clusto.at_version(v1):
        with clusto.at_version(v2):
            assert clusto.get_by_names(["cache01"]) == [None]
        assert clusto.get_by_name("cache01").attr_values("gen") == [1], "the outer version is back"
        seen = []
        other = threading.Thread(target=lambda: seen.append(clusto.get_by_name("cache01").attr_values("gen")))
        other.start()
        other.join()
        assert seen == [[2]], "another thread reads live"
    assert clusto.get_by_name("cache01").attr_values("gen") == [2]
    clusto.SESSION.clusto_version = v1
    try:
        assert clusto.get_by_name("cache01").attr_values("gen") == [1]
    finally:
        clusto.SESSION.clusto_version = None


def test_history_and_changes(db):
    with clusto.transaction(user="carol", description="rename"):
        BasicServer("web01").add_attr("owner", "x")
    clusto.rename("web01", "www01")
    v = clusto.get_latest_version_number()
    kinds = [c["kind"] for c in clusto.changes(v)]
    assert "entity_created" in kinds and "entity_deleted" in kinds
    assert [h["user"] for h in clusto.history(user="carol")] == ["carol"]


def test_threads_have_their_own_transactions(db):
    clusto.begin_transaction()
    BasicServer("mine")
    seen = {}

    def other():
        seen["before"] = clusto.get_by_names(["mine"])[0]
        BasicServer("theirs")  # waits for our transaction; the GIL is released meanwhile

    t = threading.Thread(target=other)
    t.start()
    t.join(0.3)
    assert t.is_alive(), "the other thread's write waits for our transaction"
    clusto.commit()
    t.join(10)
    assert seen["before"] is None, "our uncommitted writes were invisible to it"
    assert clusto.get_by_name("theirs")


def test_many_threads_allocate_distinct_addresses(db):
    ipm = clusto.drivers.IPManager("net", baseip="10.9.0.0", netmask="255.255.255.0")
    servers = [BasicServer("s%d" % i) for i in range(4)]

    def work(s):
        for _ in range(20):
            s.add_ip(ipman=ipm)

    threads = [threading.Thread(target=work, args=(s,)) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ips = [ip for s in servers for ip in s.get_ips()]
    assert len(ips) == 80 and len(set(ips)) == 80
    assert clusto.check() == []
