"""corelib: parse, quote, tag and summarise news about security in Iraq and Syria."""
from corelib.corpus import Corpus, CorpusError, load_corpus
from corelib.parse import Parsed, parse_corpus

__all__ = ["Corpus", "CorpusError", "Parsed", "load_corpus", "parse_corpus"]
__version__ = "0.1.0"
