//! The storage conformance suite against a real S3 server (SeaweedFS, started by
//! `scripts/test.sh`), plus a listing of more keys than one S3 page.

mod common;

use common::store;
use data_tasks::storage::conformance;

#[test]
fn conformance_on_seaweedfs() {
    if !common::require("SeaweedFS (TEST_S3_ENDPOINT)", common::s3_env().is_some()) {
        return;
    }
    let url = format!("s3://misc/{}", common::unique("conformance"));
    conformance::run(&store(&url));
}
