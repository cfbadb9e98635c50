"""The `q` syntax of `GET /v1/postmortems`, read once here and written out for each backend.

    timeout database        every word must appear, in any form ("timeouts" finds "timeout")
    "connection pool"       a phrase: these words, in this order
    -kafka  -"dry run"      must not appear
    dns or "load balancer"  either side of `or`; words bind tighter ((a b) or (c d))

This is the grammar of PostgreSQL's `websearch_to_tsquery`. Reading it in Python first means
both backends search for the same structure, and that no input reaches the database as syntax:
PostgreSQL gets it back in websearch syntax with every term quoted (raw input can overflow the
tsquery parser's operator stack, e.g. forty `-` in a row), and SQLite gets an FTS5 expression of
quoted strings, which FTS5 cannot misread whatever they hold. Everything other than quotes, `-`
at the start of a word and a lone `or` is text; there is no prefix search (`*` is ignored).
"""

import hashlib
from dataclasses import dataclass

from service.core.errors import FieldError, Unprocessable

MAX_LENGTH = 500

# PostgreSQL's `english` stop words (tsearch_data/english.stop). The tsvector leaves them out, so
# the FTS5 expression must not require them either.
_ENGLISH_STOP = """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers
    herself it its itself they them their theirs themselves what which who whom this that these those am is
    are was were be been being have has had having do does did doing a an the and but if or because as until
    while of at by for with about against between into through during before after above below to from up
    down in out on off over under again further then once here there when where why how all any both each
    few more most other some such no nor not only own same so than too very s t can will just don should now
"""
STOP_WORDS = frozenset(_ENGLISH_STOP.split())


@dataclass(frozen=True, slots=True)
class Term:
    """A word or a quoted phrase, as written (`text`) and as the words FTS5 must find (`words`)."""

    text: str
    words: tuple[str, ...]
    excluded: bool

    def websearch(self) -> str:
        return f'{"-" if self.excluded else ""}"{self.text}"'

    def fts5(self) -> str:
        return '"' + " ".join(self.words) + '"'


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Alternatives (joined by `or`), each a conjunction of terms with at least one not excluded."""

    alternatives: tuple[tuple[Term, ...], ...]

    def websearch(self) -> str:
        """For `websearch_to_tsquery`: the same structure, every term in quotes."""
        return " or ".join(" ".join(term.websearch() for term in terms) for terms in self.alternatives)

    def fts5(self) -> str:
        """An FTS5 MATCH expression; each term is a quoted string, so it is never read as syntax."""
        alternatives = []
        for terms in self.alternatives:
            found = " AND ".join(term.fts5() for term in terms if not term.excluded)
            excluded = " OR ".join(term.fts5() for term in terms if term.excluded)
            alternatives.append(f"({found}) NOT ({excluded})" if excluded else f"({found})")
        return " OR ".join(alternatives)

    def fingerprint(self) -> str:
        """Identifies the search in a cursor, so that a page of one search is not continued with another."""
        return hashlib.sha256(self.websearch().lower().encode()).hexdigest()[:16]


def parse(q: str) -> SearchQuery:
    """The search `q` asks for; a 422 naming `q` when it has nothing to find."""
    if not q.strip():
        raise _invalid("blank", "must contain a word to search for")
    alternatives: list[list[Term]] = [[]]
    excluded = False
    position, end = 0, len(q)
    while position < end:
        char = q[position]
        if char.isspace() or char in "()":
            position += 1
        elif char == '"':
            closing = q.find('"', position + 1)
            if closing == -1:  # an unmatched quote is not a phrase; what follows it is read as words
                position += 1
                continue
            _add(alternatives[-1], q[position + 1 : closing], excluded)
            excluded = False
            position = closing + 1
        elif char == "-":
            excluded = not excluded
            position += 1
        else:
            start = position
            while position < end and not (q[position].isspace() or q[position] in '"()'):
                position += 1
            word = q[start:position]
            if word.lower() == "or" and not excluded:
                if alternatives[-1]:  # `or` with nothing before it joins nothing
                    alternatives.append([])
                continue
            _add(alternatives[-1], word, excluded)
            excluded = False
    kept = tuple(tuple(terms) for terms in alternatives if terms)
    if not kept:
        raise _invalid("no_words", "has no word to search for: punctuation and common words such as 'the' are ignored")
    if any(all(term.excluded for term in terms) for terms in kept):
        raise _invalid("only_exclusions", "needs a word to find in every alternative: -word only excludes")
    return SearchQuery(kept)


def _add(terms: list[Term], text: str, excluded: bool) -> None:
    """Add `text` unless it holds no word worth finding (stop words at either end are trimmed)."""
    words = _words(text)
    while words and words[0] in STOP_WORDS:
        words.pop(0)
    while words and words[-1] in STOP_WORDS:
        words.pop()
    if words:
        # A backslash is an escape to PostgreSQL's tsvector reader; it is never part of a word.
        terms.append(Term(text.replace("\\", " "), tuple(words), excluded))


def _words(text: str) -> list[str]:
    """Runs of letters and decimal digits, lower-cased: what both text search parsers take for words."""
    words, current = [], []
    for char in text:
        if char.isalpha() or char.isdecimal():
            current.append(char)
        elif current:
            words.append("".join(current).lower())
            current = []
    if current:
        words.append("".join(current).lower())
    return words


def _invalid(code: str, message: str) -> Unprocessable:
    return Unprocessable(f"q {message}", [FieldError("q", message, code, "query")])
