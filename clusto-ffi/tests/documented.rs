//! What the header says about threads, closing a handle and as-of handles, checked
//! through the C functions themselves.

use std::ffi::{CStr, CString, c_char};
use std::path::PathBuf;
use std::ptr::{null, null_mut};

use clusto::*;

/// A database directory removed at the end of the test.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("clusto-ffi-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }

    fn dsn(&self) -> CString {
        CString::new(self.0.to_str().unwrap()).unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn open(dsn: &CStr) -> *mut ClustoDb {
    let mut db = null_mut();
    // SAFETY: a C string and a writable out pointer.
    assert_eq!(
        unsafe { clusto_open(dsn.as_ptr(), 0, &mut db) },
        ClustoStatus::Ok
    );
    db
}

fn begin(db: *mut ClustoDb) -> Result<*mut ClustoTxn, ClustoStatus> {
    let mut tx = null_mut();
    // SAFETY: a live handle and a writable out pointer.
    match unsafe { clusto_begin(db, null(), null(), &mut tx) } {
        ClustoStatus::Ok => Ok(tx),
        status => Err(status),
    }
}

fn create(db: *mut ClustoDb, tx: *mut ClustoTxn, name: &str) -> ClustoStatus {
    let (driver, name) = (c("basicserver"), c(name));
    // SAFETY: a live handle, NULL or a live transaction on it, C strings.
    unsafe { clusto_create(db, tx, driver.as_ptr(), name.as_ptr()) }
}

fn commit(tx: *mut ClustoTxn) -> (ClustoStatus, u64) {
    let mut version = 0;
    // SAFETY: a live transaction, freed here.
    let status = unsafe { clusto_commit(tx, &mut version) };
    (status, version)
}

fn latest(db: *mut ClustoDb) -> u64 {
    let mut version = 0;
    // SAFETY: a live handle and a writable out pointer.
    assert_eq!(
        unsafe { clusto_latest_version(db, &mut version) },
        ClustoStatus::Ok
    );
    version
}

fn exists(db: *mut ClustoDb, name: &str) -> bool {
    let (name, mut found) = (c(name), false);
    // SAFETY: a live handle, a C string, a writable out pointer.
    let status = unsafe { clusto_exists(db, null_mut(), name.as_ptr(), &mut found) };
    assert_eq!(status, ClustoStatus::Ok);
    found
}

fn json(db: *mut ClustoDb, request: &str) -> String {
    let (request, mut response) = (c(request), null_mut::<c_char>());
    // SAFETY: a live handle, a C string, a writable out pointer.
    unsafe { clusto_json(db, request.as_ptr(), &mut response) };
    // SAFETY: a string from the library, freed once read.
    let text = unsafe { CStr::from_ptr(response) }
        .to_string_lossy()
        .into_owned();
    unsafe { clusto_string_free(response) };
    text
}

/// A pointer handed to another thread, as a C program would.
struct Handed<T>(*mut T);
// SAFETY: the header allows it: a ClustoDb is used by many threads at once, a
// ClustoTxn by one at a time.
unsafe impl<T> Send for Handed<T> {}

/// "A ClustoDb may be used by any number of threads at once."
#[test]
fn threads_share_a_handle() {
    let dir = TempDir::new("share");
    let db = open(&dir.dsn());
    std::thread::scope(|scope| {
        for t in 0..4 {
            let db = Handed(db);
            scope.spawn(move || {
                let db = db;
                for i in 0..5 {
                    assert_eq!(
                        create(db.0, null_mut(), &format!("s{t}-{i}")),
                        ClustoStatus::Ok
                    );
                }
            });
        }
    });
    assert_eq!(latest(db), 20);
    // SAFETY: no thread uses the handle any more.
    unsafe { clusto_close(db) };
}

/// "A ClustoTxn ... may be handed to another thread and used, committed or rolled back
/// there. Until it ends, the write transaction still belongs to the thread that began
/// it: that thread's clusto_begin and tx-NULL writes fail with CONFLICT."
#[test]
fn a_transaction_is_committed_on_another_thread() {
    let dir = TempDir::new("handed");
    let db = open(&dir.dsn());
    for end_with_commit in [true, false] {
        let tx = begin(db).unwrap();
        assert_eq!(
            create(db, tx, &format!("here-{end_with_commit}")),
            ClustoStatus::Ok
        );
        let (db_there, tx_there) = (Handed(db), Handed(tx));
        let (ready, go) = std::sync::mpsc::channel::<()>();
        let (asked, answered) = std::sync::mpsc::channel::<()>();
        let there = std::thread::spawn(move || {
            let (db, tx) = (db_there, tx_there);
            let name = format!("there-{end_with_commit}");
            assert_eq!(create(db.0, tx.0, &name), ClustoStatus::Ok);
            ready.send(()).unwrap();
            answered.recv().unwrap(); // the first thread tried to begin meanwhile
            if end_with_commit {
                commit(tx.0)
            } else {
                // SAFETY: the live transaction, freed here.
                unsafe { clusto_rollback(tx.0) };
                (ClustoStatus::Ok, 0)
            }
        });
        go.recv().unwrap();
        assert_eq!(begin(db), Err(ClustoStatus::Conflict));
        assert_eq!(create(db, null_mut(), "meanwhile"), ClustoStatus::Conflict);
        asked.send(()).unwrap();
        let (status, version) = there.join().unwrap();
        assert_eq!(status, ClustoStatus::Ok);
        assert_eq!(
            exists(db, &format!("there-{end_with_commit}")),
            end_with_commit
        );
        assert_eq!(version, u64::from(end_with_commit));
        // The transaction ended: this thread writes again.
        let tx = begin(db).unwrap();
        // SAFETY: the live transaction, freed here.
        unsafe { clusto_rollback(tx) };
    }
    // SAFETY: no thread uses the handle any more.
    unsafe { clusto_close(db) };
}

/// "clusto_close(db) does not end the transactions begun on db: each stays open and
/// valid ... Until then it may still be used with another handle on the same
/// database."
#[test]
fn closing_a_handle_leaves_its_transaction_open() {
    let dir = TempDir::new("close");
    let db = open(&dir.dsn());
    let tx = begin(db).unwrap();
    assert_eq!(create(db, tx, "before-close"), ClustoStatus::Ok);
    // SAFETY: a live handle, not used afterwards.
    unsafe { clusto_close(db) };
    let other = open(&dir.dsn());
    assert_eq!(create(other, tx, "after-close"), ClustoStatus::Ok);
    // Still the write transaction: this thread cannot begin another.
    assert_eq!(begin(other), Err(ClustoStatus::Conflict));
    assert_eq!(commit(tx), (ClustoStatus::Ok, 1));
    assert!(exists(other, "before-close") && exists(other, "after-close"));
    // SAFETY: a live handle, not used afterwards.
    unsafe { clusto_close(other) };
}

/// "clusto_latest_version gives the live database's newest version (not the handle's
/// version)", and so does the JSON op `version`.
#[test]
fn an_as_of_handle_reports_the_live_version() {
    let db = open(&c("memory:"));
    for name in ["a", "b", "c"] {
        assert_eq!(create(db, null_mut(), name), ClustoStatus::Ok);
    }
    let mut at = null_mut();
    // SAFETY: a live handle and a writable out pointer.
    assert_eq!(unsafe { clusto_open_at(db, 1, &mut at) }, ClustoStatus::Ok);
    assert_eq!(latest(at), 3);
    assert!(exists(at, "a") && !exists(at, "b"));
    assert_eq!(
        json(at, r#"{"op": "version"}"#),
        r#"{"ok":true,"result":3}"#
    );
    assert_eq!(
        json(db, r#"{"op": "version", "at": 1}"#),
        r#"{"ok":true,"result":3}"#
    );
    // SAFETY: live handles, not used afterwards.
    unsafe {
        clusto_close(at);
        clusto_close(db);
    }
}
