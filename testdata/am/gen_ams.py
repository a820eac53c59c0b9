#!/usr/bin/env python3
"""Seeded, deterministic generator of realistic back-office AM content (SQL for PostgreSQL).

Usage: gen_ams.py [--seed N] [--count N] > ams.sql

Writes the CREATE TABLE statements and one transaction of INSERTs into am_metadata,
structured_am, parametrization and am_status, shaped like the golden fixture: nested
chapters/sections/articles/numbered paragraphs, alineas with accents, tables, links,
classements, conditions of every type. Every generated AM is in force and valid, so the
export must export all of them. Same seed and count -> same bytes.
"""
import argparse
import json
import random

WORDS = (
    "l'exploitant installation prend toutes les dispositions nécessaires dans la conception et "
    "exploitation pour limiter émissions de poussières bruit vibrations odeurs rejets eaux pluviales "
    "susceptibles être polluées sont collectées traitées avant rejet milieu naturel stockage liquide "
    "capacité rétention étanche produits déchets éliminés conditions prévenant risques pollution "
    "valeurs limites concentration mesures contrôle organisme agréé période jour nuit propriété"
).split()
TOPICS = [None, None, None, "EAU", "AIR_ODEURS", "DECHETS", "RISQUES", "BRUIT_VIBRATIONS", "EXECUTION"]
CHAPTERS = ["Dispositions générales", "Prévention des accidents et des pollutions", "Emissions dans l'eau",
            "Emissions dans l'air", "Bruit et vibrations", "Déchets", "Surveillance des émissions"]
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII"]
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre"]


def sentence(rng, n_min=12, n_max=40):
    words = [rng.choice(WORDS) for _ in range(rng.randint(n_min, n_max))]
    return (" ".join(words)).capitalize() + rng.choice([".", " ;", " :", "."])


class Ids:
    def __init__(self, rng):
        self.rng = rng

    def new(self):
        return "".join(self.rng.choice("0123456789abcdefABCDEF") for _ in range(12))


def estr(text, rng, with_extras=True):
    out = {"text": text}
    if with_extras and rng.random() < 0.02:
        out["inactive"] = True
    if with_extras and rng.random() < 0.01:
        out["links"] = [{"target": "https://www.legifrance.gouv.fr/", "position": 0, "content_size": 5}]
    return out


def table(rng):
    rows = []
    for r in range(rng.randint(2, 6)):
        cells = [{"content": {"text": sentence(rng, 1, 4)}, "colspan": 1, "rowspan": 1} for _ in range(rng.randint(2, 4))]
        rows.append({"cells": cells, "is_header": r == 0})
    return {"text": "", "table": {"rows": rows}}


def section(rng, ids, title, depth, all_ids):
    sid = ids.new()
    all_ids.append(sid)
    alineas = []
    for _ in range(rng.randint(1, 4)):
        alineas.append(table(rng) if rng.random() < 0.04 else estr(sentence(rng), rng))
    children = []
    if depth < 3 and rng.random() < 0.3:
        for k in range(rng.randint(2, 4)):
            sub_title = rng.choice([f"{k + 1}. {sentence(rng, 2, 5)}", f"{'abcdef'[k]}) {sentence(rng, 2, 5)}",
                                    f"{ROMAN[k]}. - {sentence(rng, 2, 5)}"])
            children.append(section(rng, ids, sub_title, depth + 1, all_ids))
    topic = rng.choice(TOPICS)
    return {
        "title": {"text": title},
        "outer_alineas": alineas,
        "sections": children,
        "applicability": None,
        "reference": None,
        "annotations": {"topic": topic} if topic else None,
        "id": sid,
        "parametrization": {"potential_inapplicabilities": [], "potential_modifications": [], "warnings": []},
    }


def condition(rng, depth=0):
    kind = rng.choice(["EQUAL", "LITTLER", "GREATER", "RANGE", "AND", "OR"] if depth == 0 else ["EQUAL", "LITTLER"])
    if kind in ("AND", "OR"):
        return {"type": kind, "conditions": [condition(rng, 1) for _ in range(rng.randint(2, 3))]}
    param = rng.choice([("regime", "REGIME"), ("date-d-autorisation", "DATE"), ("quantite-rubrique", "REAL_NUMBER")])
    def target():
        if param[1] == "REGIME":
            return rng.choice("AED")
        if param[1] == "DATE":
            return f"{rng.randint(1998, 2020)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        return rng.choice([20, 100, 7000.0, 0.5, 50000])
    base = {"type": kind, "parameter": {"id": param[0], "type": param[1]}}
    if kind == "EQUAL":
        base["target"] = target()
    elif kind in ("LITTLER", "GREATER"):
        base["target"] = target()
        base["strict"] = rng.random() < 0.5
    else:
        base.update({"left": target(), "right": target(), "left_strict": False, "right_strict": True})
    return base


def build(rng, index):
    ids = Ids(rng)
    cid = f"JORFTEXT{100000000000 + index * 7919:012d}"
    year = rng.randint(1998, 2022)
    day, month = rng.randint(1, 28), rng.randint(1, 12)
    title_date = f"{day:02d}/{month:02d}/{year % 100:02d}"
    rubrique = str(rng.choice([1185, 1510, 2111, 2710, 2780, 2921, 3110, 4331]))
    regime = rng.choice("AED")
    title = (f"Arrêté du {title_date} relatif aux prescriptions générales applicables aux installations "
             f"relevant de la rubrique n° {rubrique} de la nomenclature des installations classées")
    if rng.random() < 0.1:
        title = f"Arrêté du {'1er' if day == 1 else day} {MONTHS[month - 1]} {year}" + title[len("Arrêté du 00/00/00"):]
    all_ids = []
    sections = []
    article = 1
    for c in range(rng.randint(3, 5)):
        chapter = section(rng, ids, f"Chapitre {ROMAN[c]} : {CHAPTERS[c]}", 3, all_ids)
        chapter["sections"] = []
        for _ in range(rng.randint(2, 5)):
            chapter["sections"].append(section(rng, ids, f"Article {article}", 1, all_ids))
            article += 1
        sections.append(chapter)
    sections.append(section(rng, ids, "Annexe I : Méthodes de mesure", 1, all_ids))
    classements = [{"rubrique": rubrique, "regime": regime, "alinea": rng.choice([None, "1", "2", "A-2"]), "state": "ACTIVE"}
                   for _ in range(rng.randint(1, 3))]
    am = {
        "id": cid,
        "title": {"text": title},
        "visa": [estr(sentence(rng), rng, False) for _ in range(rng.randint(2, 5))],
        "sections": sections,
        "date_of_signature": f"{year}-{month:02d}-{day:02d}",
        "aida_url": None, "legifrance_url": None,
        "classements": [], "classements_with_alineas": [],
        "applicability": {"condition_of_inapplicability": None, "warnings": []},
        "is_transverse": False, "nickname": None, "orphan_titles": None,
    }
    metadata = {
        "cid": cid, "aida_page": str(rng.randint(1000, 99999)), "title": title, "classements": classements,
        "state": "VIGUEUR", "date_of_signature": am["date_of_signature"], "source": "LEGIFRANCE",
        "nor": None, "reason_deleted": None, "is_transverse": rng.random() < 0.05, "nickname": None,
    }
    parametrization = {
        "inapplicable_sections": [
            {"id": ids.new(), "section_id": rng.choice(all_ids), "alineas": rng.choice([None, [0], [0, 1]]),
             "condition": condition(rng), "subsections_are_inapplicable": rng.random() < 0.5}
            for _ in range(rng.randint(0, 5))
        ],
        "alternative_sections": [
            {"id": ids.new(), "section_id": rng.choice(all_ids), "condition": condition(rng),
             "new_text": section(rng, ids, f"Article {rng.randint(1, article)}", 2, [])}
            for _ in range(rng.randint(0, 3))
        ],
        "warnings": [{"id": ids.new(), "section_id": rng.choice(all_ids), "text": sentence(rng)}
                     for _ in range(rng.randint(0, 2))],
    }
    return cid, metadata, am, parametrization


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    out = ["SET client_encoding = 'UTF8';", "BEGIN;"]
    for table in ("am_metadata", "initial_am", "structured_am", "parametrization"):
        out.append(f"CREATE TABLE IF NOT EXISTS {table} (am_id VARCHAR(255) PRIMARY KEY, data TEXT);")
    out.append("CREATE TABLE IF NOT EXISTS am_status (am_id VARCHAR(255) PRIMARY KEY, status VARCHAR(255));")
    print("\n".join(out))
    for i in range(args.count):
        cid, metadata, am, parametrization = build(rng, i)
        for table, doc in (("am_metadata", metadata), ("structured_am", am), ("parametrization", parametrization)):
            data = json.dumps(doc, ensure_ascii=rng.random() < 0.5)
            print(f"INSERT INTO {table} (am_id, data) VALUES ('{cid}', $am_gen${data}$am_gen$);")
        print(f"INSERT INTO am_status (am_id, status) VALUES ('{cid}', 'VALIDATED');")
    print("COMMIT;")


if __name__ == "__main__":
    main()
