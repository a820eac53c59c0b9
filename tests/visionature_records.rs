//! visionature on records shaped as the real Biolovision API writes them (the fake's
//! `records` generator: every scalar a string, date objects with a localised `#text`, short and
//! long forms, bodies wrapped in stray text), and `visionature count` against the site's
//! statistics page (docs/syncs/visionature.md §6, §12). Real PostgreSQL with PostGIS; the binary
//! runs with `TZ=UTC` (the site is Europe/Paris).

mod common;
#[path = "visionature_fake/mod.rs"]
mod fake;

use std::collections::BTreeMap;
use std::process::Output;

use common::pg::TestDb;
use fake::{Fake, Fault, Gen, State0};

struct H {
    db: TestDb,
    fake: Fake,
    dir: tempfile::TempDir,
}

impl H {
    fn new(prefix: &str, n: u32) -> Option<H> {
        let db = TestDb::create(prefix)?;
        let fake = Fake::start(
            State0::generate(&Gen {
                n,
                ..Gen::default()
            }),
            0,
            2,
        );
        let h = H {
            db,
            fake,
            dir: tempfile::tempdir().unwrap(),
        };
        h.config("");
        h.ok(&["visionature", "init-db"], 0);
        Some(h)
    }

    fn config(&self, toml: &str) {
        let text = format!(
            "[visionature]\nretry_delay = \"10ms\"\nunavailable_delay = \"10ms\"\nmax_retry = 2\n{toml}\n\
             [[visionature.site]]\nname = \"ff\"\nurl = \"{}\"\n",
            self.fake.url()
        );
        std::fs::write(self.dir.path().join("c.toml"), text).unwrap();
    }

    fn run(&self, args: &[&str]) -> Output {
        let cfg = self.dir.path().join("c.toml");
        let mut a = vec!["--config", cfg.to_str().unwrap()];
        a.extend_from_slice(args);
        let mut env = self.fake.env("ff");
        env.push(("VISIONATURE_DATABASE_URL".into(), self.db.url()));
        env.push(("TZ".into(), "UTC".into()));
        common::data_tasks(&a, &env)
    }

    fn ok(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        let t = common::text(&out);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {t}");
        t
    }

    fn n(&self, sql: &str) -> i64 {
        self.db
            .client()
            .query_one(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .get::<_, i64>(0)
    }

    /// Sightings of the fake per taxo group.
    fn per_group(&self) -> BTreeMap<u32, u64> {
        self.fake.with(|s| {
            let mut m = BTreeMap::new();
            for x in s.sightings.values() {
                *m.entry(x.group).or_default() += 1;
            }
            m
        })
    }
}

/// Rows of `observations_json` where a condition on `item` holds.
fn obs(cond: &str) -> String {
    format!("SELECT count(*) FROM src_vn_json.observations_json WHERE {cond}")
}

/// `coord_x_local`/`coord_y_local` of `obj` equal PostGIS's projection of its string
/// coordinates `lon`/`lat` to the millimetre.
fn projected(obj: &str, lon: &str, lat: &str) -> String {
    format!(
        "abs(({obj}->>'coord_x_local')::float8 - ST_X(ST_Transform(ST_SetSRID(ST_MakePoint(({obj}->>'{lon}')::float8, ({obj}->>'{lat}')::float8), 4326), 2154))) < 0.001
         AND abs(({obj}->>'coord_y_local')::float8 - ST_Y(ST_Transform(ST_SetSRID(ST_MakePoint(({obj}->>'{lon}')::float8, ({obj}->>'{lat}')::float8), 4326), 2154))) < 0.001"
    )
}

#[test]
fn short_form_records_are_stored_as_sent_with_local_coordinates_from_strings() {
    let Some(h) = H::new("vn_rec_short", 200) else {
        return;
    };
    // The server wraps some bodies in PHP notices, before and after the JSON.
    let notice = "<br />\n<b>Notice</b>:  Undefined index: id_form in <b>/var/www/api/observations.php</b> on line <b>212</b><br />\n{json}\n<!-- page generated in [0.12 s] {cache: miss} -->\n";
    h.fake.with(|s| {
        s.faults
            .push(Fault::status("observations/search", 200, 2).wrap(notice));
        s.faults
            .push(Fault::status("local_admin_units", 200, 1).wrap(notice));
    });
    h.ok(&["visionature", "transfer", "--full"], 0);
    assert_eq!(h.n(&obs("true")), 200);
    // Every scalar as a string, kept as sent.
    for path in [
        "'{observers,0,id_sighting}'",
        "'{observers,0,coord_lat}'",
        "'{observers,0,coord_lon}'",
        "'{observers,0,count}'",
        "'{observers,0,precision}'",
        "'{observers,0,hidden}'",
        "'{observers,0,insert_date}'",
        "'{place,lat}'",
        "'{place,lon}'",
        "'{place,loc_precision}'",
        "'{species,taxonomy}'",
    ] {
        assert_eq!(
            h.n(&obs(&format!("jsonb_typeof(item #> {path}) = 'string'"))),
            200,
            "{path}"
        );
    }
    // Short-form dates: objects with a localised #text (both wordings), no @ISO8601.
    assert_eq!(
        h.n(&obs(
            "item->'date' ?& array['@notime', '@offset', '@timestamp', '#text'] AND NOT item->'date' ? '@ISO8601'"
        )),
        200
    );
    assert!(
        h.n(&obs(
            "item->'date'->>'#text' ~ '^[a-z]+ [0-9]+ [a-zéû]+ [0-9]{4}$'"
        )) > 0
    );
    assert!(
        h.n(&obs(
            "item->'date'->>'#text' ~ '^[A-Z][a-z]+, [0-9]+ [A-ZÉ]'"
        )) > 0
    );
    // insert_date/update_date epoch strings; update_ts from them.
    assert_eq!(
        h.n(&obs(
            "item->'observers'->0->>'insert_date' ~ '^[0-9]+$' AND update_ts = (item->'observers'->0->>'insert_date')::int"
        )),
        200
    );
    // medias[].insert_date as "YYYY-MM-DD HH:MM:SS".
    let medias = h.n(&obs("item->'observers'->0 ? 'medias'"));
    assert!(medias > 0);
    assert_eq!(
        h.n(&obs("item->'observers'->0->'medias'->0->>'insert_date' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$'")),
        medias
    );
    // Short places: lat/lon/id_universal/loc_precision, no long keys.
    assert_eq!(
        h.n(&obs(
            "item->'place' ?& array['lat', 'lon', 'id_universal', 'loc_precision'] AND NOT item->'place' ? 'coord_lat'"
        )),
        200
    );
    // id_universal names the origin site, not the site queried.
    assert!(h.n(&obs("item->'observers'->0->>'id_universal' LIKE '30\\_%'")) > 0);
    assert!(h.n(&obs("item->'observers'->0->>'id_universal' LIKE '65\\_%'")) > 0);
    // Local coordinates computed from the string coordinates (PostGIS as the reference).
    assert_eq!(
        h.n(&obs(&projected(
            "(item->'observers'->0)",
            "coord_lon",
            "coord_lat"
        ))),
        200
    );
    let forms = h.n("SELECT count(*) FROM src_vn_json.forms_json");
    assert!(forms > 0);
    assert_eq!(
        h.n(&format!(
            "SELECT count(*) FROM src_vn_json.forms_json WHERE jsonb_typeof(item->'lat') = 'string' AND {}",
            projected("item", "lon", "lat")
        )),
        forms
    );
    for t in ["places_json", "local_admin_units_json"] {
        let all = h.n(&format!("SELECT count(*) FROM src_vn_json.{t}"));
        assert!(all > 0, "{t}");
        assert_eq!(
            h.n(&format!(
                "SELECT count(*) FROM src_vn_json.{t} WHERE jsonb_typeof(item->'coord_lat') = 'string' AND {}",
                projected("item", "coord_lon", "coord_lat")
            )),
            all,
            "{t}"
        );
    }
    // An observer whose last insertion is epoch "32400" (1970) is stored as sent.
    assert_eq!(
        h.n("SELECT count(*) FROM src_vn_json.observers_json WHERE id_universal = 1001 AND item->'last_inserted_data'->>'@timestamp' = '32400' AND item->'last_inserted_data' ? '@ISO8601'"),
        1
    );
    // The wrapped answers were read (the group windows and the admin units).
    assert!(h.n("SELECT count(*) FROM src_vn_json.download_log WHERE http_status = 200 AND error_count = 0") > 5);
}

#[test]
fn long_form_records_are_stored_as_sent_too() {
    let Some(h) = H::new("vn_rec_long", 120) else {
        return;
    };
    h.fake.with(|s| s.long_form = true);
    h.ok(&["visionature", "transfer", "--full"], 0);
    assert_eq!(h.n(&obs("true")), 120);
    assert_eq!(
        h.n(&obs(
            "item->'date' ? '@ISO8601' AND jsonb_typeof(item->'observers'->0->'insert_date') = 'object'
             AND update_ts = (item->'observers'->0->'insert_date'->>'@timestamp')::int"
        )),
        120
    );
    assert_eq!(
        h.n(&obs(
            "item->'place' ?& array['coord_lat', 'coord_lon', 'county', 'insee', 'municipality'] AND NOT item->'place' ? 'lat'"
        )),
        120
    );
    let medias = h.n(&obs("item->'observers'->0 ? 'medias'"));
    assert!(medias > 0);
    assert_eq!(
        h.n(&obs(
            "jsonb_typeof(item->'observers'->0->'medias'->0->'insert_date') = 'object'"
        )),
        medias
    );
    assert_eq!(
        h.n(&obs(&projected(
            "(item->'observers'->0)",
            "coord_lon",
            "coord_lat"
        ))),
        120
    );
    // An update read in the long form: update_date an object, newer wins.
    let id = h.fake.with(|s| *s.sightings.keys().next().unwrap());
    let ts = chrono::Utc::now().timestamp() - 5;
    h.fake.with(|s| s.update(id, ts));
    h.ok(&["visionature", "transfer", "--update"], 0);
    assert_eq!(
        h.n(&obs(&format!(
            "id = {id} AND update_ts = {ts} AND item->'observers'->0->'update_date'->>'@timestamp' = '{ts}'"
        ))),
        1
    );
}

#[test]
fn count_compares_each_group_with_the_statistics_page() {
    let Some(h) = H::new("vn_count", 300) else {
        return;
    };
    h.ok(&["visionature", "transfer", "--full"], 0);
    let groups = h.per_group();
    // Equal: exit 0, the client's table, one run row, one count_log row per group.
    let t = h.ok(&["visionature", "count"], 0);
    assert!(
        t.contains("| Site | TaxoName") && t.contains("Remote count") && t.contains("Local count"),
        "{t}"
    );
    assert!(t.contains("visionature count in src_vn_json"), "{t}");
    assert!(h.fake.seen("/index.php").len() == 1);
    assert_eq!(
        h.n("SELECT count(*) FROM data_tasks.sync_run WHERE sync = 'visionature' AND scope = 'ff' AND mode = 'count' AND status = 'ok'
             AND (counts->>'remote_total')::bigint = 300 AND (counts->>'local_total')::bigint = 300 AND NOT counts ? 'missing'"),
        1
    );
    let run = h.n("SELECT max(id) FROM data_tasks.sync_run WHERE mode = 'count'");
    // Groups 1 and 2, and the unreadable group 99 (not downloaded, not judged).
    assert_eq!(
        h.n(&format!(
            "SELECT count(*) FROM src_vn_json.count_log WHERE run_id = {run} AND site = 'ff'"
        )),
        3
    );
    for (g, n) in &groups {
        assert_eq!(
            h.n(&format!("SELECT count(*) FROM src_vn_json.count_log WHERE run_id = {run} AND id_taxo_group = {g} AND local = {n} AND remote = {n}")),
            1
        );
    }
    // The site shows 50 more birds than stored (beyond 1 %) and one bat less (within 1 % of
    // more than 100): exit 1 naming group 1 only.
    let (g1, g2) = (groups[&1], groups[&2]);
    assert!(g2 > 100);
    h.fake.with(|s| {
        s.stats.insert(1, g1 + 50);
        s.stats.insert(2, g2 - 1);
    });
    let t = h.ok(&["visionature", "count", "--site", "ff"], 1);
    assert!(
        t.contains("taxo group 1 (Oiseaux)") && t.contains("below"),
        "{t}"
    );
    assert!(!t.contains("taxo group 2 ("), "{t}");
    assert_eq!(
        h.n(
            "SELECT count(*) FROM data_tasks.sync_run WHERE mode = 'count' AND status = 'partial'
             AND (counts->>'missing')::bigint = 1 AND NOT counts ? 'extra'"
        ),
        1
    );
    // Stored rows beyond what the site shows: "above".
    h.fake.with(|s| s.stats.insert(1, g1 / 2));
    let t = h.ok(&["visionature", "count"], 1);
    assert!(t.contains("above"), "{t}");
    assert_eq!(
        h.n("SELECT count(*) FROM data_tasks.sync_run WHERE mode = 'count' AND (counts->>'extra')::bigint = 1"),
        1
    );
    // A wider tolerance accepts both.
    h.config("count_tolerance = 2.0");
    h.ok(&["visionature", "count"], 0);
    // A page in another layout: the run fails, naming the page (one site: exit 2).
    h.fake
        .with(|s| s.stats_html = Some("<html><body><p>Maintenance</p></body></html>".into()));
    let t = h.ok(&["visionature", "count"], 2);
    assert!(t.contains("m_id=23") && t.contains("layout"), "{t}");
    assert_eq!(
        h.n("SELECT count(*) FROM data_tasks.sync_run WHERE mode = 'count' AND status = 'failed'"),
        1
    );
    // A bad tolerance is a configuration error.
    h.config("count_tolerance = -1");
    let t = h.ok(&["visionature", "count"], 2);
    assert!(t.contains("visionature.count_tolerance"), "{t}");
}
