/* Tests of the C ABI: every function, including its error paths. Run against the
 * shared and the static library, under valgrind, by `make test-c`. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clusto.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        checks++;                                                                       \
        if (!(cond)) {                                                                  \
            failures++;                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", __FILE__,     \
                    __LINE__, #cond, clusto_last_error());                              \
        }                                                                               \
    } while (0)

#define OK(call) CHECK((call) == CLUSTO_STATUS_OK)

static ClustoValue text_value(uint32_t kind, const char *text) {
    ClustoValue v;
    v.kind = kind;
    v.int_value = 0;
    v.text = text;
    return v;
}

static ClustoValue int_value(int64_t i) {
    ClustoValue v;
    v.kind = CLUSTO_VALUE_INT;
    v.int_value = i;
    v.text = NULL;
    return v;
}

static int names_contain(const ClustoNames *list, const char *name) {
    for (size_t i = 0; i < clusto_names_len(list); i++) {
        if (strcmp(clusto_names_get(list, i), name) == 0) return 1;
    }
    return 0;
}

/* The library's threads are named "clusto-..."; with every handle closed, none runs. */
static int library_threads(void) {
    DIR *tasks = opendir("/proc/self/task");
    if (tasks == NULL) return -1;
    int found = 0;
    struct dirent *task;
    while ((task = readdir(tasks)) != NULL) {
        if (task->d_name[0] == '.') continue;
        char path[300], name[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", task->d_name);
        FILE *comm = fopen(path, "r");
        if (comm == NULL) continue;
        if (fgets(name, sizeof name, comm) && strncmp(name, "clusto-", 7) == 0) found++;
        fclose(comm);
    }
    closedir(tasks);
    return found;
}

static void test_open_and_errors(const char *path) {
    ClustoDb *db = NULL;
    CHECK(strlen(clusto_version()) > 0);
    CHECK(clusto_open(NULL, 0, &db) == CLUSTO_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(clusto_last_error(), "path is NULL") != NULL);
    CHECK(clusto_open(path, 0, NULL) == CLUSTO_STATUS_INVALID_ARGUMENT);
    const char bad_utf8[] = {(char)0xff, (char)0xfe, 0};
    CHECK(clusto_open(bad_utf8, 0, &db) == CLUSTO_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(clusto_last_error(), "UTF-8") != NULL);
    uint64_t v = 0;
    CHECK(clusto_latest_version(NULL, &v) == CLUSTO_STATUS_INVALID_ARGUMENT);
    CHECK(clusto_create(NULL, NULL, "pool", "x") == CLUSTO_STATUS_INVALID_ARGUMENT);
    clusto_close(NULL);
    clusto_rollback(NULL);
    clusto_string_free(NULL);
    clusto_names_free(NULL);
    clusto_attrs_free(NULL);
    clusto_versions_free(NULL, 0);
    CHECK(clusto_names_len(NULL) == 0 && clusto_names_get(NULL, 0) == NULL);
    CHECK(clusto_attrs_len(NULL) == 0 && !clusto_attrs_get(NULL, 0, NULL));
}

/* DSNs and durability: the core reads them, C gets its statuses. */
static void test_dsns_and_durability(const char *dir) {
    ClustoDb *db = NULL;
    CHECK(clusto_open("ftp:///srv/db", 0, &db) == CLUSTO_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(clusto_last_error(), "unknown scheme 'ftp'") != NULL);
    char dsn[256];
    snprintf(dsn, sizeof dsn, "lmdb://%s/grouped", dir);
    CHECK(clusto_open_with(dsn, 0, "sometimes", &db) == CLUSTO_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(clusto_last_error(), "durability 'sometimes'") != NULL);
    OK(clusto_open_with(dsn, 0, "grouped:20", &db));
    CHECK(library_threads() == 1); /* the group-commit syncer */
    OK(clusto_create(db, NULL, "basicserver", "g1"));
    uint64_t v = 0;
    OK(clusto_latest_version(db, &v));
    CHECK(v == 1);
    clusto_close(db);
    CHECK(library_threads() == 0);
    snprintf(dsn, sizeof dsn, "sled://%s/sled", dir);
    CHECK(clusto_open_with(dsn, 0, "grouped", &db) == CLUSTO_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(clusto_last_error(), "sled cannot give grouped durability") != NULL);
    OK(clusto_open(dsn, 0, &db));
    OK(clusto_create(db, NULL, "basicserver", "s1"));
    clusto_close(db);
    OK(clusto_open("memory:", 0, &db));
    OK(clusto_create(db, NULL, "basicserver", "m1"));
    ClustoDb *future = NULL;
    CHECK(clusto_open_at(db, 2, &future) == CLUSTO_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(clusto_last_error(), "version 2 does not exist yet") != NULL);
    CHECK(future == NULL);
    clusto_close(db);
}

static void test_entities_and_attrs(ClustoDb *db) {
    OK(clusto_init(db, NULL));
    OK(clusto_create(db, NULL, "basicserver", "s1"));
    CHECK(clusto_create(db, NULL, "basicserver", "s1") == CLUSTO_STATUS_ALREADY_EXISTS);
    CHECK(clusto_create(db, NULL, "warpdrive", "x") == CLUSTO_STATUS_NOT_FOUND);
    CHECK(clusto_create(db, NULL, "pool", "") == CLUSTO_STATUS_INVALID_NAME);
    bool exists = false;
    OK(clusto_exists(db, NULL, "s1", &exists));
    CHECK(exists);
    OK(clusto_exists(db, NULL, "nope", &exists));
    CHECK(!exists);
    char *type = NULL, *driver = NULL;
    OK(clusto_entity_kind(db, NULL, "s1", &type, &driver));
    CHECK(type && strcmp(type, "server") == 0 && driver && strcmp(driver, "basicserver") == 0);
    clusto_string_free(type);
    clusto_string_free(driver);
    CHECK(clusto_entity_kind(db, NULL, "nope", NULL, NULL) == CLUSTO_STATUS_NOT_FOUND);

    ClustoValue owner = text_value(CLUSTO_VALUE_STRING, "alice");
    ClustoValue cpus = int_value(16);
    ClustoValue when = text_value(CLUSTO_VALUE_DATETIME, "2012-01-02T03:04:05");
    ClustoValue when_micros = int_value(1000000);
    when_micros.kind = CLUSTO_VALUE_DATETIME;
    ClustoValue tags = text_value(CLUSTO_VALUE_JSON, "[\"a\",\"b\"]");
    ClustoValue peer = text_value(CLUSTO_VALUE_RELATION, "s1");
    ClustoValue null_value = text_value(CLUSTO_VALUE_NULL, NULL);
    OK(clusto_attr_put(db, NULL, "s1", "owner", NULL, CLUSTO_NUMBER_NONE, 0, &owner, false));
    OK(clusto_attr_put(db, NULL, "s1", "system", "cpucount", CLUSTO_NUMBER_NONE, 0, &cpus, false));
    OK(clusto_attr_put(db, NULL, "s1", "bought", NULL, CLUSTO_NUMBER_NONE, 0, &when, false));
    OK(clusto_attr_put(db, NULL, "s1", "seen", NULL, CLUSTO_NUMBER_NONE, 0, &when_micros, false));
    OK(clusto_attr_put(db, NULL, "s1", "tags", NULL, CLUSTO_NUMBER_NONE, 0, &tags, false));
    OK(clusto_attr_put(db, NULL, "s1", "self", NULL, CLUSTO_NUMBER_NONE, 0, &peer, false));
    OK(clusto_attr_put(db, NULL, "s1", "note", NULL, CLUSTO_NUMBER_NONE, 0, &null_value, false));
    OK(clusto_attr_put(db, NULL, "s1", "fqdn", NULL, CLUSTO_NUMBER_NEXT, 0, &owner, false));
    OK(clusto_attr_put(db, NULL, "s1", "fqdn", NULL, CLUSTO_NUMBER_NEXT, 0, &owner, false));
    ClustoValue bob = text_value(CLUSTO_VALUE_STRING, "bob");
    OK(clusto_attr_put(db, NULL, "s1", "owner", NULL, CLUSTO_NUMBER_NONE, 0, &bob, true));

    CHECK(clusto_attr_put(db, NULL, "s1", "9bad", NULL, CLUSTO_NUMBER_NONE, 0, &owner, false) == CLUSTO_STATUS_INVALID_NAME);
    ClustoValue bad_json = text_value(CLUSTO_VALUE_JSON, "{oops");
    CHECK(clusto_attr_put(db, NULL, "s1", "j", NULL, CLUSTO_NUMBER_NONE, 0, &bad_json, false) == CLUSTO_STATUS_INVALID_ARGUMENT);
    ClustoValue bad_kind = int_value(1);
    bad_kind.kind = 99;
    CHECK(clusto_attr_put(db, NULL, "s1", "k", NULL, CLUSTO_NUMBER_NONE, 0, &bad_kind, false) == CLUSTO_STATUS_INVALID_ARGUMENT);
    CHECK(clusto_attr_put(db, NULL, "s1", "k", NULL, 77, 0, &owner, false) == CLUSTO_STATUS_INVALID_ARGUMENT);
    CHECK(clusto_attr_put(db, NULL, "s1", "k", NULL, CLUSTO_NUMBER_NONE, 0, NULL, false) == CLUSTO_STATUS_INVALID_ARGUMENT);
    ClustoValue missing = text_value(CLUSTO_VALUE_RELATION, "ghost");
    CHECK(clusto_attr_put(db, NULL, "s1", "k", NULL, CLUSTO_NUMBER_NONE, 0, &missing, false) == CLUSTO_STATUS_NOT_FOUND);
    CHECK(clusto_attr_put(db, NULL, "ghost", "k", NULL, CLUSTO_NUMBER_NONE, 0, &owner, false) == CLUSTO_STATUS_NOT_FOUND);
    CHECK(clusto_attr_put(db, NULL, "s1", "fqdn", NULL, CLUSTO_NUMBER_NEXT, 0, &bob, true) == CLUSTO_STATUS_CONFLICT);

    ClustoAttrs *attrs = NULL;
    OK(clusto_attr_query(db, NULL, "s1", "owner", NULL, CLUSTO_MATCH_ANY, 0, NULL, false, &attrs));
    CHECK(clusto_attrs_len(attrs) == 1);
    ClustoAttr a;
    CHECK(clusto_attrs_get(attrs, 0, &a));
    CHECK(strcmp(a.key, "owner") == 0 && a.subkey == NULL && !a.has_number);
    CHECK(a.value.kind == CLUSTO_VALUE_STRING && strcmp(a.value.text, "bob") == 0);
    CHECK(!clusto_attrs_get(attrs, 1, &a));
    clusto_attrs_free(attrs);

    OK(clusto_attr_query(db, NULL, "s1", NULL, NULL, CLUSTO_MATCH_ANY, 0, NULL, false, &attrs));
    size_t n = clusto_attrs_len(attrs);
    CHECK(n == 9);
    int seen_relation = 0, seen_datetime = 0, seen_json = 0, seen_int = 0, seen_null = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK(clusto_attrs_get(attrs, i, &a));
        if (a.value.kind == CLUSTO_VALUE_RELATION) seen_relation = strcmp(a.value.text, "s1") == 0;
        if (a.value.kind == CLUSTO_VALUE_DATETIME && strcmp(a.key, "bought") == 0)
            seen_datetime = strcmp(a.value.text, "2012-01-02T03:04:05") == 0;
        if (a.value.kind == CLUSTO_VALUE_JSON) seen_json = strstr(a.value.text, "\"a\"") != NULL;
        if (a.value.kind == CLUSTO_VALUE_INT) seen_int = a.value.int_value == 16 && strcmp(a.subkey, "cpucount") == 0;
        if (a.value.kind == CLUSTO_VALUE_NULL) seen_null = a.value.text == NULL;
    }
    CHECK(seen_relation && seen_datetime && seen_json && seen_int && seen_null);
    clusto_attrs_free(attrs);

    OK(clusto_attr_query(db, NULL, "s1", "fqdn", NULL, CLUSTO_MATCH_EXACT, 1, NULL, false, &attrs));
    CHECK(clusto_attrs_len(attrs) == 1 && clusto_attrs_get(attrs, 0, &a) && a.has_number && a.number == 1);
    clusto_attrs_free(attrs);
    CHECK(clusto_attr_query(db, NULL, "s1", NULL, NULL, 42, 0, NULL, false, &attrs) == CLUSTO_STATUS_INVALID_ARGUMENT);
    CHECK(clusto_attr_query(db, NULL, "s1", NULL, NULL, CLUSTO_MATCH_ANY, 0, NULL, false, NULL) == CLUSTO_STATUS_INVALID_ARGUMENT);

    size_t deleted = 0;
    OK(clusto_attr_delete(db, NULL, "s1", "fqdn", NULL, CLUSTO_MATCH_ANY, 0, NULL, &deleted));
    CHECK(deleted == 2);
    OK(clusto_attr_delete(db, NULL, "s1", "nope", NULL, CLUSTO_MATCH_ANY, 0, NULL, NULL));
    CHECK(clusto_attr_delete(db, NULL, "ghost", NULL, NULL, CLUSTO_MATCH_ANY, 0, NULL, NULL) == CLUSTO_STATUS_NOT_FOUND);

    OK(clusto_rename(db, NULL, "s1", "web01"));
    CHECK(clusto_rename(db, NULL, "s1", "web02") == CLUSTO_STATUS_NOT_FOUND);
    OK(clusto_create(db, NULL, "basicserver", "tmp"));
    CHECK(clusto_rename(db, NULL, "tmp", "web01") == CLUSTO_STATUS_ALREADY_EXISTS);
    OK(clusto_delete(db, NULL, "tmp"));
    CHECK(clusto_delete(db, NULL, "tmp") == CLUSTO_STATUS_NOT_FOUND);
}

static void test_containment(ClustoDb *db) {
    OK(clusto_create(db, NULL, "basicdatacenter", "dc"));
    OK(clusto_create(db, NULL, "basicrack", "r1"));
    OK(clusto_create(db, NULL, "pool", "web"));
    OK(clusto_create(db, NULL, "exclusive_pool", "spares"));
    OK(clusto_create(db, NULL, "basicserver", "s2"));
    OK(clusto_insert(db, NULL, "dc", "r1"));
    int64_t units[] = {3, 4};
    OK(clusto_rack_insert(db, NULL, "r1", "web01", units, 2));
    int64_t taken[] = {4};
    CHECK(clusto_rack_insert(db, NULL, "r1", "s2", taken, 1) == CLUSTO_STATUS_CONFLICT);
    CHECK(clusto_rack_insert(db, NULL, "r1", "s2", NULL, 1) == CLUSTO_STATUS_INVALID_ARGUMENT);
    CHECK(clusto_rack_insert(db, NULL, "r1", "web", units, 2) == CLUSTO_STATUS_TYPE_MISMATCH);
    CHECK(clusto_insert(db, NULL, "r1", "s2") == CLUSTO_STATUS_TYPE_MISMATCH);
    OK(clusto_insert(db, NULL, "web", "web01"));
    CHECK(clusto_insert(db, NULL, "web", "web01") == CLUSTO_STATUS_CONFLICT);
    OK(clusto_insert(db, NULL, "spares", "s2"));
    CHECK(clusto_insert(db, NULL, "web", "s2") == CLUSTO_STATUS_CONFLICT);
    CHECK(clusto_insert(db, NULL, "web", "ghost") == CLUSTO_STATUS_NOT_FOUND);

    ClustoNames *list = NULL;
    OK(clusto_contents(db, NULL, "dc", true, &list));
    CHECK(names_contain(list, "r1") && names_contain(list, "web01"));
    clusto_names_free(list);
    OK(clusto_parents(db, NULL, "web01", false, &list));
    CHECK(clusto_names_len(list) == 2 && names_contain(list, "r1") && names_contain(list, "web"));
    CHECK(clusto_names_get(list, 2) == NULL);
    clusto_names_free(list);
    OK(clusto_pools(db, NULL, "web01", true, &list));
    CHECK(clusto_names_len(list) == 1 && names_contain(list, "web"));
    clusto_names_free(list);
    CHECK(clusto_contents(db, NULL, "ghost", false, &list) == CLUSTO_STATUS_NOT_FOUND);
    CHECK(clusto_contents(db, NULL, "dc", false, NULL) == CLUSTO_STATUS_INVALID_ARGUMENT);

    size_t removed = 0;
    OK(clusto_remove(db, NULL, "spares", "s2", &removed));
    CHECK(removed == 1);
}

static void test_resources_and_ports(ClustoDb *db) {
    OK(clusto_create(db, NULL, "ipmanager", "net"));
    ClustoValue base = text_value(CLUSTO_VALUE_STRING, "10.0.0.0");
    ClustoValue mask = text_value(CLUSTO_VALUE_STRING, "255.255.255.252");
    OK(clusto_attr_put(db, NULL, "net", "baseip", "property", CLUSTO_NUMBER_NONE, 0, &base, true));
    OK(clusto_attr_put(db, NULL, "net", "netmask", "property", CLUSTO_NUMBER_NONE, 0, &mask, true));
    char *ip = NULL;
    OK(clusto_ip_allocate(db, NULL, "web01", "net", NULL, &ip));
    CHECK(ip && strcmp(ip, "10.0.0.1") == 0);
    clusto_string_free(ip);
    OK(clusto_ip_allocate(db, NULL, "s2", NULL, "10.0.0.2", NULL));
    CHECK(clusto_ip_allocate(db, NULL, "s2", "net", NULL, NULL) == CLUSTO_STATUS_RESOURCE_UNAVAILABLE);
    CHECK(clusto_ip_allocate(db, NULL, "s2", "net", "10.9.9.9", NULL) == CLUSTO_STATUS_INVALID_ARGUMENT);
    CHECK(clusto_ip_allocate(db, NULL, "s2", NULL, NULL, NULL) == CLUSTO_STATUS_INVALID_ARGUMENT);
    CHECK(clusto_ip_allocate(db, NULL, "s2", NULL, "192.168.0.1", NULL) == CLUSTO_STATUS_NOT_FOUND);
    ClustoNames *list = NULL;
    OK(clusto_ips_of(db, NULL, "web01", &list));
    CHECK(clusto_names_len(list) == 1 && strcmp(clusto_names_get(list, 0), "10.0.0.1") == 0);
    clusto_names_free(list);
    OK(clusto_devices_with_ip(db, NULL, "10.0.0.2", &list));
    CHECK(clusto_names_len(list) == 1 && names_contain(list, "s2"));
    clusto_names_free(list);
    CHECK(clusto_devices_with_ip(db, NULL, "not-an-ip", &list) == CLUSTO_STATUS_INVALID_ARGUMENT);
    CHECK(clusto_ip_deallocate(db, NULL, "web01", NULL, "10.0.0.2") == CLUSTO_STATUS_RESOURCE_UNAVAILABLE);
    OK(clusto_ip_deallocate(db, NULL, "s2", NULL, "10.0.0.2"));
    CHECK(clusto_ip_deallocate(db, NULL, "s2", NULL, NULL) == CLUSTO_STATUS_INVALID_ARGUMENT);
    /* Another kind of resource manager is no IP manager: it would hand out a number
     * (once reported as the address 128.0.0.0), and in a transaction the failed call
     * would have left its allocation behind. */
    OK(clusto_create(db, NULL, "simplenummanager", "nums"));
    OK(clusto_create(db, NULL, "simplenamemanager", "labels"));
    CHECK(clusto_ip_allocate(db, NULL, "s2", "nums", NULL, &ip) == CLUSTO_STATUS_TYPE_MISMATCH);
    CHECK(strstr(clusto_last_error(), "not an IP manager") != NULL);
    CHECK(clusto_ip_deallocate(db, NULL, "s2", "nums", NULL) == CLUSTO_STATUS_TYPE_MISMATCH);
    ClustoTxn *tx = NULL;
    OK(clusto_begin(db, NULL, NULL, &tx));
    CHECK(clusto_ip_allocate(db, tx, "s2", "labels", NULL, NULL) == CLUSTO_STATUS_TYPE_MISMATCH);
    uint64_t version = 1;
    OK(clusto_commit(tx, &version));
    CHECK(version == 0); /* nothing was allocated */

    OK(clusto_create(db, NULL, "simpleentitynamemanager", "names"));
    ClustoValue basename = text_value(CLUSTO_VALUE_STRING, "srv");
    OK(clusto_attr_put(db, NULL, "names", "basename", "property", CLUSTO_NUMBER_NONE, 0, &basename, true));
    char *name = NULL;
    OK(clusto_name_allocate(db, NULL, "names", "basicserver", &name));
    CHECK(name && strcmp(name, "srv01") == 0);
    clusto_string_free(name);
    CHECK(clusto_name_allocate(db, NULL, "net", "basicserver", &name) == CLUSTO_STATUS_TYPE_MISMATCH);

    OK(clusto_create(db, NULL, "basicnetworkswitch", "sw1"));
    OK(clusto_port_connect(db, NULL, "web01", "nic-eth", 1, "sw1", 5));
    CHECK(clusto_port_connect(db, NULL, "s2", "nic-eth", 1, "sw1", 5) == CLUSTO_STATUS_CONFLICT);
    CHECK(clusto_port_connect(db, NULL, "s2", "nic-eth", 9, "sw1", 6) == CLUSTO_STATUS_CONFLICT);
    CHECK(clusto_port_connect(db, NULL, "s2", "nic-eth", 0, "sw1", 6) == CLUSTO_STATUS_INVALID_ARGUMENT);
    char *peer = NULL;
    OK(clusto_port_connected(db, NULL, "sw1", "nic-eth", 5, &peer));
    CHECK(peer && strcmp(peer, "web01") == 0);
    clusto_string_free(peer);
    OK(clusto_port_disconnect(db, NULL, "web01", "nic-eth", 1));
    OK(clusto_port_connected(db, NULL, "sw1", "nic-eth", 5, &peer));
    CHECK(peer == NULL);
}

static void test_transactions_and_history(ClustoDb *db) {
    ClustoTxn *tx = NULL;
    uint64_t before = 0, after = 0, committed = 0;
    OK(clusto_latest_version(db, &before));
    OK(clusto_begin(db, "alice", "two servers", &tx));
    ClustoTxn *second = NULL;
    CHECK(clusto_begin(db, NULL, NULL, &second) == CLUSTO_STATUS_CONFLICT);
    OK(clusto_create(db, tx, "basicserver", "t1"));
    OK(clusto_create(db, tx, "basicserver", "t2"));
    bool exists = false;
    OK(clusto_exists(db, tx, "t1", &exists));
    CHECK(exists);
    CHECK(clusto_create(db, NULL, "basicserver", "t3") == CLUSTO_STATUS_CONFLICT);
    OK(clusto_commit(tx, &committed));
    OK(clusto_latest_version(db, &after));
    CHECK(committed == before + 1 && after == committed);

    OK(clusto_begin(db, NULL, NULL, &tx));
    OK(clusto_create(db, tx, "basicserver", "ghost"));
    clusto_rollback(tx);
    OK(clusto_exists(db, NULL, "ghost", &exists));
    CHECK(!exists);
    OK(clusto_begin(db, NULL, NULL, &tx));
    OK(clusto_commit(tx, &committed));
    CHECK(committed == 0);
    CHECK(clusto_commit(NULL, NULL) == CLUSTO_STATUS_INVALID_ARGUMENT);

    uint64_t *versions = NULL;
    size_t count = 0;
    OK(clusto_entity_versions(db, "t1", &versions, &count));
    CHECK(count == 1 && versions[0] == after);
    clusto_versions_free(versions, count);
    CHECK(clusto_entity_versions(db, "never", &versions, &count) == CLUSTO_STATUS_NOT_FOUND);

    ClustoDb *past = NULL;
    OK(clusto_open_at(db, before, &past));
    OK(clusto_exists(past, NULL, "t1", &exists));
    CHECK(!exists);
    OK(clusto_exists(past, NULL, "web01", &exists));
    CHECK(exists);
    CHECK(clusto_create(past, NULL, "pool", "nope") == CLUSTO_STATUS_INVALID_ARGUMENT);
    CHECK(clusto_begin(past, NULL, NULL, &tx) == CLUSTO_STATUS_INVALID_ARGUMENT);
    clusto_close(past);

    OK(clusto_set_meta(db, "bob", "via C"));
    OK(clusto_create(db, NULL, "pool", "afterwards"));
    uint64_t problems = 99;
    OK(clusto_check(db, &problems));
    CHECK(problems == 0);
}

/* An entity made with driver properties: an IP manager with its range. */
static void test_create_with_properties(ClustoDb *db) {
    OK(clusto_create_with(db, NULL, "ipmanager", "cnet", "{\"baseip\":\"10.7.0.0\",\"netmask\":\"255.255.255.0\"}"));
    OK(clusto_create(db, NULL, "basicserver", "cip1"));
    char *ip = NULL;
    OK(clusto_ip_allocate(db, NULL, "cip1", "cnet", NULL, &ip));
    CHECK(ip && strncmp(ip, "10.7.0.", 7) == 0);
    clusto_string_free(ip);
    CHECK(clusto_create_with(db, NULL, "ipmanager", "cnet2", "[1]") == CLUSTO_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(clusto_last_error(), "'props' must be an object") != NULL);
    CHECK(clusto_create_with(db, NULL, "ipmanager", "cnet3", "{oops") == CLUSTO_STATUS_INVALID_ARGUMENT);
    bool exists = true;
    OK(clusto_exists(db, NULL, "cnet2", &exists));
    CHECK(!exists);
    char *found = NULL;
    OK(clusto_json(db, "{\"op\":\"entities\",\"types\":[\"resourcemanager\"],"
                       "\"attrs\":[{\"key\":\"baseip\",\"value\":\"10.7.0.0\"}]}", &found));
    CHECK(found && strstr(found, "\"name\":\"cnet\"") && !strstr(found, "cip1"));
    clusto_string_free(found);
}

/* The change feed, a diff and a revert, from C. */
static void test_feed_and_revert(ClustoDb *db) {
    uint64_t before = 0, newest = 0;
    OK(clusto_latest_version(db, &before));
    OK(clusto_wait_version(db, before, 20, &newest));
    CHECK(newest == before);
    OK(clusto_create(db, NULL, "basicserver", "f1"));
    OK(clusto_wait_version(db, before, 0, &newest));
    CHECK(newest == before + 1);
    char *json = NULL;
    OK(clusto_changes_json(db, before, &json));
    CHECK(json && strstr(json, "\"entity\":\"f1\"") && strstr(json, "\"change\":\"created\""));
    clusto_string_free(json);
    char request[160];
    snprintf(request, sizeof request, "{\"op\":\"diff\",\"from\":%llu}", (unsigned long long)before);
    OK(clusto_json(db, request, &json));
    CHECK(json && strstr(json, "\"kind\":\"created\"") && strstr(json, "\"name\":\"f1\""));
    clusto_string_free(json);
    snprintf(request, sizeof request, "{\"op\":\"revert\",\"version\":%llu}", (unsigned long long)newest);
    OK(clusto_json(db, request, &json));
    clusto_string_free(json);
    bool exists = true;
    OK(clusto_exists(db, NULL, "f1", &exists));
    CHECK(!exists);
    CHECK(clusto_json(db, "{\"op\":\"revert\",\"version\":99999}", &json) == CLUSTO_STATUS_NOT_FOUND);
    clusto_string_free(json);
}

static void test_json(ClustoDb *db) {
    char *response = NULL;
    CHECK(clusto_json(db, "{\"op\":\"get\",\"name\":\"web01\"}", &response) == CLUSTO_STATUS_OK);
    CHECK(response && strstr(response, "\"ok\":true") && strstr(response, "\"driver\":\"basicserver\""));
    clusto_string_free(response);
    CHECK(clusto_json(db, "{\"op\":\"get\",\"name\":\"nope\"}", &response) == CLUSTO_STATUS_NOT_FOUND);
    CHECK(response && strstr(response, "\"code\":\"NOT_FOUND\""));
    clusto_string_free(response);
    CHECK(clusto_json(db, "not json", &response) == CLUSTO_STATUS_INVALID_ARGUMENT);
    CHECK(response && strstr(response, "INVALID_ARGUMENT"));
    clusto_string_free(response);
    CHECK(clusto_json(db, "{\"op\":\"frobnicate\"}", &response) == CLUSTO_STATUS_INVALID_ARGUMENT);
    clusto_string_free(response);
    const char *batch =
        "{\"op\":\"batch\",\"user\":\"carol\",\"ops\":["
        "{\"op\":\"create\",\"driver\":\"basicserver\",\"name\":\"j1\"},"
        "{\"op\":\"attr_add\",\"name\":\"j1\",\"key\":\"owner\",\"value\":\"carol\"},"
        "{\"op\":\"insert\",\"container\":\"web\",\"thing\":\"j1\"}]}";
    CHECK(clusto_json(db, batch, &response) == CLUSTO_STATUS_OK);
    clusto_string_free(response);
    const char *failing =
        "{\"op\":\"batch\",\"ops\":[{\"op\":\"create\",\"driver\":\"pool\",\"name\":\"j2\"},"
        "{\"op\":\"insert\",\"container\":\"web\",\"thing\":\"j1\"}]}";
    CHECK(clusto_json(db, failing, &response) == CLUSTO_STATUS_CONFLICT);
    CHECK(response && strstr(response, "op 1 of the batch"));
    clusto_string_free(response);
    bool exists = true;
    OK(clusto_exists(db, NULL, "j2", &exists));
    CHECK(!exists);
    CHECK(clusto_json(db, NULL, &response) == CLUSTO_STATUS_INVALID_ARGUMENT);
    clusto_string_free(response);
    CHECK(clusto_json(db, "{}", NULL) == CLUSTO_STATUS_INVALID_ARGUMENT);
}

int main(void) {
    char path[] = "/tmp/clusto-c-test-XXXXXX";
    if (!mkdtemp(path)) {
        perror("mkdtemp");
        return 2;
    }
    char dbpath[sizeof(path) + 4];
    snprintf(dbpath, sizeof dbpath, "%s/db", path);
    test_open_and_errors(dbpath);
    test_dsns_and_durability(path);
    ClustoDb *db = NULL;
    OK(clusto_open(dbpath, 0, &db));
    test_entities_and_attrs(db);
    test_containment(db);
    test_resources_and_ports(db);
    test_transactions_and_history(db);
    test_json(db);
    test_feed_and_revert(db);
    test_create_with_properties(db);
    clusto_close(db);
    CHECK(library_threads() == 0);
    char command[128];
    snprintf(command, sizeof command, "rm -rf %s", path);
    if (system(command) != 0) fprintf(stderr, "could not remove %s\n", path);
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
