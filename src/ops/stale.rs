//! When a scope is stale: the age of its last successful run (`status = 'ok'`, measured from its
//! end) against a threshold chosen by the scope's *track*.
//!
//! The track is the sync's name, except for visionature's repair: runs whose mode, scope or sync is
//! `fix-sync` form the track `fix-sync`, checked apart from the hourly updates of the same site.
//! Defaults come from the schedules of docs/syncs/README.md §8 (three missed runs): `gn2pg` 1 h 30
//! m (update every 30 min), `visionature` 3 h (hourly), `fix-sync` 8 d (weekly), `ecospheres` 26 h
//! (daily, runs last ~2 h). A sync with no default is shown but not checked unless a
//! `--stale-after` names it.
//!
//! Completeness checks form tracks of their own, `verify` (gn2pg) and `count` (visionature), with
//! no default: their schedules are the operator's. The copies of [`crate::syncs::ops`] add two
//! tracks whose scope is `<site>/<part>`: `watermark`, the age of a VisioNature taxo group's
//! watermark (`increment_log`), default 3 h like the hourly updates that move it; and
//! `reference`, the age of a reference list's last download (`controller_state`), default the
//! `[visionature] refresh` ages plus a day: `*/observers` 2 d, `*/field*` 31 d, others 8 d.
//!
//! `--stale-after TRACK[:SCOPE]=DURATION` overrides a default (`gn2pg=2h`), for some scopes only
//! (`visionature:src_vn_json_check*=26h`; `*` matches any text), or turns the check off
//! (`ecospheres=off`). The last matching rule wins. A malformed rule is a command-line error.

use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

/// The track of runs that repair visionature's production schema.
pub const FIX_SYNC: &str = "fix-sync";

/// The track of a VisioNature taxo group's watermark age.
pub const WATERMARK: &str = "watermark";
/// The track of a VisioNature reference list's age.
pub const REFERENCE: &str = "reference";

/// Default thresholds, by track.
pub const DEFAULTS: [(&str, Duration); 6] = [
    ("gn2pg", Duration::from_secs(90 * 60)),
    ("visionature", Duration::from_secs(3 * 3600)),
    (FIX_SYNC, Duration::from_secs(8 * 86_400)),
    ("ecospheres", Duration::from_secs(26 * 3600)),
    (WATERMARK, Duration::from_secs(3 * 3600)),
    (REFERENCE, Duration::from_secs(8 * 86_400)),
];

/// Defaults of some scopes of a track, before [`DEFAULTS`]: `(track, scope pattern, limit)`.
pub const SCOPED_DEFAULTS: [(&str, &str, Duration); 2] = [
    (REFERENCE, "*/observers", Duration::from_secs(2 * 86_400)),
    (REFERENCE, "*/field*", Duration::from_secs(31 * 86_400)),
];

/// The track of a run: see the module doc.
pub fn track<'a>(sync: &'a str, scope: &str, mode: &'a str) -> &'a str {
    let fix = |s: &str| s == FIX_SYNC || s.ends_with("-fix-sync") || s.ends_with("_fix_sync");
    if fix(mode) || fix(scope) || fix(sync) {
        FIX_SYNC
    } else if matches!(mode, "verify" | "count") {
        mode
    } else {
        sync
    }
}

/// One `--stale-after` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleAfter {
    pub track: String,
    /// A scope pattern (`*` = any text); `None` = every scope of the track.
    pub scope: Option<String>,
    /// `None` = not checked.
    pub limit: Option<Duration>,
}

impl FromStr for StaleAfter {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (key, value) = s
            .rsplit_once('=')
            .ok_or_else(|| "expected TRACK[:SCOPE]=DURATION, e.g. gn2pg=2h".to_string())?;
        let (track, scope) = match key.split_once(':') {
            Some((t, sc)) => (t.trim(), Some(sc.trim().to_string())),
            None => (key.trim(), None),
        };
        if track.is_empty() {
            return Err("the track (a sync's name or fix-sync) is empty".into());
        }
        if scope.as_deref() == Some("") {
            return Err("the scope after `:` is empty".into());
        }
        let value = value.trim();
        let limit = if matches!(value, "off" | "never" | "none") {
            None
        } else {
            let d = humantime::parse_duration(value)
                .map_err(|e| format!("{value:?}: {e} (e.g. 90m, 3h, 8d, or off)"))?;
            if d.is_zero() {
                return Err("a threshold of 0 makes every scope stale: use off to skip".into());
            }
            Some(d)
        };
        Ok(StaleAfter {
            track: track.to_string(),
            scope,
            limit,
        })
    }
}

/// `pattern` (with `*` wildcards) matches all of `text`.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// The thresholds in force: the defaults and the command line's rules.
#[derive(Debug, Clone, Default)]
pub struct Thresholds {
    rules: Vec<StaleAfter>,
}

impl Thresholds {
    pub fn new(rules: &[StaleAfter]) -> Thresholds {
        Thresholds {
            rules: rules.to_vec(),
        }
    }

    /// The threshold of `scope` in `track` (`None`: not checked).
    pub fn limit(&self, track: &str, scope: &str) -> Option<Duration> {
        let rule = self
            .rules
            .iter()
            .rev()
            .find(|r| r.track == track && r.scope.as_deref().is_none_or(|p| glob(p, scope)));
        match rule {
            Some(r) => r.limit,
            None => SCOPED_DEFAULTS
                .iter()
                .find(|(t, p, _)| *t == track && glob(p, scope))
                .map(|(_, _, d)| *d)
                .or_else(|| DEFAULTS.iter().find(|(t, _)| *t == track).map(|(_, d)| *d)),
        }
    }
}

/// Whether a scope is fresh.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum Verdict {
    Fresh,
    /// Too old, or never succeeded: the reason says which.
    Stale(String),
    /// No threshold applies.
    Unchecked,
}

impl Verdict {
    /// `success_age_s`: seconds since the last success ended, `None` when there was none.
    pub fn of(limit: Option<Duration>, success_age_s: Option<f64>) -> Verdict {
        let Some(limit) = limit else {
            return Verdict::Unchecked;
        };
        match success_age_s {
            None => Verdict::Stale("never succeeded".into()),
            Some(age) if age > limit.as_secs_f64() => Verdict::Stale(format!(
                "last success {} ago, limit {}",
                crate::text::duration(age),
                crate::text::limit(limit)
            )),
            Some(_) => Verdict::Fresh,
        }
    }

    pub fn is_stale(&self) -> bool {
        matches!(self, Verdict::Stale(_))
    }

    /// `fresh`, `STALE` or `unchecked`.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Fresh => "fresh",
            Verdict::Stale(_) => "STALE",
            Verdict::Unchecked => "unchecked",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks() {
        assert_eq!(track("gn2pg", "lpo", "update"), "gn2pg");
        assert_eq!(track("visionature", "ff", "update"), "visionature");
        assert_eq!(track("visionature", "ff", "fix-sync"), FIX_SYNC);
        assert_eq!(track("visionature", "fix-sync", "run"), FIX_SYNC);
        assert_eq!(track("visionature-fix-sync", "ff", "run"), FIX_SYNC);
        assert_eq!(track("ecospheres", "public.datasets", "full"), "ecospheres");
        assert_eq!(track("gn2pg", "lpo", "verify"), "verify");
        assert_eq!(track("visionature", "ff", "count"), "count");
    }

    #[test]
    fn copy_tracks_have_scoped_defaults() {
        let t = Thresholds::new(&["reference:ff/places=1d".parse().unwrap()]);
        assert_eq!(
            t.limit(WATERMARK, "ff/1"),
            Some(Duration::from_secs(3 * 3600))
        );
        assert_eq!(
            t.limit(REFERENCE, "ff/observers"),
            Some(Duration::from_secs(2 * 86_400))
        );
        assert_eq!(
            t.limit(REFERENCE, "ff/field_groups"),
            Some(Duration::from_secs(31 * 86_400))
        );
        assert_eq!(
            t.limit(REFERENCE, "ff/species"),
            Some(Duration::from_secs(8 * 86_400))
        );
        assert_eq!(
            t.limit(REFERENCE, "ff/places"),
            Some(Duration::from_secs(86_400))
        );
        assert_eq!(t.limit("verify", "lpo"), None);
    }

    #[test]
    fn rules_parse() {
        let r: StaleAfter = "gn2pg=2h".parse().unwrap();
        assert_eq!(
            r,
            StaleAfter {
                track: "gn2pg".into(),
                scope: None,
                limit: Some(Duration::from_secs(7200))
            }
        );
        let r: StaleAfter = "visionature:src_vn_json_check*=26h".parse().unwrap();
        assert_eq!(r.scope.as_deref(), Some("src_vn_json_check*"));
        let r: StaleAfter = "ecospheres=off".parse().unwrap();
        assert_eq!(r.limit, None);
        for bad in ["gn2pg", "=2h", "gn2pg=soon", "gn2pg:=2h", "gn2pg=0s"] {
            assert!(bad.parse::<StaleAfter>().is_err(), "{bad}");
        }
    }

    #[test]
    fn last_matching_rule_wins_then_defaults() {
        let rules: Vec<StaleAfter> = ["visionature=4h", "visionature:*check*=26h", "gn2pg:lpo=off"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let t = Thresholds::new(&rules);
        assert_eq!(
            t.limit("visionature", "ff"),
            Some(Duration::from_secs(4 * 3600))
        );
        assert_eq!(
            t.limit("visionature", "src_vn_json_check/ff"),
            Some(Duration::from_secs(26 * 3600))
        );
        assert_eq!(t.limit("gn2pg", "lpo"), None);
        assert_eq!(t.limit("gn2pg", "flavia"), Some(Duration::from_secs(5400)));
        assert_eq!(
            t.limit(FIX_SYNC, "ff"),
            Some(Duration::from_secs(8 * 86_400))
        );
        assert_eq!(t.limit("other", "x"), None);
    }

    #[test]
    fn globs() {
        assert!(glob("a*", "abc"));
        assert!(glob("*c", "abc"));
        assert!(glob("a*c", "abc"));
        assert!(glob("*b*", "abc"));
        assert!(!glob("a*c", "ab"));
        assert!(!glob("*x*", "abc"));
        assert!(glob("ab", "ab"));
        assert!(!glob("ab", "abc"));
        assert!(!glob("aa*aa", "aaa"));
    }

    #[test]
    fn verdicts() {
        let h = Some(Duration::from_secs(3600));
        assert_eq!(Verdict::of(h, Some(10.0)), Verdict::Fresh);
        assert_eq!(
            Verdict::of(h, Some(7300.0)),
            Verdict::Stale("last success 2h 01m ago, limit 1h".into())
        );
        assert_eq!(
            Verdict::of(h, None),
            Verdict::Stale("never succeeded".into())
        );
        assert_eq!(Verdict::of(None, None), Verdict::Unchecked);
    }
}
