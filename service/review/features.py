"""Features of a sentence for the learned blame scorer (`review.scorer`).

The phrase rules in `review.blame` recognise the shapes of blame they were written for; on new text they
miss the rest ("the vendor's incompetence caused ...", "Operator entered wrong APN"). A linear model over
words can pick up such wording, but only if what it learns carries over to sentences about other people:
"Dave forgot" and "Aiko forgot" must look alike. So every token that names a person is replaced by a
placeholder for its kind, using the parser's own judgement of who is a person (`Sentence.classify`):

    <PERSON>  a given name, a capitalised word shaped like one ("Kenji", "Mr. Okafor"), an @handle
    <ROLE>    a role ("engineer", "the on-call", "QA", "the night shift")
    <TEAM>    a group of people ("team", "squad", "department")
    <PRON>    "he", "she", "I", "someone"

"we" is kept as it is: it is how blameless write-ups speak. Other words are lowercased and crudely stemmed
("ignored", "ignores" and "ignoring" all become "ignor"), and numbers and times become <NUM>. The features are
the unigrams and bigrams of those tokens, plus <START> and <END> bigrams so that "Operator error" at the
start of a fragment is told from the same words mid-sentence.

A bag of words cannot tell "nobody noticed" from "noticed", or "without data loss" from "data loss". So the
words a negation governs (those after "not", "never", "no", "without", "nobody", "nothing", up to the end
of the clause and at most `NEGATION_SCOPE` of them) also give a feature of their own, "n:" and the word:
the model can learn that "without" + "loss" is good news and "never" + "test" is blame.

Blameless write-ups often tell a person's act and then the system's part in it ("Lin merged the patch, review
was optional in CODEOWNERS"). The words after the first clause ends also give a "c:" feature, so that a
failure word there can weigh differently from the same word said of the sentence's first actor.

The rules' verdict is deliberately not a feature: the rules are tuned to near-perfect recall on the
training corpora, so a model given their verdict would learn little else, and it is only useful where
the rules are silent.
"""

import re
from dataclasses import dataclass

from service.review.lexicon import GIVEN_NAMES, PERSON_PRONOUNS, PERSON_ROLES, ROLES_BY_MODIFIER
from service.review.parse import PERSONS, Sentence

PERSON = "<PERSON>"
ROLE = "<ROLE>"
TEAM = "<TEAM>"
PRONOUN = "<PRON>"
PLACEHOLDERS = frozenset({PERSON, ROLE, TEAM, PRONOUN})
PERSON_FEATURE = "has:person"
"""Present when any token names a person."""

NEGATORS = frozenset({"not", "never", "no", "without", "nobody", "nothing"})
NEGATION_SCOPE = 3
_CLAUSE_BREAKS = frozenset({",", ";", ":", ".", "!", "?", "(", ")", "-", "\u2014", "\u2013"})
_CLAUSE_OPENERS = frozenset(
    {"because", "so", "since", "but", "as", "although", "though", "while", "when", "after", "which"}
)
_GROUPS = frozenset({"team", "teams", "squad", "squads", "crew", "crews", "department", "departments", "org", "orgs"})
_NUMBER = re.compile(r"^\d[\d.:,]*[a-z%]*$")
_SUFFIXES = ("ing", "ed", "es", "s")


@dataclass(frozen=True, slots=True)
class Unit:
    """A normalised token and the slice of the sentence's tokens it stands for."""

    term: str
    index: int


def stem(low: str) -> str:
    """A crude stem: enough to make inflections of one verb the same feature, not a linguistic lemma."""
    low = re.sub(r"(?:'s|')$", "", low)
    if low.endswith("ies") and len(low) > 4:
        return low[:-3] + "y"
    for suffix in _SUFFIXES:
        if low.endswith(suffix) and len(low) - len(suffix) >= 3 and not low.endswith("ss"):
            return low[: -len(suffix)]
    return low


def units(sentence: Sentence) -> list[Unit]:
    """The sentence's word tokens, normalised: people to placeholders, numbers to <NUM>, words stemmed."""
    result = []
    for index, token in enumerate(sentence.tokens):
        if not token.is_word and not _NUMBER.match(token.low):
            continue
        result.append(Unit(_term(sentence, index), index))
    return result


def _term(sentence: Sentence, index: int) -> str:
    low = re.sub(r"(?:'s|')$", "", sentence.tokens[index].low)
    if _NUMBER.match(low):
        return "<NUM>"
    if low in PERSON_PRONOUNS:
        return PRONOUN
    if low in _GROUPS:
        return TEAM
    if low in PERSON_ROLES or low in ROLES_BY_MODIFIER:
        return ROLE
    if low.startswith("@") or low in GIVEN_NAMES:
        return PERSON  # handles, and names in lowercase writing
    if sentence.tokens[index].text[:1].isupper() and sentence.classify(index, index + 1) in PERSONS:
        return PERSON
    return stem(low)


def features(sentence: Sentence) -> list[tuple[str, int, int]]:
    """Each feature of the sentence with the token span it covers (start, end), in order of appearance.

    A feature can occur more than once; the model counts each occurrence once (binary features).
    """
    found = units(sentence)
    terms = ["<START>", *(unit.term for unit in found), "<END>"]
    spans = [(unit.index, unit.index + 1) for unit in found]
    spans = [spans[0] if spans else (0, 0), *spans, spans[-1] if spans else (0, 0)]
    result = [(f"w:{term}", *spans[i]) for i, term in enumerate(terms) if 0 < i < len(terms) - 1]
    for i in range(len(terms) - 1):
        result.append((f"b:{terms[i]} {terms[i + 1]}", spans[i][0], spans[i + 1][1]))
    opens_clause = _clause_openings(sentence, found)
    result += _negated(sentence, found, opens_clause)
    result += _later_clauses(found, opens_clause)
    if any(term in PLACEHOLDERS for term in terms):
        result.append((PERSON_FEATURE, 0, 0))
    return result


def _clause_openings(sentence: Sentence, found: list[Unit]) -> list[bool]:
    """For each unit, whether a clause starts at it: after punctuation, or at a word such as "because"."""
    openings = []
    previous = -1
    for unit in found:
        punctuated = any(sentence.tokens[k].low in _CLAUSE_BREAKS for k in range(previous + 1, unit.index))
        openings.append(previous >= 0 and (punctuated or sentence.tokens[unit.index].low in _CLAUSE_OPENERS))
        previous = unit.index
    return openings


def _negated(sentence: Sentence, found: list[Unit], opens_clause: list[bool]) -> list[tuple[str, int, int]]:
    """An "n:" feature for each word a negation governs: up to `NEGATION_SCOPE` words before the clause ends."""
    result = []
    scope_left = 0
    for unit, opens in zip(found, opens_clause, strict=True):
        if opens:
            scope_left = 0
        if sentence.tokens[unit.index].low in NEGATORS:
            scope_left = NEGATION_SCOPE
        elif scope_left:
            result.append((f"n:{unit.term}", unit.index, unit.index + 1))
            scope_left -= 1
    return result


def _later_clauses(found: list[Unit], opens_clause: list[bool]) -> list[tuple[str, int, int]]:
    """A "c:" feature for each word after the first clause."""
    first_break = next((i for i, opens in enumerate(opens_clause) if opens), len(found))
    return [(f"c:{unit.term}", unit.index, unit.index + 1) for unit in found[first_break:]]
