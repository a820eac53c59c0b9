//! Local projected coordinates: WGS84 longitude/latitude → `out_proj` (default Lambert-93,
//! EPSG:2154), with `proj4rs` (a pure-Rust port of proj4js, definitions from `crs-definitions`),
//! as Client-API-VN did with pyproj (`always_xy`). What can fail: an EPSG code the definitions do
//! not know ([`ProjError::Unknown`]), a point outside the projection's domain (the caller then
//! leaves the local coordinates out).

use proj4rs::Proj;

/// A projection that cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum ProjError {
    #[error("EPSG:{code} is not a known projection: {reason}")]
    Unknown { code: u16, reason: String },
}

/// WGS84 → `out_proj`.
pub struct Projector {
    src: Proj,
    dst: Proj,
    dst_latlong: bool,
}

impl Projector {
    /// A projector to EPSG `code`.
    pub fn new(code: u16) -> Result<Projector, ProjError> {
        let unknown = |e: proj4rs::errors::Error| ProjError::Unknown {
            code,
            reason: e.to_string(),
        };
        let src = Proj::from_epsg_code(4326).map_err(unknown)?;
        let dst = Proj::from_epsg_code(code).map_err(unknown)?;
        let dst_latlong = dst.is_latlong();
        Ok(Projector {
            src,
            dst,
            dst_latlong,
        })
    }

    /// `(x, y)` of a longitude/latitude in degrees, or `None` when it cannot be projected.
    pub fn project(&self, lon: f64, lat: f64) -> Option<(f64, f64)> {
        if !lon.is_finite() || !lat.is_finite() || lat.abs() > 90.0 || lon.abs() > 360.0 {
            return None;
        }
        let mut pt = (lon.to_radians(), lat.to_radians(), 0.0);
        proj4rs::transform::transform(&self.src, &self.dst, &mut pt).ok()?;
        let (x, y) = if self.dst_latlong {
            (pt.0.to_degrees(), pt.1.to_degrees())
        } else {
            (pt.0, pt.1)
        };
        (x.is_finite() && y.is_finite()).then_some((x, y))
    }
}

/// A coordinate given as a JSON number or a numeric string.
pub fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
