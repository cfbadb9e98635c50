"""Blame detection: does a sentence make a person the actor of a failure?

A word list cannot tell "Dave missed the page" from "the alert missed the spike", so this is a small
heuristic parser of English postmortem prose (`review.parse`) and a lexicon of failure phrases
(`review.patterns`):

    text ── split_sentences() ──> sentences ── tokenize() ──> tokens
    tokens ── patterns ──> failures: predicates ("missed", "forgot", "pushed a bad config", "should have
                           known", "careless", "did not check", "never answered"), circumstances of any act
                           ("without testing", "despite the warnings", "every pod at once", "by mistake",
                           "again", "to save time", "even though", "during the freeze"), agent forms ("was
                           ignored by ops", "Dave's mistake", "thanks to Edgar, ... was down", "traces back to
                           Sven's decision"), causes framed as a person's act ("the outage happened because
                           Pieter deleted ...", "Root cause: Priyanka ran ...") and sarcastic praise ("Great
                           job, Desmond, deploying straight to prod")
    failure ── Sentence.subject_before() / clause_actor() / the agent form ──> its actor; for a predicate told
               in the passive, its "by" agent; for "Finn's plan was never tested", the owner of the work
    actor ── Sentence.classify() ──> person | probable person | "they" | "we" | nobody | system | unknown
        person: a given name or a capitalised word shaped like one, an author or owner of this postmortem, an
                @handle, a role ("the junior engineer", "QA", "the on-call", "the night shift"), a department
                written as a team ("Security", "Platform"), "he"/"she"/"I"/"someone"/"whoever";
        system: "the deploy pipeline", "a config change", "the alert", Kafka, ...

A sentence blames when a person is the actor of a failure. Failures only people can have ("forgot", "was
careless", "without testing") also blame a *probable* person (a capitalised word that ends like a common
noun, such as "Anders") and "they". "We" never blames: it is how blameless write-ups speak of the team.
Passives only people can be the agent of ("the warning was overlooked") and "human error" blame someone
unnamed. Failure verbs under negation ("never missed a page") do not count, nor do marks of a habit or a
shortcut on an act that finds or fixes ("rolled back again"), nor a failure the sentence explains by the
system ("restarted the wrong cluster because both clusters have the same name", "the dashboards were
misleading, so ...") or shows was sanctioned ("on schedule", "as agreed", "with the IC's approval").
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from service.review import scorer
from service.review.lexicon import (
    ATTACHING_PREPOSITIONS,
    NEGATIONS,
    REMEDIAL_GERUNDS,
    REMEDIAL_VERBS,
    SUBORDINATORS,
    WORK_PRODUCTS,
)
from service.review.parse import PERSONS, Kind, Phrase, Sentence, split_sentences
from service.review.patterns import (
    AGENTLESS,
    ATTRIBUTED_TO,
    BAD_OR_INCIDENT,
    CAUSE_FRAME,
    CIRCUMSTANCES,
    CONSEQUENCE,
    DENIAL_AFTER,
    DENIAL_BEFORE,
    ERROR_BY,
    FAULT_WITH,
    HARM,
    HUMAN_ERROR,
    JUDGED,
    NEGATED_PASSIVE,
    NOBODY_IN,
    PASSIVE,
    PASSIVE_FAILURE,
    POSSESSIVE,
    PRAISE,
    PREDICATES,
    SARCASTIC_FAILURE,
    SIGNAL_NOUNS,
    THANKS_TO,
    WHY_NOT,
    WOULD_HAVE,
    Category,
    Predicate,
)

_BEFORE_VERB = frozenset({"had", "has", "have", "then", "also", "just", "simply"})
"""Words between a framed cause's person and their act: "because Tariq had just restarted ..."."""
_STATES = frozenset({"was", "were", "is", "are", "had", "has", "have", "did", "knew", "thought"})
"""Verbs after a framed cause's person that state rather than act: "because Tariq was on leave"."""
_PASSIVE_AUXILIARIES = frozenset({"was", "were", "is", "are", "been", "being", "got"})
_OWNED_FAILURE = re.compile(r"never |broke|took down|brought down|corrupted|overloaded|caused|triggered|introduced")
"""Failures of a work product that are its author's: it was never tested, or it broke something."""

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
    sure: bool = True
    """Found by a rule, or by the learned scorer with a score at which it is as precise as the rules. The scorer's
    other findings are right about nine times in ten on text it has not seen: too often wrong to block a review."""


Found = tuple[int, BlameMatch]
"""A match and the token it starts at: a sentence reports its first."""


def find_blame(text: str, people: Iterable[str] = ()) -> list[BlameMatch]:
    """Every sentence of `text` that makes a person the actor of a failure (at most one match per sentence).

    `people` are names known to be people (e.g. the postmortem's authors), matched case-insensitively.
    """
    known = frozenset(name.strip().lstrip("@").lower() for name in people if name.strip())
    matches = []
    for sentence in split_sentences(text):
        match = _blame_in_sentence(sentence, known) or _scored_blame(sentence, known)
        if match is not None:
            matches.append(match)
    return matches


def blamed_by_rules(sentence: str) -> bool:
    """Whether the phrase rules alone flag `sentence`: training measures the scorer beside them."""
    return _blame_in_sentence(sentence, frozenset()) is not None


def _scored_blame(text: str, people: frozenset[str]) -> BlameMatch | None:
    """The learned scorer's verdict on a sentence the rules pass; it has no category, so it is a judgement."""
    model = scorer.load()
    scored = model.flags(text, people)
    if scored is None:
        return None
    sure = scored.probability >= model.error_threshold
    return BlameMatch(text, scored.actor or UNNAMED, scored.phrase, Category.JUDGEMENT, sure=sure)


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
        *_framed_causes(sentence),
        *_sarcasm(sentence),
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
                if predicate.remedial_exempt and _remedial(sentence, index):
                    continue
                subject = actor(index)
                if subject is not None and not _blames(sentence, subject, predicate):
                    end = sentence.index_at(match.end() - 1)
                    subject = _passive_agent(sentence, index, end) or _owner_of_work(sentence, subject, match.group(0))
                if subject is not None and _blames(sentence, subject, predicate):
                    phrase = sentence.matched(match)
                    actor_text = re.sub(r"(?:'s|')$", "", subject.text)
                    found.append((index, BlameMatch(sentence.text, actor_text, phrase, predicate.category)))
    return found


def _passive_agent(sentence: Sentence, index: int, end: int) -> Phrase | None:
    """For "the credentials were pasted into a public channel by an engineer", the engineer: the agent of a
    failure told in the passive."""
    if sentence.low(sentence.skip_back(index - 1) + 1) not in _PASSIVE_AUXILIARIES:
        return None
    by = next((k for k in range(end + 1, min(end + 5, len(sentence.tokens))) if sentence.low(k) == "by"), None)
    return sentence.person_starting_at(by + 1) if by is not None else None


def _owner_of_work(sentence: Sentence, subject: Phrase, failure: str) -> Phrase | None:
    """For "Finn's rollback plan", Finn: what a person made that was never tested, or that broke something, is a
    failure of theirs. Not that it "did not finish": things fail to do things on their own."""
    if sentence.low(subject.end - 1) not in WORK_PRODUCTS or not _OWNED_FAILURE.match(failure):
        return None
    return sentence.owner_starting_at(subject.start)


def _framed_causes(sentence: Sentence) -> list[Found]:
    """A person's act given as the cause: "the outage happened because Pieter deleted the record", "Root cause:
    Priyanka ran the cleanup job". Acts that find or fix ("because Ana noticed ...") are no cause."""
    found = []
    for match in CAUSE_FRAME.finditer(sentence.joined):
        subject = sentence.phrase_starting_at(sentence.index_at(match.end() + 1))
        if subject is None or subject.kind is not Kind.PERSON:
            continue
        verb = subject.end
        if sentence.low(verb) in ATTACHING_PREPOSITIONS:  # "an engineer on the growth team made ..."
            attached = sentence.phrase_starting_at(verb + 1)
            verb = attached.end if attached is not None else verb
        while sentence.low(verb) in _BEFORE_VERB or (verb < len(sentence.tokens) and sentence.is_adverb(verb)):
            verb += 1
        if not sentence.is_verb(verb) or sentence.low(verb) in REMEDIAL_VERBS | _STATES:
            continue
        phrase = sentence.phrase(subject.start, verb + 1)
        found.append((verb, BlameMatch(sentence.text, subject.text, phrase, Category.CAUSE)))
    return found


def _sarcasm(sentence: Sentence) -> list[Found]:
    """Praise for a person that opens a sentence about a failure: "Great job, Desmond, deploying straight to prod",
    "Thanks, Quinn, for deploying a config that pointed production at the test database". Praise for finding or
    fixing ("Great job, Nadia, catching the bad config") is praise."""
    match = PRAISE.search(sentence.joined)
    if match is None:
        return []
    start = sentence.index_at(match.end() + 1)
    start += sentence.low(start) == ","
    person = sentence.person_starting_at(start)
    if person is None or any(sentence.low(k) in REMEDIAL_GERUNDS for k in range(person.end, person.end + 4)):
        return []
    rest = " " + " ".join(token.low for token in sentence.tokens[person.end :]) + " "
    patterns = [predicate.pattern for predicate in (*PREDICATES, *CIRCUMSTANCES)] + [SARCASTIC_FAILURE]
    failure = next((found for pattern in patterns if (found := pattern.search(rest)) is not None), None)
    if failure is None:
        return []
    opening = sentence.index_at(match.start() + 1)
    praise = sentence.phrase(opening, person.end)
    blamed = BlameMatch(sentence.text, person.text, f"{praise} ... {failure.group(0)}", Category.JUDGEMENT)
    return [(opening, blamed)]


def _remedial(sentence: Sentence, index: int) -> bool:
    """Whether the act qualified at tokens[index] finds or fixes a failure: "rolled back again" is no habit."""
    verb = sentence.verb_before(index)
    return verb is not None and sentence.low(verb) in REMEDIAL_VERBS


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
    candidates += [
        _person_after(sentence, match, Category.OMISSION) for match in NEGATED_PASSIVE.finditer(sentence.joined)
    ]
    for pattern, category in PERSON_AFTER:
        candidates += [_person_after(sentence, match, category) for match in pattern.finditer(sentence.joined)]
    candidates += [
        _person_after(sentence, match, Category.CAUSE, owner=True) for match in ATTRIBUTED_TO.finditer(sentence.joined)
    ]
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
