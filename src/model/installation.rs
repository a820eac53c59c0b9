//! The closed value sets of installations and classements, and the mappings from the S3IC
//! extraction's codes to the values the web app stores (ED `models/installation.py`,
//! `models/regime.py`, `models/installation_classement.py`).

/// Installation regimes accepted in `installations_*.csv`.
pub const INSTALLATION_REGIMES: [&str; 5] = ["A", "E", "D", "DC", "NC"];
/// Seveso statuses accepted in `installations_*.csv` (empty = none).
pub const SEVESO: [&str; 5] = ["NS", "SH", "SB", "AS", ""];
/// Families accepted in `installations_*.csv`.
pub const FAMILIES: [&str; 5] = ["Bovins", "Industries", "Carrières", "Porcs", "Volailles"];
/// Activity states accepted in `installations_*.csv` (empty = unknown).
pub const ACTIVITY_STATES: [&str; 6] = [
    "En fonctionnement",
    "En construction",
    "Cessation déclarée",
    "A l'arrêt",
    "Récolement fait",
    "",
];
/// Activity states that are published.
pub const ACTIVE_STATES: [&str; 2] = ["En fonctionnement", "En construction"];
/// Regimes accepted in `classements_*.csv`.
pub const CLASSEMENT_REGIMES: [&str; 5] = ["A", "E", "D", "NC", "unknown"];

/// Installation regime of the extraction → published regime; `None` drops the row.
pub fn installation_regime(code: &str) -> Option<&'static str> {
    match code {
        "A" | "S" | "2" => Some("A"),
        "E" => Some("E"),
        _ => None,
    }
}

/// S3IC family code → published family (unknown codes pass through, then fail validation).
pub fn family(code: &str) -> &str {
    match code {
        "industrie" => "Industries",
        "carriere" => "Carrières",
        "volailles" => "Volailles",
        "bovins" => "Bovins",
        "porcs" => "Porcs",
        other => other,
    }
}

/// S3IC Seveso code → published status.
pub fn seveso(code: &str) -> &str {
    match code {
        "SSH" => "SH",
        "SSB" => "SB",
        other => other,
    }
}

/// Detailed classement regime → simplified published regime; `None` when the value is not a
/// detailed regime (the whole task then aborts).
pub fn simplify_classement_regime(code: &str) -> Option<&'static str> {
    match code {
        "A" => Some("A"),
        "E" => Some("E"),
        "D" | "DC" => Some("D"),
        "NC" => Some("NC"),
        "S" | "1" | "2" | "3" | "unknown" => Some("unknown"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings() {
        assert_eq!(installation_regime("S"), Some("A"));
        assert_eq!(installation_regime("2"), Some("A"));
        assert_eq!(installation_regime("A "), None);
        assert_eq!(installation_regime("D"), None);
        assert_eq!(family("carriere"), "Carrières");
        assert_eq!(family("Autre"), "Autre");
        assert_eq!(seveso("SSB"), "SB");
        assert_eq!(simplify_classement_regime("DC"), Some("D"));
        assert_eq!(simplify_classement_regime("3"), Some("unknown"));
        assert_eq!(simplify_classement_regime("X"), None);
    }
}
