//! The storage conformance suite: one set of checks that every backend must pass (memory and
//! file in unit tests, a real SeaweedFS S3 server in `tests/storage_s3.rs`). Public (hidden) so
//! integration tests can run it against any URL. Panics with a message on the first deviation.

use bytes::Bytes;

use super::{StorageError, Store};

/// Runs every check against `store`, which must be empty.
#[doc(hidden)]
pub fn run(store: &Store) {
    let url = store.url().to_string();
    // put / get / exists / overwrite
    assert!(
        !store.exists("a/b/c.txt").unwrap(),
        "{url}: fresh store not empty"
    );
    store.put("a/b/c.txt", Bytes::from_static(b"one")).unwrap();
    assert!(store.exists("a/b/c.txt").unwrap());
    assert_eq!(&store.get("a/b/c.txt").unwrap()[..], b"one");
    store.put("a/b/c.txt", Bytes::from_static(b"two!")).unwrap();
    assert_eq!(&store.get("a/b/c.txt").unwrap()[..], b"two!");
    // UTF-8 and id-shaped keys (pseudo-folders)
    let id = "Q/7/0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    store.put(&format!("{id}.pdf"), vec![0u8; 1000]).unwrap();
    store
        .put(&format!("{id}.error.txt"), "é".as_bytes().to_vec())
        .unwrap();
    // missing keys
    match store.get("nope.csv") {
        Err(StorageError::NotFound { key, .. }) => assert_eq!(key, "nope.csv"),
        other => panic!("{url}: get of a missing key gave {other:?}"),
    }
    assert!(store.get_opt("nope.csv").unwrap().is_none());
    assert!(matches!(
        store.size("nope.csv"),
        Err(StorageError::NotFound { .. })
    ));
    assert_eq!(store.size("a/b/c.txt").unwrap(), 4, "{url}: size");
    store.delete("nope.csv").unwrap();
    // listing with sizes, by prefix
    let mut all: Vec<_> = store.list(None).unwrap().map(|r| r.unwrap()).collect();
    all.sort_by(|a, b| a.key.cmp(&b.key));
    let keys: Vec<_> = all.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(
        keys,
        vec![
            "Q/7/0a1b2c3d4e5f60718293a4b5c6d7e8f9.error.txt",
            "Q/7/0a1b2c3d4e5f60718293a4b5c6d7e8f9.pdf",
            "a/b/c.txt"
        ],
        "{url}: listing"
    );
    assert_eq!(all[1].size, 1000);
    assert_eq!(all[2].size, 4);
    let q: Vec<_> = store
        .list(Some("Q/"))
        .unwrap()
        .map(|r| r.unwrap().key)
        .collect();
    assert_eq!(q.len(), 2, "{url}: prefix listing {q:?}");
    // copy and delete
    store.copy("a/b/c.txt", "a/copy.txt").unwrap();
    assert_eq!(&store.get("a/copy.txt").unwrap()[..], b"two!");
    store.delete("a/copy.txt").unwrap();
    assert!(!store.exists("a/copy.txt").unwrap());
    // listing many keys streams them all (more than one S3 page of 1000)
    for i in 0..1100 {
        store
            .put(&format!("many/{i:05}"), Bytes::from_static(b"x"))
            .unwrap();
    }
    assert_eq!(
        store.list(Some("many")).unwrap().count(),
        1100,
        "{url}: paging"
    );
    // atomic publication of a set replaces all and leaves no staging behind
    store
        .put("set/x.csv", Bytes::from_static(b"old x"))
        .unwrap();
    let set = vec![
        ("set/x.csv".to_string(), Bytes::from_static(b"new x")),
        ("set/y.csv".to_string(), Bytes::from_static(b"new y")),
    ];
    store.publish(&set).unwrap();
    assert_eq!(&store.get("set/x.csv").unwrap()[..], b"new x");
    assert_eq!(&store.get("set/y.csv").unwrap()[..], b"new y");
    let staging = store.list(Some("_staging")).unwrap().count();
    assert_eq!(staging, 0, "{url}: staging area left behind");
    // invalid keys are errors, not panics
    assert!(matches!(
        store.put("", Bytes::new()),
        Err(StorageError::InvalidKey { .. })
    ));
    assert!(matches!(
        store.get("/abs"),
        Err(StorageError::InvalidKey { .. })
    ));
}
