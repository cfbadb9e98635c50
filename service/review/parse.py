"""The blame parser's grammar: sentences, tokens, noun phrases, what kind of actor a phrase names, and
which phrase is the actor of a verb or of a circumstance. `review.blame` decides what is a failure.

    text ── split_sentences() ──> sentences ── tokenize() ──> tokens ("didn't" -> "did not", "16:40")
    Sentence.subject_before(verb)   the noun phrase before a verb, past auxiliaries, adverbs and an aside
                                    ("Bruno, as always, merged"); the head of "the owner of the service"; the
                                    antecedent of "who"/"that"; for "... and forgot", the shared subject
    Sentence.clause_actor(index)    who does the act a circumstance qualifies ("merged without review"): the
                                    actor of the verb before it, a passive's agent ("pushed by Karim"), or the
                                    subject after a fronted circumstance ("Despite ..., Beatriz ran")
    Sentence.classify(start, end)   person | probable person | "they" | "we" | nobody | system | unknown
    Sentence.excused(index)         whether the sentence goes on to explain a failure by the system
"""

import bisect
import re
from dataclasses import dataclass
from enum import Enum

from service.review.lexicon import (
    AMBIGUOUS_ROLES,
    ATTACHING_PREPOSITIONS,
    AUXILIARIES,
    CALENDAR_WORDS,
    COMMON_NOUN_ENDINGS,
    COORDINATORS,
    DETERMINERS,
    ED_NON_VERBS,
    GIVEN_NAMES,
    GROUP_PRONOUNS,
    IMPERATIVES,
    NEGATIONS,
    NEGATIVE_PRONOUNS,
    PERSON_PRONOUNS,
    PERSON_ROLES,
    POSTNOMINALS,
    PREPOSITIONS,
    PRESSURES,
    RELATIVE_ANY,
    RELATIVE_PERSON,
    ROLES_BY_MODIFIER,
    SPEAKER_PRONOUNS,
    SUBORDINATORS,
    SYSTEM_NOUNS,
    TEAM_WORDS,
    TECH_NAMES,
    TITLES,
    VERB_FORMS,
    words,
)
from service.review.patterns import BAD_OR_INCIDENT, INCIDENT_NOUNS


class Kind(Enum):
    PERSON = "person"
    PROBABLE_PERSON = "probable person"
    GROUP = "group"  # "they": people or things
    SPEAKER = "speaker"  # "we": the authors
    NOBODY = "nobody"
    SYSTEM = "system"
    UNKNOWN = "unknown"


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


_TOKEN = re.compile(r"@[\w.-]+|\d+(?:[.:,]\d+)+|[^\W_]\w*(?:[-'][^\W_]+)*'?|\S")
_CONTRACTIONS = {"can't": ("can", "not"), "won't": ("will", "not"), "cannot": ("can", "not")}
_SUFFIXES = {"n't": "not", "'ve": "have", "'d": "had", "'re": "are", "'m": "am", "'ll": "will"}


def tokenize(sentence: str) -> list[Token]:
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


# --- the parser --------------------------------------------------------------------------------------------------


MAX_PHRASE = 8
"""Noun phrases are short; a longer run of nouns is cut to its last (or first) words."""
MAX_PARENTHESIS = 8
"""A comma-enclosed aside between a subject and its verb ("Bruno, as always, merged") is at most this long."""
_FUNCTION_WORDS = (
    DETERMINERS | AUXILIARIES | COORDINATORS | SUBORDINATORS | RELATIVE_PERSON | RELATIVE_ANY | PREPOSITIONS | NEGATIONS
)
_PRONOUNS = PERSON_PRONOUNS | GROUP_PRONOUNS | SPEAKER_PRONOUNS | NEGATIVE_PRONOUNS | {"it"}
_BE = frozenset({"was", "were", "is", "are", "been", "being", "be", "got"})


@dataclass(frozen=True, slots=True)
class Phrase:
    """A noun phrase: tokens[start:end]."""

    start: int
    end: int
    kind: Kind
    text: str


class Sentence:
    """One sentence's tokens, the text patterns are matched on (`joined`), and how to find who acts in it.

    `people` are lowercased names known to be people (the postmortem's authors and owners).
    """

    def __init__(self, text: str, people: frozenset[str]) -> None:
        self.text = text
        self.people = people
        self.tokens = tokenize(text)
        self.starts: list[int] = []
        position = 1
        for token in self.tokens:
            self.starts.append(position)
            position += len(token.low) + 1
        self.joined = " " + " ".join(token.low for token in self.tokens) + " "

    def index_at(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) - 1

    def phrase(self, start: int, end: int) -> str:
        """The words of tokens[start:end] as written, contractions joined again ("didn't")."""
        text = ""
        for token in self.tokens[start:end]:
            text += token.text if token.text[:1] == "'" or token.text.lower() == "n't" else f" {token.text}"
        return text.strip()

    def matched(self, match: re.Match[str], *, through: int | None = None) -> str:
        """The words of a match on `joined` (up to token `through`), as written."""
        last = self.index_at(match.end() - 1) if through is None else through
        if BAD_OR_INCIDENT.match(self.low(last)):  # "pushed a bad" -> "pushed a bad config"
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
        if self.timeline_present(index):
            return True
        return (
            low.endswith("ed") and len(low) > 3 and low not in ED_NON_VERBS and self.low(index - 1) not in DETERMINERS
        )

    def timeline_present(self, index: int) -> bool:
        """Whether tokens[index] is the present-tense verb of a timeline note, a time and a name before it:
        "09:58 Fenna runs DROP TABLE"."""
        low = self.low(index)
        if index < 2 or len(low) < 4 or not low.endswith("s") or low.endswith("ss"):
            return False
        return _looks_like_name(self.tokens[index - 1]) and self.starts_sentence(index - 1)

    def is_adverb(self, index: int) -> bool:
        token = self.tokens[index]
        lowercase = token.text[:1].islower() or (index == 0 and token.low not in GIVEN_NAMES)  # "Apparently Leo"
        return token.low.endswith("ly") and len(token.low) > 4 and lowercase

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
            before = start - (3 if self.low(start - 2) in POSTNOMINALS else 2)  # "the SRE responsible for ..."
            head = self.phrase_ending_at(before, hops=hops - 1)
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

    def person_before(self, index: int) -> bool:
        """Whether a role or a name comes before tokens[index]: who "they" most likely refers to."""
        return any(
            self.low(k) in PERSON_ROLES
            or (k > 0 and _looks_like_name(self.tokens[k]) and self.classify(k, k + 1) is Kind.PERSON)
            for k in range(index)
        )

    def person_starting_at(self, start: int) -> Phrase | None:
        """The longest phrase from tokens[start] that names a person: "Dave" in "why didn't Dave check".

        Not a possessive cut from its noun: in "thanks to Raj's heads-up" the heads-up is the subject.
        """
        phrase = self.phrase_starting_at(start)
        whole = phrase.end if phrase else start
        for end in range(whole, start, -1):
            if (end == whole or self.verb_like(end)) and self.classify(start, end) in PERSONS:
                return self.make_phrase(start, end)
        return None

    def verb_like(self, index: int) -> bool:
        """Whether tokens[index], taken into a noun phrase, reads as the verb after it: "Dave check the",
        "Greg running a", but not "operator error" or "Raj's heads-up"."""
        if re.search(r"(?:'s|s')$", self.low(index - 1)):
            return False
        after = self.low(index + 1)
        return self.low(index).endswith("ing") or after in DETERMINERS or after in _PRONOUNS or after in PREPOSITIONS

    def owner_starting_at(self, start: int) -> Phrase | None:
        """For "Felipe's last-minute edit", Felipe's: the person a phrase from tokens[start] belongs to."""
        phrase = self.phrase_starting_at(start)
        if phrase is None:
            return None
        end = next((k + 1 for k in range(start, phrase.end) if re.search(r"(?:'s|s')$", self.low(k))), None)
        return self.make_phrase(start, end) if end is not None and self.classify(start, end) in PERSONS else None

    def make_phrase(self, start: int, end: int) -> Phrase:
        kind = self.classify(start, end)
        if kind in PERSONS:  # "It seems Maria" -> "Maria"
            start = next((i for i in range(start, end - 1) if self.tokens[i].text[:1].isupper()), start)
        return Phrase(start, end, kind, self.phrase(start, end))

    def classify(self, start: int, end: int) -> Kind:
        content = [token for token in self.tokens[start:end] if token.low not in DETERMINERS]
        if not content:
            return Kind.UNKNOWN
        if len(content) > 1 and content[-1].low in POSTNOMINALS and self.low(end - 1) in POSTNOMINALS:
            return self.classify(start, end - 1)  # "the engineer responsible"
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
        if len(content) == 1 and low in TEAM_WORDS and head.text[:1].isupper() and self.low(start) == low:
            return Kind.PERSON  # "Security rotated the keys", not "the security of the keys"
        if low in ROLES_BY_MODIFIER and any(word.low in ROLES_BY_MODIFIER[low] for word in content[:-1]):
            return Kind.PERSON
        if low in PERSON_ROLES:
            technical = any(word.low in SYSTEM_NOUNS or word.low in TECH_NAMES for word in content[:-1])
            return Kind.SYSTEM if low in AMBIGUOUS_ROLES and technical else Kind.PERSON
        if low in SYSTEM_NOUNS or low in TECH_NAMES:
            return Kind.SYSTEM
        return self.classify_name(content, end)

    def classify_name(self, content: list[Token], end: int) -> Kind:
        """Capitalised words at the end of a phrase: a person when a name is among them or they look like names.

        Only at the start of a sentence is a capitalised word as likely an ordinary noun ("Replication
        lagged"): there it must also be shaped like a name. A name after other words ("It's fair to say
        Quentin") is a probable person.
        """
        names: list[Token] = []
        for token in reversed(content):
            if not _looks_like_name(token):
                break
            names.insert(0, token)
        if not names or len(names) > 3:
            return Kind.UNKNOWN
        start = end - len(names)
        lows = [re.sub(r"(?:'s|')$", "", token.low) for token in names]
        if any(low in GIVEN_NAMES for low in lows) or self.low(start - 1) in TITLES or self.low(start - 2) in TITLES:
            return Kind.PERSON
        if self.starts_sentence(start) and (lows[0] in IMPERATIVES or lows[0].endswith("ing")):
            return Kind.UNKNOWN  # "Ask ...", "Restarting every broker ..."
        shaped = not self.starts_sentence(start) or all(_name_shaped(low) for low in lows)
        if len(names) < len(content):
            return Kind.PROBABLE_PERSON if shaped else Kind.UNKNOWN
        return Kind.PERSON if shaped else Kind.PROBABLE_PERSON

    def starts_sentence(self, index: int) -> bool:
        """Whether only numbers and punctuation ("14:02 -") come before tokens[index]."""
        return not any(token.is_word for token in self.tokens[:index])

    # subjects

    def subject_before(self, index: int, depth: int = 0) -> Phrase | None:
        """The grammatical subject of the verb at tokens[index]."""
        j = self.skip_back(index - 1)
        if j < 0:
            return None
        low = self.low(j)
        if low in RELATIVE_PERSON or low in RELATIVE_ANY:
            return self.antecedent(j)
        if low == ",":
            aside = self.parenthesis_before(j)
            if aside is not None:
                j = self.skip_back(aside - 1)
                low = self.low(j)
        if low in COORDINATORS or low == ",":
            return self.shared_subject(j, depth)
        phrase = self.phrase_ending_at(j)
        relative = self.relative_clause_head(phrase.start - 1 if phrase else j)
        return relative or phrase

    def skip_back(self, j: int) -> int:
        """The last index at or before j that is not an auxiliary, a negation or an adverb."""
        while j >= 0 and (self.low(j) in AUXILIARIES or self.low(j) in NEGATIONS or self.is_adverb(j)):
            j -= 1
        return j

    def parenthesis_before(self, comma: int) -> int | None:
        """For the second comma of "Bruno, as always, merged", the index of the first one."""
        for k in range(comma - 1, max(comma - MAX_PARENTHESIS - 2, 0), -1):
            low = self.low(k)
            if low == ",":
                return k if k < comma - 1 else None
            if self.is_verb(k) or low in COORDINATORS or low in RELATIVE_PERSON or low in RELATIVE_ANY:
                return None
            if not self.tokens[k].is_word and not low[:1].isdigit():
                return None
        return None

    def antecedent(self, relative: int) -> Phrase | None:
        """What "who", "that" or "which" at tokens[relative] refers to."""
        if self.low(relative) in RELATIVE_PERSON and self.low(relative - 1) == "one":
            return self.the_one(relative - 1)
        antecedent = self.phrase_ending_at(relative - 2 if self.low(relative - 1) == "," else relative - 1, hop=False)
        if antecedent is None or self.low(relative) not in RELATIVE_PERSON:
            return antecedent  # None for "about who pushed it": no one in particular
        # "who" refers to a person: "It was Dave who ...", but not "Ask who ..."
        if antecedent.kind is Kind.PROBABLE_PERSON and antecedent.start == 0 and self.low(relative - 1) != ",":
            return None
        kind = Kind.PERSON if antecedent.kind is Kind.PROBABLE_PERSON else antecedent.kind
        return Phrase(antecedent.start, antecedent.end, kind, antecedent.text)

    def the_one(self, one: int) -> Phrase:
        """For "Anneke was the one who ...", Anneke; for "the one who ...", the one (someone)."""
        start = one - 1 if self.low(one - 1) in DETERMINERS else one
        if self.low(start - 1) in {"was", "is"}:
            subject = self.subject_before(start - 1)
            if subject is not None and subject.kind in PERSONS:
                return subject
        return Phrase(start, one + 1, Kind.PERSON, self.phrase(start, one + 1))

    def relative_clause_head(self, index: int) -> Phrase | None:
        """For "the engineer who was on call forgot", the noun the relative clause before the verb belongs to."""
        seen_verb = False
        for k in range(index, max(index - 8, -1), -1):
            low = self.low(k)
            passable = self.tokens[k].is_word or low[:1].isdigit() or low == ":"
            if not passable or low in COORDINATORS or low in SUBORDINATORS:
                return None
            if low == "whoever":  # "Whoever approved this change forgot": a person, unnamed
                return Phrase(k, k + 1, Kind.PERSON, self.tokens[k].text) if seen_verb else None
            if low in RELATIVE_PERSON or low in RELATIVE_ANY:
                return self.antecedent(k) if seen_verb else None
            seen_verb = seen_verb or self.is_verb(k)
        return None

    def shared_subject(self, boundary: int, depth: int) -> Phrase | None:
        """For "X did this and then forgot", the subject of the verb before the coordinator.

        A subordinator right before the coordinator is an adverb ("knew a week before and did nothing"). A
        subject that is no person and opens an embedded clause ("Mateo knew the job was failing and did
        nothing", "Fatima turned it off because it was noisy and never ...") gives way to the person before it.
        """
        if depth >= 3:
            return None
        k = boundary - 1
        while k >= 0 and self.passable(k) and (self.low(k) not in SUBORDINATORS or k == boundary - 1):
            if self.is_verb(k):
                subject = self.subject_before(k, depth + 1)
                if subject is not None and subject.kind not in PERSONS and self.embedded(subject.start):
                    outer = self.shared_subject(subject.start - 1, depth + 1)
                    return outer if outer is not None and outer.kind in PERSONS else subject
                return subject
            k -= 1
        start = k + 1
        while start < boundary and not self.is_noun_word(start) and self.low(start) not in DETERMINERS:
            start += 1
        return self.phrase_starting_at(start) if start < boundary else None

    def embedded(self, start: int) -> bool:
        """Whether the clause whose subject starts at tokens[start] hangs off a verb or a subordinator."""
        before = self.low(start - 1)
        return before in SUBORDINATORS or before == "that" or (start > 0 and self.is_verb(start - 1))

    # actors of circumstances

    def clause_actor(self, index: int) -> Phrase | None:
        """Who does the act that the circumstance at tokens[index] ("without testing", "at once") qualifies.

        That is the actor of the nearest verb before it with one ("closed the ticket as resolved without
        ..." passes "resolved"), or of the relative clause it sits in ("a guard that refuses DELETE without a
        WHERE clause"), else the subject just before it or after a fronted circumstance.
        """
        k = index - 1
        while k >= 0 and self.passable(k) and self.low(k) not in SUBORDINATORS:
            if self.low(k) in RELATIVE_PERSON or self.low(k) in RELATIVE_ANY:
                antecedent = self.antecedent(k)
                sentential = self.low(k) == "which" and self.low(k - 1) == ","  # "..., which made it worse"
                if not sentential or (antecedent is not None and antecedent.kind in PERSONS):
                    return antecedent
            elif self.is_verb(k) and (actor := self.actor_of(k)) is not None:
                return actor
            k -= 1
        return self.subject_before(index) or self.fronted_actor(index)

    def verb_before(self, index: int) -> int | None:
        """The nearest verb before tokens[index] in the same clause."""
        k = index - 1
        while k >= 0 and self.passable(k) and self.low(k) not in SUBORDINATORS:
            if self.is_verb(k):
                return k
            k -= 1
        return None

    def passable(self, index: int) -> bool:
        """Whether a search for a verb goes on past tokens[index]: a word, a comma or part of a time ("16:40")."""
        low = self.low(index)
        return self.tokens[index].is_word or low in {",", "'"} or low[:1].isdigit() or low == ":"

    def actor_of(self, verb: int) -> Phrase | None:
        """The subject of the verb at tokens[verb], or for a passive its agent ("pushed by Karim"), if any."""
        if self.low(self.skip_back(verb - 1) + 1) in _BE or self.low(verb - 1) in _BE:
            by = next((k for k in range(verb + 1, min(verb + 5, len(self.tokens))) if self.low(k) == "by"), None)
            return self.phrase_starting_at(by + 1) if by is not None else None
        return self.subject_before(verb)

    def fronted_actor(self, index: int) -> Phrase | None:
        """For "Despite clear instructions, Beatriz ran ...", the subject after the comma."""
        if not self.opens_clause(index):
            return None
        comma = next((k for k in range(index + 1, min(index + 12, len(self.tokens))) if self.low(k) == ","), None)
        if comma is None:
            return None
        verb = next((k for k in range(comma + 1, min(comma + 10, len(self.tokens))) if self.is_verb(k)), None)
        return self.actor_of(verb) if verb is not None else None

    def explained_before(self, index: int) -> bool:
        """Whether a reason that is no person comes first: "Because the dashboards lagged, the responders ...", "The
        dashboards were misleading, so the responders restarted the wrong tier"."""
        first = next((k for k, token in enumerate(self.tokens) if token.is_word), None)
        if first is None or first >= index:
            return False
        if self.low(first) in {"because", "since"}:
            reason = self.phrase_starting_at(first + 1)
        elif any(self.low(k) == "so" and self.low(k - 1) == "," for k in range(first, index)):
            reason = self.phrase_starting_at(first)
        else:
            return False
        return reason is not None and reason.kind is Kind.SYSTEM

    def excused(self, index: int) -> bool:
        """Whether the sentence explains the failure at tokens[index] by the system, or shows the act was
        sanctioned.

        Explained: "... because both clusters have the same name" (a reason that is no person), "..., but the
        routing rule was wrong", "..., which the hotfix process does not require", "..., as the runbook says", and
        a system reason given first (`explained_before`), a fault in what the act used ("deployed release 8.1,
        which contained the regression"). ", as usual" explains nothing: it makes the act a habit.
        Sanctioned: "... on schedule", "... as agreed", "... by default", "... with the IC's approval", "... after
        the dashboard showed zero requests" (what was checked first), "ran the documented upgrade" (unless the
        sentence denies it: "did not follow the documented process").
        """
        rest = " ".join(token.low for token in self.tokens[index + 1 :])
        if _SANCTIONED.search(rest) or self.explained_before(index):
            return True
        if _PLANNED.search(rest) and not any(token.low in NEGATIONS for token in self.tokens):
            return True
        for k in range(index + 1, len(self.tokens)):
            low = self.low(k)
            if low == "as" and self.low(k + 1) in _HABITUAL:
                continue
            if low == "because":
                reason = self.phrase_starting_at(k + (2 if self.low(k + 1) == "of" else 1))
                return reason is None or (reason.kind not in PERSONS and self.low(reason.end - 1) not in PRESSURES)
            if low == "but" or (low in {"which", "as"} and self.low(k - 1) == ","):
                reason = self.phrase_starting_at(k + 1)
                if (
                    reason is not None
                    and reason.kind in (Kind.SYSTEM, Kind.UNKNOWN)
                    and not _INCIDENT.match(self.low(reason.end - 1))
                ):
                    return True
        return False


PERSONS = (Kind.PERSON, Kind.PROBABLE_PERSON)
_PLANNED = re.compile(r"(?:^| )(?:the|a|an) (?:documented|approved|planned|scheduled|agreed|standard) [\w-]+")
_HABITUAL = frozenset({"usual", "always", "ever"})
_SANCTIONED = re.compile(
    r"(?:^| )(?:, which (?:contained|had|included|carried|hid)|on schedule|"
    r"as (?:planned|scheduled|agreed|designed|documented|instructed|requested|asked)|"
    r"by (?:default|design)|with (?:[\w'-]+ ){0,3}?(?:approval|sign-off|permission|consent)|"
    r"after (?:(?!and |but )[\w'-]+ ){1,5}?(?:showed|confirmed|passed|approved|agreed|asked|verified|signed off))"
    r"(?= |$)"
)
_INCIDENT = re.compile(rf"^(?:{INCIDENT_NOUNS}|damage|harm)$")  # "..., but the damage was done" excuses nothing


def _looks_like_name(token: Token) -> bool:
    text = re.sub(r"(?:'s|')$", "", token.text)
    return (
        len(text) >= 2
        and text[0].isupper()
        and text[1:].replace("-", "").isalpha()
        and not text[1:].isupper()
        and text.lower() not in CALENDAR_WORDS
    )


def _name_shaped(low: str) -> bool:
    return low in GIVEN_NAMES or not low.endswith(COMMON_NOUN_ENDINGS)
