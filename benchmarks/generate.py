"""Generate realistic news corpora of any size, with a fixed seed, for benchmarks and scale tests.

Every article is put together from the bundled seed articles (``seeds/*.txt``: their paragraphs,
sentences, quotations and titles) and small vocabularies of our own defined below (places,
speakers with titles and roles, outlets with the dateline forms real wires use, attacks and
casualty figures, dates), so that quotes, datelines and events look like those of real wire copy.

Article ``i`` depends only on ``(seed, i)``: the first 1,000 articles of a 100,000-article corpus
are the first 1,000-article corpus. About 2% of articles are syndicated near copies of an earlier
one, as in real feeds.

    python benchmarks/generate.py 10000 /tmp/corpus10k              # a folder of .txt + metadata.csv
    python benchmarks/generate.py 10000 /tmp/c10k.jsonl --format jsonl
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Iterator

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
FORMATS = ("txt", "jsonl", "parquet")
FILES_PER_FOLDER = 1000

# --------------------------------------------------------------------------- our own vocabularies

# (place as written in the dateline, country/region written after it, name in running text)
PLACES = [
    ("ERBIL", "Kurdistan Region", "Erbil"), ("SULAIMANI", "Kurdistan Region", "Sulaimani"),
    ("DUHOK", "Kurdistan Region", "Duhok"), ("KIRKUK", "Iraq", "Kirkuk"), ("MOSUL", "Iraq", "Mosul"),
    ("BAGHDAD", "Iraq", "Baghdad"), ("BAQUBA", "Iraq", "Baquba"), ("TIKRIT", "Iraq", "Tikrit"),
    ("RAMADI", "Iraq", "Ramadi"), ("FALLUJAH", "Iraq", "Fallujah"), ("QAIM", "Iraq", "Qaim"),
    ("SAMARRA", "Iraq", "Samarra"), ("BASRA", "Iraq", "Basra"), ("RAQQA", "Syria", "Raqqa"),
    ("DEIR EZ-ZOR", "Syria", "Deir ez-Zor"), ("HASAKAH", "Syria", "Hasakah"),
    ("QAMISHLI", "Syria", "Qamishli"), ("KOBANI", "Syria", "Kobani"), ("DAMASCUS", "Syria", "Damascus"),
]
# places where attacks and operations happen (villages, districts, areas), with their governorate
AREAS = [
    ("Hawija", "Kirkuk"), ("Tuz Khurmatu", "Salahaddin"), ("Makhmour", "Erbil"), ("Sinjar", "Nineveh"),
    ("Tal Afar", "Nineveh"), ("Khanaqin", "Diyala"), ("Jalawla", "Diyala"), ("Miqdadiyah", "Diyala"),
    ("the Hamrin mountains", "Diyala"), ("Wadi Ashai", "Kirkuk"), ("Rutba", "Anbar"), ("Haditha", "Anbar"),
    ("al-Baghdadi", "Anbar"), ("Tarmiyah", "Baghdad"), ("Daquq", "Kirkuk"), ("Qaraqosh", "Nineveh"),
    ("Baiji", "Salahaddin"), ("Shirqat", "Salahaddin"), ("al-Hol camp", "Hasakah"), ("Hajin", "Deir ez-Zor"),
    ("Baghouz", "Deir ez-Zor"), ("Shaddadi", "Hasakah"), ("Tabqa", "Raqqa"), ("Manbij", "Aleppo"),
]
FIRST_NAMES = ["Ahmed", "Karim", "Saad", "Hussein", "Ali", "Omar", "Sherko", "Dilshad", "Hemin", "Farhad",
               "Layla", "Nadia", "Yahya", "Jabbar", "Raed", "Hawkar", "Ziyad", "Mahmoud", "Ibrahim",
               "Kamal", "John", "Michael", "Sarah", "David", "Thomas", "Rachel", "Mark", "Anne"]
LAST_NAMES = ["al-Jubouri", "al-Obeidi", "Rasool", "Hassan", "Abdullah", "al-Dulaimi", "Aziz", "Hamid",
              "al-Karawi", "Mustafa", "Qadir", "Salih", "Othman", "al-Saadi", "Tahir", "Jaff", "Nuri",
              "Miller", "Walker", "Carter", "Bennett", "Harris", "Foster"]
# (title before the name, role after the name)
SPEAKER_ROLES = [
    ("Brig. Gen.", "spokesperson for the Iraqi Joint Operations Command"),
    ("Maj. Gen.", "commander of the army's 5th Division"),
    ("Lt. Col.", "a spokesman for the Peshmerga ministry"),
    ("Col.", "the coalition spokesman"),
    ("Gen.", "commander of the US-led coalition against ISIS"),
    ("Sheikh", "a tribal leader in the area"),
    ("Dr.", "a security analyst at a Baghdad research centre"),
    ("Governor", "the head of the provincial council"),
    ("Mayor", "the mayor of the district"),
    ("", "a member of the Iraqi parliament's security and defence committee"),
    ("", "a commander of the Popular Mobilization Forces (PMF)"),
    ("", "a spokesperson for the Syrian Democratic Forces (SDF)"),
    ("Major", "an officer in the Federal Police"),
    ("Captain", "an intelligence officer in the province"),
]
FORCES = ["Iraqi security forces", "the Peshmerga", "the Iraqi army", "the Counter-Terrorism Service",
          "the Federal Police", "the Popular Mobilization Forces", "the Syrian Democratic Forces",
          "coalition aircraft", "Iraqi Kurdish forces"]
VICTIMS = ["soldiers", "civilians", "policemen", "Peshmerga fighters", "PMF members", "shepherds",
           "members of the security forces", "SDF fighters", "farmers"]
REPORTING = ["said", "told reporters", "said in a statement", "stated", "added", "warned", "noted"]
GROUP_NAMES = ["ISIS", "the Islamic State", "IS", "Daesh", "the Islamic State group (ISIS)"]
GROUP_ADJECTIVES = ["ISIS", "IS", "Daesh", "Islamic State"]  # as in "ISIS militants"
# our own quotations: some say the group is resurging, some that it is defeated or only remnants
OWN_QUOTES = [
    "The remnants of {group} are trying to exploit the security gaps between our forces and the Peshmerga",
    "{group} is regrouping in {area} and its cells are more active than they were a year ago",
    "The terrorists have no capacity to hold territory any more; they are scattered cells hiding in the valleys",
    "We have defeated {group} militarily, but the ideology is still there",
    "There is a real danger that the group is resurging in the rural areas around {area}",
    "Our forces are in full control of {area} and the situation is stable",
    "The attacks have increased in recent weeks, which shows the group is rebuilding its networks",
    "These are the last remnants of the organisation and they are being hunted down",
    "We need more coordination with the coalition to stop the infiltration across the border",
    "The operation will continue until the area is completely cleared of terrorists",
    "Residents are afraid to go back to their villages because the militants come at night",
    "{group} has been defeated, and what remains are small groups that carry out hit-and-run attacks",
]
EVENT_SENTENCES = [
    "A roadside bomb killed {k} {victims} and wounded {w} others in {area} on {weekday}, security sources said.",
    "{Gadj} gunmen attacked a checkpoint near {area} on {weekday}, killing {k} {victims} and wounding {w}.",
    "Coalition jets launched an airstrike in {area} on {weekday}, killing {k} militants, according to a statement published {weekday2}.",
    "Security forces arrested {k} suspected {gadj} members in a dawn raid in {area} on {date}.",
    "At least {k} people were killed and {w} injured when a suicide bomber blew himself up in a market in {town} on {date}.",
    "{Forces} launched a new operation to clear {area} of militants on {weekday}, the Joint Operations Command said.",
    "Militants kidnapped {k} {victims} near {area} late on {weekday}; their fate is unknown.",
    "An improvised explosive device targeted a military convoy on the road between {town} and {area}, wounding {w} {victims}.",
    "The bodies of {k} {victims} were found in {area} on {date}, two days after they were abducted by {gadj} militants.",
]
TITLES = [
    "{Gadj} attack kills {k} in {area}", "{Forces_cap} launch operation against {gadj} cells in {area}",
    "Officials warn of {gadj} resurgence in {gov}", "{Gadj} remnants still a threat in {area}, commander says",
    "Security tightened in {town} after deadly attack", "{k} {victims} killed in {gadj} ambush near {area}",
    "Coalition strikes hit {gadj} hideouts in {area}", "Residents of {area} fear return of militants",
]
# (outlet, dateline templates); {P} = place in capitals, {R} = country or region, {p} = place as written
OUTLET_DATELINES = [
    ("Rudaw", ["{P}, Kurdistan Region –"]),
    ("Kurdistan 24", ["{P}, Kurdistan Region (Kurdistan 24) –", "{P} (Kurdistan 24) –"]),
    ("Associated Press", ["{P}, {R} (AP) —"]),
    ("Reuters", ["{P}, {R} (Reuters) -"]),
    ("Agence France-Presse", ["{P}, {R} (AFP) —"]),
    ("North Press Agency", ["{P}, {R} (North Press) –", "IRBIL, KRG (North Press)-"]),
    ("Iraqi News Agency", ["{p}-INA-"]),
    ("Shafaq News", ["Shafaq News/ "]),
    ("Military Times", [""]),
    ("The New Arab", ["{P}, {R} -", "{P} —"]),
]
EDITORS = ["Karzan Sulaivany", "Joanne Stocker", "Ahmed Rasheed", "William Maclean", "Sarah Harris"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
FIRST_DAY, LAST_DAY = dt.date(2014, 6, 1), dt.date(2023, 12, 31)
NUMBER_WORDS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


# --------------------------------------------------------------------------- seed material

@lru_cache(maxsize=1)
def seed_material() -> dict:
    """Return the titles, body paragraphs, sentences and quotations of the bundled seed articles."""
    from corelib.parse import split_sentences

    titles, paragraphs, sentences, quotes = [], [], [], []
    boiler = re.compile(r"^(?:Editing by|Reporting by|Read more|In Other News|Load More)|\bis a\b.*\breporter\b")
    for path in sorted(SEEDS.glob("*.txt")):
        pars = [p.strip() for p in path.read_text(encoding="utf-8").splitlines() if p.strip()]
        if not pars:
            continue
        if len(pars[0].split()) <= 20 and not pars[0].endswith("."):
            titles.append(pars[0])
            pars = pars[1:]
        for par in pars:
            if boiler.search(par) or len(par.split()) < 6:
                continue
            par = re.sub(r"^[A-Z][A-Z ,\-]+(?:, [A-Z][\w ]+)?(?: \([^)]*\))? [–—-] ", "", par)  # drop seed datelines
            paragraphs.append(par)
            for s, e in split_sentences(par):
                sent = par[s:e]
                if sent.count("“") == sent.count("”") and len(sent.split()) >= 6:
                    sentences.append(sent)
            quotes.extend(q for q in re.findall(r"“([^“”]{25,300}?)[,.]?”", par) if len(q.split()) >= 5)
    if not paragraphs:
        raise RuntimeError(f"no seed articles found in {SEEDS}")
    return {"titles": titles, "paragraphs": paragraphs, "sentences": sentences, "quotes": quotes}


# --------------------------------------------------------------------------- one article

def _speaker(rng: random.Random) -> tuple[str, str, str]:
    """Return (full name with title, surname, role)."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    title, role = rng.choice(SPEAKER_ROLES)
    full = f"{title} {first} {last}".strip()
    return full, last, role


def _date_text(day: dt.date, rng: random.Random) -> str:
    back = day - dt.timedelta(days=rng.randint(1, 6))
    return f"{MONTHS[back.month - 1]} {back.day}"


_STARTERS = {"The", "Our", "We", "There", "These", "Residents", "They", "Security", "Coalition"}


def _lower_first(s: str) -> str:
    """Return a quotation ready to follow 'that': common first words lower-cased, names kept."""
    word = s.split(" ", 1)[0]
    return s[0].lower() + s[1:] if word in _STARTERS else s


def _upper_first(s: str) -> str:
    return s[:1].upper() + s[1:]


def _values(rng: random.Random, day: dt.date, area: tuple[str, str], town: str) -> dict:
    """Return the slot values of one event (group, forces, casualties, place, day)."""
    group, gadj = rng.choice(GROUP_NAMES), rng.choice(GROUP_ADJECTIVES)
    forces = rng.choice(FORCES)
    k = rng.choice([2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 20, 27])
    return {
        "group": group, "Group": _upper_first(group), "gadj": gadj, "Gadj": gadj, "area": area[0], "gov": area[1], "town": town,
        "k": k if rng.random() < 0.6 else NUMBER_WORDS[min(k, 10) - 2], "w": rng.randint(1, 30),
        "victims": rng.choice(VICTIMS), "weekday": rng.choice(WEEKDAYS), "weekday2": rng.choice(WEEKDAYS),
        "date": _date_text(day, rng), "Forces": forces[0].upper() + forces[1:], "Forces_cap": forces.title(),
    }


def _fill(template: str, rng: random.Random, day: dt.date, area: tuple[str, str], town: str,
          values: dict | None = None) -> str:
    return _upper_first(template.format(**(values or _values(rng, day, area, town))))


def _quote_paragraph(rng: random.Random, day: dt.date, area: tuple[str, str], town: str,
                     seeds: dict) -> str:
    full, last, role = _speaker(rng)
    quote = (rng.choice(seeds["quotes"]) if seeds["quotes"] and rng.random() < 0.35
             else _fill(rng.choice(OWN_QUOTES), rng, day, area, town))
    verb = rng.choice(REPORTING)
    form = rng.randrange(5)
    if form == 0:
        return f"“{_upper_first(quote)},” {full}, {role}, {verb}."
    if form == 1:
        return f"“{_upper_first(quote)},” said {full}, {role}."
    if form == 2:
        return f"{full}, {role}, told {rng.choice(['Rudaw', 'AFP', 'reporters', 'Kurdistan 24'])} that {_lower_first(quote)}."
    if form == 3:
        return (f"According to {full}, {role}, {_lower_first(quote)}. "
                f"“{_fill(rng.choice(OWN_QUOTES), rng, day, area, town)},” {last} added.")
    return f"{full}, {role}, said on {rng.choice(WEEKDAYS)} that “{_lower_first(quote)}.”"


def _dateline(rng: random.Random) -> tuple[str, str]:
    """Return (outlet, dateline text with its trailing space, or '')."""
    outlet, forms = rng.choice(OUTLET_DATELINES)
    form = rng.choice(forms)
    if not form:
        return outlet, ""
    place, region, name = rng.choice(PLACES)
    if outlet in ("Rudaw",) or "Kurdistan Region" in form:
        place, region, name = rng.choice(PLACES[:3])
    return outlet, form.format(P=place, R=region, p=name) + ("" if form.endswith(" ") else " ")


def generate_article(i: int, seed: int = 0) -> dict:
    """Return article ``i`` of the corpus with this seed: a dict with doc_id, text, outlet, published."""
    rng = random.Random(f"corelib-bench-{seed}-{i}")
    seeds = seed_material()
    day = FIRST_DAY + dt.timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days + 1))
    area = rng.choice(AREAS)
    town = rng.choice(PLACES)[2]
    outlet, dateline = _dateline(rng)

    main_event = _values(rng, day, area, town)  # the title, standfirst and lead tell the same event
    if rng.random() < 0.25 and seeds["titles"]:
        title = rng.choice(seeds["titles"])
    else:
        title = _fill(rng.choice(TITLES), rng, day, area, town, main_event)
    pars = [title]
    if rng.random() < 0.2:
        pars.append(_fill(rng.choice(EVENT_SENTENCES), rng, day, area, town, main_event))  # standfirst
    pars.append(dateline + _fill(rng.choice(EVENT_SENTENCES), rng, day, area, town, main_event))
    for _ in range(rng.randint(6, 14)):
        kind = rng.random()
        if kind < 0.35:
            pars.append(rng.choice(seeds["paragraphs"]))
        elif kind < 0.65:
            pars.append(_quote_paragraph(rng, day, area, town, seeds))
        elif kind < 0.8:
            pars.append(_fill(rng.choice(EVENT_SENTENCES), rng, day, area, town))
        else:
            pars.append(" ".join(rng.sample(seeds["sentences"], k=min(len(seeds["sentences"]), rng.randint(2, 3)))))
    if rng.random() < 0.2:
        pars.append(f"Editing by {rng.choice(EDITORS)}")
    elif rng.random() < 0.1:
        pars.extend(["Read More", "In Other News"])
    sep = "\n" if rng.random() < 0.2 else "\n\n"
    return {"doc_id": f"gen-{i:07d}", "text": sep.join(pars) + "\n", "outlet": outlet,
            "published": day.isoformat()}


def _syndicated_copy(original: dict, i: int, rng: random.Random) -> dict:
    """Return a near copy of ``original`` as another outlet would run it (new id, small edits)."""
    lines = original["text"].rstrip("\n").split("\n")
    lines = [ln for ln in lines if not ln.startswith("Editing by")]
    lines.append(f"Editing by {rng.choice(EDITORS)}")
    return {"doc_id": f"gen-{i:07d}", "text": "\n".join(lines) + "\n", "outlet": original["outlet"],
            "published": original["published"]}


def article(i: int, seed: int = 0) -> dict:
    """Return article ``i``: a new article or (about 2% of the time) a syndicated copy of an earlier one."""
    rng = random.Random(f"corelib-bench-dup-{seed}-{i}")
    if i > 10 and rng.random() < 0.02:
        return _syndicated_copy(generate_article(rng.randrange(i), seed), i, rng)
    return generate_article(i, seed)


def iter_corpus(n: int, seed: int = 0) -> Iterator[dict]:
    """Yield ``n`` generated articles one at a time (constant memory)."""
    for i in range(n):
        yield article(i, seed)


def generate_corpus(n: int, seed: int = 0) -> list[dict]:
    """Return ``n`` generated articles as dicts with doc_id, text, outlet, published."""
    return list(iter_corpus(n, seed))


# --------------------------------------------------------------------------- writing

def write_corpus(n: int, folder: str | Path, seed: int = 0, fmt: str = "txt") -> Path:
    """Write ``n`` generated articles and return the corpus path to load.

    ``txt``: ``folder/000/gen-0000000.txt`` ... (1,000 files per sub-folder) plus ``folder/metadata.csv``
    (file, outlet, published); ``jsonl``/``parquet``: one table ``folder/corpus.jsonl|parquet`` with
    doc_id, text, outlet, published (``folder`` may also be the table's file name).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}': choose one of {', '.join(FORMATS)}")
    folder = Path(folder)
    if fmt != "txt":
        path = folder if folder.suffix == f".{fmt}" else folder / f"corpus.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "jsonl":
            with open(path, "w", encoding="utf-8") as fh:
                for doc in iter_corpus(n, seed):
                    fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
        else:
            _write_parquet(n, seed, path)
        return path
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "metadata.csv", "w", encoding="utf-8", newline="") as fh:
        meta = csv.writer(fh, lineterminator="\n")
        meta.writerow(["file", "outlet", "published"])
        for i, doc in enumerate(iter_corpus(n, seed)):
            sub = folder / f"{i // FILES_PER_FOLDER:03d}"
            if i % FILES_PER_FOLDER == 0:
                sub.mkdir(exist_ok=True)
            (sub / f"{doc['doc_id']}.txt").write_text(doc["text"], encoding="utf-8")
            meta.writerow([f"{doc['doc_id']}.txt", doc["outlet"], doc["published"]])
    _write_sub_metadata(folder)
    return folder


def _write_sub_metadata(folder: Path) -> None:
    """Move metadata rows next to their files (one metadata.csv per sub-folder), as the loader joins by folder."""
    rows: dict[str, list[list[str]]] = {}
    with open(folder / "metadata.csv", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        for row in reader:
            i = int(row[0][4:11])
            rows.setdefault(f"{i // FILES_PER_FOLDER:03d}", []).append(row)
    for sub, sub_rows in rows.items():
        with open(folder / sub / "metadata.csv", "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(sub_rows)
    (folder / "metadata.csv").unlink()


def _write_parquet(n: int, seed: int, path: Path, batch: int = 5000) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("doc_id", pa.string()), ("text", pa.string()), ("outlet", pa.string()),
                        ("published", pa.string())])
    with pq.ParquetWriter(path, schema) as writer:
        docs: list[dict] = []
        for doc in iter_corpus(n, seed):
            docs.append(doc)
            if len(docs) == batch:
                writer.write_table(pa.Table.from_pylist(docs, schema=schema))
                docs = []
        if docs:
            writer.write_table(pa.Table.from_pylist(docs, schema=schema))


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python benchmarks/generate.py N OUT [--seed S] [--format txt|jsonl|parquet]``."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", type=int, help="number of articles")
    p.add_argument("out", help="output folder (txt) or table file / folder (jsonl, parquet)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--format", choices=FORMATS, default="txt", help="txt folder (default), jsonl or parquet")
    args = p.parse_args(argv)
    path = write_corpus(args.n, args.out, seed=args.seed, fmt=args.format)
    print(f"wrote {args.n} articles to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
