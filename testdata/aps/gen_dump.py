#!/usr/bin/env python3
"""Seeded generator of a synthetic Géorisques dump and its companions, for `scripts/bench-aps.sh`.

Writes into OUT:
  www/georisques_data.tar.gz   IC_documents.csv + IC_types_document.csv (no header, `;`, UTF-8)
  misc/installations_{all,sample,idf}.csv   (only `s3ic_id` matters to `aps`)
  ap/<georisques_id>.pdf|.error.txt         sparse files (OCR done / failed), plus a few unrelated keys
Standard library only. Usage: gen_dump.py --count 500000 --seed 42 --out DIR [--no-ap]
"""
import argparse
import io
import os
import random
import tarfile

TYPES = [
    (1, "Arrêté préfectoral", 45),
    (2, "Rapport", 18),
    (3, "Arrêté de mise en demeure", 5),
    (4, "Arrêté de sanction", 2),
    (5, "Autre", 6),
    (6, "Suite d'inspection", 11),
    (7, "Information du public (DI Seveso art. 14)", 2),
    (8, "Visite", 10),
]
WORDS = ["AP", "APC", "complémentaire", "autorisation", "prescriptions", "site", "de", "Lisses",
         "mise", "en", "demeure", "rapport", "visite", "du", "12/03", "art.", "R. 512-31", "d'exploitation"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=500000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-ap", action="store_true", help="do not create the ap store")
    ap.add_argument("--all-processed", action="store_true",
                    help="give every AP a stored object (the 4 %% never attempted get error files): "
                         "a `daily` run then has nothing new to OCR")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    n_inst = max(200, a.count // 10)
    inst = sorted({"%04d.%05d" % (rnd.randrange(10000), rnd.randrange(100000)) for _ in range(n_inst)})
    for d in ("www", "misc", "ap"):
        os.makedirs(os.path.join(a.out, d), exist_ok=True)
    subsets = {"all": inst, "sample": inst[::10], "idf": inst[::5]}
    for ds, ids in subsets.items():
        with open(os.path.join(a.out, "misc", f"installations_{ds}.csv"), "w", encoding="utf-8") as f:
            f.write("s3ic_id,name\n")
            f.writelines(f"{i},Installation {i}\n" for i in ids)

    type_ids = [t[0] for t in TYPES]
    weights = [t[2] for t in TYPES]
    docs = io.StringIO()
    ap_files = []
    for n in range(a.count):
        # 5 % of the documents belong to installations that are not active.
        s3ic = rnd.choice(inst) if rnd.random() < 0.95 else "%04d.%05d" % (rnd.randrange(10000), rnd.randrange(100000))
        t = rnd.choices(type_ids, weights)[0]
        gid = "%s/%x/%032x" % (chr(65 + rnd.randrange(26)), rnd.randrange(16), rnd.getrandbits(128))
        words = " ".join(rnd.choice(WORDS) for _ in range(rnd.randrange(1, 9)))
        if rnd.random() < 0.05:
            words = '"%s; %s"' % (words, "révision")
        date = "" if rnd.random() < 0.05 else "%04d-%02d-%02d" % (rnd.randrange(1970, 2024), rnd.randrange(1, 13), rnd.randrange(1, 29))
        docs.write(f"{n + 1};{s3ic};{t};{words};{gid}.pdf;{date}\n")
        if t == 1:
            r = rnd.random()
            if r < 0.93:
                ap_files.append((gid + ".pdf", rnd.randrange(20_000, 5_000_000)))
            elif r < 0.96 or a.all_processed:
                ap_files.append((gid + ".error.txt", 800))
    types = "".join(f"{i};{label}\n" for i, label, _ in TYPES)

    with tarfile.open(os.path.join(a.out, "www", "georisques_data.tar.gz"), "w:gz", compresslevel=6) as tar:
        for name, text in (("IC_documents.csv", docs.getvalue()), ("IC_types_document.csv", types)):
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    if not a.no_ap:
        made = set()
        for name, size in ap_files + [("README.txt", 10), ("tmp/test.pdf", 10)]:
            d = os.path.dirname(name)
            if d not in made:
                os.makedirs(os.path.join(a.out, "ap", d), exist_ok=True)
                made.add(d)
            with open(os.path.join(a.out, "ap", name), "wb") as f:
                f.truncate(size)
    print(f"generated {a.count} documents, {len(inst)} installations, {len(ap_files)} ap objects (seed {a.seed})")


if __name__ == "__main__":
    main()
