"""Blame detection: does a sentence make a person the actor of a failure?

A word list cannot tell "Dave missed the page" from "the alert missed the spike", so this is a small
heuristic parser of English postmortem prose (`review.parse`) and a lexicon of failure phrases
(`review.patterns`):

    text ── split_sentences() ──> sentences ── tokenize() ──> tokens
    tokens ── patterns ──> failures: predicates ("missed", "forgot", "pushed a bad config", "should have
                           known", "careless", "did not check", "never answered"), circumstances of any act
                           ("without testing", "despite the warnings", "every pod at once", "by mistake") and
                           agent forms ("was ignored by ops", "Dave's mistake", "thanks to Edgar, ... was down")
    failure ── Sentence.subject_before() / clause_actor() / the agent form ──> its actor
    actor ── Sentence.classify() ──> person | probable person | "they" | "we" | nobody | system | unknown
        person: a given name or a capitalised word shaped like one, an author or owner of this postmortem, an
                @handle, a role ("the junior engineer", "QA", "the on-call", "the night shift"), a department
                written as a team ("Security", "Platform"), "he"/"she"/"I"/"someone"/"whoever";
        system: "the deploy pipeline", "a config change", "the alert", Kafka, ...

A sentence blames when a person is the actor of a failure. Failures only people can have ("forgot", "was
careless", "without testing") also blame a *probable* person (a capitalised word that ends like a common
noun, such as "Anders") and "they". "We" never blames: it is how blameless write-ups speak of the team.
Passives only people can be the agent of ("the warning was overlooked") and "human error" blame someone
unnamed. Failure verbs under negation ("never missed a page") do not count, nor does a failure the sentence
goes on to explain by the system ("restarted the wrong cluster because both clusters have the same name").
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from service.review.lexicon import NEGATIONS, REMEDIAL_VERBS, SUBORDINATORS
from service.review.parse import PERSONS, Kind, Phrase, Sentence, split_sentences
from service.review.patterns import (
    AGENTLESS,
    BAD_OR_INCIDENT,
    CIRCUMSTANCES,
    CONSEQUENCE,
    DENIAL_AFTER,
    DENIAL_BEFORE,
    ERROR_BY,
    FAULT_WITH,
    HARM,
    HUMAN_ERROR,
    JUDGED,
    NOBODY_IN,
    PASSIVE,
    PASSIVE_FAILURE,
    POSSESSIVE,
    PREDICATES,
    SIGNAL_NOUNS,
    THANKS_TO,
    WHY_NOT,
    WOULD_HAVE,
    Category,
    Predicate,
)

UNNAMED = "someone"
"""The actor a finding names when the sentence names none ("the warning was overlooked", "human error")."""

# Forms where the person comes right after the words matched: "a mistake by the DBA", "the fault lies with QA",
# "a careless engineer", "why didn't Dave check".
PERSON_AFTER = (
    (ERROR_BY, Category.JUDGEMENT),
    (FAULT_WITH, Category.JUDGEMENT),
    (JUDGED, Category.JUDGEMENT),
    (WHY_NOT, Category.OMISSION),
)


@dataclass(frozen=True, slots=True)
class BlameMatch:
    sentence: str
    actor: str
    phrase: str
    category: Category


Found = tuple[int, BlameMatch]
"""A match and the token it starts at: a sentence reports its first."""


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


def _blame_in_sentence(text: str, people: frozenset[str]) -> BlameMatch | None:
    sentence = Sentence(text, people)
    found = [
        *_predicate_matches(sentence),
        *_agent_matches(sentence),
        *_possessives(sentence),
        *_counterfactuals(sentence),
        *_consequences(sentence),
        *_agentless_matches(sentence),
        *_human_errors(sentence),
    ]
    found = [(index, match) for index, match in found if not sentence.excused(index)]
    if not found:
        return None
    return min(found, key=lambda item: (item[1].actor == UNNAMED, item[0]))[1]  # the first that names someone


def _blames(sentence: Sentence, subject: Phrase, predicate: Predicate) -> bool:
    if subject.kind is Kind.PERSON:
        return True
    if subject.kind is Kind.GROUP and sentence.person_before(subject.start):
        return True  # "The on-call didn't know how, since they had never read the runbook"
    return subject.kind in (Kind.PROBABLE_PERSON, Kind.GROUP) and predicate.human_only


def _predicate_matches(sentence: Sentence) -> list[Found]:
    """Predicates with the subject before them, and circumstances with the actor of their clause."""
    found = []
    for predicates, actor in ((PREDICATES, sentence.subject_before), (CIRCUMSTANCES, sentence.clause_actor)):
        for predicate in predicates:
            for match in predicate.pattern.finditer(sentence.joined):
                index = sentence.index_at(match.start())
                if predicate.negatable and {sentence.low(index - 1), sentence.low(index - 2)} & NEGATIONS:
                    continue
                subject = actor(index)
                if subject is not None and _blames(sentence, subject, predicate):
                    phrase = sentence.matched(match)
                    found.append((index, BlameMatch(sentence.text, subject.text, phrase, predicate.category)))
    return found


def _person_after(sentence: Sentence, match: re.Match[str], category: Category, *, owner: bool = False) -> Found | None:
    """The match, if a person is named right after it (with `owner`, also as the owner: "by Felipe's edit")."""
    start = sentence.index_at(match.end() + 1)
    person = sentence.person_starting_at(start) or (sentence.owner_starting_at(start) if owner else None)
    if person is None:
        return None
    phrase = sentence.matched(match, through=person.end - 1)
    actor = re.sub(r"(?:'s|')$", "", person.text)
    return sentence.index_at(match.start()), BlameMatch(sentence.text, actor, phrase, category)


def _agent_matches(sentence: Sentence) -> list[Found]:
    """Forms where the person comes after the failure: passives, "mistake by", "thanks to", "nobody on"."""
    candidates: list[Found | None] = []
    for match in PASSIVE.finditer(sentence.joined):
        category = PASSIVE_FAILURE.get(match.group("participle"))
        if category is not None or _patient_is_bad(sentence, sentence.index_at(match.start())):
            candidates.append(_person_after(sentence, match, category or Category.CHANGE, owner=True))
    for pattern, category in PERSON_AFTER:
        candidates += [_person_after(sentence, match, category) for match in pattern.finditer(sentence.joined)]
    for match in THANKS_TO.finditer(sentence.joined):
        if HARM.search(sentence.joined, match.end()):  # "Thanks to Edgar, checkout was down for an hour"
            candidates.append(_person_after(sentence, match, Category.CAUSE))
    for match in NOBODY_IN.finditer(sentence.joined):  # "nobody on the platform team read the notice"
        group = sentence.phrase_starting_at(sentence.index_at(match.start("group")))
        if group is not None and group.kind in PERSONS:
            phrase = sentence.matched(match)
            candidates.append(
                (sentence.index_at(match.start()), BlameMatch(sentence.text, group.text, phrase, Category.OMISSION))
            )
    return [candidate for candidate in candidates if candidate is not None]


def _possessives(sentence: Sentence) -> list[Found]:
    """A person's failing named as theirs: "Dave's mistake", "Chloe's decision to skip the canary"."""
    found = []
    for match in POSSESSIVE.finditer(sentence.joined):
        owner = sentence.phrase_ending_at(sentence.index_at(match.start()), hop=False)
        if owner is not None and owner.kind in PERSONS:
            actor = re.sub(r"(?:'s|')$", "", owner.text)
            found.append((owner.start, BlameMatch(sentence.text, actor, sentence.matched(match), Category.JUDGEMENT)))
    return found


def _consequences(sentence: Sentence) -> list[Found]:
    """Harm told as what followed a person's act: "Stelian wiped the database, and the demo failed"."""
    found = []
    for match in CONSEQUENCE.finditer(sentence.joined):
        index = sentence.index_at(match.start())
        verb = sentence.verb_before(index)
        if verb is None or sentence.low(verb) in REMEDIAL_VERBS:  # "paged the DBA, and the replica crashed"
            continue
        actor = sentence.actor_of(verb)
        if actor is not None and actor.kind is Kind.PERSON:
            phrase = sentence.phrase(verb, sentence.index_at(match.end() - 1) + 1)
            found.append((index, BlameMatch(sentence.text, actor.text, phrase, Category.CAUSE)))
    return found


def _agentless_matches(sentence: Sentence) -> list[Found]:
    """Passives only a person can be the agent of, with no agent named: "the runbook was not followed"."""
    found = []
    for match in AGENTLESS.finditer(sentence.joined):
        end = sentence.index_at(match.end() - 1)
        if any(sentence.low(k) == "by" for k in range(end + 1, min(end + 4, len(sentence.tokens)))):
            continue  # an agent is named: the passive forms judge it
        index = sentence.index_at(match.start())
        patient = sentence.phrase_ending_at(sentence.skip_back(index - 1))
        if patient is None or patient.kind in PERSONS:
            continue
        if match.group("participle") == "ignored" and sentence.low(patient.end - 1) not in SIGNAL_NOUNS:
            continue  # "the header was ignored" is something code does
        phrase = sentence.phrase(patient.start, end + 1)
        found.append((index, BlameMatch(sentence.text, UNNAMED, phrase, Category.SIGNAL)))
    return found


def _human_errors(sentence: Sentence) -> list[Found]:
    """ "Human error", "operator error", "an engineer error", unless denied ("this was not human error")."""
    found = []
    for match in HUMAN_ERROR.finditer(sentence.joined):
        index = sentence.index_at(match.start())
        denied = {sentence.low(k) for k in range(index - 3, index)} & DENIAL_BEFORE
        if denied or DENIAL_AFTER.match(sentence.joined[match.end() :]):
            continue
        found.append((index, BlameMatch(sentence.text, UNNAMED, sentence.matched(match), Category.JUDGEMENT)))
    return found


def _counterfactuals(sentence: Sentence) -> list[Found]:
    """Hindsight as a condition: "If (only) Victor had read the runbook (Had Victor read ...), it would have ..."."""
    if not WOULD_HAVE.search(sentence.joined):
        return []
    found = []
    for index, token in enumerate(sentence.tokens):
        inverted = token.low == "had" and sentence.opens_clause(index)
        if token.low != "if" and not inverted:
            continue
        start = index + (2 if sentence.low(index + 1) == "only" else 1)
        subject = sentence.phrase_starting_at(start)
        if subject is None or subject.kind not in PERSONS:
            continue
        verb = subject.end
        if not inverted:
            if sentence.low(verb) != "had":
                continue
            verb += 1
        while sentence.low(verb) == "not" or (verb < len(sentence.tokens) and sentence.is_adverb(verb)):
            verb += 1
        phrase = sentence.phrase(index, verb + 1)
        found.append((index, BlameMatch(sentence.text, subject.text, phrase, Category.HINDSIGHT)))
    return found


def _patient_is_bad(sentence: Sentence, participle: int) -> bool:
    """For "X was pushed by Dave": is X a bad change or an incident ("a bad config", "the outage")?"""
    k = participle - 1
    while k >= 0 and sentence.tokens[k].is_word and sentence.low(k) not in SUBORDINATORS and participle - k <= 8:
        if BAD_OR_INCIDENT.match(sentence.low(k)):
            return True
        k -= 1
    return False
