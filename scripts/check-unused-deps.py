#!/usr/bin/env python3
"""Fails when a crate of the workspace declares a dependency its code never names.

For each member of the workspace (the `members` of the root `Cargo.toml`), every dependency of
`[dependencies]`, `[dev-dependencies]` and `[build-dependencies]` (target-specific tables too)
must be named in that crate's own sources — `src/`, `tests/`, `examples/`, `benches/` and
`build.rs` (for the root package, not the other members' folders) — as a path (`name::…`), a
`use name`/`extern crate name`, with `-` read as `_`. A dependency used only for what it
switches on elsewhere (a feature, a linked library) goes in ALLOWED below, with the reason.

Python 3.11+ standard library only. Run from anywhere: `python3 scripts/check-unused-deps.py`.
Exit 0 when every dependency is used, 1 naming the unused ones.
"""

import pathlib
import re
import sys

try:
    import tomllib
except ImportError:  # Python < 3.11
    sys.exit("check-unused-deps.py needs Python 3.11 or later (tomllib)")

ROOT = pathlib.Path(__file__).resolve().parent.parent

# (crate, dependency) → why it is declared although no source names it, e.g.
#   ("data-tasks", "some-sys"): "links the system library that `some` binds",
# Empty today: every dependency of the workspace is named in its crate's code.
ALLOWED = {}

SOURCE_DIRS = ("src", "tests", "examples", "benches")
DEP_TABLES = ("dependencies", "dev-dependencies", "build-dependencies")


def dependencies(manifest):
    """`(table, name)` of every dependency a manifest declares, target-specific ones included."""
    tables = [manifest] + list(manifest.get("target", {}).values())
    for table in tables:
        for kind in DEP_TABLES:
            for name, spec in table.get(kind, {}).items():
                yield kind, name, spec


def sources(crate_dir, members):
    """The Rust files of a crate, skipping the members nested in it (`crates/*` under the root)."""
    others = {m for m in members if crate_dir in m.parents}
    files = []
    for sub in SOURCE_DIRS:
        base = crate_dir / sub
        if base.is_dir():
            files.extend(p for p in base.rglob("*.rs")
                         if not any(o in p.parents for o in others))
    if (crate_dir / "build.rs").is_file():
        files.append(crate_dir / "build.rs")
    return files


def used(name, text):
    ident = re.escape(name.replace("-", "_"))
    pattern = rf"(?<![\w:]){ident}::|\buse\s+{ident}\b|\bextern\s+crate\s+{ident}\b"
    return re.search(pattern, text) is not None


def main():
    root_manifest = tomllib.loads((ROOT / "Cargo.toml").read_text())
    members = [(ROOT / m).resolve() for m in root_manifest.get("workspace", {}).get("members", ["."])]
    unused = []
    checked = 0
    for crate_dir in members:
        manifest = tomllib.loads((crate_dir / "Cargo.toml").read_text())
        crate = manifest.get("package", {}).get("name", crate_dir.name)
        text = "\n".join(p.read_text(errors="replace") for p in sources(crate_dir, members))
        for kind, name, _spec in dependencies(manifest):
            checked += 1
            if (crate, name) in ALLOWED or used(name, text):
                continue
            unused.append(f"{crate}: [{kind}] {name} is never named in its sources")
    for (crate, name), why in ALLOWED.items():
        print(f"allowed: {crate}: {name} ({why})")
    if unused:
        print("unused dependencies (remove them, or add them to ALLOWED in "
              "scripts/check-unused-deps.py with the reason):", file=sys.stderr)
        for line in unused:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(f"every dependency is used ({checked} checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
