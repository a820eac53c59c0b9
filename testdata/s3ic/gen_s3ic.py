#!/usr/bin/env python3
"""Seeded generator of realistic synthetic S3IC extraction files.

Writes `s3ic-liste-etablissements.csv` and `sic-liste-rubriques.csv` (the two inputs of
`data-tasks installations`) in the exact format of the DGPR extraction: `;` separator, header
row, UTF-8, `"` quoting. Every value is invented. The data exercises every rule of
docs/formats.md §3–4: accents, quoted separators and quotes, exact duplicates, several rows
per installation (per-column "last non-missing"), inactive sites, every regime and Seveso code,
`47xx` masked rubriques, Île-de-France rows, empty and NA-token fields, compact dates.

Same seed and sizes → same bytes. Standard library only.

    python3 testdata/s3ic/gen_s3ic.py --out DIR [--installations N] [--rubriques M] [--seed S]
"""

import argparse
import csv
import os
import random

INST_HEADER = [
    "code_s3ic", "raison_sociale", "numéro_siret", "adresse_1", "adresse_2", "code_postal",
    "commune_principale", "code_insee_commune", "département", "region",
    "coordonnées_géographiques_x", "coordonnées_géographiques_y", "système_coordonnées",
    "code_naf", "libellé_naf", "régime_etab_en_vigueur", "statut_seveso", "famille",
    "état_de_l_activité", "date_inspection", "service_inspection", "priorité_nationale", "ied",
]
RUB_HEADER = [
    "code_s3ic", "rubrique_envigueur", "alinéa_envigueur", "régime_envigueur",
    "libellé_court_envigueur", "date_acte_rub_en_vigueur", "date_début_exploitation_rub",
    "date_dernière_modification_notable_rub", "état_technique", "rubrique_autorisé",
    "alinéa_autorisé", "régime_autorisé", "quantité", "unité",
]

PLACES = [
    ("91000", "EVRY", "91228", "ESSONNE", "ILE DE FRANCE"),
    ("77385", "CHELLES", "77108", "SEINE ET MARNE", "ILE DE FRANCE"),
    ("92700", "COLOMBES", "92025", "HAUTS DE SEINE", "ILE DE FRANCE"),
    ("13800", "ISTRES", "13047", "BOUCHES DU RHONE", "PROVENCE ALPES COTE D'AZUR"),
    ("35150", "JANZÉ", "35136", "ILLE ET VILAINE", "BRETAGNE"),
    ("33530", "BASSENS", "33032", "GIRONDE", "NOUVELLE AQUITAINE"),
    ("20100", "SARTÈNE", "2A272", "CORSE DU SUD", "CORSE"),
    ("97300", "CAYENNE", "97302", "GUYANE", "GUYANE"),
    ("14000", "CAEN", "14118", "CALVADOS", "NORMANDIE"),
    ("38000", "GRENOBLE", "38185", "ISERE", "AUVERGNE RHONE ALPES"),
]
NAMES = [
    "SCEA ENGRAIS AZOTÉS", "Scierie des Forêts", "DUPONT, FILS ET CIE", "STE Granulats & Béton",
    "Distillerie \"Saint-Éloi\"", "EARL ENTREPÔTS LOGISTIQUES", "CARRIÈRE DU ROC ", "Peintures; Vernis",
    "Œuvre d'Art Métallurgie", "Élevage de la Côte",
]
FAMILIES = ["industrie"] * 6 + ["carriere", "volailles", "bovins", "porcs"]
REGIMES = ["A"] * 5 + ["E"] * 3 + ["S", "2", "D", "DC", "NC", "1", "3", "A "]
SEVESO = ["NS"] * 8 + ["SSH", "SSB", "AS", "", "NULL"]
ACTIVE = ["En fonctionnement"] * 12 + ["En construction", "Cessation déclarée", "A l'arrêt",
                                       "Récolement fait", ""]
RUBRIQUES = [("2940", "Application de peinture", "kg/j"), ("2260", "Broyage, concassage", "kW"),
             ("1510", "Entrepôts couverts", "m3"), ("3110", "Combustion", "MW"),
             ("2111", "Élevage de volailles", "animaux-équivalents"),
             ("2230", "Réception, stockage, traitement du lait", "l/j"),
             ("47xx", "Substances dangereuses", "t"), ("2160", "Silos de stockage", "m3")]
DETAILED_REGIMES = ["A", "E", "D", "DC", "NC", "S", "1", "2", "3", "unknown"]
STATES = ["En fonctionnement"] * 6 + ["En projet", "A l'arrêt", "Reprise", ""]


def date(rng, empty=0.2):
    if rng.random() < empty:
        return ""
    y, m, d = rng.randint(1960, 2025), rng.randint(1, 12), rng.randint(1, 28)
    return f"{y:04d}{m:02d}{d:02d}" if rng.random() < 0.02 else f"{y:04d}-{m:02d}-{d:02d}"


def installation_rows(rng, n):
    rows = []
    for i in range(n):
        code = f"{rng.randint(1, 9999):04d}.{i:05d}" if n <= 99999 else f"{i // 100000:04d}.{i % 100000:05d}"
        postal, city, insee, dep, region = rng.choice(PLACES)
        if i % 7 == 0:  # enough Île-de-France rows for the idf subset
            postal, city, insee, dep, region = PLACES[i % 3]
        row = {
            "code_s3ic": code,
            "raison_sociale": rng.choice(NAMES),
            "numéro_siret": str(rng.randint(10**13, 10**14 - 1)),
            "adresse_1": f"{rng.randint(1, 300)} ZA LES PRÉS; LOT {rng.randint(1, 9)}",
            "adresse_2": rng.choice(["", "BP 12", "NULL", "None"]),
            "code_postal": postal,
            "commune_principale": city,
            "code_insee_commune": insee,
            "département": dep,
            "region": region,
            "coordonnées_géographiques_x": str(rng.randint(100000, 1200000)),
            "coordonnées_géographiques_y": str(rng.randint(6000000, 7100000)),
            "système_coordonnées": rng.choice(["L93", ""]),
            "code_naf": rng.choice(["20.15Z", "08.12Z", "", "NA", "24.10Z"]),
            "libellé_naf": "",
            "régime_etab_en_vigueur": rng.choice(REGIMES),
            "statut_seveso": rng.choice(SEVESO),
            "famille": rng.choice(FAMILIES),
            "état_de_l_activité": rng.choice(ACTIVE),
            "date_inspection": date(rng),
            "service_inspection": "DREAL",
            "priorité_nationale": rng.choice(["oui", "non", ""]),
            "ied": rng.choice(["oui", "non"]),
        }
        rows.append(row)
        if rng.random() < 0.03:  # exact duplicate
            rows.append(dict(row))
        if rng.random() < 0.05:  # a second row for the same installation, partly empty
            other = dict(row, raison_sociale=rng.choice(NAMES), code_naf="", date_inspection=date(rng))
            rows.append(other)
    rng.shuffle(rows)
    return rows


def rubrique_rows(rng, codes, m):
    rows = []
    for _ in range(m):
        rub, label, unit = rng.choice(RUBRIQUES)
        acte = rub if rub != "47xx" else rng.choice(["4510", "4331", "4718"])
        rows.append({
            "code_s3ic": rng.choice(codes) if rng.random() < 0.97 else "9999.99999",
            "rubrique_envigueur": rub,
            "alinéa_envigueur": rng.choice(["", "1", "2-a", "A-2", "b"]),
            "régime_envigueur": rng.choice(DETAILED_REGIMES),
            "libellé_court_envigueur": label,
            "date_acte_rub_en_vigueur": date(rng, 0.3),
            "date_début_exploitation_rub": date(rng, 0.3),
            "date_dernière_modification_notable_rub": date(rng, 0.5),
            "état_technique": rng.choice(STATES),
            "rubrique_autorisé": acte,
            "alinéa_autorisé": rng.choice(["", "1", "2", "#"]),
            "régime_autorisé": rng.choice(DETAILED_REGIMES),
            "quantité": rng.choice(["", f"{rng.randint(0, 50000)}.000", "12.500"]),
            "unité": unit if rng.random() < 0.9 else "",
        })
        if rng.random() < 0.02:
            rows.append(dict(rows[-1]))
    return rows


def write(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, delimiter=";", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--installations", type=int, default=25000)
    p.add_argument("--rubriques", type=int, default=100000)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    inst = installation_rows(rng, a.installations)
    codes = sorted({r["code_s3ic"] for r in inst})
    write(os.path.join(a.out, "s3ic-liste-etablissements.csv"), INST_HEADER, inst)
    write(os.path.join(a.out, "sic-liste-rubriques.csv"), RUB_HEADER, rubrique_rows(rng, codes, a.rubriques))


if __name__ == "__main__":
    main()
