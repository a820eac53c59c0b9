#!/usr/bin/env python3
"""Seeded generator of DCAT JSON-LD catalogue pages shaped like CKAN's `/dcat/catalog/jsonld`
export (the Ecosphères catalogue): one compacted JSON-LD document per page, `@context` of prefixes,
`@graph` of datasets (some also `dcat:DatasetSeries`), catalog records, catalogs, distributions,
vCard contacts, rights statements, locations, organizations and one `hydra:PagedCollection` node.

Standard library only; the same arguments always give the same bytes.

    gen_catalog.py --acceptance --out DIR      the 75-dataset, 2-page acceptance fixture (docs/syncs/ecospheres.md §3.2)
    gen_catalog.py --datasets N --out DIR      N datasets, --per-page (100) per page, --seed (42)

Pages are written as DIR/page-00001.json, … (zero-padded: lexical order = page order). Links use
--base (default https://ckan.invalid/dcat/catalog/jsonld): tests serving the pages over HTTP replace
that string with their server's URL.

Every page is something the original ETL runs on without crashing (every dataset has a title, a
known status code, contacts under `…/dcat/catalog/<email>`); faults are injected by the tests. The
generated catalogues exercise the deliberate differences of docs/syncs/ecospheres.md §7 on
purpose (apostrophes in keywords, `fr` titles that are not first, distributions without a
license, invalid dates, overseas communes without a département, datasets repeated on a later
page, …): see README.md.
"""

import argparse
import json
import os
import random
import sys

DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
VCARD = "http://www.w3.org/2006/vcard/ns#"
ADMS = "http://www.w3.org/ns/adms#"
HYDRA = "http://www.w3.org/ns/hydra/core#"

CONTEXT = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcat": DCAT,
    "dcterms": DCT,
    "foaf": FOAF,
    "geo": "http://www.opengis.net/ont/geosparql#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "schema": "https://schema.org/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

WORDS = (
    "zone aléa inondation risque naturel plan prévention submersion marine carte bruit route "
    "commune département périmètre servitude urbanisme forêt rivière bassin versant captage eau "
    "potable qualité air émission réseau transport données ouvertes révision approuvé arrêté "
    "préfectoral élaboration secteur réglementé littoral montagne avalanche mouvement terrain "
    "sismicité géologie habitat espèces protégées continuité écologique trame verte bleue"
).split()

KEYWORDS = [
    "données ouvertes", "zone de bruit", "directive 2002/49/ce", "Nuisance/Bruit",
    "Risque/Zonages Risque naturel", "document d'urbanisme", "plan local d'urbanisme",
    "Zones de gestion, de restriction ou de réglementation et unités de déclaration",
    "Usage des sols", "Hydrographie", "Installations de suivi environnemental", "PPRN",
    "aléa", "inondation", "servitude d'utilité publique", "Réseaux de transport", "ICPE",
    "Sites protégés", "Altitude", "Occupation des terres", "l'eau", "Habitats et biotopes",
]

THEMES = [
    "bruit", "reglementation-de-prevention-des-risques-naturels", "amenagement-urbanisme",
    "eau", "transport-deplacements", "nature-paysage-biodiversite", "air-climat", "energie",
    "foret", "logement", "mer-littoral", "sols-sous-sols",
]
THEME_BASE = "http://registre.data.developpement-durable.gouv.fr/ecospheres/themes-ecospheres/"

RIGHTS = [
    "Pas de restriction d'accès public selon INSPIRE",
    "Aucun des articles de la loi ne peut être invoqué pour justifier d'une restriction d'accès public.",
    "Licence Ouverte",
    "Open Licence version 2.0",
    "Accès restreint : données à diffusion limitée aux services de l'État.",
    "Conditions d'utilisation :\nlicence ouverte Etalab 2.0",
    "Usage libre sous réserve de mentionner la source.",
]

LICENSES = [
    "https://spdx.org/licenses/etalab-2.0",
    "https://spdx.org/licenses/ODbL-1.0",
    "https://spdx.org/licenses/CC-BY-4.0",
    "https://www.etalab.gouv.fr/licence-ouverte-open-licence",
]

# The codes the original ETL maps (spelled as its map spells them: any other crashes it).
STATUS_IRIS = [
    "http://publications.europa.eu/resource/authority/dataset-status/COMPLETED",
    "http://registre.data.developpement-durable.gouv.fr/plume/ISO19139ProgressCode/onGoing",
    "http://registre.data.developpement-durable.gouv.fr/plume/ISO19139ProgressCode/historicalArchive",
    "http://registre.data.developpement-durable.gouv.fr/plume/ISO19139ProgressCode/UnderDevelopment",
    "http://registre.data.developpement-durable.gouv.fr/plume/ISO19139ProgressCode/obsolete",
    "http://registre.data.developpement-durable.gouv.fr/plume/ISO19139ProgressCode/required",
    "http://registre.data.developpement-durable.gouv.fr/plume/ISO19139ProgressCode/planned",
]

CATALOGS = ["GéoIDE Catalogue", "Sextant", "Catalogue Nature France", "data.gouv.fr"]

ORGS = [
    ("DDT 74 (Direction Départementale des Territoires de la Haute-Savoie)", "ddt-stem-sig@haute-savoie.gouv.fr"),
    ("DREAL Auvergne-Rhône-Alpes", "sig.dreal-ara@developpement-durable.gouv.fr"),
    ("DDTM 2A", "ddtm-sig@corse-du-sud.gouv.fr"),
    ("DEAL Guadeloupe", "sig.deal971@developpement-durable.gouv.fr"),
    ("Office français de la biodiversité", "geomatique@ofb.gouv.fr"),
    ("DDT 38", "ddt-sig@isere.gouv.fr"),
]

DEPARTEMENTS = ["74", "73", "38", "2A", "2B", "01", "69", "13", "971", "974"]

RECORD_HOST = "https://integration.data.e2.rie.gouv.fr"
DATASET_BASE = "http://catalogue.geo-ide.developpement-durable.gouv.fr/catalogue/srv/fre/catalog.search#/metadata/"


class Page:
    """Nodes of one page, plus the shared catalog nodes (one per distinct catalog)."""

    def __init__(self, rng, style):
        self.rng = rng
        self.style = style  # "compact", "dct" (other prefix), "iri" (full IRIs for dcterms keys)
        self.nodes = []
        self.catalogs = {}

    def blank(self):
        return "_:N%032x" % self.rng.getrandbits(128)

    def key(self, ns, local):
        """A property key in this page's style."""
        if ns == DCT:
            if self.style == "iri":
                return DCT + local
            return ("dct:" if self.style == "dct" else "dcterms:") + local
        prefix = {DCAT: "dcat:", FOAF: "foaf:"}.get(ns)
        return prefix + local if prefix else ns + local

    def catalog(self, title):
        if title not in self.catalogs:
            node_id = self.blank()
            self.catalogs[title] = node_id
            self.nodes.append({
                "@id": node_id,
                "@type": "dcat:Catalog",
                self.key(DCT, "title"): lit(title),
                "foaf:homepage": {"@id": "http://catalogue.example.org/" + str(len(self.catalogs))},
            })
        return self.catalogs[title]


def lit(text, lang="fr"):
    return {"@language": lang, "@value": text} if lang else text


def one_or_many(values):
    return values[0] if len(values) == 1 else values


def sentence(rng, n):
    words = [rng.choice(WORDS) for _ in range(n)]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def text(rng, sentences):
    parts = []
    for i in range(sentences):
        parts.append(sentence(rng, rng.randint(6, 18)))
        if i and rng.random() < 0.2:
            parts[-1] += "\n"
    return " ".join(parts).replace("\n ", "\n")


def uuid(rng):
    h = "%032x" % rng.getrandbits(128)
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def modified_value(rng, invalid_share):
    y, m, d = rng.randint(2012, 2024), rng.randint(1, 12), rng.randint(1, 28)
    r = rng.random()
    if r < invalid_share:
        # Not an xsd:date: rdflib (isodate) reads it as the year's first day; we keep it raw.
        return {"@type": "xsd:date", "@value": "%d-%d-%d" % (y, m, rng.randint(1, 9))}
    if r < 0.80:
        return {"@type": "xsd:date", "@value": "%04d-%02d-%02d" % (y, m, d)}
    time = "%02d:%02d:%02d" % (rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
    suffix = rng.choice([".%06d" % rng.randint(1, 999999), "", "Z", ".5", ".250Z", "+02:00", ".000"])
    return {"@type": "xsd:dateTime", "@value": "%04d-%02d-%02dT%s%s" % (y, m, d, time, suffix)}


def commune_code(rng, dep):
    if len(dep) == 3:
        return dep + "%02d" % rng.randint(1, 34)
    return dep + "%03d" % rng.randint(1, 350)


def add_dataset(page, rng, spec):
    """Appends one dataset and its satellite nodes to `page`. `spec` says which optional fields
    are present (see make_spec)."""
    k = page.key
    ds = {"@id": spec["id"], "@type": ["dcat:Dataset", "dcat:DatasetSeries"] if spec["series"] else "dcat:Dataset"}
    nodes = [ds]

    contact = None
    if spec["contact"]:
        org, email = rng.choice(ORGS)
        contact = page.blank()
        nodes.append({
            "@id": contact,
            "@type": VCARD + "Kind",
            VCARD + "fn": lit(org),
            VCARD + "hasEmail": {"@id": RECORD_HOST + "/dcat/catalog/" + email},
        })
        ds["dcat:contactPoint"] = {"@id": contact}

    distributions = []
    for _ in range(spec["distributions"]):
        dist = page.blank()
        node = {
            "@id": dist,
            "@type": "dcat:Distribution",
            "dcat:accessURL": {"@id": "https://atom.geo-ide.example.org/GetResource?id=" + uuid(rng)},
            k(DCT, "title"): lit(rng.choice(["Téléchargement simple (Atom)", "Service de visualisation WMS", "Fichier ZIP"])),
        }
        license = spec["license"]
        if license == "blank":
            lic = page.blank()
            nodes.append({"@id": lic, "@type": "dcterms:LicenseDocument", "rdfs:label": lit("Licence propre au producteur")})
            node[k(DCT, "license")] = {"@id": lic}
        elif license and (len(distributions) == 0 or rng.random() < 0.9):
            node[k(DCT, "license")] = {"@id": license if rng.random() < 0.85 else rng.choice(LICENSES)}
        fmt = page.blank()
        nodes.append({"@id": fmt, "@type": "dcterms:MediaTypeOrExtent", "rdfs:label": {"@type": "rdf:langString", "@value": rng.choice(["ESRI Shapefile (SHP)", "GeoJSON", "CSV"])}})
        node[k(DCT, "format")] = {"@id": fmt}
        nodes.append(node)
        distributions.append({"@id": dist})
    if distributions:
        ds["dcat:distribution"] = one_or_many(distributions)

    if spec["keywords"]:
        ds["dcat:keyword"] = one_or_many([lit(w) if rng.random() < 0.95 else w for w in spec["keywords"]])
    ds["dcat:landingPage"] = {"@id": spec["id"]}
    if spec["themes"]:
        ds["dcat:theme"] = one_or_many([{"@id": THEME_BASE + t} for t in spec["themes"]])

    rights = []
    for label in spec["rights"]:
        node_id = page.blank()
        nodes.append({"@id": node_id, "@type": "dcterms:RightsStatement", "rdfs:label": lit(label)})
        rights.append({"@id": node_id})
    if rights:
        ds[k(DCT, "accessRights")] = one_or_many(rights)

    ds[k(DCT, "conformsTo")] = {"@id": "http://www.opengis.net/def/crs/EPSG/0/2154"}
    ds[k(DCT, "created")] = {"@type": "xsd:date", "@value": "2016-02-04"}
    ds[k(DCT, "description")] = lit(spec["description"])
    ds[k(DCT, "identifier")] = spec["id"].rsplit("/", 1)[-1]
    ds[k(DCT, "issued")] = {"@type": "xsd:date", "@value": "2015-06-01"}
    ds[k(DCT, "language")] = {"@id": "http://publications.europa.eu/resource/authority/language/FRA"}
    if spec["modified"] is not None:
        ds[k(DCT, "modified")] = spec["modified"]

    for key, name in (("creator", spec["creator"]), ("rights_holder", spec["rights_holder"])):
        if name:
            org = page.blank()
            nodes.append({
                "@id": org,
                "@type": "foaf:Organization",
                k(FOAF, "name"): lit(name),
                "foaf:mbox": {"@id": RECORD_HOST + "/dcat/catalog/contact@example.org"},
            })
            ds[k(DCT, key)] = {"@id": org}

    spatial = []
    if spec["bbox"]:
        loc = page.blank()
        nodes.append({
            "@id": loc,
            "@type": "dcterms:Location",
            "dcat:bbox": {"@type": "geo:wktLiteral", "@value": "POLYGON((7.04 46.40,7.04 45.68,5.80 45.68,5.80 46.40,7.04 46.40))"},
        })
        spatial.append({"@id": loc})
    for iri in spec["spatial"]:
        spatial.append({"@id": iri})
    if spatial:
        ds[k(DCT, "spatial")] = one_or_many(spatial)

    titles = [lit(t, lang) for t, lang in spec["titles"]]
    ds[k(DCT, "title")] = one_or_many(titles)
    if spec["status"]:
        ds[ADMS + "status"] = {"@id": spec["status"]}

    record = page.blank()
    rec = {
        "@id": record,
        "@type": "dcat:CatalogRecord",
        k(DCT, "identifier"): spec["id"].rsplit("/", 1)[-1],
        k(DCT, "language"): {"@id": "http://publications.europa.eu/resource/authority/language/FRA"},
        k(DCT, "modified"): {"@type": "xsd:dateTime", "@value": "2019-03-29T22:45:00.000412"},
    }
    if spec["catalog"]:
        rec["dcat:inCatalog"] = {"@id": page.catalog(spec["catalog"])}
    if contact:
        rec["dcat:contactPoint"] = {"@id": contact}
    nodes.append(rec)
    ds["foaf:isPrimaryTopicOf"] = {"@id": record}
    ds["foaf:page"] = {"@id": "https://metadata.example.org/" + spec["id"].rsplit("-", 1)[-1]}
    # Satellites first, as CKAN writes them: the dataset refers to nodes defined before and after.
    page.nodes.extend(nodes[1:] + [nodes[0]] if rng.random() < 0.5 else nodes)


def make_spec(rng, index, k=None, invalid_dates=0.0, extras=True):
    """What one dataset holds. `k` fixes how many of catalog, contact point, modification, rights
    holder and status are present (the filling score is 100 × (4 + k) / 9 with the title)."""
    fields = ["catalog", "contact", "modified", "rights_holder", "status"]
    if k is None:
        present = {f for f in fields if rng.random() < {"catalog": 0.92, "contact": 0.66, "modified": 0.6, "rights_holder": 0.42, "status": 0.3}[f]}
    else:
        present = set(rng.sample(fields, k))
    kind = "ldd" if rng.random() < 0.4 else "jdd"
    title = "%s %s" % (rng.choice(["Zones", "Plan", "Carte", "Périmètres", "Servitudes", "Inventaire"]), sentence(rng, rng.randint(3, 9))[:-1])
    r = rng.random()
    if r < 0.04:
        title = "PPRN " + title
    description = text(rng, rng.randint(2, 7))
    if r > 0.96:
        description += " Plan de prévention des risques naturels" + ("" if rng.random() < 0.5 else " (PPRN)") + "."
    elif 0.94 < r <= 0.96:
        description += " Règlement de la Prévention\u00a0des risques naturels."
    titles = [(title, "fr")]
    if extras and rng.random() < 0.03:
        titles = [(title.upper() + " (EN)", "en"), (title, "fr")]
    dep = rng.choice(DEPARTEMENTS)
    spatial = []
    s = rng.random()
    if s < 0.35:
        spatial.append("http://id.insee.fr/geo/departement/" + dep)
    elif s < 0.60:
        spatial.append("http://id.insee.fr/geo/departement/" + dep)
        for _ in range(rng.randint(1, 3)):
            spatial.append("http://id.insee.fr/geo/commune/" + commune_code(rng, dep))
    elif s < 0.80:
        for _ in range(rng.randint(1, 2)):
            spatial.append("http://id.insee.fr/geo/commune/" + commune_code(rng, dep))
    nrights = rng.choice([0, 1, 1, 2, 2, 2]) if extras else rng.choice([1, 2])
    lic = rng.random()
    if lic < 0.06:
        license = None  # distributions without dct:license
    elif lic < 0.08:
        license = "blank"
    else:
        license = rng.choice(LICENSES)
    org = rng.choice(ORGS)[0]
    return {
        "id": "%sfr-120066022-%s-%s" % (DATASET_BASE, kind, uuid(rng)),
        "series": kind == "ldd",
        "titles": titles,
        "description": description,
        "keywords": list(dict.fromkeys(rng.sample(KEYWORDS, rng.randint(1, 6)))),
        "themes": rng.sample(THEMES, rng.choice([0, 1, 1, 1, 2])),
        "rights": rng.sample(RIGHTS, nrights),
        "distributions": rng.randint(1, 3),
        "license": license,
        "contact": "contact" in present,
        "creator": org if rng.random() < 0.2 else None,
        "rights_holder": org if "rights_holder" in present else None,
        "status": rng.choice(STATUS_IRIS) if "status" in present else None,
        "catalog": rng.choice(CATALOGS) if "catalog" in present else None,
        "modified": modified_value(rng, invalid_dates) if "modified" in present else None,
        "bbox": rng.random() < 0.7,
        "spatial": spatial,
    }


def page_doc(page, number, last, total, per_page, base):
    hydra = {
        "@id": "%s?page=%d" % (base, number),
        "@type": HYDRA + "PagedCollection",
        HYDRA + "firstPage": "%s?page=1" % base,
        HYDRA + "itemsPerPage": per_page,
        HYDRA + "lastPage": "%s?page=%d" % (base, last),
        HYDRA + "totalItems": total,
    }
    if number < last:
        hydra[HYDRA + "nextPage"] = "%s?page=%d" % (base, number + 1)
    if number > 1:
        hydra[HYDRA + "previousPage"] = "%s?page=%d" % (base, number - 1)
    context = dict(CONTEXT)
    if page.style == "dct":
        context["dct"] = context.pop("dcterms")
    return {"@context": context, "@graph": page.nodes + [hydra]}


def write_page(out, number, doc):
    path = os.path.join(out, "page-%05d.json" % number)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=2)
        f.write("\n")


def acceptance(out, base):
    """75 datasets on 2 pages (40 + 35), 45 datasets + 30 series, scores 30 × 66.67, 23 × 77.78,
    17 × 88.89 and 5 × 100. Dataset 1: spatial `…/commune/74079` only; dataset 2: the access
    label "Licence Ouverte" only."""
    rng = random.Random(75)
    ks = [2] * 30 + [3] * 23 + [4] * 17 + [5] * 5
    rng.shuffle(ks)
    series = [True] * 30 + [False] * 45
    rng.shuffle(series)
    specs = []
    for i, k in enumerate(ks):
        spec = make_spec(rng, i, k=k, extras=False)
        spec["series"] = series[i]
        spec["id"] = spec["id"].replace("-ldd-", "-jdd-").replace("-jdd-", "-ldd-" if series[i] else "-jdd-")
        specs.append(spec)
    specs[0]["spatial"] = ["http://id.insee.fr/geo/commune/74079"]
    specs[0]["bbox"] = True
    specs[1]["rights"] = ["Licence Ouverte"]
    for number, chunk in ((1, specs[:40]), (2, specs[40:])):
        page = Page(rng, "compact")
        for spec in chunk:
            add_dataset(page, rng, spec)
        write_page(out, number, page_doc(page, number, 2, 75, 40, base))


def catalogue(out, datasets, per_page, seed, base, duplicates):
    rng = random.Random(seed)
    pages = max(1, -(-datasets // per_page))
    repeated = []  # (page number to repeat on, spec)
    made = 0
    for number in range(1, pages + 1):
        r = rng.random()
        page = Page(rng, "dct" if r < 0.1 else "iri" if r < 0.2 else "compact")
        for _ in range(min(per_page, datasets - made)):
            spec = make_spec(rng, made, invalid_dates=0.01)
            add_dataset(page, rng, spec)
            made += 1
            if rng.random() < duplicates and number < pages:
                later = dict(spec)
                later["modified"] = {"@type": "xsd:date", "@value": "2025-01-%02d" % rng.randint(1, 28)}
                later["titles"] = [(spec["titles"][-1][0] + " (mise à jour)", "fr")]
                repeated.append((rng.randint(number + 1, min(pages, number + 3)), later))
        for when, spec in [r for r in repeated if r[0] == number]:
            add_dataset(page, rng, spec)
        write_page(out, number, page_doc(page, number, pages, datasets, per_page, base))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--acceptance", action="store_true")
    p.add_argument("--datasets", type=int, default=1000)
    p.add_argument("--per-page", type=int, default=100)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--duplicates", type=float, default=0.002, help="share of datasets repeated on a later page")
    p.add_argument("--base", default="https://ckan.invalid/dcat/catalog/jsonld")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if a.acceptance:
        acceptance(a.out, a.base)
    else:
        catalogue(a.out, a.datasets, a.per_page, a.seed, a.base, a.duplicates)


if __name__ == "__main__":
    sys.exit(main())
