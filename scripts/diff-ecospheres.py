#!/usr/bin/env python3
"""Compares the `datasets` table the original ETL loaded (database ORIG) with ours (database
OURS), column by column, row by row (matched on `dataset`). Run by scripts/diff-ecospheres.sh with
the venv's Python (psycopg2); PAGES is the generated catalogue both read, used only as evidence for
the deliberate changes (which literals a dataset has, the raw `dct:modified`).

Every difference must be explained by a deliberate change of docs/syncs/ecospheres.md §7, named in the output;
anything else is UNEXPLAINED and makes the exit status 1.

    diff-ecospheres.py ORIG_URL OURS_URL PAGES_DIR
"""

import ast
import collections
import glob
import json
import re
import sys

import psycopg2

DCT = "http://purl.org/dc/terms/"
COLUMNS = [
    "dataset", "title", "description", "modification", "right_statement", "themes", "key_words",
    "creator", "rights_holder", "contact_point", "status", "catalog", "licenses",
    "percantage_filling", "univers", "commune", "departement", "geo_coverage",
    "right_statement_processed",
]


def rows(url):
    conn = psycopg2.connect(url)
    cur = conn.cursor()
    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = 'datasets' ORDER BY ordinal_position"
    )
    types = cur.fetchall()
    cols = ", ".join('"%s"' % c for c, _ in types)
    cur.execute("SELECT %s FROM public.datasets ORDER BY ctid" % cols)
    out = [dict(zip([c for c, _ in types], r)) for r in cur.fetchall()]
    conn.close()
    return types, out


def evidence(pages):
    """dataset IRI → {"title": [(value, lang)], "description": [...], "modified": [raw]}."""
    keys = {}
    for field in ("title", "description", "modified"):
        for k in ("dcterms:" + field, "dct:" + field, DCT + field):
            keys[k] = field
    out = collections.defaultdict(lambda: collections.defaultdict(list))
    for path in sorted(glob.glob(pages + "/*.json")):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        for node in doc["@graph"]:
            types = node.get("@type")
            types = types if isinstance(types, list) else [types]
            if "dcat:Dataset" not in types:
                continue
            for k, v in node.items():
                if k in keys:
                    for item in v if isinstance(v, list) else [v]:
                        if isinstance(item, dict):
                            out[node["@id"]][keys[k]].append((item.get("@value"), item.get("@language")))
                        else:
                            out[node["@id"]][keys[k]].append((item, None))
    return out


def text(v):
    """A value as text, as our table would hold it (None stays None)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


# After the original's transform deleted every `'`, a repr that Python wrote with double quotes
# (the value held an apostrophe) keeps them: `rdflib.term.Literal("plan local durbanisme", lang=fr)`.
WRAPPED = re.compile(r'rdflib\.term\.(?:URIRef|Literal)\(("?)(.*?)\1(?:, lang=[A-Za-z-]+)?(?:, datatype=rdflib\.term\.URIRef\([^)]*\))?\)(?=, rdflib\.term\.|\}$)')


def unwrap_array(v):
    """`{rdflib.term.Literal(x, lang=fr), …}` (the original's themes/key_words) → `{x, …}`;
    `{}` → None."""
    if v is None or v == "{}":
        return None
    return WRAPPED.sub(lambda m: m.group(2), v)


def literal_list(v):
    """The original's right_statement: the repr of a list of rdflib Literals
    (`[rdflib.term.Literal('…', lang='fr'), …]`), read with `ast` (never evaluated)."""
    if v is None or v == "[]":
        return None
    try:
        tree = ast.parse(v, mode="eval")
        items = [e.args[0].value for e in tree.body.elts]
    except (SyntaxError, AttributeError, IndexError):
        return None
    return " | ".join(items) or None


def valid_xsd(raw):
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?", raw or "")) or bool(
        re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?", raw or "")
    )


def first_fr(literals):
    values = [(v, l) for v, l in literals if v]
    for v, l in values:
        if l and l.lower().startswith("fr"):
            return v
    return values[0][0] if values else None


def explain(col, o, u, ev):
    """(label, same) for a pair of values: same=True when they only differ by form."""
    if col in ("title", "description"):
        lits = ev.get(col, [])
        if lits and o == lits[0][0] and u == first_fr(lits) and o != u:
            return "§3a: the fr literal, not the first", False
    if col == "modification":
        raws = [v for v, _ in ev.get("modified", [])]
        if raws and u == raws[0] and not valid_xsd(raws[0]):
            return "§3a: an invalid xsd date is kept raw (rdflib read it as another date)", False
    if col == "right_statement":
        if literal_list(o) == u:
            return ("§3a: labels joined by ' | ' (the original wrote a Python list repr; [] → NULL)", True)
    if col in ("themes", "key_words"):
        n = unwrap_array(o)
        if n == u:
            return "§3/§3a: array text without rdflib.term wrappers; {} → NULL", True
        if u is not None and n == u.replace("'", ""):
            return "§3a: apostrophes kept (the original deleted every ')", False
    if col == "licenses":
        if o is not None and u is not None:
            items = [x for x in o.strip("{}").split(", ") if x != "None"]
            if "{" + ", ".join(sorted(set(items))) + "}" == u:
                if "None" in o.strip("{}").split(", "):
                    return "§3a: distributions without dct:license ignored (the original put None)", False
                return "§3a: distinct licenses sorted (the original's set order)", True
        if o is not None and u is None and o.strip("{}") == "None":
            return "§3a: distributions without dct:license ignored (the original put None)", False
    if col == "departement" and o is not None and u is not None:
        if re.fullmatch(r"\{9[78]\}", o) and re.fullmatch(r"\{9[78]\d\}", u) and u.startswith(o[:-1]):
            return "§3 Fix: an overseas département has 3 digits (97x/98x)", False
    return None, False


def main():
    orig_url, ours_url, pages = sys.argv[1:4]
    orig_types, orig = rows(orig_url)
    our_types, ours = rows(ours_url)
    ev = evidence(pages)

    print("== columns")
    print("  original: %s" % ", ".join("%s %s" % t for t in orig_types))
    print("  ours:     %s" % ", ".join("%s %s" % t for t in our_types))
    unexplained = 0
    if [c for c, _ in our_types] != COLUMNS:
        print("  UNEXPLAINED: our columns are not the 19 of §3 in order")
        unexplained += 1
    if [c for c, _ in orig_types] != COLUMNS:
        print("  UNEXPLAINED: the original's columns differ from §3")
        unexplained += 1
    retyped = ["%s (%s → %s)" % (a[0], a[1], b[1]) for a, b in zip(orig_types, our_types) if a[1] != b[1]]
    if retyped:
        print("  deliberate (§3 Fix: fixed DDL, the original inferred types): " + ", ".join(retyped))

    by_iri = collections.defaultdict(list)
    for r in orig:
        by_iri[r["dataset"]].append(r)
    ours_by = {r["dataset"]: r for r in ours}
    print("== rows: original %d (%d distinct datasets), ours %d" % (len(orig), len(by_iri), len(ours)))
    dups = {k: v for k, v in by_iri.items() if len(v) > 1}
    if dups:
        print("  deliberate (§3 Fix: one row per dataset, later dct:modified then later page): "
              "%d datasets appear %d times in the original" % (len(dups), sum(len(v) for v in dups.values())))
    missing = sorted(set(by_iri) - set(ours_by))
    extra = sorted(set(ours_by) - set(by_iri))
    for name, items in (("only in the original", missing), ("only in ours", extra)):
        if items:
            unexplained += len(items)
            print("  UNEXPLAINED: %d datasets %s, e.g. %s" % (len(items), name, items[:3]))

    print("== values (%d datasets compared)" % len(set(by_iri) & set(ours_by)))
    for col in COLUMNS:
        stats = collections.Counter()
        examples = collections.defaultdict(list)
        for iri in sorted(set(by_iri) & set(ours_by)):
            o = text(by_iri[iri][-1][col])  # the later copy (last page) for duplicates
            u = text(ours_by[iri][col])
            if isinstance(by_iri[iri][-1][col], float) and col != "percantage_filling" and o == "nan":
                o = None
            if o == u:
                stats["identical"] += 1
                continue
            label, same = explain(col, o, u, ev.get(iri, {}))
            if label is None:
                label = "UNEXPLAINED"
            stats[label] += 1
            if len(examples[label]) < 3:
                examples[label].append("%s: original %r / ours %r" % (iri.rsplit("/", 1)[-1], (o or "")[:120] if o else o, (u or "")[:120] if u else u))
        parts = ["%d identical" % stats.pop("identical", 0)]
        for label, n in sorted(stats.items()):
            parts.append("%d %s" % (n, label))
            if label == "UNEXPLAINED":
                unexplained += n
        print("  %-26s %s" % (col, "; ".join(parts)))
        for label in sorted(examples):
            if label == "UNEXPLAINED" or "Fix" in label or "§3a" in label:
                for e in examples[label][: (3 if label == "UNEXPLAINED" else 1)]:
                    print("      e.g. [%s] %s" % (label.split(":")[0], e))
    print("== result: %s" % ("every difference is a deliberate change of docs/syncs/ecospheres.md §7" if unexplained == 0 else "%d UNEXPLAINED differences" % unexplained))
    return 0 if unexplained == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
