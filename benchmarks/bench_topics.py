"""Benchmark keywords, keyness, concordance and topics on a generated corpus, and topic quality on the seeds.

Part 1 times each task on ``--n`` generated articles (``benchmarks/generate.py``, seed ``--seed``) as a
ratio to scikit-learn's ``TfidfVectorizer().fit_transform`` on the same article texts in the same run
(best of ``--repeat`` runs each; parsing is done once beforehand and not counted).
Part 2 compares NMF and LDA on the paragraphs of the five seed articles: coherence (NPMI), diversity
and stability, at a fixed k and at the k that ``select_k`` chooses.

    python benchmarks/bench_topics.py                    # 10,000 articles
    python benchmarks/bench_topics.py --n 2000 --repeat 1 --json out/bench_topics.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import generate_corpus  # noqa: E402  (benchmarks/generate.py)
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402

from corelib import keywords, topics  # noqa: E402
from corelib.parse import parse_corpus, parse_documents  # noqa: E402


def best_time(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Return the shortest wall time of ``repeat`` runs of ``fn`` and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def speed(n: int, seed: int, repeat: int, k: int) -> dict:
    """Time every task on ``n`` generated articles; return seconds and ratios to TfidfVectorizer."""
    t = time.perf_counter()
    docs = generate_corpus(n, seed)
    generated = time.perf_counter() - t
    t = time.perf_counter()
    parsed = parse_documents(docs)
    parsing = time.perf_counter() - t
    texts = parsed.articles["text"].tolist()
    keywords.Tokenizer().terms("warm-up: ISIS in Tuz Khurmatu")  # build the name index once, as any run does

    baseline, _ = best_time(lambda: TfidfVectorizer().fit_transform(texts), repeat)
    tasks = {
        "keywords: top TF-IDF terms per article (with offsets)": lambda: keywords.top_terms(parsed, top=10),
        "keywords: top terms per outlet": lambda: keywords.top_terms(parsed, by="outlet", top=10),
        "keyness: every outlet against the rest": lambda: keywords.keyness_by_group(parsed, "outlet", top=20),
        "keyphrases (RAKE) per article": lambda: keywords.keyphrases(parsed, top=10),
        "collocations (bigrams, NLTK)": lambda: keywords.collocations(parsed, top=20),
        "kwic: ISIS with all its aliases": lambda: keywords.kwic(parsed, "ISIS", aliases=True),
        f"topics: NMF k={k} over paragraphs": lambda: topics.TopicModel(k=k, method="nmf").fit(parsed),
    }
    rows = []
    for name, fn in tasks.items():
        seconds, out = best_time(fn, repeat)
        size = len(out.paragraphs_) if isinstance(out, topics.TopicModel) else len(out)
        rows.append({"task": name, "seconds": round(seconds, 2), "ratio": round(seconds / baseline, 1), "rows": size})
    return {"articles": len(parsed.articles), "paragraphs": int(len(parsed.paragraphs)),
            "generate_seconds": round(generated, 2), "parse_seconds": round(parsing, 2),
            "tfidf_seconds": round(baseline, 2), "tasks": rows}


def quality(seeds: Path, k: int, ks: range) -> list[dict]:
    """NMF against LDA on the seed paragraphs: at ``k``, and at the k chosen by ``select_k`` over ``ks``."""
    parsed = parse_corpus(seeds)
    rows = []
    for method in ("nmf", "lda"):
        selection = topics.select_k(parsed, ks, method)
        fixed = selection[selection["k"] == k].iloc[0]
        chosen = selection[selection["chosen"]].iloc[0]
        for label, r in (("fixed", fixed), ("chosen", chosen)):
            rows.append({"method": method, "k": int(r["k"]), "k_from": label, "coherence": float(r["coherence"]),
                         "diversity": float(r["diversity"]), "stability": float(r["stability"]),
                         "score": float(r["score"])})
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run both parts and print Markdown tables (and JSON with ``--json``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="generated articles (default: 10000)")
    ap.add_argument("--seed", type=int, default=0, help="generator seed (default: 0)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per task, the best counts (default: 3)")
    ap.add_argument("--k", type=int, default=10, help="topics for the NMF timing (default: 10)")
    ap.add_argument("--seeds", default=str(ROOT / "seeds"), help="seed articles for the quality part")
    ap.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = ap.parse_args(argv)

    sp = speed(args.n, args.seed, args.repeat, args.k)
    print(f"## Speed on {sp['articles']:,} generated articles ({sp['paragraphs']:,} paragraphs)\n")
    print(f"Generated in {sp['generate_seconds']} s, parsed in {sp['parse_seconds']} s (not counted). "
          f"TfidfVectorizer().fit_transform on the article texts: {sp['tfidf_seconds']} s = 1.0.\n")
    print("| task | seconds | x TfidfVectorizer | rows |\n|---|---:|---:|---:|")
    for r in sp["tasks"]:
        print(f"| {r['task']} | {r['seconds']} | {r['ratio']} | {r['rows']:,} |")

    q = quality(Path(args.seeds), k=5, ks=range(2, 11))
    print("\n## Topic quality on the seed paragraphs (NMF against LDA)\n")
    print("| method | k | k from | coherence (NPMI) | diversity | stability | score |\n|---|---:|---|---:|---:|---:|---:|")
    for r in q:
        print(f"| {r['method']} | {r['k']} | {r['k_from']} | {r['coherence']} | {r['diversity']} | "
              f"{r['stability']} | {r['score']} |")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"speed": sp, "quality": q}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
