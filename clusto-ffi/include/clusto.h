/*
 * clusto.h: the C ABI of clusto, an embeddable CMDB (libclusto.so / libclusto.a;
 * link the static library with -lpthread -ldl -lm).
 *
 * Conventions
 * - Every fallible function returns a ClustoStatus; on failure the message is read
 *   with clusto_last_error() (owned by the library, valid until the next call on the
 *   same thread). A failed call changes nothing; inside a transaction, the
 *   transaction's earlier work stays.
 * - Strings are UTF-8 and NUL-terminated. Strings the library returns through an out
 *   pointer are freed with clusto_string_free; lists with clusto_names_free /
 *   clusto_attrs_free; version arrays with clusto_versions_free. Strings read from a
 *   list belong to the list.
 * - Handles: ClustoDb (clusto_open / clusto_open_with / clusto_open_at, freed by
 *   clusto_close) and ClustoTxn (clusto_begin, ended and freed by clusto_commit or
 *   clusto_rollback). Functions taking (db, tx) run in tx when it is not NULL (reads
 *   see its writes) and otherwise form their own transaction: one version if they
 *   change something. A "write" below is a function that changes the database.
 *
 * Errors
 *   Each function's "Errors:" paragraph lists every status it can return. Besides the
 *   causes it names, these hold for every call:
 *   INVALID_ARGUMENT  a NULL required pointer, text that is not UTF-8, a number that
 *                     is not one of the CLUSTO_* constants; a write, or a tx, given a
 *                     handle from clusto_open_at; a tx begun on another database
 *   CONFLICT          a handle used in a child of fork() (open the database after
 *                     exec); for a write with tx NULL: this thread has a ClustoTxn
 *                     open (see Threads)
 *   LOCKED            for clusto_begin and writes with tx NULL: another process
 *                     held the write lease for longer than the handle's
 *                     lock_wait_ms
 *   CORRUPT           stored data that does not decode
 *   IO                the disk or the PostgreSQL server failed; or a commit to a
 *                     sled database failed earlier: its handles then refuse work
 *                     until the database is closed and reopened
 *   PANIC             a bug inside the library, caught at the boundary
 *
 * Threads
 * - A ClustoDb may be used by any number of threads at once: every function is safe
 *   to call concurrently on one handle, except clusto_close, which no other call on
 *   that handle may overlap or follow. Reads run in parallel, also with the writer.
 * - A database has one write transaction at a time. clusto_begin, and every write
 *   with tx NULL (which is a transaction of its own), waits its turn after the other
 *   threads of this process, and fails with LOCKED only when one of them keeps it for
 *   lock_wait_ms (at least 5 seconds) without the turn moving on; it waits up to
 *   lock_wait_ms while another process holds it, then fails with LOCKED. Handles of one database in one process share it
 *   (for postgresql:// DSNs only handles derived with clusto_open_at do; two
 *   clusto_open calls behave as two processes).
 * - A ClustoTxn is used by one thread at a time: it has no lock of its own, so calls
 *   with it from two threads at once are undefined. It may be handed to another thread
 *   and used, committed or rolled back there. Until it ends, the write transaction
 *   still belongs to the thread that began it: that thread's clusto_begin and tx-NULL
 *   writes fail with CONFLICT, and those of every other thread wait, including the
 *   thread the transaction was handed to: if it begins a transaction or writes with
 *   tx NULL before ending the one it holds, it gets LOCKED when the wait is over.
 * - clusto_last_error() is per thread. clusto_set_meta applies to the tx-NULL writes
 *   of every thread using the handle.
 *
 * Closing
 *   clusto_close(db) does not end the transactions begun on db: each stays open and
 *   valid, still holds the write transaction (other writers wait), and is ended as
 *   usual by clusto_commit (its changes are committed) or clusto_rollback, which take
 *   no handle. Until then it may still be used with another handle on the same
 *   database. The database's files, locks and threads are released once its last
 *   handle is closed and its last transaction ended. A memory: database disappears
 *   then: a commit after its last handle closed succeeds, and nothing can read it.
 *
 * Versions and as-of handles
 *   Every transaction that changes something commits one version (1, 2, ...). A
 *   handle from clusto_open_at reads entities, attributes and containment as they were
 *   at the end of its version, in every function taking (db, tx) and in clusto_json.
 *   What is about versions reads the live database, whatever the handle:
 *   clusto_latest_version gives the live database's newest version (not the handle's
 *   version), and clusto_wait_version, clusto_changes_json, clusto_entity_versions,
 *   clusto_check and the JSON ops version, history, changes, feed and diff (whose
 *   "to" defaults to the live newest version) see every committed version.
 *
 * Datetimes
 *   A datetime has no time zone: clusto reads and writes it as UTC. Its ISO text,
 *   YYYY-MM-DDTHH:MM:SS[.ffffff] (a space may replace the T), and its Unix
 *   microseconds (ClustoValue.int_value) name the same instant in UTC. A zone suffix
 *   (Z, +02:00) is refused with INVALID_ARGUMENT: convert local times to UTC first.
 *   Read back, the fraction is left out when zero, else written with 6 digits.
 *   Version timestamps (history, feed) are UTC, in the same form.
 *
 * Racks
 *   A rack's units run from its minu to its maxu property, both included: 1 to 45 for
 *   a basicrack unless set otherwise (clusto_create_with props {"minu": 0, "maxu":
 *   60}). A device takes one unit or several adjacent ones, all free; a device with a
 *   rack_units attribute takes exactly that many; clusto_rack_insert takes 1 to 1024
 *   units per call.
 *
 * JSON entry point: clusto_json(db, request, &response)
 *   request  {"op": NAME, ...arguments}; a read may add "at": V (read as of version
 *            V; a write given "at" is refused); a write may add "user": U and
 *            "description": D, recorded with its version instead of the handle's
 *            clusto_set_meta values
 *            {"op": "batch", "ops": [...], "user": U, "description": D}: the ops in
 *            one transaction, one version, all or nothing; reads in it see the
 *            writes before them; a failure names the op ("op 2 of the batch: ...")
 *            At most 16 MiB of text.
 *   response {"ok": true, "result": ...}
 *            {"ok": false, "error": {"code": "NOT_FOUND", "message": "..."}}; code
 *            names the status clusto_json returns (CLUSTO_STATUS_NOT_FOUND)
 *   values   in requests: an integer (true and false are 1 and 0), a string, null,
 *            {"relation": NAME}, {"datetime": ISO} (UTC), any other array or object
 *            (a json value). In results: the same, but a datetime is its ISO string.
 *            attr_add and attr_set take the "datatype" ATTR gives, so that a value
 *            read and written back keeps its type.
 *   ENTITY   {"name": S, "type": S, "driver": S}
 *   ATTR     {"key": S, "subkey": S|null, "number": N|null, "datatype": "int" |
 *            "string" | "datetime" | "relation" | "json", "value": V}
 *   VERSION  {"version": N, "timestamp": ISO|null, "user": S|null,
 *            "description": S|null}
 *   CHANGE   {"entity": NAME, "type": S, "kind": K, "change": "created" | "deleted" |
 *            {"added": ATTR} | {"deleted": ATTR} | {"driver_was": S, "type_was": S} |
 *            {"counter": KEY, "value": N|null}}; K is entity_created, entity_deleted,
 *            driver_changed, attr_added, attr_deleted or counter_set
 *   FILTER   {"key"?, "subkey"?, "number"?, "value"?, "hidden"?}: a missing field
 *            matches anything; "number": null matches no number; keys starting
 *            with "_" are left out unless "hidden" is true or "key" names one
 *
 * JSON operations: NAME {arguments, ? if optional} -> the "result"
 *   version                 -> N: the live database's newest version
 *   check                   -> {"clean": bool, "problems": [S]}; not in a batch
 *   init                    -> ENTITY clustometa, created if missing (one version;
 *                              clusto_init makes two)
 *   create {driver, name, props?: {PROPERTY: value}} -> ENTITY
 *   exists {name}           -> bool
 *   get {name}              -> ENTITY with "attrs": [ATTR] (keys not starting "_")
 *   delete {name}           -> null
 *   rename {old, new}       -> ENTITY, the renamed one
 *   attrs {name, FILTER fields} -> [ATTR]
 *   attr_add|attr_set {name, key, value, subkey?, number? (N, "next" or null),
 *                      datatype?} -> ATTR written; attr_set replaces the one
 *                      attribute with the same key, subkey and number (CONFLICT if
 *                      several)
 *   attr_delete {name, FILTER fields} -> N deleted
 *   insert {container, thing} -> null
 *   remove {container, thing} -> N containment attributes removed
 *   rack_insert {rack, device, units: [N]} -> null
 *   contents|parents|pools {name, recursive?} -> [NAME] (contents lists a device once
 *                              per rack unit)
 *   ip_allocate {device, manager?, ip?} -> S, the address
 *   ip_deallocate {device, manager?, ip?} -> N allocations freed
 *   ips {device}            -> [S] addresses
 *   ip_owners {ip}          -> [NAME]
 *   name_allocate {manager, driver} -> ENTITY created
 *   port_connect {device, port_type, number, other, other_number} -> null
 *   port_disconnect {device, port_type, number} -> bool: whether it was connected
 *   port_connected {device, port_type, number} -> NAME or null
 *   entities {names?, types?, drivers?, attrs?: [FILTER], pools?: [NAME]} -> [ENTITY]
 *                              in creation order: any of each list, every filter,
 *                              a member (at any depth) of every pool
 *   history {name?, user?, from?, to?} -> [VERSION], ascending, from/to included
 *   changes {version}       -> [CHANGE] (NOT_FOUND for a version not committed)
 *   feed {since?, limit?}   -> [VERSION with "changes": [CHANGE]]: the versions after
 *                              since (default 0), at most limit of them
 *   diff {from, to?, names?} -> {"from": N, "to": N, "entities": [{"name": NAME,
 *                              "kind": "created" | "deleted" | "renamed" | "changed",
 *                              "renamed_from": NAME|null, "before": {"type",
 *                              "driver"}|null, "after": {"type", "driver"}|null,
 *                              "added": [ATTR], "removed": [ATTR], "changed":
 *                              [{"before": ATTR, "after": ATTR}]}]}
 *   revert {version, force?} -> {"reverted": N}: a new version undoes version N
 *                              (CONFLICT when a later one touched the same things,
 *                              unless force)
 *   restore {names: [NAME], to} -> {"restored": [NAME], "to": N}: the entities made
 *                              as they were at version N
 *   batch {ops: [REQUEST], user?, description?} -> [the result of each op]
 */

#ifndef CLUSTO_H
#define CLUSTO_H

/* Generated by cbindgen from clusto-ffi: do not edit. Regenerate with:
   CLUSTO_BLESS=1 cargo test -p clusto-ffi --test header */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * `ClustoValue.kind`: an integer in `int_value`.
 */
#define CLUSTO_VALUE_INT 0

/**
 * `ClustoValue.kind`: a string in `text`.
 */
#define CLUSTO_VALUE_STRING 1

/**
 * `ClustoValue.kind`: a NULL string.
 */
#define CLUSTO_VALUE_NULL 2

/**
 * `ClustoValue.kind`: a datetime, in UTC: ISO `text` (YYYY-MM-DDTHH:MM:SS[.ffffff], no
 * zone suffix) if not NULL, else Unix microseconds in `int_value`. Read back, both are
 * set (see "Datetimes" at the top of this header).
 */
#define CLUSTO_VALUE_DATETIME 3

/**
 * `ClustoValue.kind`: a relation: the name of a live entity in `text`.
 */
#define CLUSTO_VALUE_RELATION 4

/**
 * `ClustoValue.kind`: JSON text (an array or object) in `text`.
 */
#define CLUSTO_VALUE_JSON 5

/**
 * How a new attribute is numbered: no number.
 */
#define CLUSTO_NUMBER_NONE 0

/**
 * How a new attribute is numbered: the next of the (entity, key) counter.
 */
#define CLUSTO_NUMBER_NEXT 1

/**
 * How a new attribute is numbered: exactly `number`.
 */
#define CLUSTO_NUMBER_EXACT 2

/**
 * How a filter matches the number: any.
 */
#define CLUSTO_MATCH_ANY 0

/**
 * How a filter matches the number: no number.
 */
#define CLUSTO_MATCH_NULL 1

/**
 * How a filter matches the number: some number.
 */
#define CLUSTO_MATCH_NOT_NULL 2

/**
 * How a filter matches the number: exactly `number`.
 */
#define CLUSTO_MATCH_EXACT 3

/**
 * The status every fallible function returns.
 */
typedef enum ClustoStatus {
  /**
   * Success.
   */
  CLUSTO_STATUS_OK = 0,
  /**
   * The named entity, driver, attribute, version or resource does not exist.
   */
  CLUSTO_STATUS_NOT_FOUND = 1,
  /**
   * The name is taken.
   */
  CLUSTO_STATUS_ALREADY_EXISTS = 2,
  /**
   * A NULL pointer, invalid UTF-8, an out-of-range or malformed argument; a write
   * through a handle from `clusto_open_at`.
   */
  CLUSTO_STATUS_INVALID_ARGUMENT = 3,
  /**
   * An invalid entity name, key or subkey, or a property the driver does not have.
   */
  CLUSTO_STATUS_INVALID_NAME = 4,
  /**
   * The entity's driver does not allow the operation (not a rack, not a device, not
   * the kind of resource manager the call needs...).
   */
  CLUSTO_STATUS_TYPE_MISMATCH = 5,
  /**
   * The resource is taken or the manager exhausted.
   */
  CLUSTO_STATUS_RESOURCE_UNAVAILABLE = 6,
  /**
   * The change conflicts with the state: an ambiguous match, a pool or port rule,
   * a transaction already open on this thread, a handle used in a child of `fork()`.
   */
  CLUSTO_STATUS_CONFLICT = 7,
  /**
   * Another process holds the database or its write lease, for longer than the
   * handle waits (`lock_wait_ms`).
   */
  CLUSTO_STATUS_LOCKED = 8,
  /**
   * Stored data is corrupt or of an unsupported format.
   */
  CLUSTO_STATUS_CORRUPT = 9,
  /**
   * An I/O error of the disk or the PostgreSQL server.
   */
  CLUSTO_STATUS_IO = 10,
  /**
   * A bug inside the library: a panic was caught at the boundary.
   */
  CLUSTO_STATUS_PANIC = 11,
} ClustoStatus;

/**
 * A list of attributes. Free with `clusto_attrs_free`.
 */
typedef struct ClustoAttrs ClustoAttrs;

/**
 * An open database, live or (from [`clusto_open_at`]) read-only as of a version. Any
 * number of threads may use one handle at once (see "Threads" at the top of this
 * header); [`clusto_close`] frees it.
 */
typedef struct ClustoDb ClustoDb;

/**
 * A list of strings (names or addresses). Free with `clusto_names_free`.
 */
typedef struct ClustoNames ClustoNames;

/**
 * A write transaction begun with [`clusto_begin`], ended and freed by
 * [`clusto_commit`] or [`clusto_rollback`]. One thread at a time may use it; it may be
 * handed to another thread and used or ended there (see "Threads" at the top of this
 * header).
 */
typedef struct ClustoTxn ClustoTxn;

/**
 * A value passed in.
 */
typedef struct ClustoValue {
  /**
   * One of the `CLUSTO_VALUE_*` constants.
   */
  uint32_t kind;
  /**
   * The integer, or the datetime in Unix microseconds (UTC) when `text` is NULL.
   */
  int64_t int_value;
  /**
   * The text of strings, datetimes, relations (a name) and JSON.
   */
  const char *text;
} ClustoValue;

/**
 * A value read back; its strings belong to the list it came from.
 */
typedef struct ClustoValueOut {
  /**
   * One of the `CLUSTO_VALUE_*` constants.
   */
  uint32_t kind;
  /**
   * The integer; the datetime in Unix microseconds (UTC); the id of a relation's
   * target entity; 0 otherwise.
   */
  int64_t int_value;
  /**
   * Strings, ISO datetimes (UTC), relation target names and JSON text; NULL
   * otherwise.
   */
  const char *text;
} ClustoValueOut;

/**
 * One attribute of a list; its strings belong to the list.
 */
typedef struct ClustoAttr {
  /**
   * The key.
   */
  const char *key;
  /**
   * The subkey, or NULL.
   */
  const char *subkey;
  /**
   * Whether `number` is set.
   */
  bool has_number;
  /**
   * The number.
   */
  int64_t number;
  /**
   * The value.
   */
  struct ClustoValueOut value;
} ClustoAttr;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * Creates the `clustometa` entity and its schema version if missing (idempotent: no
 * version when both exist). With `tx` NULL it commits two versions, as the original
 * clusto did (the entity, then its schema version); in a transaction, one.
 *
 * Errors: as any write, INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO, PANIC.
 *
 * # Safety
 * `db` is a live handle; `tx` is NULL or a live transaction on it.
 */
enum ClustoStatus clusto_init(const struct ClustoDb *db, struct ClustoTxn *tx);

/**
 * Creates entity `name` of `driver` (e.g. "basicserver"), with the driver's property
 * defaults.
 *
 * Errors: NOT_FOUND (unknown driver), ALREADY_EXISTS, INVALID_NAME (the name); as any
 * write, INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO, PANIC.
 *
 * # Safety
 * `db` is a live handle; `tx` is NULL or a live transaction on it; strings are C strings.
 */
enum ClustoStatus clusto_create(const struct ClustoDb *db,
                                struct ClustoTxn *tx,
                                const char *driver,
                                const char *name);

/**
 * Creates entity `name` of `driver` with driver properties: `props` is a JSON object
 * of values (`{"baseip": "10.0.0.0", "netmask": "255.255.255.0"}` for an IP manager;
 * values as in `clusto_json`), or NULL for the driver's defaults.
 *
 * Errors: NOT_FOUND (unknown driver, a relation to an entity that does not exist),
 * ALREADY_EXISTS, INVALID_NAME (the name, a property the driver does not have),
 * INVALID_ARGUMENT (`props` not a JSON object, a value not accepted); as any write,
 * INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO, PANIC.
 *
 * # Safety
 * As `clusto_create`; `props` is NULL or a C string.
 */
enum ClustoStatus clusto_create_with(const struct ClustoDb *db,
                                     struct ClustoTxn *tx,
                                     const char *driver,
                                     const char *name,
                                     const char *props);

/**
 * Stores in `*exists` whether a live entity is called `name`.
 *
 * Errors: as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
 *
 * # Safety
 * As `clusto_create`; `exists` is writable.
 */
enum ClustoStatus clusto_exists(const struct ClustoDb *db,
                                struct ClustoTxn *tx,
                                const char *name,
                                bool *exists);

/**
 * The type and driver of entity `name`, as new strings to free with
 * `clusto_string_free` (either out pointer may be NULL when not wanted).
 *
 * Errors: NOT_FOUND; as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
 *
 * # Safety
 * As `clusto_create`; out pointers are NULL or writable.
 */
enum ClustoStatus clusto_entity_kind(const struct ClustoDb *db,
                                     struct ClustoTxn *tx,
                                     const char *name,
                                     char **type_out,
                                     char **driver_out);

/**
 * Deletes entity `name`; attributes elsewhere that refer to it go too.
 *
 * Errors: NOT_FOUND; as any write, INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO,
 * PANIC.
 *
 * # Safety
 * As `clusto_create`.
 */
enum ClustoStatus clusto_delete(const struct ClustoDb *db, struct ClustoTxn *tx, const char *name);

/**
 * Renames an entity; references follow.
 *
 * Errors: NOT_FOUND, ALREADY_EXISTS, INVALID_NAME (the new name); as any write,
 * INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO, PANIC.
 *
 * # Safety
 * As `clusto_create`.
 */
enum ClustoStatus clusto_rename(const struct ClustoDb *db,
                                struct ClustoTxn *tx,
                                const char *old,
                                const char *new_);

/**
 * Adds (or with `replace`, sets: replaces the one attribute with the same key, subkey
 * and number) an attribute of entity `name`. `subkey` may be NULL; `number_mode` is a
 * `CLUSTO_NUMBER_*` constant.
 *
 * Errors: NOT_FOUND (the entity, or the entity a relation value names), INVALID_NAME
 * (key or subkey), INVALID_ARGUMENT (an unknown `number_mode` or value kind, a NULL or
 * unreadable value text, a relation to a deleted entity), CONFLICT (`replace` with
 * several matches); as any write, INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO,
 * PANIC.
 *
 * # Safety
 * As `clusto_create`; `value` points to a valid `ClustoValue`.
 */
enum ClustoStatus clusto_attr_put(const struct ClustoDb *db,
                                  struct ClustoTxn *tx,
                                  const char *name,
                                  const char *key,
                                  const char *subkey,
                                  uint32_t number_mode,
                                  int64_t number,
                                  const struct ClustoValue *value,
                                  bool replace);

/**
 * Deletes the attributes of entity `name` matching the filter (NULL key, subkey or
 * value match anything; hidden keys only when the key names one). `*count` (if not
 * NULL) receives how many were deleted.
 *
 * Errors: NOT_FOUND (the entity, or the entity a relation value names),
 * INVALID_ARGUMENT (an unknown `number_mode`, a value as in `clusto_attr_put`); as any
 * write, INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO, PANIC.
 *
 * # Safety
 * As `clusto_attr_put`; `value` may be NULL; `count` is NULL or writable.
 */
enum ClustoStatus clusto_attr_delete(const struct ClustoDb *db,
                                     struct ClustoTxn *tx,
                                     const char *name,
                                     const char *key,
                                     const char *subkey,
                                     uint32_t number_mode,
                                     int64_t number,
                                     const struct ClustoValue *value,
                                     size_t *count);

/**
 * The attributes of entity `name` matching the filter (as `clusto_attr_delete`;
 * `include_hidden` adds keys starting with `_`). `*out` receives a list to free with
 * `clusto_attrs_free`.
 *
 * Errors: NOT_FOUND, INVALID_ARGUMENT (as `clusto_attr_delete`); as any read,
 * INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
 *
 * # Safety
 * As `clusto_attr_delete`; `out` is writable.
 */
enum ClustoStatus clusto_attr_query(const struct ClustoDb *db,
                                    struct ClustoTxn *tx,
                                    const char *name,
                                    const char *key,
                                    const char *subkey,
                                    uint32_t number_mode,
                                    int64_t number,
                                    const struct ClustoValue *value,
                                    bool include_hidden,
                                    struct ClustoAttrs **out);

/**
 * Puts `thing` into `container` under the container's rules (pools, locations…).
 *
 * Errors: NOT_FOUND, CONFLICT (a pool's rule), TYPE_MISMATCH (a rack: use
 * `clusto_rack_insert`; a location or generic container refusing it), INVALID_ARGUMENT
 * (a cycle); as any write, INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO, PANIC.
 *
 * # Safety
 * As `clusto_create`.
 */
enum ClustoStatus clusto_insert(const struct ClustoDb *db,
                                struct ClustoTxn *tx,
                                const char *container,
                                const char *thing);

/**
 * Racks `device` in `rack` at the `count` units of `units` (1 to 1024 of them, in any
 * order): distinct, adjacent, free, and within the rack's unit range, minu..maxu with
 * both ends included (1..45 for a basicrack unless its properties say otherwise). A
 * device with a `rack_units` attribute takes exactly that many units.
 *
 * Errors: NOT_FOUND, TYPE_MISMATCH (not a rack / not a device), INVALID_ARGUMENT (NULL
 * `units`, `count` 0 or above 1024, a unit outside minu..maxu, units not distinct and
 * adjacent, not as many units as the device's `rack_units`, a minu or maxu that is not
 * an integer), CONFLICT (a unit is occupied, the device is already racked, the rack
 * has several minu or maxu values); as any write, INVALID_ARGUMENT, CONFLICT, LOCKED,
 * CORRUPT, IO, PANIC.
 *
 * # Safety
 * As `clusto_create`; `units` points to `count` integers.
 */
enum ClustoStatus clusto_rack_insert(const struct ClustoDb *db,
                                     struct ClustoTxn *tx,
                                     const char *rack,
                                     const char *device,
                                     const int64_t *units,
                                     size_t count);

/**
 * Takes `thing` out of `container` (every rack unit, for a rack). `*removed` (if not
 * NULL) receives how many containment attributes went.
 *
 * Errors: NOT_FOUND; as any write, INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO,
 * PANIC.
 *
 * # Safety
 * As `clusto_create`; `removed` is NULL or writable.
 */
enum ClustoStatus clusto_remove(const struct ClustoDb *db,
                                struct ClustoTxn *tx,
                                const char *container,
                                const char *thing,
                                size_t *removed);

/**
 * The members of `name` (all levels with `recursive`; a multi-unit device is listed
 * once per unit, as the original). `*out` receives a list to free with
 * `clusto_names_free`.
 *
 * Errors: NOT_FOUND; as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
 *
 * # Safety
 * As `clusto_create`; `out` is writable.
 */
enum ClustoStatus clusto_contents(const struct ClustoDb *db,
                                  struct ClustoTxn *tx,
                                  const char *name,
                                  bool recursive,
                                  struct ClustoNames **out);

/**
 * The containers of `name` (every ancestor with `recursive`). Free with
 * `clusto_names_free`.
 *
 * Errors: NOT_FOUND; as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
 *
 * # Safety
 * As `clusto_contents`.
 */
enum ClustoStatus clusto_parents(const struct ClustoDb *db,
                                 struct ClustoTxn *tx,
                                 const char *name,
                                 bool recursive,
                                 struct ClustoNames **out);

/**
 * The pools `name` is in (and the pools containing them, with `recursive`). Free with
 * `clusto_names_free`.
 *
 * Errors: NOT_FOUND; as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
 *
 * # Safety
 * As `clusto_contents`.
 */
enum ClustoStatus clusto_pools(const struct ClustoDb *db,
                               struct ClustoTxn *tx,
                               const char *name,
                               bool recursive,
                               struct ClustoNames **out);

/**
 * Gives `device` an IP address: `ip` (NULL: the next free address of `manager`) from
 * `manager` (NULL: the one manager whose range holds `ip`). `*ip_out` (if not NULL)
 * receives the address, to free with `clusto_string_free`.
 *
 * Errors: NOT_FOUND (the device or manager; no manager's range holds `ip`),
 * TYPE_MISMATCH (`manager` is not an IP manager), INVALID_ARGUMENT (both NULL, not an
 * address, an address outside the manager's range, no `ip` from a manager without a
 * baseip), RESOURCE_UNAVAILABLE (taken or exhausted), CONFLICT (several managers'
 * ranges hold `ip`); as any write, INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO,
 * PANIC.
 *
 * # Safety
 * As `clusto_create`; `manager` and `ip` may be NULL; `ip_out` is NULL or writable.
 */
enum ClustoStatus clusto_ip_allocate(const struct ClustoDb *db,
                                     struct ClustoTxn *tx,
                                     const char *device,
                                     const char *manager,
                                     const char *ip,
                                     char **ip_out);

/**
 * Frees `ip` held by `device` (NULL: every address `manager` gave it). `manager` NULL
 * means the one manager whose range holds `ip`.
 *
 * Errors: NOT_FOUND (the device or manager; no manager's range holds `ip`),
 * TYPE_MISMATCH (`manager` is not an IP manager), INVALID_ARGUMENT (both NULL, not an
 * address, an address outside the manager's range), RESOURCE_UNAVAILABLE (held by
 * another entity), CONFLICT (several managers' ranges hold `ip`); as any write,
 * INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO, PANIC.
 *
 * # Safety
 * As `clusto_ip_allocate`.
 */
enum ClustoStatus clusto_ip_deallocate(const struct ClustoDb *db,
                                       struct ClustoTxn *tx,
                                       const char *device,
                                       const char *manager,
                                       const char *ip);

/**
 * The addresses of `device`. Free with `clusto_names_free`.
 *
 * Errors: NOT_FOUND; as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
 *
 * # Safety
 * As `clusto_contents`.
 */
enum ClustoStatus clusto_ips_of(const struct ClustoDb *db,
                                struct ClustoTxn *tx,
                                const char *device,
                                struct ClustoNames **out);

/**
 * The names of the entities holding address `ip`. Free with `clusto_names_free`.
 *
 * Errors: INVALID_ARGUMENT (not an address); as any read, INVALID_ARGUMENT, CONFLICT,
 * CORRUPT, IO, PANIC.
 *
 * # Safety
 * As `clusto_contents`.
 */
enum ClustoStatus clusto_devices_with_ip(const struct ClustoDb *db,
                                         struct ClustoTxn *tx,
                                         const char *ip,
                                         struct ClustoNames **out);

/**
 * Creates an entity of `driver` named by the simple entity-name manager `manager`;
 * `*name_out` receives its name, to free with `clusto_string_free`.
 *
 * Errors: NOT_FOUND (the manager, an unknown driver), TYPE_MISMATCH (not an
 * entity-name manager), RESOURCE_UNAVAILABLE (out of names), ALREADY_EXISTS (an entity
 * has the next name), INVALID_NAME (the next name is not a valid name),
 * INVALID_ARGUMENT (a digits or next property that is not an integer); as any write,
 * INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO, PANIC.
 *
 * # Safety
 * As `clusto_create`; `name_out` is writable.
 */
enum ClustoStatus clusto_name_allocate(const struct ClustoDb *db,
                                       struct ClustoTxn *tx,
                                       const char *manager,
                                       const char *driver,
                                       char **name_out);

/**
 * Connects port `number` of `device` to port `other_number` of `other` (same type).
 *
 * Errors: NOT_FOUND, CONFLICT (no such port on a driver, a port in use),
 * INVALID_ARGUMENT (a number below 1); as any write, INVALID_ARGUMENT, CONFLICT,
 * LOCKED, CORRUPT, IO, PANIC.
 *
 * # Safety
 * As `clusto_create`.
 */
enum ClustoStatus clusto_port_connect(const struct ClustoDb *db,
                                      struct ClustoTxn *tx,
                                      const char *device,
                                      const char *port_type,
                                      int64_t number,
                                      const char *other,
                                      int64_t other_number);

/**
 * Disconnects a port (both ends; a no-op on a free port).
 *
 * Errors: NOT_FOUND, CONFLICT (no such port), INVALID_ARGUMENT (a number below 1); as
 * any write, INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO, PANIC.
 *
 * # Safety
 * As `clusto_create`.
 */
enum ClustoStatus clusto_port_disconnect(const struct ClustoDb *db,
                                         struct ClustoTxn *tx,
                                         const char *device,
                                         const char *port_type,
                                         int64_t number);

/**
 * The device connected to a port: `*name_out` receives its name (free with
 * `clusto_string_free`), or NULL when the port is free.
 *
 * Errors: NOT_FOUND, CONFLICT (no such port), INVALID_ARGUMENT (a number below 1); as
 * any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
 *
 * # Safety
 * As `clusto_create`; `name_out` is writable.
 */
enum ClustoStatus clusto_port_connected(const struct ClustoDb *db,
                                        struct ClustoTxn *tx,
                                        const char *device,
                                        const char *port_type,
                                        int64_t number,
                                        char **name_out);

/**
 * The newest committed version of the live database (0 for a new database): through a
 * handle from `clusto_open_at` too, which does not give its own version.
 *
 * Errors: as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
 *
 * # Safety
 * `db` is a live handle; `version` is writable.
 */
enum ClustoStatus clusto_latest_version(const struct ClustoDb *db, uint64_t *version);

/**
 * Waits until a version newer than `after` is committed — by this process or another
 * sharing the database — or `timeout_ms` milliseconds pass (0: no limit); `*newest`
 * receives the latest version then (still `<= after` after a timeout). Blocks the
 * calling thread; another process's commit is seen within ~10 ms. On a handle from
 * `clusto_open_at` it waits for the live database.
 *
 * Errors: as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
 *
 * # Safety
 * `db` is a live handle; `newest` is writable.
 */
enum ClustoStatus clusto_wait_version(const struct ClustoDb *db,
                                      uint64_t after,
                                      uint64_t timeout_ms,
                                      uint64_t *newest);

/**
 * The change feed: every version after `since` with its changes, as a JSON array (each
 * entry `{version, timestamp, user, description, changes: [{entity, type, kind, change}]}`:
 * a VERSION with `"changes": [CHANGE]`, as the JSON op `feed` gives; see the top of
 * this header). `*json` receives it, to free with `clusto_string_free`. A consumer
 * that resumes from the last version it saw misses nothing. Timestamps are UTC. It
 * reads the live database, also through a handle from `clusto_open_at`.
 *
 * Errors: as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
 *
 * # Safety
 * `db` is a live handle; `json` is writable.
 */
enum ClustoStatus clusto_changes_json(const struct ClustoDb *db, uint64_t since, char **json);

/**
 * The versions that touched any entity that had this name, ascending: `*versions`
 * receives an array of `*count` numbers to free with `clusto_versions_free`. It reads
 * the live database, also through a handle from `clusto_open_at`.
 *
 * Errors: NOT_FOUND (the name never existed); as any read, INVALID_ARGUMENT, CONFLICT,
 * CORRUPT, IO, PANIC.
 *
 * # Safety
 * `db` is a live handle; `name` a C string; `versions` and `count` writable.
 */
enum ClustoStatus clusto_entity_versions(const struct ClustoDb *db,
                                         const char *name,
                                         uint64_t **versions,
                                         size_t *count);

/**
 * Frees an array from `clusto_entity_versions`. NULL is ignored.
 *
 * # Safety
 * `versions` and `count` are exactly what `clusto_entity_versions` returned.
 */
void clusto_versions_free(uint64_t *versions, size_t count);

/**
 * Runs the integrity check; `*problems` receives the number of problems found (0:
 * clean). The messages are in `clusto_last_error` when there are problems.
 *
 * Errors: as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
 *
 * # Safety
 * `db` is a live handle; `problems` is writable.
 */
enum ClustoStatus clusto_check(const struct ClustoDb *db, uint64_t *problems);

/**
 * Frees a string the library returned. NULL is ignored.
 *
 * # Safety
 * `s` is NULL or a string returned by this library and not yet freed.
 */
void clusto_string_free(char *s);

/**
 * The library version, e.g. "0.1.0". Static: do not free.
 */
const char *clusto_version(void);

/**
 * Opens (creating if needed, mode 0700) the database `path` names: a directory (a new
 * database is LMDB; an existing one opens with its engine), `lmdb:///path`,
 * `sled:///path`, `memory:` (a new database in memory, gone when closed) or
 * `postgresql://...` (a server's database whose schema `clusto initdb` made). A
 * directory already open in this process is shared, with the options of its first
 * open (a transaction begun on one of its handles may be used with another); each
 * `memory:` open is a new database, and each `postgresql://` open a handle that shares
 * nothing with the others, as if in another process. Its writes wait up to
 * `lock_wait_ms` milliseconds while another process writes (0: fail at once with
 * LOCKED); a sled database, which admits one process, is waited for as long on open.
 * Commits are on disk when they return. On success `*out` is a handle to free with
 * `clusto_close`. The library runs background threads, named "clusto-...", while a
 * database that needs them is open (LMDB's "grouped" syncer, PostgreSQL's connection
 * pool); closing its last handle, once its last transaction has ended, stops and joins
 * them. sled, once used, keeps its own pool of worker threads until the process exits.
 * A child made by `fork()` cannot use handles opened before it, nor open the same
 * embedded database again: those calls fail with CONFLICT (open it after `exec`). As
 * with any library that takes locks, fork only while no other thread of the parent is
 * inside a clusto call.
 *
 * Errors: INVALID_ARGUMENT (NULL or non-UTF-8 path, an unknown DSN scheme or a bad
 * DSN, a directory of other files, a directory holding a database of another engine
 * than the DSN names, NULL out), NOT_FOUND (a PostgreSQL database without clusto's
 * schema), LOCKED (a sled database another process keeps open, a new database another
 * process is making), CONFLICT (in a child of `fork()`, a database the parent had
 * open), CORRUPT (also a database of a newer format), IO (the directory cannot be
 * made, the server cannot be reached), PANIC.
 *
 * # Safety
 * `path` is a NUL-terminated string; `out` is valid for writing a pointer.
 */
enum ClustoStatus clusto_open(const char *path, uint64_t lock_wait_ms, struct ClustoDb **out);

/**
 * As `clusto_open`, with `durability`: NULL or "immediate" (every commit on disk
 * before it returns), "grouped" or "grouped:MS" (LMDB: a commit survives the death of
 * the process at once and reaches the disk within MS milliseconds; see the README), or
 * "periodic:MS" (sled).
 *
 * Errors: those of `clusto_open` (INVALID_ARGUMENT, NOT_FOUND, LOCKED, CONFLICT,
 * CORRUPT, IO, PANIC); INVALID_ARGUMENT also for an unknown durability, or one the
 * engine cannot give.
 *
 * # Safety
 * As `clusto_open`; `durability` is NULL or a NUL-terminated string.
 */
enum ClustoStatus clusto_open_with(const char *path,
                                   uint64_t lock_wait_ms,
                                   const char *durability,
                                   struct ClustoDb **out);

/**
 * A second, read-only handle on the same database that reads it as it was at the end
 * of `version` (whatever version `db` reads). Free it with `clusto_close`, before or
 * after `db`. Writes through it, and transactions given with it, fail with
 * INVALID_ARGUMENT. The functions about versions (`clusto_latest_version`,
 * `clusto_wait_version`, `clusto_changes_json`, `clusto_entity_versions`) still read
 * the live database: see "Versions and as-of handles" at the top of this header.
 *
 * Errors: INVALID_ARGUMENT (NULL db or out, a version newer than the latest: it does
 * not exist yet), CONFLICT (a handle used after `fork()`), CORRUPT, IO, PANIC.
 *
 * # Safety
 * `db` is a live handle; `out` is valid for writing a pointer.
 */
enum ClustoStatus clusto_open_at(const struct ClustoDb *db,
                                 uint64_t version,
                                 struct ClustoDb **out);

/**
 * Closes a handle. NULL is ignored. A transaction begun on it is not ended: it stays
 * open, keeps the write transaction, and is still committed or rolled back with
 * `clusto_commit` or `clusto_rollback`; the database's files, locks and threads are
 * released once its last handle is closed and its last transaction ended (see
 * "Closing" at the top of this header).
 *
 * # Safety
 * `db` is NULL or a handle from this library, not yet closed, that no other thread is
 * using or will use.
 */
void clusto_close(struct ClustoDb *db);

/**
 * Sets the user and description recorded with the versions of the calls made without
 * a transaction (NULL clears them), by every thread using this handle; `clusto_json`
 * requests that name neither record these too.
 *
 * Errors: INVALID_ARGUMENT (NULL db, text that is not UTF-8), PANIC.
 *
 * # Safety
 * `db` is a live handle; the strings are NULL or NUL-terminated.
 */
enum ClustoStatus clusto_set_meta(struct ClustoDb *db, const char *user, const char *description);

/**
 * Begins the write transaction, recording `user` and `description` (either may be
 * NULL) with its version. Waits its turn after the other threads of this process
 * (LOCKED only when one of them keeps the write transaction for the handle's
 * `lock_wait_ms`, at least 5 seconds, without the turn moving on) and up to
 * `lock_wait_ms` while another process holds it, then fails with LOCKED; fails with CONFLICT if this thread holds it (also when it
 * handed that transaction to another thread). End it with `clusto_commit` or
 * `clusto_rollback`, on this thread or another (see "Threads" at the top of this
 * header).
 *
 * Errors: INVALID_ARGUMENT (NULL db or out, text that is not UTF-8, a handle from
 * `clusto_open_at`), CONFLICT (this thread holds the write transaction; a handle used
 * after `fork()`), LOCKED (another process held the write lease for `lock_wait_ms`, or
 * one thread of this process the write transaction for as long, and 5 s at least),
 * CORRUPT, IO, PANIC.
 *
 * # Safety
 * `db` is a live handle; the strings are NULL or NUL-terminated; `out` is writable.
 */
enum ClustoStatus clusto_begin(const struct ClustoDb *db,
                               const char *user,
                               const char *description,
                               struct ClustoTxn **out);

/**
 * Commits and frees the transaction, on any thread. `*version` (if `version` is not
 * NULL) receives the new version, or 0 when nothing changed. The transaction is freed
 * whatever the outcome. A failed commit commits nothing, except that a sled database
 * cannot tell whether a commit failing with IO reached its disk: its handles then
 * refuse work until the database is closed and reopened, which shows one or the other.
 *
 * Errors: INVALID_ARGUMENT (NULL tx), CONFLICT (a transaction used after `fork()`),
 * CORRUPT, IO, PANIC.
 *
 * # Safety
 * `tx` is a live transaction; `version` is NULL or writable.
 */
enum ClustoStatus clusto_commit(struct ClustoTxn *tx, uint64_t *version);

/**
 * Discards and frees the transaction, on any thread. NULL is ignored.
 *
 * # Safety
 * `tx` is NULL or a live transaction.
 */
void clusto_rollback(struct ClustoTxn *tx);

/**
 * Runs the JSON request `request` and stores the JSON response in `*response`, to free
 * with `clusto_string_free`. The response is set whenever `response` is not NULL, also
 * on errors, and the status is the one named in its `error.code`.
 *
 * Request: `{"op": NAME, ...arguments}`; `{"op": "batch", "ops": [...], "user": U,
 * "description": D}` runs several operations in one transaction (one version; all or
 * nothing). A read may carry `"at": VERSION`. Response: `{"ok": true, "result": ...}`
 * or `{"ok": false, "error": {"code": "NOT_FOUND", "message": "..."}}`. Every
 * operation, its arguments and the shape of its result are listed under "JSON entry
 * point" and "JSON operations" at the top of this header. A request is its own
 * transaction (it cannot join a `ClustoTxn`): a write on a thread that holds one
 * fails with CONFLICT. On a handle from `clusto_open_at` it reads that version and
 * refuses writes.
 *
 * Errors: every status, its name in the response's `error.code`: INVALID_ARGUMENT
 * (NULL db or response, text that is not UTF-8 or not a JSON object, more than 16 MiB,
 * an unknown op, a missing or malformed argument, a write with "at" or on a handle
 * from `clusto_open_at`), then those of the operation: as the C function doing the
 * same work lists them (a pool's or a port's rule and an ambiguous match being
 * CONFLICT), and for the others NOT_FOUND (a name, pool or version that does not
 * exist), INVALID_ARGUMENT (a version not committed yet, a diff from a newer version
 * to an older one), CONFLICT (revert: a later version touched the same things),
 * ALREADY_EXISTS and RESOURCE_UNAVAILABLE (revert, restore: a name, rack unit or
 * address that is someone else's now); and, as any read or write, CONFLICT, LOCKED,
 * CORRUPT, IO, PANIC.
 *
 * # Safety
 * `db` is a live handle; `request` is a C string; `response` is writable.
 */
enum ClustoStatus clusto_json(const struct ClustoDb *db, const char *request, char **response);

/**
 * The message of the last failed call on this thread; "" after a success. The string
 * belongs to the library and stays valid until the next call on this thread: do not
 * free it.
 */
const char *clusto_last_error(void);

/**
 * The number of strings in a list (0 for NULL).
 *
 * # Safety
 * `list` is NULL or a live list.
 */
size_t clusto_names_len(const struct ClustoNames *list);

/**
 * String `i` of a list, or NULL when out of range. It belongs to the list.
 *
 * # Safety
 * `list` is NULL or a live list.
 */
const char *clusto_names_get(const struct ClustoNames *list, size_t i);

/**
 * Frees a list. NULL is ignored.
 *
 * # Safety
 * `list` is NULL or a list from this library, not yet freed.
 */
void clusto_names_free(struct ClustoNames *list);

/**
 * The number of attributes in a list (0 for NULL).
 *
 * # Safety
 * `list` is NULL or a live list.
 */
size_t clusto_attrs_len(const struct ClustoAttrs *list);

/**
 * Fills `*out` with attribute `i` of a list. Returns false (and leaves `*out` alone)
 * when `list` or `out` is NULL or `i` is out of range.
 *
 * # Safety
 * `list` is NULL or a live list; `out` is NULL or writable.
 */
bool clusto_attrs_get(const struct ClustoAttrs *list, size_t i, struct ClustoAttr *out);

/**
 * Frees a list. NULL is ignored.
 *
 * # Safety
 * `list` is NULL or a list from this library, not yet freed.
 */
void clusto_attrs_free(struct ClustoAttrs *list);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* CLUSTO_H */
