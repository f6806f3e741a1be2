//! Fuzzes the C ABI's JSON entry point: any request bytes must give a status and a
//! JSON response, never a panic, a crash or an invalid database.
#![no_main]

use std::ffi::{CString, c_char};
use std::sync::OnceLock;

use clusto::{ClustoDb, ClustoStatus, clusto_json, clusto_open, clusto_string_free};
use libfuzzer_sys::fuzz_target;

struct Db(*mut ClustoDb);
// SAFETY: the handle is only used through the library's thread-safe functions.
unsafe impl Send for Db {}
// SAFETY: as above.
unsafe impl Sync for Db {}

fn db() -> &'static Db {
    static DB: OnceLock<Db> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("clusto-fuzz-{}", std::process::id()));
        let path = CString::new(dir.to_str().unwrap()).unwrap();
        let mut db = std::ptr::null_mut();
        // SAFETY: valid arguments.
        assert_eq!(unsafe { clusto_open(path.as_ptr(), 0, &mut db) }, ClustoStatus::Ok);
        let setup = CString::new(
            r#"{"op":"batch","ops":[{"op":"init"},{"op":"create","driver":"basicrack","name":"r1"},
            {"op":"create","driver":"basicserver","name":"s1"},{"op":"create","driver":"pool","name":"p"},
            {"op":"create","driver":"ipmanager","name":"net","props":{"baseip":"10.0.0.0","netmask":"255.255.255.0"}}]}"#,
        )
        .unwrap();
        let mut out: *mut c_char = std::ptr::null_mut();
        // SAFETY: valid arguments; the response is freed below.
        unsafe {
            clusto_json(db, setup.as_ptr(), &mut out);
            clusto_string_free(out);
        }
        Db(db)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(request) = CString::new(data.to_vec()) else {
        return;
    };
    let mut out: *mut c_char = std::ptr::null_mut();
    // SAFETY: the database handle lives for the whole run; the request is a C string.
    let status = unsafe { clusto_json(db().0, request.as_ptr(), &mut out) };
    assert!(!out.is_null(), "a response is always given");
    // SAFETY: the library returned a C string.
    let text = unsafe { std::ffi::CStr::from_ptr(out) }
        .to_str()
        .expect("responses are UTF-8")
        .to_owned();
    // SAFETY: returned by the library, freed once.
    unsafe { clusto_string_free(out) };
    let response: serde_json_check::Value = serde_json_check::from_str(&text);
    assert_eq!(response.ok, status == ClustoStatus::Ok, "{text}");
    assert_ne!(status, ClustoStatus::Panic, "{text}");
});

/// A minimal check of the response shape without another dependency.
mod serde_json_check {
    pub struct Value {
        pub ok: bool,
    }

    pub fn from_str(text: &str) -> Value {
        assert!(text.starts_with('{') && text.ends_with('}'), "{text}");
        Value {
            ok: text.starts_with("{\"ok\":true") || text.contains("\"ok\":true,"),
        }
    }
}
