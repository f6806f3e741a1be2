/* One of the processes of the shared-database test (clusto-ffi/tests/python/test_shared.py):
 * opens DSN while other processes use it, and N times: gives a new server an address from
 * the IP manager "net" in one transaction, prints "ip VERSION ADDRESS", and checks that the
 * database reads clean and its latest version never goes back. Exit 0 when all went well. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "clusto.h"

static int fail(const char *what) {
    fprintf(stderr, "shared_worker: %s: %s\n", what, clusto_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: shared_worker DSN N\n");
        return 2;
    }
    int n = atoi(argv[2]);
    struct ClustoDb *db = NULL;
    if (clusto_open(argv[1], 30000, &db) != CLUSTO_STATUS_OK) return fail("open");
    uint64_t seen = 0;
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "c%d", i);
        struct ClustoTxn *tx = NULL;
        if (clusto_begin(db, "c-worker", "one ip", &tx) != CLUSTO_STATUS_OK) return fail("begin");
        char *ip = NULL;
        if (clusto_create(db, tx, "basicserver", name) != CLUSTO_STATUS_OK) return fail("create");
        if (clusto_ip_allocate(db, tx, name, "net", NULL, &ip) != CLUSTO_STATUS_OK) return fail("allocate");
        uint64_t version = 0;
        if (clusto_commit(tx, &version) != CLUSTO_STATUS_OK) return fail("commit");
        printf("ip %llu %s\n", (unsigned long long)version, ip);
        fflush(stdout);
        clusto_string_free(ip);
        uint64_t latest = 0, problems = 0;
        if (clusto_latest_version(db, &latest) != CLUSTO_STATUS_OK) return fail("latest");
        if (latest < seen || latest < version) {
            fprintf(stderr, "shared_worker: the latest version went back: %llu\n", (unsigned long long)latest);
            return 1;
        }
        seen = latest;
        if (i % 5 == 0) {
            if (clusto_check(db, &problems) != CLUSTO_STATUS_OK) return fail("check");
            if (problems != 0) return fail("check found problems");
        }
    }
    clusto_close(db);
    return 0;
}
