"""The review rules: each reads a postmortem with its timeline and action items and returns findings.

blame-language            error    a sentence makes a person the actor of a failure (see `review.blame`)
human-error-root-cause    error    the root cause is, or stops at, "human error", "operator error", "a mistake"
vague-action-item         error    an action item that cannot be acted on: a vague verb with no object
                                   ("improve monitoring"), an exhortation ("be more careful"), a collective
                                   owner ("the team", "everyone")
                          warning  an action item with no owner, due date or priority
imprecise-data            warning  vague times or amounts in the timeline or impact ("about an hour",
                                   "around 3pm", "a few users"); no detection or resolution time
length-mismatch           info     a quick postmortem far longer than its template needs
                          warning  a P1 postmortem with empty sections, or on the quick template
missing-what-went-well    warning  a standard postmortem that records nothing under what went well
unlinked-repeat-incident  warning  a postmortem of the same failure mode or a shared service, created within
                                   90 days of this one, that `related_postmortem_ids` does not list
facilitator-involved      error    the review meeting's facilitator is one of the authors
                          warning  the review meeting is less than 24 h after the draft reached reviewers
                          info     a review meeting with no facilitator
"""

import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from service.action_items.models import ActionItem
from service.core.clock import utc_now
from service.postmortems.enums import Severity, Template
from service.postmortems.models import Impact, Postmortem, ReviewMeeting
from service.review.blame import UNNAMED, BlameMatch, find_blame
from service.review.lexicon import words
from service.review.models import Finding, Level, Rule
from service.review.parse import split_sentences
from service.review.patterns import Category
from service.timeline.models import TimelineEvent

EXCERPT_LENGTH = 300


@dataclass(frozen=True)
class RepeatCandidate:
    """Another postmortem that may be a repeat of this one."""

    id: uuid.UUID
    title: str
    created_at: datetime
    failure_mode: str | None
    services: list[str]


@dataclass(frozen=True)
class Document:
    """What the rules read: the postmortem, its timeline (in time order) and its action items."""

    postmortem: Postmortem
    events: Sequence[TimelineEvent] = ()
    items: Sequence[ActionItem] = ()
    repeats: Sequence[RepeatCandidate] = field(default_factory=list)
    now: datetime = field(default_factory=utc_now)

    @property
    def people(self) -> list[str]:
        """Names known to be people: the authors and the action items' owners."""
        return [*self.postmortem.authors, *(item.owner for item in self.items if item.owner)]


def _finding(rule: Rule, level: Level, field: str, excerpt: str | None, message: str, suggestion: str) -> Finding:
    if excerpt is not None and len(excerpt) > EXCERPT_LENGTH:
        excerpt = excerpt[: EXCERPT_LENGTH - 1].rstrip() + "\u2026"
    return Finding(rule=rule, level=level, field=field, excerpt=excerpt, message=message, suggestion=suggestion)


def narrative(document: Document) -> Iterator[tuple[str, str]]:
    """(field, text) of every prose field, in the standard template's order."""
    postmortem = document.postmortem
    if postmortem.summary:
        yield "summary", postmortem.summary
    if postmortem.impact and postmortem.impact.get("description"):
        yield "impact.description", postmortem.impact["description"]
    for event in document.events:
        yield f"timeline[{event.id}].description", event.description
    if postmortem.root_cause:
        yield "root_cause", postmortem.root_cause
    for index, why in enumerate(postmortem.five_whys):
        yield f"five_whys[{index}].question", why["question"]
        yield f"five_whys[{index}].answer", why["answer"]
    for name in ("contributing_factors", "what_went_well", "what_went_poorly"):
        for index, entry in enumerate(getattr(postmortem, name)):
            yield f"{name}[{index}]", entry
    if postmortem.lessons_learned:
        yield "lessons_learned", postmortem.lessons_learned


# --- blame-language ----------------------------------------------------------------------------------------------

REWRITE = "Rewrite with the system as the subject: what happened, and which safeguard was missing"
BLAME_SUGGESTIONS = {
    Category.CHANGE: f"{REWRITE}, e.g. 'A config change reached production without validation'.",
    Category.SIGNAL: f"{REWRITE}, e.g. 'The alert fired in a channel that is muted at night, so no one saw it'.",
    Category.OMISSION: (
        f"{REWRITE}, e.g. 'The release checklist does not include the migration, and nothing checks that it ran'."
    ),
    Category.SPEED: (
        f"{REWRITE}, with the times, e.g. 'The page was acknowledged 25 minutes after it fired; "
        "the escalation policy has no second tier'."
    ),
    Category.JUDGEMENT: (
        f"{REWRITE}; judge no one, e.g. 'The console drops a production table without asking for confirmation'."
    ),
    Category.HINDSIGHT: (
        f"{REWRITE}, as it looked at the time, e.g. 'The dashboard did not show replica lag, so the failover "
        "looked safe'."
    ),
    Category.CAUSE: f"{REWRITE}, e.g. 'A config change reached production without validation and broke checkout'.",
}


def blame_language(document: Document) -> list[Finding]:
    root_cause_fields = {field_name for field_name, _ in root_causes(document)}
    findings = []
    for field_name, text in narrative(document):
        for match in find_blame(text, document.people):
            if match.actor == UNNAMED and field_name in root_cause_fields and _human_error_in(match.sentence):
                continue  # a root cause of "Operator error." names no one: human-error-root-cause reports it
            findings.append(_blame_finding(field_name, match))
    return findings


def _blame_finding(field_name: str, match: BlameMatch) -> Finding:
    """An error, which blocks completion, when the match is sure; a warning when only the learned scorer judged
    it, and not surely (`BlameMatch.sure`)."""
    if match.sure:
        level, claim = Level.ERROR, f"'{match.actor}' is made the actor of a failure: '{match.phrase}'."
    else:
        level, claim = Level.WARNING, f"This reads as blaming '{match.actor}' ('{match.phrase}')."
    message = f"{claim} A blameless postmortem describes what the system allowed, not who slipped."
    return _finding(Rule.BLAME_LANGUAGE, level, field_name, match.sentence, message, BLAME_SUGGESTIONS[match.category])


# --- human-error-root-cause --------------------------------------------------------------------------------------

HUMAN_ERROR = re.compile(
    r"\b(?:(?:human|operator|user|engineer|engineering|manual|personnel|pilot|people|staff|individual|honest)"
    r"[- ](?:errors?|mistakes?|failures?)|human factors?|mistakes?|mistakenly|oversights?|fat[- ]finger(?:ed|ing)?|"
    r"carelessness|negligence|pebkac|layer 8|lapses? (?:in|of) (?:attention|judge?ment|concentration)|"
    r"(?:procedure|process|runbook|checklist|protocol) (?:was|were) not followed|"
    r"not following (?:the )?(?:procedure|process|runbook|checklist|protocol))\b",
    re.IGNORECASE,
)
_DENIED = re.compile(
    r"\b(?:not|no|never|rather than|instead of|isn't|wasn't|is not|was not|beyond|than|other than)\W+(?:\w+\W+){0,2}$",
    re.IGNORECASE,
)
HUMAN_ERROR_SUGGESTION = (
    "Keep asking why: why was the mistake possible, and why did nothing catch it before it reached users? "
    "State that missing safeguard as the root cause, e.g. 'The config loader accepts a timeout of 0 because it "
    "has no range validation'."
)


def root_causes(document: Document) -> list[tuple[str, str]]:
    """(field, text) of the root cause, and of the last of the five whys (where the chain stops)."""
    postmortem = document.postmortem
    candidates = []
    if postmortem.root_cause:
        candidates.append(("root_cause", postmortem.root_cause))
    if postmortem.five_whys:
        last = len(postmortem.five_whys) - 1
        candidates.append((f"five_whys[{last}].answer", postmortem.five_whys[last]["answer"]))
    return candidates


def human_error_root_cause(document: Document) -> list[Finding]:
    """The root causes (see `root_causes`), checked for human error."""
    findings = []
    for field_name, text in root_causes(document):
        sentences = split_sentences(text)
        stated = next((found for sentence in sentences if (found := _human_error_in(sentence))), None)
        if stated is not None:
            sentence, phrase = stated
            message = f"The root cause stops at human error ('{phrase}'): it says who slipped, not why it mattered."
        elif sentences and (blamed := [match for match in find_blame(sentences[0], document.people) if match.sure]):
            sentence = blamed[0].sentence
            message = f"The root cause is a person's action ('{blamed[0].actor}' ... '{blamed[0].phrase}')."
        else:
            continue
        findings.append(
            _finding(Rule.HUMAN_ERROR_ROOT_CAUSE, Level.ERROR, field_name, sentence, message, HUMAN_ERROR_SUGGESTION)
        )
    return findings


def _human_error_in(sentence: str) -> tuple[str, str] | None:
    for match in HUMAN_ERROR.finditer(sentence):
        if not _DENIED.search(sentence[: match.start()]):
            return sentence, match.group(0)
    return None


# --- vague-action-item -------------------------------------------------------------------------------------------

_VAGUE_VERB = re.compile(
    r"^(?:look into|follow[- ]up(?: on)?|clean up|work on|think about|get better at|do better at|improve|"
    r"investigate|review|monitor|fix|check|double-check|audit|revisit|discuss|consider|address|enhance|increase|"
    r"strengthen|add|update|document|educate|train|remind|communicate|handle|resolve|prevent|avoid|ensure|"
    r"evaluate|explore|research|understand|analy[sz]e|optimi[sz]e|refactor|harden)\b"
)
_EXHORTATION = re.compile(
    r"^(?:please )?(?:be (?:more |extra |very |a lot more )?(?:careful|vigilant|attentive|diligent|cautious|aware)|"
    r"pay (?:more |closer )?attention|try harder|remember to|don't forget|do not forget|take (?:more )?care|"
    r"stay alert|double[- ]check (?:everything|things|your work)|communicate better|do better)\b"
)
GENERIC_OBJECTS = words(
    """
    monitoring alerting alerts testing tests test coverage documentation docs process processes communication
    communications observability reliability stability tooling tools things it this that issue issues problem
    problems incident incidents outage outages situation root cause causes quality code performance resilience
    visibility metrics logging logs dashboards runbooks runbook awareness training team teams everyone engineers
    people staff practices procedures procedure checks safeguards security system systems infrastructure infra
    service services stuff handling response on-call oncall culture knowledge skills failure failures bug bugs
    error errors what happened deploys deployments releases changes
    """
)
_FILLER = words(
    """
    the a an our more better some further and of for on in to around overall general all any its their we us these
    those with up going forward future next time again etc as needed where possible properly accordingly this that
    """
)
COLLECTIVE_OWNERS = frozenset(
    {
        *words("team everyone everybody all us we engineering eng devs engineers staff people everyone"),
        *words("tbd tba n/a na none nobody someone anyone whoever unassigned unknown ? -"),
        "the team",
        "whole team",
        "the whole team",
        "all of us",
        "the engineers",
        "all engineers",
    }
)


def vague_action_item(document: Document) -> list[Finding]:
    findings = []
    for item in document.items:
        prefix = f"action_items[{item.id}]"
        vague = _vagueness(item.title)
        if vague is not None:
            findings.append(
                _finding(
                    Rule.VAGUE_ACTION_ITEM,
                    Level.ERROR,
                    f"{prefix}.title",
                    item.title,
                    f"'{item.title}' cannot be acted on: {vague}.",
                    "Name the concrete change and how to tell it is done, e.g. 'Alert when checkout 5xx exceeds 2% "
                    "for 5 minutes' instead of 'Improve monitoring'.",
                )
            )
        owner = (item.owner or "").strip()
        if owner and " ".join(owner.lstrip("@").lower().split()) in COLLECTIVE_OWNERS:
            findings.append(
                _finding(
                    Rule.VAGUE_ACTION_ITEM,
                    Level.ERROR,
                    f"{prefix}.owner",
                    owner,
                    f"'{owner}' is no one in particular: an item everyone owns is done by no one.",
                    "Give it one owner: a person or a team's on-call handle (e.g. '@payments-oncall').",
                )
            )
        for name, missing, suggestion in (
            ("owner", not owner, "Give it one owner: a person or a team's on-call handle (e.g. '@payments-oncall')."),
            ("due_date", item.due_date is None, "Set a due date; the item's priority sets how soon."),
            ("priority", item.priority is None, "Set a priority (P0, P1 or P2) so it is scheduled against other work."),
        ):
            if missing:
                findings.append(
                    _finding(
                        Rule.VAGUE_ACTION_ITEM,
                        Level.WARNING,
                        f"{prefix}.{name}",
                        None,
                        f"Action item '{item.title}' has no {name.replace('_', ' ')}.",
                        suggestion,
                    )
                )
    return findings


def _vagueness(title: str) -> str | None:
    """Why a title cannot be acted on, or None when it names something concrete."""
    text = " ".join(re.findall(r"[a-z0-9][a-z0-9'&/-]*", title.lower()))
    if _EXHORTATION.match(text):
        return "it asks people to try harder instead of changing the system"
    verb = _VAGUE_VERB.match(text)
    rest = text[verb.end() :] if verb else text
    objects = [word for word in rest.split() if word not in _FILLER]
    if all(word in GENERIC_OBJECTS for word in objects):
        if not objects:
            return "a verb with no object"
        return "a vague verb with no specific object" if verb else "no specific action"
    return None


# --- imprecise-data ----------------------------------------------------------------------------------------------

_NUMBER = (
    r"(?:an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"sixty|ninety|half an?|a couple of|a few|several|\d+(?:[.,]\d+)?)"
)
_APPROXIMATELY = (
    r"(?:\b(?:about|around|approximately|approx\.?|roughly|circa|ca\.|nearly|almost|maybe|perhaps)\s+|~\s*)"
)
_CLOCK = r"(?:\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\d{1,2}:\d{2}|noon|midnight|midday|lunch(?:time)?)"
VAGUE_TIME = re.compile(
    rf"{_APPROXIMATELY}{_NUMBER}(?:\s*(?:-|to|or)\s*{_NUMBER})?\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|"
    rf"weeks?)\b|{_APPROXIMATELY}{_CLOCK}|\b(?:sometime|some time|at some point|just after|just before)\s+"
    rf"(?:around\s+)?{_CLOCK}|\b(?:an? (?:hour|minute|day)|{_NUMBER} (?:minutes|hours|days)) or so\b|"
    r"\b(?:sometime|at some point|for a while|a while (?:later|after|before)|a bit later|a little later|"
    r"(?:early|late|mid)[- ](?:morning|afternoon|evening|night)|in the (?:morning|afternoon|evening|night)|"
    r"later that (?:day|morning|afternoon|evening|night)|overnight)\b",
    re.IGNORECASE,
)
VAGUE_AMOUNT = re.compile(
    r"\b(?:a few|a couple(?: of)?|several|some|many|a lot of|lots of|a bunch of|a handful of|a number of|"
    r"a (?:small|large|significant|huge|big|good) number of|a subset of|a portion of|a fraction of|most(?: of the)?|"
    r"numerous|countless|a majority of|a minority of|tons of|plenty of|hundreds of|thousands of|millions of|"
    r"dozens of)\s+(?:[a-z-]+\s+)?(?:users|customers|requests|orders|errors|calls|transactions|merchants|accounts|"
    r"pods|nodes|hosts|servers|instances|payments|messages|jobs|events|people|clients|tenants|sessions|records|"
    r"rows|emails|pages|regions|queries|sites|stores|devices|shoppers|members|subscribers|tickets|complaints|"
    r"failures|timeouts|retries|checkouts|logins|downloads|uploads)\b",
    re.IGNORECASE,
)
TIME_SUGGESTION = (
    "State the exact time in UTC (e.g. '14:05 UTC') or the duration the timeline shows (e.g. '47 minutes')."
)
AMOUNT_SUGGESTION = "State the measured figure and its source (e.g. '1,240 users, from the checkout error logs')."


def imprecise_data(document: Document) -> list[Finding]:
    postmortem = document.postmortem
    fields = [(f"timeline[{event.id}].description", event.description) for event in document.events]
    impact = postmortem.impact or {}
    fields += [
        (f"impact.{name}", impact[name]) for name in ("description", "revenue_impact", "sla_impact") if impact.get(name)
    ]
    findings = []
    for field_name, text in fields:
        for sentence in split_sentences(text):
            for pattern, suggestion in ((VAGUE_TIME, TIME_SUGGESTION), (VAGUE_AMOUNT, AMOUNT_SUGGESTION)):
                for match in pattern.finditer(sentence):
                    findings.append(
                        _finding(
                            Rule.IMPRECISE_DATA,
                            Level.WARNING,
                            field_name,
                            sentence,
                            f"'{match.group(0).strip()}' is vague where the figure should be precise.",
                            suggestion,
                        )
                    )
    for name, what, measure in (
        ("detected_at", "detected", "time to detect"),
        ("resolved_at", "resolved", "time to resolve"),
    ):
        if getattr(postmortem, name) is None:
            findings.append(
                _finding(
                    Rule.IMPRECISE_DATA,
                    Level.WARNING,
                    name,
                    None,
                    f"When the incident was {what} is not recorded, so its {measure} cannot be measured.",
                    f"Set `{name}` from the timeline (the first alert or report for detection, the last fix "
                    "confirmed for resolution).",
                )
            )
    return findings


# --- length-mismatch and missing-what-went-well ------------------------------------------------------------------

QUICK_WORD_BUDGET = 600
"""A quick postmortem (what happened, what broke, action items) needs at most about this many words."""

P1_SECTIONS = (
    ("summary", "summary"),
    ("impact", "impact"),
    ("timeline", "timeline"),
    ("root_cause", "root cause"),
    ("five_whys", "five whys"),
    ("contributing_factors", "contributing factors"),
    ("what_went_poorly", "what went poorly"),
    ("lessons_learned", "lessons learned"),
)


def length_mismatch(document: Document) -> list[Finding]:
    postmortem = document.postmortem
    findings = []
    if postmortem.template is Template.QUICK:
        words = sum(
            len(re.findall(r"\w+", text)) for name, text in narrative(document) if not name.startswith("timeline")
        )
        if words > QUICK_WORD_BUDGET:
            findings.append(
                _finding(
                    Rule.LENGTH_MISMATCH,
                    Level.INFO,
                    "template",
                    None,
                    f"This quick postmortem runs to {words} words; the quick template needs what happened, what "
                    f"broke and the action items, in about {QUICK_WORD_BUDGET} words at most.",
                    "Trim it to those three, or switch it to the standard template if the incident deserves the full "
                    "write-up.",
                )
            )
    if postmortem.severity is not Severity.P1:
        return findings
    if postmortem.template is Template.QUICK:
        findings.append(
            _finding(
                Rule.LENGTH_MISMATCH,
                Level.WARNING,
                "template",
                None,
                "A P1 incident is written up on the quick template.",
                "Switch to the standard template: a P1 needs its impact, timeline, five whys and lessons on record.",
            )
        )
    for name, label in P1_SECTIONS:
        if _is_empty(document, name):
            findings.append(
                _finding(
                    Rule.LENGTH_MISMATCH,
                    Level.WARNING,
                    name,
                    None,
                    f"The {label} section of this P1 postmortem is empty.",
                    f"Fill in the {label}: a P1 postmortem is read long after the incident, by people who were not "
                    "there.",
                )
            )
    return findings


def _is_empty(document: Document, name: str) -> bool:
    if name == "timeline":
        return not document.events
    value = getattr(document.postmortem, name)
    if name == "impact":
        return value is None or Impact.model_validate(value).is_empty()
    if isinstance(value, str):
        return not value.strip()
    return not value


def missing_what_went_well(document: Document) -> list[Finding]:
    """Only the standard template has the section; the quick one asks what happened and what broke."""
    postmortem = document.postmortem
    if postmortem.template is not Template.STANDARD or postmortem.what_went_well:
        return []
    return [
        _finding(
            Rule.MISSING_WHAT_WENT_WELL,
            Level.WARNING,
            "what_went_well",
            None,
            "Nothing is recorded under what went well.",
            "Record what helped: an alert that fired in time, a quick rollback, a runbook that was right, people "
            "who joined fast. It tells the team what to keep.",
        )
    ]


# --- unlinked-repeat-incident ------------------------------------------------------------------------------------


def unlinked_repeat_incident(document: Document) -> list[Finding]:
    postmortem = document.postmortem
    findings = []
    for other in document.repeats:
        reasons = []
        if postmortem.failure_mode and other.failure_mode == postmortem.failure_mode:
            reasons.append(f"the same failure mode ('{other.failure_mode}')")
        shared = [service for service in postmortem.services if service in other.services]
        if shared:
            reasons.append(f"service(s) {', '.join(shared)}")
        findings.append(
            _finding(
                Rule.UNLINKED_REPEAT_INCIDENT,
                Level.WARNING,
                "related_postmortem_ids",
                other.title,
                f"Postmortem {other.id} of {other.created_at:%Y-%m-%d} shares {' and '.join(reasons)} but is not "
                "listed as related.",
                f"If it is the same failure, add {other.id} to `related_postmortem_ids` and check whether its action "
                "items were done: a repeat incident means they were not enough.",
            )
        )
    return findings


# --- facilitator-involved ----------------------------------------------------------------------------------------

READING_TIME = timedelta(hours=24)
"""Reviewers need the draft this long before the review meeting."""


def facilitator_involved(document: Document) -> list[Finding]:
    postmortem = document.postmortem
    if postmortem.review_meeting is None:
        return []
    meeting = ReviewMeeting.model_validate(postmortem.review_meeting)
    findings = []
    if meeting.facilitator is None:
        findings.append(
            _finding(
                Rule.FACILITATOR_INVOLVED,
                Level.INFO,
                "review_meeting.facilitator",
                None,
                "The review meeting has no facilitator.",
                "Ask someone who was not involved in the incident to facilitate: they keep the discussion blameless "
                "and on the system.",
            )
        )
    elif _person(meeting.facilitator) in {_person(author) for author in postmortem.authors}:
        findings.append(
            _finding(
                Rule.FACILITATOR_INVOLVED,
                Level.ERROR,
                "review_meeting.facilitator",
                meeting.facilitator,
                f"The facilitator '{meeting.facilitator}' is one of the authors, and so was directly involved.",
                "Ask someone who was not involved in the incident or the write-up to facilitate.",
            )
        )
    if (timing := _meeting_timing(meeting.scheduled_at, postmortem.submitted_at, document.now)) is not None:
        message, suggestion = timing
        findings.append(
            _finding(
                Rule.FACILITATOR_INVOLVED,
                Level.WARNING,
                "review_meeting.scheduled_at",
                f"{meeting.scheduled_at:%Y-%m-%d %H:%M} UTC",
                message,
                suggestion,
            )
        )
    return findings


def _meeting_timing(scheduled_at: datetime, submitted_at: datetime | None, now: datetime) -> tuple[str, str] | None:
    """What is wrong with when the meeting is, and what to do, or None: reviewers need the draft a day ahead."""
    move = "Move the meeting to at least 24 hours after the draft is submitted for review."
    if submitted_at is not None:
        if scheduled_at - submitted_at < READING_TIME:
            return (
                "The review meeting is less than 24 hours after the draft was submitted: reviewers need the "
                "draft a day ahead.",
                move,
            )
        return None
    if scheduled_at < now:
        return "The review meeting's time has passed and the draft is not submitted yet.", (
            "Submit the draft for review and schedule the meeting at least 24 hours later."
        )
    if scheduled_at - now < READING_TIME:
        return (
            "The review meeting is less than 24 hours away and the draft is not submitted yet: reviewers "
            "need the draft a day ahead.",
            move,
        )
    return None


def _person(name: str) -> str:
    return " ".join(name.lstrip("@").casefold().split())


RULES: dict[Rule, Callable[[Document], list[Finding]]] = {
    Rule.BLAME_LANGUAGE: blame_language,
    Rule.HUMAN_ERROR_ROOT_CAUSE: human_error_root_cause,
    Rule.VAGUE_ACTION_ITEM: vague_action_item,
    Rule.IMPRECISE_DATA: imprecise_data,
    Rule.LENGTH_MISMATCH: length_mismatch,
    Rule.MISSING_WHAT_WENT_WELL: missing_what_went_well,
    Rule.UNLINKED_REPEAT_INCIDENT: unlinked_repeat_incident,
    Rule.FACILITATOR_INVOLVED: facilitator_involved,
}
_LEVEL_ORDER = {Level.ERROR: 0, Level.WARNING: 1, Level.INFO: 2}
_RULE_ORDER = {rule: position for position, rule in enumerate(Rule)}


def run(document: Document, rules: Sequence[Rule] | frozenset[Rule] = tuple(Rule)) -> list[Finding]:
    """The findings of `rules`: errors first, then warnings, then info; by rule, then in document order."""
    findings = [finding for rule in Rule if rule in rules for finding in RULES[rule](document)]
    return sorted(findings, key=lambda finding: (_LEVEL_ORDER[finding.level], _RULE_ORDER[finding.rule]))
