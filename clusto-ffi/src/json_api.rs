//! `clusto_json`: the JSON protocol of `clusto_core::protocol` behind one C function.

use std::ffi::c_char;

use clusto_core::protocol::{self, Context};
use serde_json::{Value as Json, json};

use crate::args::{c_string, need, put, text};
use crate::handles::{ClustoDb, db_ref};
use crate::status::{ClustoStatus, guard, status_name};

/// Runs the JSON request `request` and stores the JSON response in `*response`, to free
/// with `clusto_string_free`. The response is set whenever `response` is not NULL, also
/// on errors, and the status is the one named in its `error.code`.
///
/// Request: `{"op": NAME, ...arguments}`; `{"op": "batch", "ops": [...], "user": U,
/// "description": D}` runs several operations in one transaction (one version; all or
/// nothing). A read may carry `"at": VERSION`. Response: `{"ok": true, "result": ...}`
/// or `{"ok": false, "error": {"code": "NOT_FOUND", "message": "..."}}`. Every
/// operation, its arguments and the shape of its result are listed under "JSON entry
/// point" and "JSON operations" at the top of this header. A request is its own
/// transaction (it cannot join a `ClustoTxn`): a write on a thread that holds one
/// fails with CONFLICT. On a handle from `clusto_open_at` it reads that version and
/// refuses writes.
///
/// Errors: every status, its name in the response's `error.code`: INVALID_ARGUMENT
/// (NULL db or response, text that is not UTF-8 or not a JSON object, more than 16 MiB,
/// an unknown op, a missing or malformed argument, a write with "at" or on a handle
/// from `clusto_open_at`), then those of the operation: as the C function doing the
/// same work lists them (a pool's or a port's rule and an ambiguous match being
/// CONFLICT), and for the others NOT_FOUND (a name, pool or version that does not
/// exist), INVALID_ARGUMENT (a version not committed yet, a diff from a newer version
/// to an older one), CONFLICT (revert: a later version touched the same things),
/// ALREADY_EXISTS and RESOURCE_UNAVAILABLE (revert, restore: a name, rack unit or
/// address that is someone else's now); and, as any read or write, CONFLICT, LOCKED,
/// CORRUPT, IO, PANIC.
///
/// # Safety
/// `db` is a live handle; `request` is a C string; `response` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_json(
    db: *const ClustoDb,
    request: *const c_char,
    response: *mut *mut c_char,
) -> ClustoStatus {
    let mut reply = Json::Null;
    let status = guard(|| {
        need(response, "response")?;
        // SAFETY: contract above.
        let (db, request) = unsafe { (db_ref(db)?, text(request, "request")?) };
        let context = Context {
            at: db.at,
            meta: db.meta.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            user_fixed: false,
            read_only: false,
        };
        let outcome = protocol::run(&db.db, request, &context);
        reply = protocol::response(&outcome);
        outcome.map(drop)
    });
    if !response.is_null() {
        if reply.is_null() {
            let message = unsafe { std::ffi::CStr::from_ptr(crate::status::clusto_last_error()) }
                .to_string_lossy()
                .into_owned();
            reply =
                json!({"ok": false, "error": {"code": status_name(status), "message": message}});
        }
        // SAFETY: non-NULL and writable by contract.
        let _ = unsafe { put(response, c_string(&reply.to_string()), "response") };
    }
    status
}
