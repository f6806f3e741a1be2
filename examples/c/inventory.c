/* A small inventory tool in C on libclusto.
 *
 *   inventory DB add SERVER RACK UNIT      create a server and rack it
 *   inventory DB ip SERVER MANAGER          give it the next address of MANAGER
 *   inventory DB show NAME                  attributes and containers of NAME
 *   inventory DB demo                       build a small site, then show it
 *   inventory DB json REQUEST               run a JSON request (see clusto.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusto.h"

static int fail(const char *what) {
    fprintf(stderr, "inventory: %s: %s\n", what, clusto_last_error());
    return 1;
}

static int show(ClustoDb *db, const char *name) {
    char *type = NULL, *driver = NULL;
    if (clusto_entity_kind(db, NULL, name, &type, &driver) != CLUSTO_STATUS_OK) return fail(name);
    printf("%s: %s (%s)\n", name, type, driver);
    clusto_string_free(type);
    clusto_string_free(driver);

    ClustoNames *parents = NULL;
    if (clusto_parents(db, NULL, name, false, &parents) != CLUSTO_STATUS_OK) return fail("parents");
    for (size_t i = 0; i < clusto_names_len(parents); i++) printf("  in %s\n", clusto_names_get(parents, i));
    clusto_names_free(parents);

    ClustoAttrs *attrs = NULL;
    if (clusto_attr_query(db, NULL, name, NULL, NULL, CLUSTO_MATCH_ANY, 0, NULL, false, &attrs) != CLUSTO_STATUS_OK)
        return fail("attributes");
    for (size_t i = 0; i < clusto_attrs_len(attrs); i++) {
        ClustoAttr a;
        if (!clusto_attrs_get(attrs, i, &a)) continue;
        printf("  %s%s%s", a.key, a.subkey ? "." : "", a.subkey ? a.subkey : "");
        if (a.has_number) printf("[%lld]", (long long)a.number);
        if (a.value.text) printf(" = %s\n", a.value.text);
        else printf(" = %lld\n", (long long)a.value.int_value);
    }
    clusto_attrs_free(attrs);
    return 0;
}

static int add(ClustoDb *db, const char *server, const char *rack, const char *unit) {
    ClustoTxn *tx = NULL;
    if (clusto_begin(db, getenv("USER"), "inventory add", &tx) != CLUSTO_STATUS_OK) return fail("begin");
    int64_t u = atoll(unit);
    if (clusto_create(db, tx, "basicserver", server) != CLUSTO_STATUS_OK ||
        clusto_rack_insert(db, tx, rack, server, &u, 1) != CLUSTO_STATUS_OK) {
        int code = fail(server);
        clusto_rollback(tx);
        return code;
    }
    uint64_t version = 0;
    if (clusto_commit(tx, &version) != CLUSTO_STATUS_OK) return fail("commit");
    printf("%s racked in %s U%s (version %llu)\n", server, rack, unit, (unsigned long long)version);
    return 0;
}

static int ip(ClustoDb *db, const char *server, const char *manager) {
    char *address = NULL;
    if (clusto_ip_allocate(db, NULL, server, manager, NULL, &address) != CLUSTO_STATUS_OK) return fail(server);
    printf("%s got %s\n", server, address);
    clusto_string_free(address);
    return 0;
}

static int json(ClustoDb *db, const char *request) {
    char *response = NULL;
    ClustoStatus status = clusto_json(db, request, &response);
    printf("%s\n", response ? response : "");
    clusto_string_free(response);
    return status == CLUSTO_STATUS_OK ? 0 : 1;
}

static int demo(ClustoDb *db) {
    bool exists = false;
    if (clusto_exists(db, NULL, "c-rack1", &exists) != CLUSTO_STATUS_OK) return fail("exists");
    if (!exists) {
        const char *setup =
            "{\"op\":\"batch\",\"user\":\"c-demo\",\"description\":\"site\",\"ops\":["
            "{\"op\":\"init\"},"
            "{\"op\":\"create\",\"driver\":\"basicrack\",\"name\":\"c-rack1\"},"
            "{\"op\":\"create\",\"driver\":\"ipmanager\",\"name\":\"c-net\","
            "\"props\":{\"baseip\":\"10.30.0.0\",\"netmask\":\"255.255.255.0\"}}]}";
        if (json(db, setup) != 0) return 1;
        if (add(db, "c-web1", "c-rack1", "5") != 0 || add(db, "c-web2", "c-rack1", "6") != 0) return 1;
        if (ip(db, "c-web1", "c-net") != 0 || ip(db, "c-web2", "c-net") != 0) return 1;
    }
    if (show(db, "c-web1") != 0) return 1;
    return json(db, "{\"op\":\"contents\",\"name\":\"c-rack1\"}");
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s DB add|ip|show|demo|json ...\n", argv[0]);
        return 2;
    }
    ClustoDb *db = NULL;
    if (clusto_open(argv[1], 5000, &db) != CLUSTO_STATUS_OK) return fail(argv[1]);
    int code = 2;
    const char *cmd = argv[2];
    if (strcmp(cmd, "add") == 0 && argc == 6) code = add(db, argv[3], argv[4], argv[5]);
    else if (strcmp(cmd, "ip") == 0 && argc == 5) code = ip(db, argv[3], argv[4]);
    else if (strcmp(cmd, "show") == 0 && argc == 4) code = show(db, argv[3]);
    else if (strcmp(cmd, "json") == 0 && argc == 4) code = json(db, argv[3]);
    else if (strcmp(cmd, "demo") == 0) code = demo(db);
    else fprintf(stderr, "unknown command or wrong arguments\n");
    clusto_close(db);
    return code;
}
