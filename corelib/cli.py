"""The ``corelib`` command line: every subcommand calls the library and writes one table.

Each subcommand has a small ``cmd_*`` function; tables go to standard output as CSV unless
``--format``/``--out`` say otherwise.
"""
from __future__ import annotations

import argparse
import sys

from corelib import __version__
from corelib.corpus import DEFAULT_MAX_BYTES, CorpusError
from corelib.tables import FORMATS, write_table


def add_output_options(p: argparse.ArgumentParser) -> None:
    """Add --format and --out to a subcommand."""
    p.add_argument("--format", choices=FORMATS, default="csv", help="table format (default: csv)")
    p.add_argument("--out", default=None, help="output file (default: standard output)")


def add_load_options(p: argparse.ArgumentParser) -> None:
    """Add the CORPUS argument and the loading options (--max-bytes, --text-column) to a subcommand."""
    p.add_argument("corpus", help="folder of articles (.txt/.md/.html), a single file, or a CSV/JSONL/Parquet table")
    p.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES,
                   help=f"files larger than this are rejected (default: {DEFAULT_MAX_BYTES})")
    p.add_argument("--text-column", default=None, help="text column of a CSV/JSONL/Parquet corpus (default: text/body/content)")


def add_corpus_options(p: argparse.ArgumentParser) -> None:
    """Add the CORPUS argument, the loading options and the table output options to a subcommand."""
    add_load_options(p)
    add_output_options(p)


# each subcommand group below appends a ``register(sub)`` function that adds its subcommands
_REGISTRARS: list = []


def parsed_from_args(args: argparse.Namespace):
    """Return the parsed corpus named on the command line."""
    from corelib.parse import parse_corpus

    return parse_corpus(args.corpus, max_bytes=args.max_bytes, text_column=args.text_column)


def emit(df, args: argparse.Namespace) -> int:
    """Write a table as the command line asked; return the exit code."""
    write_table(df, args.format, args.out)
    return 0


# --------------------------------------------------------------------------- foundation commands

def cmd_articles(args: argparse.Namespace) -> int:
    """One row per article (``--include-text`` adds the full text)."""
    parsed = parsed_from_args(args)
    df = parsed.articles if args.include_text else parsed.articles.drop(columns=["text"])
    if args.rejects_out:
        write_table(parsed.rejects, "csv" if args.rejects_out.endswith(".csv") else args.format, args.rejects_out)
    if len(parsed.rejects):
        print(f"corelib: {len(parsed.rejects)} input(s) rejected; see `corelib rejects {args.corpus}`",
              file=sys.stderr)
    return emit(df, args)


def cmd_rejects(args: argparse.Namespace) -> int:
    """The inputs that could not be read or parsed, with the reason."""
    return emit(parsed_from_args(args).rejects, args)


def cmd_paragraphs(args: argparse.Namespace) -> int:
    """One row per paragraph with its role and offsets."""
    return emit(parsed_from_args(args).paragraphs, args)


def cmd_sentences(args: argparse.Namespace) -> int:
    """One row per sentence with offsets."""
    return emit(parsed_from_args(args).sentences, args)


def cmd_dates(args: argparse.Namespace) -> int:
    """One row per date mention with its normalised value."""
    return emit(parsed_from_args(args).dates, args)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="corelib", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"corelib {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("articles", help="parsed articles: title, dateline, outlet, dates, body")
    add_corpus_options(p)
    p.add_argument("--include-text", action="store_true", help="add the full article text column")
    p.add_argument("--rejects-out", default=None, help="also write the rejects table to this file")
    p.set_defaults(func=cmd_articles)

    for name, func, help_ in [("rejects", cmd_rejects, "inputs that could not be read, with the reason"),
                              ("paragraphs", cmd_paragraphs, "paragraphs with role and offsets"),
                              ("sentences", cmd_sentences, "sentences with offsets"),
                              ("dates", cmd_dates, "date mentions with normalised values")]:
        p = sub.add_parser(name, help=help_)
        add_corpus_options(p)
        p.set_defaults(func=func)

    for register in _REGISTRARS:
        register(sub)
    return parser


# --------------------------------------------------------------------------- stance (corelib.stance)

def cmd_stance(args: argparse.Namespace) -> int:
    """Stance toward a codebook's target at sentence, quote, speaker or article level."""
    from corelib import stance

    return emit(stance.tag(parsed_from_args(args), level=args.level, target=args.target, method=args.method), args)


def _read_any_table(path: str):
    import pandas as pd

    suffix = path.lower().rsplit(".", 1)[-1]
    if suffix == "parquet":
        return pd.read_parquet(path)
    if suffix in ("jsonl", "json"):
        return pd.read_json(path, lines=True, dtype=False)
    return pd.read_csv(path, dtype={"doc_id": str, "stance": str}, keep_default_na=False)


def cmd_stance_eval(args: argparse.Namespace) -> int:
    """Per-class F1, macro-F1, confusion matrix and Cohen's kappa of predictions against a gold table."""
    from corelib import stance

    gold = _read_any_table(args.gold)
    if args.pred:
        pred = _read_any_table(args.pred)
    elif args.corpus:
        pred = stance.tag(parsed_from_args(args), level=args.level, target=args.target, method=args.method)
        if "quote" in gold.columns and "start" not in gold.columns:
            gold = stance.locate_gold_quotes(parsed_from_args(args), gold)
    else:
        raise ValueError("give --pred PRED.csv, or a CORPUS to tag")
    result = stance.evaluate(gold, pred)
    if args.out:
        write_table(result.to_frame(), args.format, args.out)
    else:
        print(result.summary())
    return 0


def register_stance(sub) -> None:
    """Add the ``stance`` and ``stance-eval`` subcommands."""
    from corelib.stance import DEFAULT_TARGET, LEVELS, METHODS

    p = sub.add_parser("stance", help="stance toward a target (codebook) with evidence, per sentence/quote/speaker/article")
    add_corpus_options(p)
    p.add_argument("--target", default=DEFAULT_TARGET, help=f"codebook name or YAML path (default: {DEFAULT_TARGET})")
    p.add_argument("--level", choices=LEVELS, default="article", help="unit to tag (default: article)")
    p.add_argument("--method", choices=METHODS, default="combined", help="rules, learned model, or both (default)")
    p.set_defaults(func=cmd_stance)

    p = sub.add_parser("stance-eval", help="compare stance predictions with a hand-coded gold table")
    p.add_argument("corpus", nargs="?", default=None, help="corpus to tag (instead of --pred)")
    p.add_argument("--gold", required=True, help="gold table (CSV/JSONL/Parquet) with doc_id[, start, end], stance")
    p.add_argument("--pred", default=None, help="predicted table with the same keys and stance")
    p.add_argument("--target", default=DEFAULT_TARGET, help="codebook name or YAML path (with CORPUS)")
    p.add_argument("--level", choices=LEVELS, default="article", help="level to tag (with CORPUS)")
    p.add_argument("--method", choices=METHODS, default="combined", help="tagging method (with CORPUS)")
    p.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="see `corelib articles`")
    p.add_argument("--text-column", default=None, help="see `corelib articles`")
    add_output_options(p)
    p.set_defaults(func=cmd_stance_eval)


_REGISTRARS.append(register_stance)


# --------------------------------------------------------------------------- quotes (corelib.quotes)

def cmd_quotes(args: argparse.Namespace) -> int:
    """One row per quotation (direct, partial, indirect) with its speaker and offsets."""
    from corelib import quotes

    return emit(quotes.extract(parsed_from_args(args)), args)


def register_quotes(sub) -> None:
    """Add the ``quotes`` subcommand."""
    p = sub.add_parser("quotes", help="quotations and their speakers, with offsets into the article text")
    add_corpus_options(p)
    p.set_defaults(func=cmd_quotes)


_REGISTRARS.append(register_quotes)


# --------------------------------------------------------------------------- keywords, keyness, kwic, topics
# (corelib.keywords, corelib.topics)

def cmd_keywords(args: argparse.Namespace) -> int:
    """Top TF-IDF terms, RAKE keyphrases or collocations, per article or per group."""
    from corelib import keywords

    parsed = parsed_from_args(args)
    if args.kind == "terms":
        df = keywords.top_terms(parsed, by=args.by, top=args.top, fold_aliases=args.fold_aliases)
    elif args.kind == "phrases":
        df = keywords.keyphrases(parsed, by=args.by, top=args.top, fold_aliases=args.fold_aliases)
    else:
        df = keywords.collocations(parsed, n=args.n, top=args.top, min_freq=args.min_freq, by=args.by,
                                   fold_aliases=args.fold_aliases)
    return emit(df, args)


def cmd_keyness(args: argparse.Namespace) -> int:
    """Keyness (log-likelihood, chi-squared, log ratio) of a target group, or of every group, against the rest."""
    from corelib import keywords

    parsed = parsed_from_args(args)
    if args.target is None:
        df = keywords.keyness_by_group(parsed, args.by, top=args.top, fold_aliases=args.fold_aliases)
    else:
        df = keywords.keyness(parsed, args.by, args.target, reference=args.reference, top=args.top,
                              fold_aliases=args.fold_aliases)
    return emit(df, args)


def cmd_kwic(args: argparse.Namespace) -> int:
    """Every hit of a word, phrase or regular expression with its context, offsets and article metadata."""
    from corelib import keywords

    return emit(keywords.kwic(parsed_from_args(args), args.pattern, window=args.window, unit=args.unit,
                              regex=args.regex, aliases=args.aliases, case_sensitive=args.case_sensitive), args)


def cmd_topics(args: argparse.Namespace) -> int:
    """NMF or LDA topics over paragraphs: top terms, document/paragraph tables, quality, by group, over time."""
    from corelib import topics

    if args.table == "by-group" and not args.by:
        raise ValueError("--table by-group needs --by COLUMN (e.g. outlet, dateline_place, year)")
    parsed = parsed_from_args(args)
    params = {"random_state": args.seed, "n_top": args.top, "fold_aliases": args.fold_aliases}
    ks = range(args.min_k, args.max_k + 1)
    if args.table == "selection":
        return emit(topics.select_k(parsed, ks, args.method, **params), args)
    model = topics.fit_topics(parsed, k=args.k, method=args.method, ks=ks, **params)
    tables = {
        "terms": lambda: topics.top_terms_table(model),
        "documents": lambda: topics.document_topics(model, parsed=parsed),
        "paragraphs": lambda: model.paragraphs_,
        "quality": lambda: topics.quality(model),
        "by-group": lambda: topics.topics_by_group(model, parsed, args.by),
        "over-time": lambda: topics.topics_over_time(model, parsed, args.period),
    }
    return emit(tables[args.table](), args)


def register_keywords_topics(sub) -> None:
    """Add the ``keywords``, ``keyness``, ``kwic`` and ``topics`` subcommands."""
    p = sub.add_parser("keywords", help="top TF-IDF terms, keyphrases or collocations, per article or per group")
    add_corpus_options(p)
    p.add_argument("--by", default=None, help="group by this article column or published period (year, month)")
    p.add_argument("--top", type=int, default=10, help="terms per article or group (default: 10)")
    p.add_argument("--kind", choices=("terms", "phrases", "collocations"), default="terms",
                   help="TF-IDF terms (default), RAKE keyphrases, or NLTK collocations")
    p.add_argument("--n", type=int, choices=(2, 3), default=2, help="collocation length (default: 2)")
    p.add_argument("--min-freq", type=int, default=3, help="collocations seen fewer times are left out (default: 3)")
    p.add_argument("--fold-aliases", action="store_true", help="count every alias as its canonical name")
    p.set_defaults(func=cmd_keywords)

    p = sub.add_parser("keyness", help="key terms of a group against the rest (G2, chi2, log ratio)")
    add_corpus_options(p)
    p.add_argument("--by", required=True, help="article column or published period (year, month) that defines groups")
    p.add_argument("--target", default=None, help="the target group's value (default: every group against the rest)")
    p.add_argument("--reference", default=None, help="compare with this group only (default: all other articles)")
    p.add_argument("--top", type=int, default=20, help="key terms per side or per group (default: 20)")
    p.add_argument("--fold-aliases", action="store_true", help="count every alias as its canonical name")
    p.set_defaults(func=cmd_keyness)

    p = sub.add_parser("kwic", help="concordance: every hit of a word, phrase or pattern in context")
    add_corpus_options(p)
    p.add_argument("pattern", help="word or phrase (or a regular expression with --regex)")
    p.add_argument("--window", type=int, default=5, help="context size on each side (default: 5)")
    p.add_argument("--unit", choices=("words", "chars"), default="words", help="unit of --window (default: words)")
    p.add_argument("--regex", action="store_true", help="PATTERN is a Python regular expression")
    p.add_argument("--aliases", action="store_true", help="match every spelling of a known name (ISIS: ISIL, IS, Daesh)")
    p.add_argument("--case-sensitive", action="store_true", help="match case exactly")
    p.set_defaults(func=cmd_kwic)

    p = sub.add_parser("topics", help="NMF/LDA topics over paragraphs, with coherence, diversity and stability")
    add_corpus_options(p)
    p.add_argument("--k", default="auto", help="number of topics, or 'auto' to choose it (default: auto)")
    p.add_argument("--method", choices=("nmf", "lda"), default="nmf", help="topic model (default: nmf)")
    p.add_argument("--table", default="terms",
                   choices=("terms", "documents", "paragraphs", "quality", "by-group", "over-time", "selection"),
                   help="table to write (default: terms)")
    p.add_argument("--by", default=None, help="article column for --table by-group")
    p.add_argument("--period", choices=("year", "month", "day"), default="month",
                   help="period of published for --table over-time (default: month)")
    p.add_argument("--top", type=int, default=10, help="top terms per topic (default: 10)")
    p.add_argument("--min-k", type=int, default=2, help="smallest k tried by --k auto (default: 2)")
    p.add_argument("--max-k", type=int, default=10, help="largest k tried by --k auto (default: 10)")
    p.add_argument("--seed", type=int, default=0, help="random state of the model (default: 0)")
    p.add_argument("--fold-aliases", action="store_true", help="count every alias as its canonical name")
    p.set_defaults(func=cmd_topics)


_REGISTRARS.append(register_keywords_topics)

# --------------------------------------------------------------------------- report (corelib.report)

def cmd_report(args: argparse.Namespace) -> int:
    """Run every notebook on the corpus; write executed notebooks, HTML pages, index.html and manifest.json."""
    from corelib.report import run_report

    manifest = run_report(args.corpus, args.out, target=args.target, group_by=args.by, n_topics=args.k,
                          start=args.start, end=args.end, progress=not args.quiet)
    failed = [r for r in manifest["notebooks"] if r["status"] != "ok"]
    for r in failed:
        print(f"corelib report: {r['notebook']} failed: {r['error']}", file=sys.stderr)
    print(f"corelib report: {len(manifest['notebooks']) - len(failed)} of {len(manifest['notebooks'])} notebooks "
          f"ran in {manifest['seconds']:.1f} s; open {args.out}/index.html")
    return 1 if failed else 0


def register_report(sub) -> None:
    """Add the ``report`` subcommand."""
    p = sub.add_parser("report", help="run every notebook on a corpus into an offline HTML report")
    p.add_argument("corpus", help="folder of articles (.txt/.md/.html), a single file, or a CSV/JSONL/Parquet table")
    p.add_argument("--out", required=True, help="output folder (created; files in it are overwritten)")
    p.add_argument("--target", default="isis_resurgence",
                   help="stance codebook: shipped name or path of a YAML codebook (default: isis_resurgence)")
    p.add_argument("--by", default="outlet", help="article column to compare groups by (default: outlet)")
    p.add_argument("--k", default="auto", help="number of topics, or 'auto' (default: auto)")
    p.add_argument("--start", default="", help="first publication date, ISO (default: no bound)")
    p.add_argument("--end", default="", help="last publication date, ISO (default: no bound)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_report)


_REGISTRARS.append(register_report)


# --------------------------------------------------------------------------- run (corelib.pipeline)

def cmd_run(args: argparse.Namespace) -> int:
    """Run every stage over a corpus in chunks, in parallel or on Dask, into partitioned Parquet tables."""
    from corelib import pipeline

    stages = [s for item in args.stages for s in item.split(",") if s] if args.stages else None
    options = {"seed": args.seed}
    if args.target:
        options["target"] = args.target
    for name in ("sample", "topics_k", "by"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    summary = pipeline.run(args.corpus, args.out, stages=stages, jobs=args.jobs, chunk_size=args.chunk_size,
                           engine=args.engine, scheduler=args.scheduler, options=options,
                           progress=not args.quiet, overwrite=args.overwrite, max_bytes=args.max_bytes,
                           text_column=args.text_column)
    print(f"corelib run: {summary.documents} documents, {summary.articles} articles, "
          f"{summary.tables.get('rejects', 0)} rejected, in {summary.seconds['total']:.1f} s; "
          f"tables: {', '.join(sorted(summary.tables))} in {args.out} (see manifest.json)", file=sys.stderr)
    return 0


def register_run(sub) -> None:
    """Add the ``run`` subcommand."""
    from corelib.pipeline import DEFAULT_CHUNK_SIZE, DEFAULT_SAMPLE, ENGINES

    p = sub.add_parser("run", help="every stage over a big corpus: chunked, parallel or on Dask, to Parquet",
                       description="Run the stages over a corpus in chunks with bounded memory and write each "
                                   "table as a partitioned Parquet dataset OUT/<table>/part-*.parquet plus "
                                   "OUT/manifest.json. Results do not depend on --jobs, --chunk-size or --engine.")
    add_load_options(p)
    p.add_argument("--out", required=True, help="output folder for the Parquet tables and manifest.json")
    p.add_argument("--stages", nargs="+", default=None, metavar="STAGE",
                   help="stages to run, space or comma separated (default: every available stage; "
                        "the stages they need are added)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (0: all cores; default 1)")
    p.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE,
                   help=f"documents per chunk and per output partition (default {DEFAULT_CHUNK_SIZE})")
    p.add_argument("--engine", choices=ENGINES, default="local",
                   help="local: this machine's processes; dask: a Dask cluster (default local)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler address such as tcp://10.0.0.5:8786 (default: a local cluster of --jobs workers)")
    p.add_argument("--target", default=None, help="stance codebook name or path (default: the stance default)")
    p.add_argument("--seed", type=int, default=0, help="seed for samples and models (default 0)")
    p.add_argument("--sample", type=int, default=None,
                   help=f"articles in the seeded sample keywords and the topic model use (default {DEFAULT_SAMPLE})")
    p.add_argument("--topics-k", type=int, default=None, help="number of topics (default 10)")
    p.add_argument("--by", default=None, help="article column keywords compare groups by (default outlet)")
    p.add_argument("--overwrite", action="store_true", help="replace the tables of an earlier run in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)


_REGISTRARS.append(register_run)


# --------------------------------------------------------------------------- entities, events (corelib.actors, corelib.events)

def cmd_entities(args: argparse.Namespace) -> int:
    """One row per mention of an actor, a place or an unknown capitalised name, with offsets."""
    from corelib import actors

    return emit(actors.extract(parsed_from_args(args), unknown=not args.known_only), args)


def cmd_events(args: argparse.Namespace) -> int:
    """One row per attack/casualty event with type, killed, wounded, place, actors and date."""
    from corelib import events

    return emit(events.extract(parsed_from_args(args), include_generic=args.include_generic), args)


def register_entities_events(sub) -> None:
    """Add the ``entities`` and ``events`` subcommands."""
    p = sub.add_parser("entities", help="actor, place and unknown-name mentions with offsets and coordinates")
    add_corpus_options(p)
    p.add_argument("--known-only", action="store_true", help="leave out unknown capitalised names")
    p.set_defaults(func=cmd_entities)
    p = sub.add_parser("events", help="attacks, bombings, airstrikes, arrests, handovers with casualties, place, date")
    add_corpus_options(p)
    p.add_argument("--include-generic", action="store_true",
                   help="also list generic mentions (\"bombings, ambushes and kidnappings\") with no detail")
    p.set_defaults(func=cmd_events)


_REGISTRARS.append(register_entities_events)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (CorpusError, ValueError, FileNotFoundError) as exc:
        print(f"corelib {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
