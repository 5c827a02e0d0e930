"""Build corelib/data/region.geojson: country outlines of Iraq and Syria and their neighbours.

Source: Natural Earth 1:110m Admin 0 countries (public domain), as TopoJSON in the npm
package ``vega-datasets`` (``data/world-110m.json``, from the TopoJSON World Atlas, ISC
licence). Iraq and Syria are kept whole; neighbours are clipped to the region's box so the
file stays small (about 10 KB). Run once at build time; the library only reads the output.

Usage::

    python scripts/build_region.py                       # fetches vega-datasets with `npm pack`
    python scripts/build_region.py --topojson path/to/world-110m.json

The output is deterministic (fixed order, coordinates rounded to 3 decimals).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VEGA_DATASETS = "vega-datasets@3.2.1"
WORLD_SHA1 = "a1ce852de6f2713c94c0c284039506ca2d4f3dee"  # git blob hash listed in datapackage.json
OUT = Path(__file__).resolve().parents[1] / "corelib" / "data" / "region.geojson"

# ISO 3166-1 numeric id (as used in world-110m.json) -> (ISO alpha-3, English name, role)
COUNTRIES = {
    368: ("IRQ", "Iraq", "focus"),
    760: ("SYR", "Syria", "focus"),
    792: ("TUR", "Turkey", "neighbour"),
    364: ("IRN", "Iran", "neighbour"),
    400: ("JOR", "Jordan", "neighbour"),
    682: ("SAU", "Saudi Arabia", "neighbour"),
    414: ("KWT", "Kuwait", "neighbour"),
    422: ("LBN", "Lebanon", "neighbour"),
    376: ("ISR", "Israel", "neighbour"),
    275: ("PSE", "Palestine", "neighbour"),
    196: ("CYP", "Cyprus", "neighbour"),
}
# lon_min, lat_min, lon_max, lat_max: neighbours are clipped to this box
BOX = (34.0, 28.0, 50.0, 38.5)
DIGITS = 3


def fetch_world_110m(workdir: Path) -> Path:
    """Download vega-datasets with `npm pack` into workdir and return the path of world-110m.json."""
    subprocess.run(["npm", "pack", VEGA_DATASETS, "--silent"], cwd=workdir, check=True,
                   stdout=subprocess.DEVNULL)
    tgz = next(workdir.glob("vega-datasets-*.tgz"))
    with tarfile.open(tgz) as tar:
        member = tar.getmember("package/data/world-110m.json")
        tar.extractall(workdir, members=[member], filter="data") if sys.version_info >= (3, 12) \
            else tar.extractall(workdir, members=[member])
    return workdir / "package" / "data" / "world-110m.json"


def decode_arcs(topo: dict) -> list[list[tuple[float, float]]]:
    """Return the topology's arcs as absolute lon/lat coordinates (undoing quantisation)."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring_coords(ring: list[int], arcs: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """Stitch a ring given as arc indices (negative = reversed, ~i) into one list of points."""
    points: list[tuple[float, float]] = []
    for index in ring:
        arc = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        points.extend(arc if not points else arc[1:])
    return points


def clip_ring(points: list[tuple[float, float]], box: tuple[float, float, float, float]
              ) -> list[tuple[float, float]]:
    """Clip a closed ring to an axis-aligned box (Sutherland-Hodgman)."""
    xmin, ymin, xmax, ymax = box
    edges = [
        (lambda p: p[0] >= xmin, lambda a, b: _cross_x(a, b, xmin)),
        (lambda p: p[0] <= xmax, lambda a, b: _cross_x(a, b, xmax)),
        (lambda p: p[1] >= ymin, lambda a, b: _cross_y(a, b, ymin)),
        (lambda p: p[1] <= ymax, lambda a, b: _cross_y(a, b, ymax)),
    ]
    out = points[:-1] if points and points[0] == points[-1] else list(points)
    for inside, cross in edges:
        if not out:
            break
        src, out = out, []
        prev = src[-1]
        for cur in src:
            if inside(cur):
                if not inside(prev):
                    out.append(cross(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cross(prev, cur))
            prev = cur
    return out + out[:1] if len(out) >= 3 else []


def _cross_x(a, b, x):
    t = (x - a[0]) / (b[0] - a[0])
    return (x, a[1] + t * (b[1] - a[1]))


def _cross_y(a, b, y):
    t = (y - a[1]) / (b[1] - a[1])
    return (a[0] + t * (b[0] - a[0]), y)


def _round_ring(points):
    ring = []
    for x, y in points:
        p = [round(x, DIGITS), round(y, DIGITS)]
        if not ring or ring[-1] != p:
            ring.append(p)
    return ring


def build(topo: dict) -> dict:
    """Return the GeoJSON FeatureCollection for the region from a world-110m topology."""
    arcs = decode_arcs(topo)
    features = []
    geometries = {g.get("id"): g for g in topo["objects"]["countries"]["geometries"]}
    for numeric, (iso3, name, role) in COUNTRIES.items():
        geom = geometries.get(numeric)
        if geom is None:
            raise SystemExit(f"country id {numeric} ({name}) not found in world-110m.json")
        polygons = geom["arcs"] if geom["type"] == "MultiPolygon" else [geom["arcs"]]
        out_polys = []
        for polygon in polygons:
            rings = [ring_coords(r, arcs) for r in polygon]
            if role != "focus":
                rings = [clip_ring(r, BOX) for r in rings]
            rings = [_round_ring(r) for r in rings if r]
            rings = [r for r in rings if len(r) >= 4]
            if rings:
                out_polys.append(rings)
        if not out_polys:
            continue
        features.append({
            "type": "Feature",
            "properties": {"iso_a3": iso3, "name": name, "role": role},
            "geometry": {"type": "MultiPolygon", "coordinates": out_polys},
        })
    return {
        "type": "FeatureCollection",
        "source": "Natural Earth 1:110m Admin 0 countries (public domain) via vega-datasets "
                  "3.2.1 data/world-110m.json (TopoJSON World Atlas); built by scripts/build_region.py",
        "bbox": list(BOX),
        "features": features,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--topojson", type=Path, help="local world-110m.json (default: fetch with npm pack)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.topojson or fetch_world_110m(Path(tmp))
        raw = path.read_bytes()
        digest = hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()
        if digest != WORLD_SHA1:
            print(f"warning: world-110m.json sha1 {digest} differs from {WORLD_SHA1}", file=sys.stderr)
        collection = build(json.loads(raw))
    text = json.dumps(collection, separators=(",", ":"), ensure_ascii=False)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(text)} bytes, {len(collection['features'])} countries)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
