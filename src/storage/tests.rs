//! Unit tests: the conformance suite on memory and file stores, and publication rollback under
//! an injected backend failure.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::BoxStream;
use object_store::memory::InMemory;
use object_store::path::Path as ObjPath;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};

use super::*;

#[test]
fn conformance_memory() {
    conformance::run(&Store::open("memory://conformance").unwrap());
}

#[test]
fn conformance_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().join("misc").display());
    conformance::run(&Store::open(&url).unwrap());
}

#[test]
fn memory_stores_are_shared_by_name() {
    let a = Store::open("memory://shared-name").unwrap();
    a.put("k", Bytes::from_static(b"v")).unwrap();
    let b = Store::open("memory://shared-name").unwrap();
    assert_eq!(&b.get("k").unwrap()[..], b"v");
    assert!(!Store::open("memory://other-name")
        .unwrap()
        .exists("k")
        .unwrap());
}

/// An in-memory backend whose server-side copies start failing after `copies_ok` successes.
#[derive(Debug)]
struct FailingCopies {
    inner: InMemory,
    copies_ok: AtomicUsize,
}

impl std::fmt::Display for FailingCopies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FailingCopies")
    }
}

#[async_trait::async_trait]
impl ObjectStore for FailingCopies {
    async fn put_opts(&self, l: &ObjPath, p: PutPayload, o: PutOptions) -> Result<PutResult> {
        self.inner.put_opts(l, p, o).await
    }
    async fn put_multipart_opts(
        &self,
        l: &ObjPath,
        o: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(l, o).await
    }
    async fn get_opts(&self, l: &ObjPath, o: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(l, o).await
    }
    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<ObjPath>>,
    ) -> BoxStream<'static, Result<ObjPath>> {
        self.inner.delete_stream(locations)
    }
    fn list(&self, prefix: Option<&ObjPath>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }
    async fn list_with_delimiter(&self, prefix: Option<&ObjPath>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }
    async fn copy_opts(&self, from: &ObjPath, to: &ObjPath, o: CopyOptions) -> Result<()> {
        // Fails exactly one copy: the one after `copies_ok` successes.
        let left = self.copies_ok.load(Ordering::SeqCst);
        if left == 0 {
            self.copies_ok.store(usize::MAX, Ordering::SeqCst);
            return Err(object_store::Error::Generic {
                store: "FailingCopies",
                source: "injected copy failure".into(),
            });
        }
        self.copies_ok.store(
            left.saturating_sub(1)
                .max(if left == usize::MAX { usize::MAX } else { 0 }),
            Ordering::SeqCst,
        );
        self.inner.copy_opts(from, to, o).await
    }
}

#[test]
fn failed_swap_rolls_back_to_the_previous_set() {
    let backend = Arc::new(FailingCopies {
        inner: InMemory::new(),
        copies_ok: AtomicUsize::new(usize::MAX),
    });
    let store = Store {
        inner: backend.clone(),
        url: "test://failing".into(),
        read_only: false,
    };
    store.put("a.csv", Bytes::from_static(b"old a")).unwrap();
    store.put("b.csv", Bytes::from_static(b"old b")).unwrap();
    // 2 backups succeed, then the first swap succeeds, the second fails.
    backend.copies_ok.store(3, Ordering::SeqCst);
    let set = vec![
        ("a.csv".to_string(), Bytes::from_static(b"new a")),
        ("b.csv".to_string(), Bytes::from_static(b"new b")),
        ("c.csv".to_string(), Bytes::from_static(b"new c")),
    ];
    let err = store.publish(&set).unwrap_err();
    assert!(
        matches!(err, StorageError::Publish { ref key, .. } if key == "b.csv"),
        "{err}"
    );
    backend.copies_ok.store(usize::MAX, Ordering::SeqCst);
    assert_eq!(&store.get("a.csv").unwrap()[..], b"old a");
    assert_eq!(&store.get("b.csv").unwrap()[..], b"old b");
    assert!(!store.exists("c.csv").unwrap());
    assert_eq!(store.list(Some("_staging")).unwrap().count(), 0);
}

/// Why `s3://misc` cannot be opened with the S3 settings of `pairs`.
fn s3_open_error(pairs: &[(&str, &str)]) -> String {
    let env = crate::secrets::Env::from_pairs(pairs.iter().copied());
    let settings = S3Settings::from_env(
        &env,
        config::S3Credentials::Env,
        &crate::settings::HttpConfig::default(),
    );
    Store::open_with("s3://misc", &settings)
        .unwrap_err()
        .to_string()
}

#[test]
fn s3_stores_need_explicit_settings_and_keys() {
    let e = Store::open("s3://misc").unwrap_err();
    assert!(e.to_string().contains("Store::open_with"), "{e}");
    let e = s3_open_error(&[
        ("AWS_ENDPOINT", "http://127.0.0.1:9"),
        ("AWS_ALLOW_HTTP", "true"),
    ]);
    assert!(
        e.contains("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        "{e}"
    );
}

#[test]
fn read_only_stores_create_nothing_and_refuse_writes() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("data/misc");
    let url = format!("file://{}", missing.display());
    let s = Store::open_read_only(&url, &S3Settings::default()).unwrap();
    assert!(s.is_read_only());
    assert_eq!(s.list(None).unwrap().count(), 0);
    assert!(matches!(s.get("a"), Err(StorageError::NotFound { .. })));
    assert!(!dir.path().join("data").exists(), "nothing created");
    // An existing folder is read as it is, and never written.
    let writable = Store::open(&url).unwrap();
    writable.put("a.csv", Bytes::from_static(b"x")).unwrap();
    let s = Store::open_read_only(&url, &S3Settings::default()).unwrap();
    assert_eq!(&s.get("a.csv").unwrap()[..], b"x");
    for e in [
        s.put("b.csv", Bytes::from_static(b"y")).unwrap_err(),
        s.delete("a.csv").unwrap_err(),
        s.copy("a.csv", "c.csv").unwrap_err(),
        s.publish(&[("a.csv".into(), Bytes::from_static(b"z"))])
            .unwrap_err(),
    ] {
        assert!(matches!(e, StorageError::ReadOnly { .. }), "{e}");
    }
    assert_eq!(&s.get("a.csv").unwrap()[..], b"x");
    assert_eq!(s.list(None).unwrap().count(), 1);
}

#[test]
fn plain_http_endpoints_name_aws_allow_http() {
    let e = s3_open_error(&[
        ("AWS_ENDPOINT", "http://127.0.0.1:9"),
        ("AWS_ACCESS_KEY_ID", "k"),
        ("AWS_SECRET_ACCESS_KEY", "s"),
    ]);
    assert!(e.contains("set AWS_ALLOW_HTTP=true"), "{e}");
}
