//! The fake's rows: generated from the seed and the recorded changes, and the export filters.

use super::{Change, Data, Kind, Settings};

pub const COLUMNS: &[&str] = &[
    "id_synthese",
    "id_perm_sinp",
    "cd_nom",
    "nom_cite",
    "observateurs",
    "date_min",
    "date_max",
    "derniere_action",
    "altitude_min",
    "wkt_4326",
    "ca_data",
    "jdd_data",
];

pub(super) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

pub(super) fn uuid_from(a: u64, b: u64) -> String {
    let b = (b & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
    let a2 = (a & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        b >> 32,
        (b >> 16) & 0xFFFF,
        b & 0xFFFF,
        a2 >> 48,
        a2 & 0xFFFF_FFFF_FFFF
    )
}

/// Base ids: 1, 2, … with a gap every tenth id.
pub fn base_id(i: u64) -> u64 {
    1 + i + i / 9
}

fn base_index(id: u64) -> Option<u64> {
    // Inverse of base_id (ids with id % 10 == 0 do not exist).
    if id == 0 || id % 10 == 0 {
        return None;
    }
    let k = id - 1;
    Some(k - k / 10)
}

pub(super) fn ts(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// A column value of the export view, by SQL type.
pub(super) enum Sql<'a> {
    Null,
    Integer(i64),
    /// `numeric`, as a decimal text (`"123"`, `"12.5"`).
    Numeric(&'a str),
    Text(&'a str),
    /// `timestamp`, seconds since the epoch (UTC) and microseconds.
    Timestamp(i64, u32),
    /// A value already in JSON (an object, a list).
    Json(&'a str),
}

/// How GeoNature writes a column value in an export answer (its SQLAlchemy serialisers):
/// integers as JSON numbers; `numeric` as a JSON string, and a numeric zero (falsy in Python) as
/// `null`; a timestamp as Python's `str(datetime)`, `"2024-06-11 14:02:31.710499"` with the
/// fraction only when it is not zero; text as a JSON string.
pub(super) fn serialise(v: &Sql<'_>) -> String {
    match v {
        Sql::Null => "null".into(),
        Sql::Integer(i) => i.to_string(),
        Sql::Numeric(n) if n.trim_start_matches(['0', '.', '-']).is_empty() => "null".into(),
        Sql::Numeric(n) => format!("\"{n}\""),
        Sql::Text(t) => serde_json::to_string(t).unwrap_or_default(),
        Sql::Timestamp(secs, micros) => {
            let mut t = ts(*secs);
            if *micros != 0 {
                t.push_str(&format!(".{micros:06}"));
            }
            serde_json::to_string(&t).unwrap_or_default()
        }
        Sql::Json(j) => (*j).to_string(),
    }
}

/// Writes `{"k": v, …}` with [`serialise`]d values.
pub(super) fn object(cols: &[(&str, Sql<'_>)]) -> String {
    let mut s = String::with_capacity(1024);
    s.push('{');
    for (k, (name, v)) in cols.iter().enumerate() {
        if k > 0 {
            s.push(',');
        }
        s.push_str(&format!("\"{name}\":{}", serialise(v)));
    }
    s.push('}');
    s
}

pub(super) fn parse_ts(text: &str) -> Option<chrono::NaiveDateTime> {
    let t = text.trim();
    chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

const SPECIES: &[(u64, &str)] = &[
    (3764, "Parus major"),
    (4001, "Erithacus rubecula"),
    (3439, "Corvus corone"),
    (2623, "Buteo buteo"),
    (60015, "Vulpes vulpes"),
    (4117, "Fringilla coelebs"),
];

const OBSERVERS: &[&str] = &[
    "Dupont Jean (LPO)",
    "Martin Éloïse (Flavia)",
    "Durand Paul",
    "Lefèvre Anaïs (LPO)",
];

/// The values a filter can test.
enum Field {
    Num(i64),
    Text(String),
    Date(Option<chrono::NaiveDateTime>),
}

impl Settings {
    pub(super) fn base_count(&self) -> u64 {
        self.rows
    }

    pub(super) fn uuid(&self, id: u64) -> String {
        uuid_from(
            splitmix(self.seed ^ (id << 1)),
            splitmix(self.seed.wrapping_mul(31) ^ id),
        )
    }

    /// 2024-01-01 + up to 300 days, in seconds.
    pub(super) fn base_action_secs(&self, id: u64) -> i64 {
        1_704_067_200 + (splitmix(self.seed ^ id) % (300 * 86_400)) as i64
    }

    /// Microseconds of the base `derniere_action` (zero for one id in three).
    pub(super) fn base_action_micros(&self, id: u64) -> u32 {
        if id % 3 == 0 {
            0
        } else {
            (splitmix(self.seed ^ id ^ 0x77) % 1_000_000) as u32
        }
    }

    /// The base `derniere_action` as GeoNature writes it.
    pub(super) fn base_action(&self, id: u64) -> String {
        serialise(&Sql::Timestamp(
            self.base_action_secs(id),
            self.base_action_micros(id),
        ))
        .trim_matches('"')
        .to_string()
    }

    /// The altitude (a `numeric` column of the view; zero for one id in seven).
    pub(super) fn altitude(&self, id: u64) -> u64 {
        if id % 7 == 0 {
            0
        } else {
            splitmix(id) % 2000
        }
    }

    /// The point of row `id` (longitude, latitude).
    pub(super) fn point(&self, id: u64) -> (f64, f64) {
        let r = splitmix(id ^ self.seed ^ 0x55);
        let x = 4.5 + (r % 20_000) as f64 / 10_000.0;
        let y = 44.5 + ((r >> 20) % 20_000) as f64 / 10_000.0;
        (x, y)
    }

    pub(super) fn species(&self, id: u64, version: u32) -> (u64, &'static str) {
        SPECIES[((splitmix(id ^ self.seed) >> 7) as usize + version as usize) % SPECIES.len()]
    }

    pub(super) fn observers(&self, id: u64) -> &'static str {
        OBSERVERS[(splitmix(id) >> 11) as usize % OBSERVERS.len()]
    }

    pub(super) fn date_min(&self, id: u64) -> String {
        ts(1_640_995_200 + (splitmix(id ^ 7) % (700 * 86_400)) as i64)[..10].to_string()
    }

    fn field(&self, id: u64, ch: Option<&Change>, col: &str) -> Option<Field> {
        let version = ch.map(|c| c.version).unwrap_or(0);
        Some(match col {
            "id_synthese" => Field::Num(id as i64),
            "cd_nom" => Field::Num(self.species(id, version).0 as i64),
            "altitude_min" => Field::Num(self.altitude(id) as i64),
            "nom_cite" => Field::Text(self.species(id, version).1.into()),
            "observateurs" => Field::Text(self.observers(id).into()),
            "id_perm_sinp" => Field::Text(self.uuid(id)),
            "derniere_action" => Field::Date(match ch {
                Some(c) => parse_ts(&c.derniere_action),
                None => chrono::DateTime::from_timestamp(
                    self.base_action_secs(id),
                    self.base_action_micros(id) * 1000,
                )
                .map(|d| d.naive_utc()),
            }),
            "date_min" | "date_max" => Field::Date(parse_ts(&self.date_min(id))),
            _ => return None,
        })
    }

    /// The JSON of row `id`, as GeoNature serialises it ([`serialise`]).
    pub(super) fn row(&self, id: u64, ch: Option<&Change>) -> String {
        let version = ch.map(|c| c.version).unwrap_or(0);
        let uuid = ch
            .and_then(|c| c.uuid.clone())
            .unwrap_or_else(|| self.uuid(id));
        let action = ch
            .map(|c| c.derniere_action.clone())
            .unwrap_or_else(|| self.base_action(id));
        let (cd_nom, nom) = self.species(id, version);
        let (x, y) = self.point(id);
        let date = self.date_min(id);
        let statut = match self.kind {
            Kind::Label => "Présent",
            _ => "Pr",
        };
        let pad_len = self.padding.saturating_sub(40);
        let pad: String = "Observation réalisée dans le cadre d'un suivi; "
            .chars()
            .cycle()
            .take(pad_len)
            .collect();
        let alt = self.altitude(id).to_string();
        let n = (1 + splitmix(id ^ 3) % 12) as i64;
        let wkt = format!("POINT({x:.5} {y:.5})");
        let comment = format!("{pad} #{id}.{version}");
        let mut cols: Vec<(&str, Sql<'_>)> = vec![
            ("id_synthese", Sql::Integer(id as i64)),
            ("id_perm_sinp", Sql::Text(&uuid)),
            ("id_sinp_grp", Sql::Null),
            ("cd_nom", Sql::Integer(cd_nom as i64)),
            ("nom_cite", Sql::Text(nom)),
            ("observateurs", Sql::Text(self.observers(id))),
            ("date_min", Sql::Text(&date)),
            ("date_max", Sql::Text(&date)),
            ("altitude_min", Sql::Numeric(&alt)),
            ("altitude_max", Sql::Numeric(&alt)),
            ("denombrement_min", Sql::Integer(n)),
            ("denombrement_max", Sql::Integer(n)),
            ("statut_observation", Sql::Text(statut)),
            ("wkt_4326", Sql::Text(&wkt)),
            (
                "precision",
                Sql::Integer((10 + splitmix(id ^ 5) % 500) as i64),
            ),
            ("derniere_action", Sql::Text(&action)),
            ("version", Sql::Integer(i64::from(version))),
            ("comment_description", Sql::Text(&comment)),
            ("date_debut", Sql::Text(&date)),
            ("date_fin", Sql::Text(&date)),
        ];
        let jdd = splitmix(id ^ 0xdd) % 20;
        let ca = jdd % 5;
        let ca_uuid = uuid_from(self.seed ^ 0xca, ca);
        let jdd_uuid = uuid_from(self.seed ^ 0xdd, jdd);
        let (ca_nom, jdd_nom) = (
            format!("Cadre d'acquisition {ca}"),
            format!("Jeu de données {jdd}"),
        );
        let (ca_obj, jdd_obj);
        if self.kind != Kind::Metadata {
            // The SINP export views name the dataset and its framework.
            cols.push(("ca_uuid", Sql::Text(&ca_uuid)));
            cols.push(("ca_nom", Sql::Text(&ca_nom)));
            cols.push(("jdd_uuid", Sql::Text(&jdd_uuid)));
            cols.push(("jdd_nom", Sql::Text(&jdd_nom)));
        } else {
            ca_obj = format!(
                "{{\"uuid\":\"{ca_uuid}\",\"libelle\":\"Cadre d'acquisition {ca}\",\"date_creation\":\"2021-0{m}-01\"}}",
                m = 1 + ca
            );
            jdd_obj = format!(
                "{{\"uuid\":\"{jdd_uuid}\",\"libelle\":\"Jeu de données {jdd}\",\"producteur\":\"LPO\",\"date_creation\":\"2022-01-{d:02}\"}}",
                d = 1 + jdd
            );
            if ch.is_some_and(|c| c.jdd_without_ca) {
                cols.push(("ca_data", Sql::Null));
                cols.push(("jdd_data", Sql::Json(&jdd_obj)));
            } else if id % 37 == 0 {
                cols.push(("ca_data", Sql::Null));
                cols.push(("jdd_data", Sql::Null));
            } else {
                cols.push(("ca_data", Sql::Json(&ca_obj)));
                cols.push(("jdd_data", Sql::Json(&jdd_obj)));
            }
        }
        object(&cols)
    }

    /// The GeoJSON geometry of row `id` (`None`: a null geometry).
    pub(super) fn geometry(&self, id: u64, data: &Data) -> Option<String> {
        if data.no_geometry.contains(&id) {
            return None;
        }
        let (x, y) = self.point(id);
        Some(format!(
            "{{\"type\":\"Point\",\"coordinates\":[{x:.5},{y:.5}]}}"
        ))
    }
}

impl Data {
    pub(super) fn exists(&self, s: &Settings, id: u64) -> bool {
        if self.deleted.contains_key(&id) {
            return false;
        }
        if self.added.contains_key(&id) {
            return true;
        }
        base_index(id).is_some_and(|i| i < s.base_count())
    }

    pub(super) fn change(&self, id: u64) -> Option<&Change> {
        self.added.get(&id).or_else(|| self.changes.get(&id))
    }

    pub(super) fn max_id(&self, s: &Settings) -> u64 {
        let base = if s.rows == 0 { 0 } else { base_id(s.rows - 1) };
        base.max(self.added.keys().next_back().copied().unwrap_or(0))
    }

    pub(super) fn all_ids(&self, s: &Settings) -> impl Iterator<Item = u64> + '_ {
        let n = s.rows;
        (0..n)
            .map(base_id)
            .chain(self.added.keys().copied())
            .filter(move |id| !self.deleted.contains_key(id))
    }
}

/// A parsed filter.
pub(super) enum Filter {
    NumUp(String, i64),
    NumLo(String, i64),
    DateUp(String, chrono::NaiveDateTime),
    DateLo(String, chrono::NaiveDateTime),
    Ilike(String, String),
    Eq(String, String),
}

fn ilike(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    pub(super) fn m(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('%') => (0..=t.len()).any(|i| m(&p[1..], &t[i..])),
            Some('_') => !t.is_empty() && m(&p[1..], &t[1..]),
            Some(c) => t.first() == Some(c) && m(&p[1..], &t[1..]),
        }
    }
    m(&p, &t)
}

impl Filter {
    pub(super) fn matches(&self, s: &Settings, id: u64, ch: Option<&Change>) -> bool {
        let (col, f) = match self {
            Filter::NumUp(c, _) | Filter::NumLo(c, _) => (c, s.field(id, ch, c)),
            Filter::DateUp(c, _) | Filter::DateLo(c, _) => (c, s.field(id, ch, c)),
            Filter::Ilike(c, _) | Filter::Eq(c, _) => (c, s.field(id, ch, c)),
        };
        let _ = col;
        match (self, f) {
            (Filter::NumUp(_, v), Some(Field::Num(n))) => n >= *v,
            (Filter::NumLo(_, v), Some(Field::Num(n))) => n <= *v,
            (Filter::DateUp(_, v), Some(Field::Date(Some(d)))) => d >= *v,
            (Filter::DateLo(_, v), Some(Field::Date(Some(d)))) => d <= *v,
            (Filter::Ilike(_, p), Some(Field::Text(t))) => ilike(p, &t),
            (Filter::Eq(_, v), Some(Field::Text(t))) => t == *v,
            (Filter::Eq(_, v), Some(Field::Num(n))) => n.to_string() == *v,
            _ => false,
        }
    }
}

/// Parses the export filters; `Err(column)` for a column the view lacks.
pub(super) fn filters(query: &[(String, String)]) -> Result<(Vec<Filter>, String), String> {
    let mut out = Vec::new();
    let mut key = Vec::new();
    for (k, v) in query {
        let f = if let Some(col) = k.strip_prefix("filter_n_up_") {
            if col == "id_synthese" {
                continue; // keyset: applied by position
            }
            Filter::NumUp(col.into(), v.parse().map_err(|_| col.to_string())?)
        } else if let Some(col) = k.strip_prefix("filter_n_lo_") {
            if col == "id_synthese" {
                continue; // the end of an id range (gn2pg verify): applied by position
            }
            Filter::NumLo(col.into(), v.parse().map_err(|_| col.to_string())?)
        } else if let Some(col) = k.strip_prefix("filter_d_up_") {
            Filter::DateUp(col.into(), parse_ts(v).ok_or_else(|| col.to_string())?)
        } else if let Some(col) = k.strip_prefix("filter_d_lo_") {
            Filter::DateLo(col.into(), parse_ts(v).ok_or_else(|| col.to_string())?)
        } else if let Some(col) = k.strip_prefix("ilike_") {
            Filter::Ilike(col.into(), v.clone())
        } else if COLUMNS.contains(&k.as_str()) {
            Filter::Eq(k.clone(), v.clone())
        } else {
            continue;
        };
        let col = match &f {
            Filter::NumUp(c, _)
            | Filter::NumLo(c, _)
            | Filter::DateUp(c, _)
            | Filter::DateLo(c, _)
            | Filter::Ilike(c, _)
            | Filter::Eq(c, _) => c.clone(),
        };
        if !COLUMNS.contains(&col.as_str()) || col == "ca_data" || col == "jdd_data" {
            return Err(col);
        }
        key.push(format!("{k}={v}"));
        out.push(f);
    }
    key.sort();
    Ok((out, key.join("&")))
}
