"""Blame detection: does a sentence make a person the actor of a failure?

A word list cannot tell "Dave missed the page" from "the alert missed the spike", so this is a
small heuristic parser of English postmortem prose, in four steps:

    text ── split_sentences() ──> sentences ── _tokenize() ──> tokens ("didn't" -> "did not")
    tokens ── PREDICATES ──> failure predicates: "missed", "forgot", "pushed a bad config",
                             "was too slow", "should have known", "careless", "did not check" ...
    predicate ── _Sentence.subject_before() ──> its grammatical subject:
        * the noun phrase just before the verb, past auxiliaries and adverbs ("Dave then forgot");
        * the head of "the owner of the service", not the noun inside the prepositional phrase;
        * the antecedent of "who"/"that" ("the engineer who pushed ...", "the engineer who was on
          call forgot");
        * for "... and forgot" or "Dave, a new hire, forgot", the subject of the verb before
          (shared subject).
    subject ── _Sentence.classify() ──> person | probable person | "they" | "we" | system | unknown
        person: a given name, an author or owner of this postmortem, an @handle, a role
                ("the junior engineer", "QA", "the on-call"), "he"/"she"/"I"/"someone";
        system: "the deploy pipeline", "a config change", "the alert", Kafka, ...

A sentence blames when a person is the subject of a failure predicate. Predicates only people
can have ("forgot", "was careless", "should have known") and changes only people make
("pushed a bad config", "deleted the production table") also blame a *probable* person (an
unknown capitalised word such as a name missing from the list) and "they". "We" never blames:
it is how blameless write-ups speak of the team. Three agent forms complete the picture: a
passive with a person as agent ("the alert was missed by the on-call engineer", "a bad config
pushed by Dave"), a person's possessive ("Dave's mistake", "the intern's typo") and "the fault
lies with QA". Failure verbs under negation ("never missed a page") do not count.
"""

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from service.review.lexicon import (
    AMBIGUOUS_ROLES,
    ATTACHING_PREPOSITIONS,
    AUXILIARIES,
    CALENDAR_WORDS,
    COORDINATORS,
    DETERMINERS,
    ED_NON_VERBS,
    GIVEN_NAMES,
    GROUP_PRONOUNS,
    NEGATIONS,
    NEGATIVE_PRONOUNS,
    PERSON_PRONOUNS,
    PERSON_ROLES,
    PREPOSITIONS,
    RELATIVE_ANY,
    RELATIVE_PERSON,
    SPEAKER_PRONOUNS,
    SUBORDINATORS,
    SYSTEM_NOUNS,
    TECH_NAMES,
    VERB_FORMS,
    words,
)


class Category(Enum):
    """What kind of failure a predicate states; each has its own rewrite advice."""

    CHANGE = "change"  # pushed a bad config, deployed without review, introduced a bug, deleted prod data
    SIGNAL = "signal"  # missed, ignored, overlooked
    OMISSION = "omission"  # forgot, did not check, failed to, skipped the tests
    SPEED = "speed"  # was too slow, took too long
    JUDGEMENT = "judgement"  # careless, sloppy, made a mistake, dropped the ball
    HINDSIGHT = "hindsight"  # should have known, could have prevented
    CAUSE = "cause"  # broke the build, caused the outage


class Kind(Enum):
    PERSON = "person"
    PROBABLE_PERSON = "probable person"
    GROUP = "group"  # "they": people or things
    SPEAKER = "speaker"  # "we": the authors
    NOBODY = "nobody"
    SYSTEM = "system"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class BlameMatch:
    sentence: str
    actor: str
    phrase: str
    category: Category


def find_blame(text: str, people: Iterable[str] = ()) -> list[BlameMatch]:
    """Every sentence of `text` that makes a person the actor of a failure (at most one match per sentence).

    `people` are names known to be people (e.g. the postmortem's authors), matched case-insensitively.
    """
    known = frozenset(name.strip().lstrip("@").lower() for name in people if name.strip())
    matches = []
    for sentence in split_sentences(text):
        match = _blame_in_sentence(sentence, known)
        if match is not None:
            matches.append(match)
    return matches


# --- sentences and tokens ---------------------------------------------------------------------------------------

_ABBREVIATIONS = words(
    "e.g i.e etc vs approx mr mrs ms dr st no inc ltd jr sr cf al fig min max sec hr hrs mins secs est a.m p.m"
)
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*\s+")
_LINE_BREAK = re.compile(r"\s*\n\s*(?:[-*\u2022]\s+|\d+[.)]\s+)?")


def split_sentences(text: str) -> list[str]:
    """Sentences, also split at line breaks and list bullets; abbreviations and decimals do not end one."""
    sentences = []
    for line in _LINE_BREAK.split(text):
        start = 0
        for end in _SENTENCE_END.finditer(line):
            before = line[max(start, end.start() - 40) : end.start()].split()
            last_word = before[-1].lower().rstrip(".") if before else ""
            following = line[end.end() : end.end() + 1]
            if last_word in _ABBREVIATIONS or len(last_word) == 1 or (following and following.islower()):
                continue
            sentences.append(line[start : end.end()].strip())
            start = end.end()
        sentences.append(line[start:].strip())
    return [sentence for sentence in sentences if sentence]


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    low: str

    @property
    def is_word(self) -> bool:
        return self.low[:1].isalpha() or self.low[:1] == "@"


_TOKEN = re.compile(r"@[\w.-]+|[^\W_]\w*(?:[-'][^\W_]+)*'?|\S")
_CONTRACTIONS = {"can't": ("can", "not"), "won't": ("will", "not"), "cannot": ("can", "not")}
_SUFFIXES = {"n't": "not", "'ve": "have", "'d": "had", "'re": "are", "'m": "am", "'ll": "will"}


def _tokenize(sentence: str) -> list[Token]:
    tokens = []
    for raw in _TOKEN.findall(sentence.replace("\u2019", "'").replace("\u2018", "'")):
        low = raw.lower()
        if low in _CONTRACTIONS:
            first, second = _CONTRACTIONS[low]
            tokens += [Token(raw[: len(first)], first), Token(raw[len(first) :], second)]
            continue
        for suffix, expansion in _SUFFIXES.items():
            if low.endswith(suffix) and len(low) > len(suffix):
                cut = len(low) - len(suffix)
                tokens += [Token(raw[:cut], low[:cut]), Token(raw[cut:], expansion)]
                break
        else:
            tokens.append(Token(raw, low))
    return tokens


# --- failure predicates ------------------------------------------------------------------------------------------

_ADVERBS = r"(?:[a-z]+ly )*"
_WORD = r"[a-z0-9@][\w'@.-]*"
_MODIFIER = rf"(?:(?!(?:for|to|of|from|on|in|with|after|before|that|which|and|but|instead)(?= )){_WORD} )"
_ACTIONS = (
    r"(?:pushed|deployed|merged|shipped|committed|released|applied|ran|executed|approved|wrote|typed|entered|"
    r"introduced|configured|set|changed|edited|rolled out|uploaded|pasted|submitted|enabled|flipped|toggled|"
    r"modified|used|chose|picked|selected|added|copied|landed|kicked off|triggered|launched|signed off(?: on)?)"
)
_BAD = (
    r"(?:bad|broken|faulty|wrong|incorrect|buggy|untested|invalid|malformed|unreviewed|erroneous|bogus|defective|"
    r"flawed|dangerous|destructive|unsafe|misconfigured|half-baked|unvalidated|corrupt|corrupted|careless|sloppy|"
    r"unbounded|unguarded|unscoped)"
)
_DISCOVERY = (
    r"(?:found|noticed|spotted|identified|discovered|detected|flagged|reported|fixed|corrected|replaced|reverted|"
    r"removed|traced|investigated|confirmed|explained|highlighted|pointed|raised|questioned|suspected|ruled)"
)
_IRREGULAR_ACTS = r"(?:ran|chose|took|hit|set|put|sent|wrote|made|shut down|rolled back|rolled out|read|built)"
_INCIDENT_NOUNS = (
    r"(?:outage|outages|incident|problem|issue|failure|downtime|breakage|regression|bug|degradation|disruption|"
    r"mistake|error|typo|mess)"
)
_OMITTED = {
    "check": "checked",
    "test": "tested",
    "verify": "verified",
    "validate": "validated",
    "review": "reviewed",
    "read": "read",
    "follow": "followed",
    "notice": "noticed",
    "escalate": "escalated",
    "update": "updated",
    "run": "ran|run",
    "look": "looked",
    "ask": "asked",
    "page": "paged",
    "respond": "responded",
    "acknowledge": "acknowledged",
    "communicate": "communicated",
    "monitor": "monitored",
    "confirm": "confirmed",
    "double-check": "double-checked",
    "consult": "consulted",
    "notify": "notified",
    "catch": "caught",
    "revert": "reverted",
    "coordinate": "coordinated",
    "report": "reported",
    "wait": "waited",
}
_OMITTED_BASE = "|".join(_OMITTED)
_OMITTED_ANY = "|".join([*_OMITTED, *_OMITTED.values()])
_OMITTED_PAST = "|".join(_OMITTED.values())


@dataclass(frozen=True)
class Predicate:
    pattern: re.Pattern[str]
    category: Category
    human_only: bool = False  # only people can do this: blames a probable person or "they" too
    negatable: bool = False  # "never missed" is not a failure


def _predicate(regex: str, category: Category, *, human_only: bool = False, negatable: bool = False) -> Predicate:
    return Predicate(re.compile(rf"(?<= )(?:{regex})(?= )"), category, human_only, negatable)


PREDICATES = (
    # judgements of people
    _predicate(
        r"(?:was|were|is|are|been|being|got|seemed|looked) (?:(?:too|very|so|extremely|quite|rather|pretty|really|"
        r"a bit|a little|clearly|simply|just|being) )*(?:careless|negligent|sloppy|lazy|reckless|inattentive|"
        r"incompetent|distracted|unprepared|inexperienced|clueless|irresponsible|complacent|overconfident|hasty|"
        r"unfocused|asleep)",
        Category.JUDGEMENT,
        human_only=True,
    ),
    _predicate(
        r"(?:was|were|is|are) not (?:being )?(?:careful|attentive|focused|diligent|thorough|vigilant|paying attention)",
        Category.JUDGEMENT,
        human_only=True,
    ),
    _predicate(
        r"(?:did not|never) (?:pay|paid) (?:any |enough |close |much )?attention", Category.JUDGEMENT, human_only=True
    ),
    _predicate(
        r"(?:made|make|makes) (?:a|an|another|the|several|some|two|multiple|one|many) (?:[a-z-]+ )?"
        r"(?:mistake|mistakes|error|errors|blunder|blunders|typo|typos)",
        Category.JUDGEMENT,
        human_only=True,
    ),
    _predicate(
        r"(?:messed|screwed|fouled|goofed|mucked) (?:it |things |this |everything )?up|dropped the ball|"
        r"fat-fingered|fat fingered|panicked|did not bother|(?:rushed|hurried) (?:through|the|it|a)|rubber-stamped",
        Category.JUDGEMENT,
        human_only=True,
    ),
    _predicate(r"(?:was|were|is|are) (?:partly |mainly |entirely |solely )?to blame", Category.JUDGEMENT),
    # omissions
    _predicate(r"forgot|forgotten|neglected|failed to remember", Category.OMISSION, human_only=True, negatable=True),
    _predicate(
        r"let (?:the |a |an |our |their |his |her )?(?:[a-z-]+ ){0,2}?(?:expire|lapse|fill up|run out|slip|go stale)",
        Category.OMISSION,
    ),
    _predicate(
        rf"(?:did not|was not able to|were not able to) {_ADVERBS}(?:{_OMITTED_BASE})|"
        rf"(?:had|has|have) not {_ADVERBS}(?:{_OMITTED_ANY})|never {_ADVERBS}(?:{_OMITTED_PAST})|"
        rf"failed to {_ADVERBS}{_WORD}",
        Category.OMISSION,
    ),
    _predicate(
        r"(?:skipped|bypassed|circumvented|overrode|overridden) (?:the |a |an |our |all |any )?(?:[a-z-]+ )?"
        r"(?:tests?|review|reviews|checks?|canary|canaries|staging|validation|checklist|runbook|steps?|process|"
        r"procedure|approval|approvals|safeguards?|guard-?rails?|linter|lint|ci|warnings?|dry[- ]run|smoke test|"
        r"load test|rehearsal)",
        Category.OMISSION,
    ),
    # signals
    _predicate(
        r"missed|ignored|overlooked|disregarded|dismissed|misread|misinterpreted|misjudged|underestimated",
        Category.SIGNAL,
        negatable=True,
    ),
    # speed
    _predicate(
        rf"(?:was|were) {_ADVERBS}(?:too|very|really|extremely|quite|far too|way too) (?:slow|late)|"
        r"took (?:far |way |much )?(?:too long|ages|forever)|(?:was|were) (?:too )?slow to [a-z]+|"
        r"(?:responded|reacted|acknowledged|escalated|joined|acted|answered) (?:too|very|far too|way too) "
        r"(?:slowly|late)|(?:was|were) late (?:to|in|for)",
        Category.SPEED,
    ),
    # hindsight
    _predicate(
        rf"should (?:not )?have {_ADVERBS}(?:known|realized|realised|noticed|remembered|asked|thought|understood|"
        r"anticipated|foreseen|been (?:more )?(?:careful|aware|attentive))",
        Category.HINDSIGHT,
        human_only=True,
    ),
    _predicate(
        rf"should (?:not )?have {_ADVERBS}{_WORD}|could (?:easily )?have (?:prevented|avoided|caught|stopped|"
        r"spotted|noticed)|ought to have [a-z]+",
        Category.HINDSIGHT,
    ),
    # changes only people make
    _predicate(rf"{_ACTIONS} {_MODIFIER}{{0,3}}?{_BAD}", Category.CHANGE, human_only=True),
    _predicate(
        rf"{_ACTIONS} (?:{_WORD} ){{0,6}}?without (?:any |a |proper |enough |sufficient )?(?:[a-z-]+ )?"
        r"(?:testing|tests|test|review|reviewing|reviews|approval|validation|validating|checking|check|checks|"
        r"canary|canarying|telling|notice|announcing|waiting|second)",
        Category.CHANGE,
        human_only=True,
    ),
    _predicate(
        r"introduced (?:a|an|the|this) (?:[a-z-]+ )?(?:bug|regression|defect|typo|error|mistake|vulnerability|"
        r"breaking change|race condition|deadlock|leak)",
        Category.CHANGE,
        human_only=True,
    ),
    # any act aimed at the wrong target, except finding or fixing it
    _predicate(
        rf"(?:(?!{_DISCOVERY}(?= ))[a-z]+ed|{_IRREGULAR_ACTS}) "
        r"(?:[a-z]+ |(?:[a-z0-9-]+ ){0,4}?(?:to|on|against|in|into|from) )?"
        r"(?:the|a|an|our|their|his|her) (?:wrong|incorrect)",
        Category.CHANGE,
        human_only=True,
    ),
    _predicate(
        r"misconfigured|mistyped|mislabell?ed|miscalculated|botched|mishandled|misused", Category.CHANGE, negatable=True
    ),
    _predicate(
        rf"(?:deleted|dropped|truncated|wiped|erased|overwrote|overwritten|purged|destroyed|shut down) "
        rf"{_MODIFIER}{{0,3}}?(?:production|prod|live|primary|customer|customers|customers'|customer's|users')",
        Category.CHANGE,
        human_only=True,
    ),
    _predicate(
        rf"(?:deleted|dropped|truncated|wiped|erased|overwrote|purged|destroyed) (?:{_WORD} ){{0,4}}?"
        r"(?:in|on|from|against) (?:the )?(?:production|prod|live|primary)",
        Category.CHANGE,
        human_only=True,
    ),
    # causes
    _predicate(
        r"broke|crashed|took down|brought down|knocked over|knocked out|corrupted|overloaded",
        Category.CAUSE,
        negatable=True,
    ),
    _predicate(
        rf"(?:caused|triggered|introduced) (?:the|this|an|a|that|today's|yesterday's) (?:[a-z-]+ ){{0,2}}?"
        rf"{_INCIDENT_NOUNS}",
        Category.CAUSE,
        negatable=True,
    ),
)

_PASSIVE_FAILURE = {
    "missed": Category.SIGNAL,
    "ignored": Category.SIGNAL,
    "overlooked": Category.SIGNAL,
    "disregarded": Category.SIGNAL,
    "misread": Category.SIGNAL,
    "misconfigured": Category.CHANGE,
    "botched": Category.CHANGE,
    "mishandled": Category.CHANGE,
    "broken": Category.CAUSE,
    "mistyped": Category.CHANGE,
    "fat-fingered": Category.CHANGE,
    "forgotten": Category.OMISSION,
    "neglected": Category.OMISSION,
    "skipped": Category.OMISSION,
    "bypassed": Category.OMISSION,
}
_PASSIVE_NEUTRAL = sorted(
    words(
        "pushed deployed merged shipped committed released applied run executed approved written typed entered "
        "introduced configured set changed edited uploaded made caused triggered deleted dropped truncated wiped"
    )
)
_PASSIVE = re.compile(
    rf"(?<= )(?:(?:was|were|got|been|being|is|are) {_ADVERBS})?"
    rf"(?P<participle>{'|'.join([*_PASSIVE_FAILURE, *_PASSIVE_NEUTRAL])}) by(?= )"
)
_ERROR_BY = re.compile(
    r"(?<= )(?:mistake|mistakes|error|errors|oversight|slip|blunder|typo|typos|negligence|carelessness|lapse) "
    r"(?:made |committed )?(?:by|on the part of)(?= )"
)
_FAULT_WITH = re.compile(
    r"(?<= )(?:fault|blame|responsibility) (?:lies|lay|rests|rested|is|was|falls|fell|goes|went) "
    r"(?:entirely |squarely |solely |mainly |fully )?(?:with|on|to)(?= )"
)
_POSSESSIVE = re.compile(
    r"(?<= )[\w@.-]+(?:'s|s') (?:(?![a-z-]*ed )[a-z-]+ ){0,2}?(?:mistake|mistakes|error|errors|oversight|typo|"
    r"typos|negligence|carelessness|fault|blunder|slip|lapse|misconfiguration|inexperience|incompetence|laziness|"
    r"sloppiness|"
    r"failure to|lack of (?:attention|care|experience|diligence|rigou?r|judge?ment|knowledge|focus)|"
    rf"{_BAD}|hasty|rushed|reckless|botched)(?= )"
)
_BAD_OR_INCIDENT = re.compile(rf"^(?:{_BAD}|{_INCIDENT_NOUNS}|production|prod|wrong|incorrect)$")


# --- the parser --------------------------------------------------------------------------------------------------


MAX_PHRASE = 8
"""Noun phrases are short; a longer run of nouns is cut to its last (or first) words."""
_FUNCTION_WORDS = (
    DETERMINERS | AUXILIARIES | COORDINATORS | SUBORDINATORS | RELATIVE_PERSON | RELATIVE_ANY | PREPOSITIONS | NEGATIONS
)
_PRONOUNS = PERSON_PRONOUNS | GROUP_PRONOUNS | SPEAKER_PRONOUNS | NEGATIVE_PRONOUNS | {"it"}


@dataclass(frozen=True, slots=True)
class Phrase:
    """A noun phrase: tokens[start:end]."""

    start: int
    end: int
    kind: Kind
    text: str


class _Sentence:
    def __init__(self, text: str, people: frozenset[str]) -> None:
        self.text = text
        self.people = people
        self.tokens = _tokenize(text)
        self.starts: list[int] = []
        position = 1
        for token in self.tokens:
            self.starts.append(position)
            position += len(token.low) + 1
        self.joined = " " + " ".join(token.low for token in self.tokens) + " "

    def index_at(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) - 1

    def phrase(self, start: int, end: int) -> str:
        return " ".join(token.text for token in self.tokens[start:end])

    def matched(self, match: re.Match[str], *, through: int | None = None) -> str:
        """The words of a match on `joined` (up to token `through`), as written."""
        last = self.index_at(match.end() - 1) if through is None else through
        if _BAD_OR_INCIDENT.match(self.low(last)):  # "pushed a bad" -> "pushed a bad config"
            while (
                last - self.index_at(match.start()) < 8
                and self.is_noun_word(last + 1)
                and not self.is_pronoun(last + 1)
            ):
                last += 1
        return self.phrase(self.index_at(match.start()), last + 1)

    # token classes

    def low(self, index: int) -> str:
        return self.tokens[index].low if 0 <= index < len(self.tokens) else ""

    def is_verb(self, index: int) -> bool:
        low = self.low(index)
        if low in VERB_FORMS:
            return True
        if low in GIVEN_NAMES or low in self.people or (index > 0 and self.tokens[index].text[:1].isupper()):
            return False  # Ahmed, Fred
        return (
            low.endswith("ed") and len(low) > 3 and low not in ED_NON_VERBS and self.low(index - 1) not in DETERMINERS
        )

    def is_adverb(self, index: int) -> bool:
        token = self.tokens[index]
        return token.low.endswith("ly") and len(token.low) > 4 and token.text[:1].islower()

    def is_noun_word(self, index: int) -> bool:
        """Can be part of a noun phrase: not a function word, verb, adverb, number or punctuation."""
        if not 0 <= index < len(self.tokens) or not self.tokens[index].is_word:
            return False
        low = self.low(index)
        if low in _FUNCTION_WORDS:
            return False
        return not self.is_adverb(index) and not self.is_verb(index)

    def is_pronoun(self, index: int) -> bool:
        return self.low(index) in _PRONOUNS

    def opens_clause(self, index: int) -> bool:
        """Whether tokens[index] is where a clause begins (nothing or a boundary before it)."""
        before = self.low(index - 1)
        return index == 0 or not self.tokens[index - 1].is_word or before in COORDINATORS | SUBORDINATORS

    # noun phrases

    def phrase_ending_at(self, end: int, *, hop: bool = True, hops: int = 3) -> Phrase | None:
        """The noun phrase whose last token is tokens[end]; for "X of Y", the phrase X (up to `hops` deep)."""
        if not self.is_noun_word(end):
            return None
        start = end
        if not self.is_pronoun(end):
            while start - 1 >= 0 and end - start < MAX_PHRASE:
                if self.low(start - 1) in DETERMINERS:
                    start -= 1
                    break
                if not self.is_noun_word(start - 1) or self.is_pronoun(start - 1):
                    break
                start -= 1
        phrase = self.make_phrase(start, end + 1)
        if hop and hops > 0 and self.low(start - 1) in ATTACHING_PREPOSITIONS:
            head = self.phrase_ending_at(start - 2, hops=hops - 1)
            if head is not None and self.opens_clause(head.start):
                return head
        return phrase

    def phrase_starting_at(self, start: int) -> Phrase | None:
        end = start
        while self.low(end) in DETERMINERS:
            end += 1
        if self.is_pronoun(end):
            return self.make_phrase(start, end + 1)
        while self.is_noun_word(end) and not self.is_pronoun(end) and end - start < MAX_PHRASE:
            end += 1
        return self.make_phrase(start, end) if end > start else None

    def make_phrase(self, start: int, end: int) -> Phrase:
        return Phrase(start, end, self.classify(start, end), self.phrase(start, end))

    def classify(self, start: int, end: int) -> Kind:
        content = [token for token in self.tokens[start:end] if token.low not in DETERMINERS]
        if not content:
            return Kind.UNKNOWN
        head = content[-1]
        low = re.sub(r"(?:'s|')$", "", head.low)
        if low.startswith("@"):
            return Kind.PERSON
        low = low.lstrip("@")
        if low in NEGATIVE_PRONOUNS:
            return Kind.NOBODY
        if low in PERSON_PRONOUNS or low in {"everyone", "everybody"} or low in self.people:
            return Kind.PERSON
        if low in GROUP_PRONOUNS:
            return Kind.GROUP
        if low in SPEAKER_PRONOUNS:
            return Kind.SPEAKER
        if low in PERSON_ROLES:
            technical = any(word.low in SYSTEM_NOUNS or word.low in TECH_NAMES for word in content[:-1])
            return Kind.SYSTEM if low in AMBIGUOUS_ROLES and technical else Kind.PERSON
        if low in SYSTEM_NOUNS or low in TECH_NAMES:
            return Kind.SYSTEM
        capitalised = all(_looks_like_name(word) for word in content)
        if capitalised and any(re.sub(r"(?:'s|')$", "", word.low) in GIVEN_NAMES for word in content):
            return Kind.PERSON
        if capitalised and len(content) <= 3:
            return Kind.PROBABLE_PERSON
        return Kind.UNKNOWN

    # subjects

    def subject_before(self, index: int, depth: int = 0) -> Phrase | None:
        """The grammatical subject of the verb at tokens[index]."""
        j = index - 1
        while j >= 0 and (self.low(j) in AUXILIARIES or self.low(j) in NEGATIONS or self.is_adverb(j)):
            j -= 1
        if j < 0:
            return None
        low = self.low(j)
        if low in RELATIVE_PERSON or low in RELATIVE_ANY:
            return self.antecedent(j)
        if low in COORDINATORS or low == ",":
            return self.shared_subject(j, depth)
        phrase = self.phrase_ending_at(j)
        relative = self.relative_clause_head(phrase.start - 1 if phrase else j)
        return relative or phrase

    def antecedent(self, relative: int) -> Phrase | None:
        """What "who", "that" or "which" at tokens[relative] refers to."""
        antecedent = self.phrase_ending_at(relative - 2 if self.low(relative - 1) == "," else relative - 1, hop=False)
        if antecedent is None or self.low(relative) not in RELATIVE_PERSON:
            return antecedent  # None for "about who pushed it": no one in particular
        # "who" refers to a person: "It was Dave who ...", "the one who ...", but not "Ask who ..."
        if antecedent.kind is Kind.PROBABLE_PERSON and antecedent.start == 0 and self.low(relative - 1) != ",":
            return None
        named = antecedent.kind is Kind.PROBABLE_PERSON
        one = self.low(antecedent.end - 1) == "one"
        kind = Kind.PERSON if named or one else antecedent.kind
        return Phrase(antecedent.start, antecedent.end, kind, antecedent.text)

    def relative_clause_head(self, index: int) -> Phrase | None:
        """For "the engineer who was on call forgot", the noun the relative clause before the verb belongs to."""
        seen_verb = False
        for k in range(index, max(index - 8, -1), -1):
            low = self.low(k)
            passable = self.tokens[k].is_word or low[:1].isdigit() or low == ":"
            if not passable or low in COORDINATORS or low in SUBORDINATORS:
                return None
            if low in RELATIVE_PERSON or low in RELATIVE_ANY:
                return self.antecedent(k) if seen_verb else None
            seen_verb = seen_verb or self.is_verb(k)
        return None

    def shared_subject(self, boundary: int, depth: int) -> Phrase | None:
        """For "X did this and then forgot", the subject of the verb before the coordinator."""
        if depth >= 3:
            return None
        k = boundary - 1
        while k >= 0:
            token = self.tokens[k]
            if (not token.is_word and token.low not in {",", "'"}) or token.low in SUBORDINATORS:
                break
            if self.is_verb(k):
                return self.subject_before(k, depth + 1)
            k -= 1
        start = k + 1
        while start < boundary and not self.is_noun_word(start) and self.low(start) not in DETERMINERS:
            start += 1
        return self.phrase_starting_at(start) if start < boundary else None


def _looks_like_name(token: Token) -> bool:
    text = re.sub(r"(?:'s|')$", "", token.text)
    return (
        len(text) >= 2
        and text[0].isupper()
        and text[1:].replace("-", "").isalpha()
        and not text[1:].isupper()
        and text.lower() not in CALENDAR_WORDS
    )


def _blames(kind: Kind, predicate: Predicate) -> bool:
    if kind is Kind.PERSON:
        return True
    return kind in (Kind.PROBABLE_PERSON, Kind.GROUP) and predicate.human_only


def _blame_in_sentence(text: str, people: frozenset[str]) -> BlameMatch | None:
    sentence = _Sentence(text, people)
    found: list[tuple[int, BlameMatch]] = []
    for predicate in PREDICATES:
        for match in predicate.pattern.finditer(sentence.joined):
            index = sentence.index_at(match.start())
            if predicate.negatable and {sentence.low(index - 1), sentence.low(index - 2)} & NEGATIONS:
                continue
            subject = sentence.subject_before(index)
            if subject is not None and _blames(subject.kind, predicate):
                found.append((index, BlameMatch(text, subject.text, sentence.matched(match), predicate.category)))
    for index, agent_match in _agent_matches(sentence):
        found.append((index, agent_match))
    if not found:
        return None
    return min(found, key=lambda item: item[0])[1]


_PERSONS = (Kind.PERSON, Kind.PROBABLE_PERSON)


def _agent_matches(sentence: _Sentence) -> list[tuple[int, BlameMatch]]:
    """Forms where the person comes after the failure: passives, "mistake by", "the fault lies with"."""
    found = []
    for match in _PASSIVE.finditer(sentence.joined):
        participle = match.group("participle")
        index = sentence.index_at(match.start())
        category = _PASSIVE_FAILURE.get(participle)
        if category is None and not _patient_is_bad(sentence, index):
            continue
        agent = sentence.phrase_starting_at(sentence.index_at(match.end() + 1))
        if agent is not None and agent.kind in _PERSONS:
            phrase = sentence.matched(match, through=agent.end - 1)
            found.append((index, BlameMatch(sentence.text, agent.text, phrase, category or Category.CHANGE)))
    for pattern, category in ((_ERROR_BY, Category.JUDGEMENT), (_FAULT_WITH, Category.JUDGEMENT)):
        for match in pattern.finditer(sentence.joined):
            agent = sentence.phrase_starting_at(sentence.index_at(match.end() + 1))
            if agent is not None and agent.kind in _PERSONS:
                index = sentence.index_at(match.start())
                phrase = sentence.matched(match, through=agent.end - 1)
                found.append((index, BlameMatch(sentence.text, agent.text, phrase, category)))
    found += _counterfactuals(sentence)
    for match in _POSSESSIVE.finditer(sentence.joined):
        index = sentence.index_at(match.start())
        owner = sentence.phrase_ending_at(index, hop=False)
        if owner is not None and owner.kind in _PERSONS:
            actor = re.sub(r"(?:'s|')$", "", owner.text)
            phrase = sentence.matched(match)
            found.append((owner.start, BlameMatch(sentence.text, actor, phrase, Category.JUDGEMENT)))
    return found


_WOULD_HAVE = re.compile(r"(?<= )(?:would|could|might) (?:not )?have(?= )")


def _counterfactuals(sentence: _Sentence) -> list[tuple[int, BlameMatch]]:
    """Hindsight as a condition: "If Victor had read the runbook (Had Victor read ...), it would have ..."."""
    if not _WOULD_HAVE.search(sentence.joined):
        return []
    found = []
    for index, token in enumerate(sentence.tokens):
        inverted = token.low == "had" and sentence.opens_clause(index)
        if token.low != "if" and not inverted:
            continue
        subject = sentence.phrase_starting_at(index + 1)
        if subject is None or subject.kind not in _PERSONS or (not inverted and sentence.low(subject.end) != "had"):
            continue
        verb = subject.end + (0 if inverted else 1)
        verb += 1 if sentence.low(verb) == "not" else 0
        phrase = sentence.phrase(index, verb + 1)
        found.append((index, BlameMatch(sentence.text, subject.text, phrase, Category.HINDSIGHT)))
    return found


def _patient_is_bad(sentence: _Sentence, participle: int) -> bool:
    """For "X was pushed by Dave": is X a bad change or an incident ("a bad config", "the outage")?"""
    k = participle - 1
    while k >= 0 and sentence.tokens[k].is_word and sentence.low(k) not in SUBORDINATORS and participle - k <= 8:
        if _BAD_OR_INCIDENT.match(sentence.low(k)):
            return True
        k -= 1
    return False
