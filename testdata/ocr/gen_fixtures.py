#!/usr/bin/env python3
"""Deterministic generator of the OCR test fixtures and benchmark corpus.

Usage:
  gen_fixtures.py fixtures OUTDIR        # small committed fixtures (testdata/ocr/fixtures)
  gen_fixtures.py bench OUTDIR [PAGES]   # benchmark corpus (300 dpi scans, not committed)

Needs Pillow (pinned in scripts/install-deps.sh), DejaVu fonts (Debian fonts-dejavu-core)
and qpdf (encrypted fixtures). Everything is seeded: re-running gives the same text; image
bytes depend only on the Pillow/libjpeg versions.
"""
import io
import math
import os
import random
import subprocess
import sys
import zlib

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
SERIF = os.path.join(FONT_DIR, "DejaVuSerif.ttf")
SERIF_BOLD = os.path.join(FONT_DIR, "DejaVuSerif-Bold.ttf")
A4 = (595.0, 842.0)

COMPANIES = ["Société Béton Réunis", "Carrières de l'Étang", "Société Chimique du Rhône",
             "Papeteries de Fécamp", "Élevage Avicole Léonard", "Métallurgie Générale d'Évreux",
             "Coopérative Agricole des Prés", "Énergies Renouvelables Côtières"]
COMMUNES = ["Bègles", "Mérignac", "Pessac", "Lormont", "Cenon", "Eysines", "Blanquefort",
            "Saint-Médard-en-Jalles", "Ambarès-et-Lagrave", "Le Haillan"]
DEPTS = ["de la Gironde", "du Rhône", "de la Seine-Maritime", "de l'Eure", "des Landes"]
SENTENCES = [
    "Vu le code de l'environnement, et notamment son titre premier du livre cinq ;",
    "Vu la nomenclature des installations classées pour la protection de l'environnement ;",
    "Vu le rapport de l'inspection des installations classées en date du {date} ;",
    "Considérant que l'exploitant a déclaré une augmentation de la capacité de stockage ;",
    "Considérant que les mesures de prévention proposées sont de nature à réduire les risques ;",
    "Sur proposition du secrétaire général de la préfecture ;",
    "L'exploitant est tenu de respecter les prescriptions du présent arrêté.",
    "Les rejets d'eaux pluviales sont traités par un séparateur d'hydrocarbures avant rejet.",
    "Le niveau sonore en limite de propriété ne dépasse pas soixante décibels le jour.",
    "Les déchets sont éliminés dans des installations réglementées à cet effet.",
    "Une étude de dangers actualisée est transmise au préfet avant le {date}.",
    "L'exploitant tient à jour un registre des quantités de matières présentes sur le site.",
    "Les émissions de poussières sont inférieures à vingt milligrammes par mètre cube.",
    "Toute modification notable des installations est portée à la connaissance du préfet.",
    "Le présent arrêté peut être déféré au tribunal administratif dans un délai de deux mois.",
    "Une copie du présent arrêté est déposée à la mairie de {commune} et peut y être consultée.",
    "Le contrôle des rejets atmosphériques est réalisé une fois par an par un organisme agréé.",
    "Les stockages de liquides inflammables sont associés à une capacité de rétention étanche.",
]
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre"]


def arrete_lines(rng, n_sentences):
    date = f"{rng.randint(1, 28)} {rng.choice(MONTHS)} {rng.randint(2015, 2024)}"
    commune = rng.choice(COMMUNES)
    head = [
        f"PRÉFET {rng.choice(DEPTS).upper()}",
        f"Arrêté préfectoral n° {rng.randint(2015, 2024)}-{rng.randint(100, 999)}",
        f"portant prescriptions complémentaires à la société {rng.choice(COMPANIES)}",
        f"pour son établissement situé à {commune}",
    ]
    body = []
    for i in range(n_sentences):
        s = rng.choice(SENTENCES).format(date=date, commune=commune)
        if i % 4 == 3:
            body.append(f"Article {i // 4 + 1}")
        body.append(s)
    return head, body


def wrap(text, font, width, draw):
    words, lines, cur = text.split(), [], ""
    for w in words:
        t = (cur + " " + w).strip()
        if draw.textlength(t, font=font) <= width or not cur:
            cur = t
        else:
            lines.append(cur)
            cur = w
    if cur:
        lines.append(cur)
    return lines


def render_columns(columns, dpi, rng, size_pt=A4, font_pt=11, skew=0.0, noise=0.0, blur=0.0):
    """Draws blocks of paragraphs (one list per column) on a page image; returns (image, text)."""
    w, h = int(size_pt[0] * dpi / 72), int(size_pt[1] * dpi / 72)
    img = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(SERIF, int(font_pt * dpi / 72))
    bold = ImageFont.truetype(SERIF_BOLD, int(font_pt * dpi / 72))
    margin = int(60 * dpi / 72)
    gap = int(42 * dpi / 72)
    ncol = len(columns)
    col_w = (w - 2 * margin - gap * (ncol - 1)) // ncol
    line_h = int(font_pt * 1.45 * dpi / 72)
    texts = []
    for ci, paras in enumerate(columns):
        x = margin + ci * (col_w + gap)
        y = margin
        col_lines = []
        for kind, para in paras:
            f = bold if kind == "head" else font
            for line in wrap(para, f, col_w, d):
                if y + line_h > h - margin:
                    break
                d.text((x, y), line, font=f, fill=0)
                col_lines.append(line)
                y += line_h
            y += line_h // 3
        texts.append("\n".join(col_lines))
    if noise:
        px = img.load()
        for _ in range(int(w * h * noise)):
            px[rng.randrange(w), rng.randrange(h)] = rng.choice((0, 90, 160))
    if blur:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    if skew:
        img = img.rotate(skew, resample=Image.BICUBIC, fillcolor=255, expand=False)
    return img, "\n".join(texts)


def arrete_page(rng, dpi, n_sentences=12, **kw):
    head, body = arrete_lines(rng, n_sentences)
    paras = [("head", t) for t in head] + [("body", t) for t in body]
    return render_columns([paras], dpi, rng, skew=kw.pop("skew", 0.35), noise=kw.pop("noise", 0.0015),
                          blur=kw.pop("blur", 0.5), **kw)


def jpeg(img, quality):
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality, optimize=True)
    return buf.getvalue()


class Pdf:
    """Minimal PDF writer: objects in order, page tree and catalog last."""

    def __init__(self):
        self.objs = []

    def add(self, body):
        self.objs.append(body if isinstance(body, bytes) else body.encode("latin-1"))
        return len(self.objs)

    def stream(self, dict_body, data, compress=False):
        if compress:
            data = zlib.compress(data, 9)
            dict_body += " /Filter /FlateDecode"
        return self.add(b"<< " + dict_body.encode() + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")

    def build(self, pages, extra_catalog=""):
        """pages: list of (page_dict_without_parent_and_type) strings; returns bytes."""
        pages_id = len(self.objs) + len(pages) + 1
        kids = [self.add(f"<< /Type /Page /Parent {pages_id} 0 R {p} >>") for p in pages]
        assert self.add("<< /Type /Pages /Kids [%s] /Count %d >>" % (" ".join(f"{k} 0 R" for k in kids), len(kids))) == pages_id
        root = self.add(f"<< /Type /Catalog /Pages {pages_id} 0 R {extra_catalog}>>")
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for i, body in enumerate(self.objs, 1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(self.objs) + 1)
        for o in offsets:
            out += b"%010d 00000 n \n" % o
        out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(self.objs) + 1, root, xref)
        return bytes(out)


def image_page(pdf, img, quality, size_pt=None, rotate=0, draw_rotated=0, extra_content=b"", fonts=""):
    """A page showing `img` full-page; `draw_rotated` turns the drawing (for /Rotate pages)."""
    w_pt, h_pt = size_pt or (img.width * 72 / 200, img.height * 72 / 200)
    data = jpeg(img, quality)
    im = pdf.stream(f"/Type /XObject /Subtype /Image /Width {img.width} /Height {img.height} "
                    f"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode", data)
    if draw_rotated == 0:
        cm = f"{w_pt:.2f} 0 0 {h_pt:.2f} 0 0 cm"
        box = (w_pt, h_pt)
    elif draw_rotated == 90:
        # The page box is landscape-sized in user space; the image drawn turned 90° ccw,
        # so that /Rotate 90 (clockwise) shows it upright.
        cm = f"0 {w_pt:.2f} {-h_pt:.2f} 0 {h_pt:.2f} 0 cm"
        box = (h_pt, w_pt)
    else:
        raise ValueError(draw_rotated)
    content = f"q {cm} /Im0 Do Q\n".encode() + extra_content
    c = pdf.stream("", content)
    rot = f"/Rotate {rotate}" if rotate else ""
    return (f"/MediaBox [0 0 {box[0]:.2f} {box[1]:.2f}] {rot} "
            f"/Resources << /XObject << /Im0 {im} 0 R >> {fonts}>> /Contents {c} 0 R")


def text_page(pdf, lines, font_id, size=11, box=A4):
    out = ["BT", f"/F1 {size} Tf", f"{size * 1.4:.1f} TL", f"60 {box[1] - 70:.0f} Td"]
    for line in lines:
        esc = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        out.append(f"({esc}) '")
    out.append("ET")
    c = pdf.stream("", "\n".join(out).encode("cp1252"), compress=True)
    return f"/MediaBox [0 0 {box[0]} {box[1]}] /Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {c} 0 R"


def helvetica(pdf):
    return pdf.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")


def write(path, data, truth=None):
    with open(path, "wb") as f:
        f.write(data)
    if truth is not None:
        with open(os.path.splitext(path)[0] + ".txt", "w", encoding="utf-8") as f:
            f.write(truth)


def vector_text_content(img, scale):
    """One filled rectangle path per horizontal run of dark pixels: text drawn as curves."""
    px = img.load()
    ops = []
    for y in range(img.height):
        x = 0
        while x < img.width:
            if px[x, y] < 128:
                x0 = x
                while x < img.width and px[x, y] < 128:
                    x += 1
                ops.append(f"{x0 * scale:.2f} {(img.height - y - 1) * scale:.2f} {(x - x0) * scale:.2f} {scale:.2f} re f")
            x += 1
    return ("0 g\n" + "\n".join(ops) + "\n").encode()


def fixtures(out):
    os.makedirs(out, exist_ok=True)
    dpi = 200
    q = 45

    # 1. Scanned arrêté, two pages (accents, noise, skew, JPEG artefacts).
    rng = random.Random(1)
    pdf, truths, pages = Pdf(), [], []
    for _ in range(2):
        img, t = arrete_page(rng, dpi)
        pages.append(image_page(pdf, img, q))
        truths.append(t)
    write(f"{out}/scan_arrete.pdf", pdf.build(pages), "\f".join(truths))

    # 2. Two-column page.
    rng = random.Random(2)
    h1, b1 = arrete_lines(rng, 8)
    h2, b2 = arrete_lines(rng, 8)
    img, t = render_columns([[("body", s) for s in b1], [("body", s) for s in b2]], dpi, rng,
                            font_pt=10, skew=0.2, noise=0.001, blur=0.4)
    pdf = Pdf()
    write(f"{out}/two_columns.pdf", pdf.build([image_page(pdf, img, q)]), t)

    # 3. Sideways scan (content turned 90°, no /Rotate): needs orientation detection.
    rng = random.Random(3)
    img, t = arrete_page(rng, dpi, 10)
    pdf = Pdf()
    write(f"{out}/sideways_scan.pdf", pdf.build([image_page(pdf, img.rotate(90, expand=True), q)]), t)

    # 4. Upside-down scan.
    rng = random.Random(4)
    img, t = arrete_page(rng, dpi, 10)
    pdf = Pdf()
    write(f"{out}/upside_down_scan.pdf", pdf.build([image_page(pdf, img.rotate(180), q)]), t)

    # 5. Page with /Rotate 90 whose content is drawn turned, displayed upright.
    rng = random.Random(5)
    img, t = arrete_page(rng, dpi, 10)
    pdf = Pdf()
    write(f"{out}/rotate_attr.pdf", pdf.build([image_page(pdf, img, q, rotate=90, draw_rotated=90)]), t)

    # 6. Born-digital page (real text layer, WinAnsi accents).
    rng = random.Random(6)
    head, body = arrete_lines(rng, 10)
    pdf = Pdf()
    f1 = helvetica(pdf)
    lines = head + body
    write(f"{out}/born_digital.pdf", pdf.build([text_page(pdf, lines, f1)]), "\n".join(lines))

    # 7. Mixed: born-digital page then scanned page.
    rng = random.Random(7)
    head, body = arrete_lines(rng, 6)
    img, t = arrete_page(rng, dpi, 10)
    pdf = Pdf()
    f1 = helvetica(pdf)
    write(f"{out}/mixed.pdf", pdf.build([text_page(pdf, head + body, f1), image_page(pdf, img, q)]),
          "\n".join(head + body) + "\f" + t)

    # 8. Scan with a garbage text layer (codes without Unicode meaning) over it.
    rng = random.Random(8)
    img, t = arrete_page(rng, dpi, 10)
    pdf = Pdf()
    f1 = pdf.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    garbage = bytes(rng.randrange(1, 31) for _ in range(400))
    garbage = garbage.replace(b"\\", b"").replace(b"(", b"").replace(b")", b"").replace(b"\r", b"").replace(b"\n", b"")
    extra = b"BT 3 Tr /F1 10 Tf 60 700 Td (" + garbage + b") Tj ET\n"
    write(f"{out}/garbage_layer.pdf",
          pdf.build([image_page(pdf, img, q, extra_content=extra, fonts=f"/Font << /F1 {f1} 0 R >> ")]), t)

    # 9. Text drawn as vector curves (no text objects, many paths).
    rng = random.Random(9)
    head, body = arrete_lines(rng, 3)
    small, t = render_columns([[("head", s) for s in head] + [("body", s) for s in body]], 100, rng,
                              font_pt=12, skew=0, noise=0, blur=0)
    small = small.crop((0, 0, small.width, int(small.height * 0.35)))
    scale = 72 / 100
    pdf = Pdf()
    c = pdf.stream("", vector_text_content(small, scale), compress=True)
    box = (small.width * scale, small.height * scale)
    write(f"{out}/vector_text.pdf", pdf.build([f"/MediaBox [0 0 {box[0]:.2f} {box[1]:.2f}] /Contents {c} 0 R"]), t)

    # 10. Gigantic page: 5 m × 5 m MediaBox with the scan drawn over it.
    rng = random.Random(10)
    img, t = arrete_page(rng, 100, 8, font_pt=14)
    side = 5000 / 25.4 * 72
    pdf = Pdf()
    write(f"{out}/huge_page.pdf", pdf.build([image_page(pdf, img, 60, size_pt=(side, side * 842 / 595))]), t)

    # 11. Encrypted: user password (cannot open) and owner password only (opens).
    born = open(f"{out}/born_digital.pdf", "rb").read()
    scan_src = f"{out}/rotate_attr.pdf"
    subprocess.run(["qpdf", "--encrypt", "user-pw", "owner-pw", "256", "--", f"{out}/born_digital.pdf",
                    f"{out}/encrypted_user.pdf"], check=True)
    subprocess.run(["qpdf", "--encrypt", "", "owner-pw", "256", "--print=none", "--",
                    scan_src, f"{out}/encrypted_owner.pdf"], check=True)
    with open(f"{out}/encrypted_owner.txt", "w", encoding="utf-8") as f:
        f.write(open(os.path.splitext(scan_src)[0] + ".txt", encoding="utf-8").read())

    # 12. Truncated file, not a PDF, zero pages.
    write(f"{out}/truncated.pdf", born[: len(born) // 2])
    write(f"{out}/not_a_pdf.pdf", b"<html><body>404 Not Found</body></html>\n")
    pdf = Pdf()
    write(f"{out}/zero_pages.pdf", pdf.build([]))

    blank_fixtures(out)


def blank_fixtures(out):
    """13. Pages with nothing to read: a white scan (OCRed, recognition finds no text) and a
    page with no content at all (kept: nothing to OCR)."""
    pdf = Pdf()
    white = Image.new("L", (1654, 2339), 255)
    write(f"{out}/blank_scan.pdf", pdf.build([image_page(pdf, white, 45, size_pt=A4)]))
    pdf = Pdf()
    c = pdf.stream("", b"")
    write(f"{out}/blank_page.pdf", pdf.build([f"/MediaBox [0 0 {A4[0]} {A4[1]}] /Contents {c} 0 R"]))


def bench(out, n_pages):
    os.makedirs(out, exist_ok=True)
    rng = random.Random(100)
    per_doc = 4
    doc = 0
    made = 0
    while made < n_pages:
        pdf, truths, pages = Pdf(), [], []
        for _ in range(min(per_doc, n_pages - made)):
            img, t = arrete_page(rng, 300, 16, noise=0.0008, blur=0.6)
            pages.append(image_page(pdf, img, 70, size_pt=A4))
            truths.append(t)
            made += 1
        write(f"{out}/arrete_{doc:02d}.pdf", pdf.build(pages), "\f".join(truths))
        doc += 1


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "fixtures":
        fixtures(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "bench":
        bench(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 24)
    else:
        sys.exit(__doc__)
