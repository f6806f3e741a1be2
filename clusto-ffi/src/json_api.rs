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
/// or `{"ok": false, "error": {"code": "NOT_FOUND", "message": "..."}}`. The operations
/// and the shapes of values are those of clusto-core's `protocol` module (README: "The
/// JSON protocol").
///
/// Errors: any status, with the same code in the response.
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
