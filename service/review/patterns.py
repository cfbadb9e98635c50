"""The phrases the blame parser (`review.blame`) looks for: regular expressions over a sentence's lowercased
tokens joined by single spaces (" dave did not check the dashboard . "), each bounded by spaces.

They differ in where the person they blame stands:

    PREDICATES     a failure whose actor is the subject just before it: "missed", "forgot", "pushed a bad config",
                   "should have known", "was careless", "accidentally", "never answered"
    CIRCUMSTANCES  what makes any act a failure, wherever its verb is: "without testing", "despite the warnings",
                   "instead of investigating", "with failing checks", "every pod at once", "by mistake", and
                   what marks it a habit, a shortcut or done against what was known: "again", "as usual",
                   "to save time", "even though", "during the freeze", scare quotes ("to "fix" it");
                   the actor is that of the clause (a passive's agent: "pushed by Karim without review")
    agent forms    the person comes after the failure: PASSIVE ("was ignored by ops"), ERROR_BY ("a fat-finger
                   by Sergio"), FAULT_WITH ("the fault lies with QA"), POSSESSIVE ("Dave's mistake") and
                   NOBODY_IN ("nobody on the platform team read it"), JUDGED ("a careless engineer"),
                   WHY_NOT ("why didn't Dave check"), THANKS_TO ("thanks to Edgar, checkout was down"),
                   CONSEQUENCE ("wiped the database, and the demo failed"), HUMAN_ERROR ("operator error"),
                   NEGATED_PASSIVE ("never verified by the storage team"), ATTRIBUTED_TO ("traces back to
                   Sven's decision"), CAUSE_FRAME ("happened because Pieter deleted"), PRAISE (sarcasm)
    AGENTLESS      passives only a person can be the agent of: "the warning was overlooked", "the runbook was
                   not followed"
"""

import re
from dataclasses import dataclass
from enum import Enum

from service.review.lexicon import OMISSION_GERUNDS, words


class Category(Enum):
    """What kind of failure a pattern states; each has its own rewrite advice."""

    CHANGE = "change"  # pushed a bad config, deployed without review, introduced a bug, deleted prod data
    SIGNAL = "signal"  # missed, ignored, overlooked
    OMISSION = "omission"  # forgot, did not check, failed to, skipped the tests
    SPEED = "speed"  # was too slow, took too long
    JUDGEMENT = "judgement"  # careless, sloppy, made a mistake, dropped the ball
    HINDSIGHT = "hindsight"  # should have known, could have prevented
    CAUSE = "cause"  # broke the build, caused the outage


@dataclass(frozen=True)
class Predicate:
    pattern: re.Pattern[str]
    category: Category
    human_only: bool = False  # only people can do this: blames a probable person or "they" too
    negatable: bool = False  # "never missed" is not a failure
    remedial_exempt: bool = False  # said of an act that finds or fixes ("rolled back again"), it is no failure


def _predicate(
    regex: str, category: Category, *, human_only: bool = False, negatable: bool = False, remedial_exempt: bool = False
) -> Predicate:
    return Predicate(re.compile(rf"(?<= )(?:{regex})(?= )"), category, human_only, negatable, remedial_exempt)


def _alternatives(words: frozenset[str]) -> str:
    return "|".join(sorted(words, key=lambda word: (-len(word), word)))


# --- shared fragments --------------------------------------------------------------------------------------------

ADVERBS = r"(?:[a-z]+ly )*"
WORD = r"[a-z0-9@][\w'@.-]*"
_MODIFIER = rf"(?:(?!(?:for|to|of|from|on|in|with|after|before|that|which|and|but|instead)(?= )){WORD} )"
_OWNER = r"(?:the|a|an|our|their|his|her|its|this|that|some|all|any|every)"
_ACTIONS = (
    r"(?:pushed|deployed|merged|shipped|committed|released|applied|ran|executed|approved|wrote|typed|entered|made|"
    r"granted|"
    r"introduced|configured|set|changed|edited|rolled out|uploaded|pasted|submitted|enabled|flipped|toggled|"
    r"modified|used|chose|picked|selected|added|copied|landed|kicked off|triggered|launched|signed off(?: on)?)"
)
BAD = (
    r"(?:bad|broken|faulty|wrong|incorrect|buggy|untested|invalid|malformed|unreviewed|erroneous|bogus|defective|"
    r"flawed|dangerous|destructive|unsafe|misconfigured|half-baked|unvalidated|corrupt|corrupted|careless|sloppy|"
    r"unbounded|unguarded|unscoped|outdated|obsolete|stale|expired|undocumented|unannounced|unapproved|"
    r"unauthori[sz]ed|unplanned|excessive|overly broad|unrestricted|breaking)"
)
_DISCOVERY = (
    r"(?:found|noticed|spotted|identified|discovered|detected|flagged|reported|fixed|corrected|replaced|reverted|"
    r"removed|traced|investigated|confirmed|explained|highlighted|pointed|raised|questioned|suspected|ruled)"
)
_IRREGULAR_ACTS = (
    r"(?:ran|chose|took|hit|set|put|sent|wrote|made|shut down|rolled back|rolled out|read|built|gave|told|brought|"
    r"drove|led|picked|kept|held|spent)"
)
INCIDENT_NOUNS = (
    r"(?:outage|outages|incident|problem|issue|failure|downtime|breakage|regression|bug|degradation|disruption|"
    r"mistake|error|typo|mess|data loss)"
)
_SECRETS = r"(?:credentials?|secrets?|keys?|tokens?|passwords?|api keys?)"
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
    "start": "started",
    "open": "opened",
    "join": "joined",
    "finish": "finished",
    "answer": "answered",
    "reply": "replied",
    "tell": "told",
    "inform": "informed",
    "warn": "warned",
    "drain": "drained",
    "consider": "considered",
    "investigate": "investigated",
    "set up": "set up",
    "announce": "announced",
    "document": "documented",
    "act": "acted",
    "react": "reacted",
    "think": "thought",
    "handle": "handled",
}
_OMITTED_BASE = "|".join(_OMITTED)
_OMITTED_ANY = "|".join([*_OMITTED, *_OMITTED.values()])
_OMITTED_PAST = "|".join(_OMITTED.values())
_GERUNDS = _alternatives(OMISSION_GERUNDS)
# After "never", past tenses that state no omission: what happened to someone, or a failure (negated, no longer one).
_NOT_OMITTED = (
    r"(?:missed|ignored|overlooked|forgot|forgotten|broke|failed|crashed|happened|occurred|existed|needed|worked|"
    r"used|seen|been|had|encountered|experienced|heard|expected|imagined|intended|wanted|received|got|gotten|"
    r"reached|arrived|fired|complained|hesitated|stopped)"
)
_IRREGULAR_PAST = r"(?:read|ran|wrote|did|told|thought|made|took|set|put|sent|gave|knew|understood|built|left|came)"
# After "did not", verbs that state no omission: what someone could not perceive, have or be given.
_STATES = (
    r"(?:know|have|see|get|receive|need|expect|hear|find|exist|work|happen|reach|arrive|fire|show|appear|include|"
    r"mention|match|matter|help|seem|want|mean|intend|require|cover|hesitate|panic|apply|affect|last|load|render)"
)


# --- predicates: the actor is the subject before ---------------------------------------------------------------

PREDICATES = (
    # judgements of people
    _predicate(
        r"(?:was|were|is|are|been|being|got|seemed|looked) (?:(?:too|very|so|extremely|quite|rather|pretty|really|"
        r"a bit|a little|clearly|simply|just|being) )*(?:careless|negligent|sloppy|lazy|reckless|inattentive|"
        r"incompetent|distracted|unprepared|inexperienced|clueless|irresponsible|complacent|overconfident|hasty|"
        r"unfocused|asleep|rash|cavalier|lax)",
        Category.JUDGEMENT,
        human_only=True,
    ),
    _predicate(
        r"(?:was|were|is|are) not (?:being )?(?:careful|attentive|focused|diligent|thorough|vigilant|paying attention)",
        Category.JUDGEMENT,
        human_only=True,
    ),
    _predicate(
        r"(?:was|were) (?:too|overly|a bit too|far too|way too|much too) (?:quick|eager|hasty|keen|confident|"
        r"optimistic|trusting|relaxed|busy|tired)|"
        r"(?:was|were) (?:in (?:a|too much of a|such a) (?:hurry|rush)|rushing)",
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
        r"(?:made|make|makes) (?:a|an|another|the|one) (?:reckless|bad|poor|hasty|careless|risky|questionable|wrong|"
        r"rash|rushed|unilateral|costly|terrible|unfortunate) (?:decision|call|choice|judge?ment call|assumption)",
        Category.JUDGEMENT,
        human_only=True,
    ),
    _predicate(
        r"(?:messed|screwed|fouled|goofed|mucked) (?:it |things |this |everything )?up|dropped the ball|"
        r"fat-fingered|fat fingered|panicked|did not bother|(?:could|would) not be bothered|"
        r"(?:rushed|hurried) (?:through|the|it|a)|rubber-stamped|"
        r"lost (?:track|sight|focus)|went back to sleep|fell asleep|slept through|fell back asleep|"
        r"went (?:back )?(?:to lunch|to bed|to sleep|for lunch)|gave up|sat on (?:the|it|this|that|his|her|their|a|an)|"
        r"took it upon (?:himself|herself|themselves)",
        Category.JUDGEMENT,
        human_only=True,
    ),
    _predicate(
        r"(?:refused|declined|would not) (?:to )?(?:roll back|revert|escalate|page|listen|wait|stop|follow|"
        r"acknowledge|ask|involve|admit|accept|answer|look|consider|check|listen)|(?:was|were) (?:supposed|meant) to|"
        r"(?:turned off|switched off|silenced|muted) (?:his|her|their) (?:phone|pager|notifications|laptop)|"
        r"(?:chose|decided|opted|elected) (?:not to|to (?:ignore|skip|bypass|disable|override|silence|mute|"
        r"overrule|dismiss|forgo))",
        Category.JUDGEMENT,
        human_only=True,
    ),
    _predicate(
        r"pressured|bullied|insisted (?:on|that|it|the)|overruled|forced (?:the|us|them|everyone|a)|"
        r"waved (?:[\w-]+ ){0,3}?through",
        Category.JUDGEMENT,
        human_only=True,
    ),
    _predicate(
        r"(?:decided|assumed|thought|figured|concluded|believed|treated|dismissed|wrote off|labell?ed|marked|closed) "
        r"(?:[\w-]+ ){0,4}?(?:as|was|were) (?:just |only |merely |simply |a |an )?(?:noise|false positives?|"
        r"false alarms?|blip|glitch|transient|flaky|harmless|user error|benign|resolved|fixed|unrelated|optional|"
        r"a formality|suggestions?)",
        Category.JUDGEMENT,
        human_only=True,
    ),
    _predicate(
        r"(?:was|were) (?:completely |totally |simply )?(?:unreachable|unresponsive|nowhere to be found|afk)|"
        r"went (?:offline|dark|silent|missing|awol)",
        Category.JUDGEMENT,
    ),
    _predicate(r"(?:was|were|is|are) (?:partly |mainly |entirely |solely )?to blame", Category.JUDGEMENT),
    _predicate(
        r"(?:was|were|is|are) (?:solely |directly |entirely |personally |fully |partly |mainly |ultimately )?"
        rf"(?:responsible|accountable) for {_OWNER} (?:[a-z'-]+ ){{0,2}}?{INCIDENT_NOUNS}|"
        r"(?:bears|bore|carries|carried) (?:the |full |most of the |some )*(?:responsibility|blame)",
        Category.JUDGEMENT,
    ),
    # omissions
    _predicate(r"forgot|forgotten|neglected|failed to remember", Category.OMISSION, human_only=True, negatable=True),
    _predicate(  # assumed what turned out false, not "assumed command"
        r"(?:assumed|presumed)(?= (?:that |it |this |someone |somebody |everyone |they |he |she |"
        r"(?:the|a|an|our|their|his|her) (?:[\w-]+ ){1,3}?(?:was|were|would|had|could|is|are|did) ))",
        Category.JUDGEMENT,
        human_only=True,
        negatable=True,
    ),
    _predicate(
        r"let (?:the |a |an |our |their |his |her )?(?:[a-z-]+ ){0,2}?(?:expire|lapse|fill up|run out|slip|go stale|"
        r"through|get through|go out|ship|die|drain|run down|rot|slide|drop)",
        Category.OMISSION,
    ),
    _predicate(
        rf"did not {ADVERBS}(?!{_STATES} )[a-z][a-z-]*|(?:was|were) not able to {ADVERBS}(?:{_OMITTED_BASE})|"
        rf"(?:had|has|have) (?:still |yet )?not (?:yet )?{ADVERBS}(?:{_OMITTED_ANY})|"
        rf"(?:may|might|must) not have {ADVERBS}(?:{_OMITTED_ANY})|"
        rf"never {ADVERBS}(?!{_NOT_OMITTED} )(?:[a-z-]+ed|{_IRREGULAR_PAST})|"
        rf"failed to {ADVERBS}{WORD}|did nothing|did not do anything|took no action|"
        r"(?:only|barely|hardly|never properly|not properly) (?:tested|checked|reviewed|verified|validated|read|"
        r"skimmed|looked)",
        Category.OMISSION,
    ),
    _predicate(
        rf"left (?:{_OWNER} )?(?:[\w-]+ )?(?:debug|maintenance|test|verbose|trace|tracing|profiling|dry-run) "
        r"(?:[\w-]+ ){0,2}?(?:on|enabled|running|switched on|turned on)(?= (?:overnight|for|all|in|over|during|after|"
        r"until|and|\.|,))|"
        rf"left (?:{_OWNER} )?(?:[\w-]+ ){{0,3}}?(?:open|unattended|unlocked|exposed|unpatched|unencrypted)(?= )|"
        rf"left (?:{_OWNER} |it |them )?(?:[\w-]+ ){{0,3}}?(?:half-finished|unfinished|incomplete|half-done|dangling)|"
        rf"lost (?:{_OWNER} )?(?:[\w-]+ )?(?:artifacts?|backups?|keys?|credentials|password|laptop|notes|snapshot)",
        Category.OMISSION,
        human_only=True,
    ),
    _predicate(
        r"left (?:it|them|this|that) (?:off|on|disabled|enabled|running|open|unlocked)",
        Category.OMISSION,
        human_only=True,
    ),
    _predicate(r"(?:skipped|bypassed|circumvented|overrode|overridden) (?!lunch )[\w-]+", Category.OMISSION),
    # signals
    _predicate(
        r"missed|ignored|overlooked|disregarded|dismissed|misread|misinterpreted|misjudged|underestimated|"
        r"misunderstood|mistook|misremembered|misdiagnosed|mixed up|brushed off|shrugged off",
        Category.SIGNAL,
        negatable=True,
    ),
    _predicate(
        r"(?:ignored|disregarded|dismissed|brushed off|overruled) (?:the |our |their |his |her |a |an |all |any )?"
        r"(?:[\w'-]+ ){0,3}?(?:advice|instructions?|guidance|requests?|policy|freeze|runbook|process|procedure|"
        r"checklist|notes|handoff|feedback|concerns?|objections?|recommendations?)",
        Category.SIGNAL,
        human_only=True,
    ),
    # speed
    _predicate(
        rf"(?:was|were) {ADVERBS}(?:too|very|really|extremely|quite|far too|way too) (?:slow|late)|"
        r"took (?:far |way |much )?(?:too long|ages|forever)|(?:was|were) (?:too )?slow to [a-z]+|"
        r"(?:responded|reacted|acknowledged|escalated|joined|acted|answered) (?:too|very|far too|way too) "
        r"(?:slowly|late)|(?:was|were) late (?:to|in|for)|"
        r"took (?:nearly |almost |over |more than |about |around |a full |an entire )?(?:[0-9]+|an?|one|two|three|"
        r"four|five|six|ten|fifteen|twenty|thirty|forty|forty-five|fifty|ninety|several) (?:more )?"
        r"(?:minutes?|mins|hours?|days?) (?:to |before (?:he |she |they )?(?:finally )?)"
        r"(?:respond|acknowledge|ack|answer|react|reply|escalate|join|notice|show up|act|look|start|responded|"
        r"acknowledged|answered|reacted|replied|escalated|joined|noticed|showed up|acted|looked|started)",
        Category.SPEED,
    ),
    # hindsight
    _predicate(
        rf"should (?:not |never )?have {ADVERBS}(?:known|realized|realised|noticed|remembered|asked|thought|"
        r"understood|anticipated|foreseen|been (?:more )?(?:careful|aware|attentive))|"
        r"should (?:not |never )?have been (?:allowed|permitted|trusted|let)",
        Category.HINDSIGHT,
        human_only=True,
    ),
    _predicate(
        # not a passive or a receiving verb: "Bob should have been paged", "should have received the alert"
        rf"should (?:not |never )?have {ADVERBS}(?!been [a-z]+ed |been (?:told|given|sent|shown|woken) |"
        rf"received |got |gotten |had ){WORD}|"
        r"could (?:easily )?have (?:prevented|avoided|caught|stopped|spotted|noticed)|ought to have [a-z]+|"
        # hindsight about timing, or about an act not taken: "could have rolled back earlier", "... but did not"
        rf"could (?:easily )?have {ADVERBS}[a-z]+ (?:[\w-]+ ){{0,4}}?(?:earlier|sooner|faster|first)|"
        r"could (?:easily )?have (?:[\w-]+ ){1,6}?but (?:did not|never)",
        Category.HINDSIGHT,
    ),
    # changes only people make
    _predicate(rf"{_ACTIONS} {_MODIFIER}{{0,3}}?{BAD}", Category.CHANGE, human_only=True),
    _predicate(
        r"introduced (?:a|an|the|this) (?:[a-z-]+ )?(?:bug|regression|defect|typo|error|mistake|vulnerability|"
        r"breaking change|race condition|deadlock|leak)",
        Category.CHANGE,
        human_only=True,
    ),
    _predicate(
        r"force-pushed|force pushed|hard-coded|hardcoded|(?:approved|reviewed) (?:his|her|their) own|self-approved|"
        r"(?:merged|deployed|shipped|released) (?:\S+ ){0,5}?(?:do not merge|dnm|wip)|"
        rf"(?:leaked|exposed|reused) (?:{_OWNER} |old |same |previous )*(?:[\w-]+ ){{0,2}}?{_SECRETS}|"
        rf"{_ACTIONS} (?:{_OWNER} )?(?:[\w-]+ ){{0,2}}?{_SECRETS} (?:to|into|in|on) (?:a |an |the )?"
        r"(?:public|test|staging|dev|development|shared|plain|personal|chat|slack|gist|wiki|ticket)",
        Category.CHANGE,
        human_only=True,
    ),
    _predicate(
        rf"(?:{_ACTIONS}|let|left|posted|put|stored|kept|shared|checked in|leaked|exposed) (?:[\w'-]+ ){{0,4}}?"
        rf"(?:in|into|to|on) (?:a |an |the )?public|"
        rf"(?:checked in|committed) (?:{_OWNER} )?(?:[\w-]+ ){{0,2}}?{_SECRETS}",
        Category.CHANGE,
        human_only=True,
    ),
    _predicate(
        r"(?:pointed|aimed|directed|routed|switched|connected|configured|sent) (?:[\w-]+ ){0,4}?(?:at|to) (?:the |a )?"
        r"(?:staging|test|dev|development|old|decommissioned|deprecated|nonexistent|non-existent|retired)|"
        r"(?:pointed|aimed|configured|linked|routed) (?:[\w-]+ ){0,4}?(?:at|to) (?:a|an|the) (?:[\w-]+ ){0,2}?"
        r"(?:that|which) (?:no longer|did not|does not|never) exists?|"
        rf"{_ACTIONS} (?:{_OWNER} )?(?:debug|test|staging|dev|development|local|experimental|feature|unfinished|"
        r"half-finished|wip) (?:[\w-]+ ){0,2}?(?:to|into|in|on) (?:the )?(?:production|prod|live|customers|users|"
        r"main|master)",
        Category.CHANGE,
        human_only=True,
    ),
    _predicate(
        r"(?:ran|executed|applied) (?:[\w-]+ ){0,4}?(?:against|on|across|to) (?:all|every|each|the whole|the entire)",
        Category.CHANGE,
    ),
    _predicate(
        rf"{_ACTIONS} (?:{_OWNER} )(?:[\w-]+ ){{0,3}}?(?:that|which) (?:(?:[a-z]+ )?(?:broke|crashed|hammered|"
        r"overloaded|took down|brought down|corrupted|deleted|wiped|leaked|caused|flooded|exhausted|saturated|locked|"
        r"filled|consumed|ate|used up|hogged|starved|disabled|removed|exposed|bypassed)|made (?:[\w-]+ ){0,3}?worse|"
        rf"(?:nobody|no one|no-one) (?:had |has )?(?:{_OMITTED_PAST}))",
        Category.CHANGE,
        human_only=True,
    ),
    _predicate(
        r"(?:ran|executed|applied|submitted|re-ran|reran|triggered|started) (?:[\w-]+ ){1,5}?"
        r"(?:twice|two times|a second time)",
        Category.CHANGE,
    ),
    # any act aimed at the wrong target, except finding or fixing it
    _predicate(
        rf"(?:(?!{_DISCOVERY}(?= ))[a-z]+ed|{_IRREGULAR_ACTS}) "
        r"(?:(?:[a-z]+ ){1,2}|(?:[a-z0-9-]+ ){0,4}?(?:to|on|against|in|into|from|with|for|at) )?"
        r"(?:the|a|an|our|their|his|her) (?:wrong|incorrect)",
        Category.CHANGE,
        human_only=True,
    ),
    _predicate(
        r"misconfigured|mistyped|mislabell?ed|miscalculated|botched|mishandled|misused", Category.CHANGE, negatable=True
    ),
    # causes
    _predicate(
        r"broke|crashed|took down|brought down|knocked over|knocked out|corrupted|overloaded|hammered|flooded|"
        r"nuked|blew away|trashed|clobbered|locked (?:[\w-]+ ){0,2}?out|"
        rf"overwhelmed|saturated|spammed|took (?:{_OWNER} )?(?:whole|entire) (?:[\w-]+ ){{0,2}}?(?:offline|down)",
        Category.CAUSE,
        negatable=True,
    ),
    _predicate(
        rf"(?:caused|triggered|introduced) (?:the|this|an|a|that|today's|yesterday's) (?:[a-z-]+ ){{0,2}}?"
        rf"{INCIDENT_NOUNS}",
        Category.CAUSE,
        negatable=True,
    ),
)


# --- circumstances: the actor is the clause's ------------------------------------------------------------------

# What "without" may lack with no one to blame: "failed over without data loss", "without affecting users".
_BENIGN_LACK = (
    r"(?:downtime|impact|incidents?|issues?|problems?|errors?|loss|interruption|disruption|trouble|delays?|"
    r"complaints?|hiccups?|hitch|side effects|regressions?|affecting|losing|breaking|dropping|causing|interrupting|"
    r"impacting|disrupting|needing|requiring|crossing|reaching|triggering|waking|exceeding)"
)
_QUALIFIERS = (
    r"(?:any|a|an|the|proper|prior|adequate|sufficient|enough|first|even|actually|so much as|further|second|much|"
    r"significant|noticeable|more|real|major)"
)
_DESTRUCTIVE = (
    r"(?:deleted|dropped|truncated|wiped|erased|overwrote|overwritten|purged|destroyed|shut down|delete|drop|"
    r"truncate|wipe|erase|overwrite|purge|destroy)"
)
_PRECIOUS = (
    r"(?:production|prod|live|primary|customer|customers|customers'|customer's|users'|shared|whole|entire|all|every)"
)

CIRCUMSTANCES = (
    _predicate(
        rf"without (?!(?:{_QUALIFIERS} )*(?:(?![\w-]+ing )[\w-]+ )?{_BENIGN_LACK}(?= ))(?:{_QUALIFIERS} )*[\w-]+",
        Category.CHANGE,
        human_only=True,
    ),
    _predicate(
        rf"{_DESTRUCTIVE} {_MODIFIER}{{0,3}}?{_PRECIOUS}|"
        rf"{_DESTRUCTIVE} (?:{WORD} ){{0,4}}?(?:in|on|from|against) (?:the )?(?:production|prod|live|primary)",
        Category.CHANGE,
        human_only=True,
    ),
    _predicate(
        rf"{_DESTRUCTIVE} (?:{_OWNER} )?(?:[\w-]+ ){{0,2}}?(?:tables?|databases?|db|buckets?|volumes?|clusters?|"
        r"namespaces?|index|indexes|indices|snapshots?|backups?|schemas?|data|records?|rows)",
        Category.CHANGE,
        human_only=True,
    ),
    _predicate(
        r"before (?:all |the |every |any )?(?:[\w-]+ ){0,3}?(?:had|was|were|could) (?:been |fully |completely )?"
        r"(?:moved|drained|migrated|finished|completed|caught up|synced|replicated|backed up|confirmed|verified|"
        r"tested|reviewed|approved)",
        Category.CHANGE,
        human_only=True,
    ),
    _predicate(
        r"(?:tests?|load tests?|scripts?|experiments?|benchmarks?) (?:[\w-]+ ){0,2}?against (?:the )?(?:real|live|"
        r"production|prod)|with (?:the |a |an )?(?:debug|test|verbose|dev|development) (?:[\w-]+ ){0,2}?"
        r"(?:enabled|on|turned on|switched on|active|exposed|open)",
        Category.CHANGE,
        human_only=True,
    ),
    _predicate(
        r"(?:thinking|assuming) (?:that )?(?:it|this|they|the [\w-]+) (?:was|were|would be)",
        Category.JUDGEMENT,
        human_only=True,
    ),
    _predicate(
        r"made (?:things|it|matters|everything|the [\w-]+(?: [\w-]+)?) worse|worsened|exacerbated|"
        r", which (?:then |also )?(?:broke|deleted|caused|took down|brought down|locked|wiped|corrupted|overloaded|"
        r"crashed|triggered|exhausted|filled|dropped|knocked)",
        Category.CAUSE,
    ),
    _predicate(
        r"(?:instead of|rather than) [a-z-]+ing|"
        r"(?:prod|production|primary|live)(?: [\w-]+)? (?:instead of|rather than)",
        Category.OMISSION,
        human_only=True,
        remedial_exempt=True,
    ),
    _predicate(
        r"(?:despite|in spite of|regardless of|even after) (?:(?:the|a|an|our|their|his|her|its|clear|explicit|"
        r"repeated|multiple|several|two|three|many|all|written|earlier) )*(?:[\w-]+ )?(?:warnings?|instructions?|"
        r"advice|objections?|concerns?|alerts?|alarms?|failing|failed|red|errors?|freeze|policy|runbook|guidance|"
        r"pages|requests?|reminders?)",
        Category.JUDGEMENT,
        human_only=True,
    ),
    _predicate(
        r"over (?:[\w'-]+ ){0,2}?objections|on a (?:hunch|whim|guess)|for no (?:good )?reason|"
        r"to (?:himself|herself|themselves)",
        Category.JUDGEMENT,
        human_only=True,
    ),
    _predicate(
        r"against (?:the |our |their |his |her |a |an |all )?(?:[\w-]+'s )?(?:[\w-]+ )?(?:advice|guidance|policy|"
        r"instructions|recommendations?|runbook|process|procedure|rules|freeze|wishes)",
        Category.JUDGEMENT,
        human_only=True,
    ),
    _predicate(
        r"(?:with|despite|over|past|through|on top of) (?:the |two |several |multiple |its |their |his |her |all )?"
        r"(?:failing|failed|red|broken) (?:[\w-]+ )?(?:tests?|checks?|builds?|ci|pipelines?|canary|canaries|suite)",
        Category.CHANGE,
        human_only=True,
    ),
    _predicate(
        r"(?:every|all|both|each|everyone|everybody) (?:[\w-]+ ){0,4}?(?:at once|at the same time|simultaneously|"
        r"in one go|on the same day|in one batch|in a single batch)",
        Category.CHANGE,
        human_only=True,
    ),
    _predicate(r"by (?:mistake|accident)|in error|anyway|regardless", Category.JUDGEMENT, human_only=True),
    _predicate(
        r"accidentally|mistakenly|inadvertently|unintentionally|erroneously|carelessly|blindly|recklessly|hastily|"
        r"sloppily|negligently|lazily|incorrectly|wrongly|improperly|naively|prematurely|too (?:early|soon)|"
        r"silently|quietly",
        Category.JUDGEMENT,
        human_only=True,
    ),
    _predicate(
        r"(?:straight|directly) (?:to|into|on) (?:prod|production|main|master|live|the release branch)|"
        r"(?:pushed|deployed|committed|applied|merged|shipped|edited|changed) (?:[\w-]+ ){0,4}?directly",
        Category.CHANGE,
        human_only=True,
        remedial_exempt=True,
    ),
    _predicate(
        r"(?:during|at) (?:the )?(?:peak|peak hours|peak traffic|peak load|business hours)|"
        r"in the middle of (?:the |a )?(?:day|business day|working day|backfill|backup|restore|failover|peak|incident|"
        r"migration|deploy|deployment|rollout|sale|launch)|mid-[a-z]+|"
        r"while (?:it|they|[\w-]+|the [\w-]+) (?:was|were) still [\w-]+|"
        r"during (?:the |a |an )?(?:[\w-]+ )?(?:freeze|sale|launch|peak)|"
        r"(?:over the top of|on top of) (?:an? |the |another )?(?:in-progress|ongoing|running|active|unfinished)",
        Category.JUDGEMENT,
        human_only=True,
        remedial_exempt=True,
    ),
    # what marks an act as a habit, a shortcut or done against what was known: "again", "as usual", "to save
    # time", "even though the tests were failing", quotation marks around what the act was meant to be
    _predicate(
        r"again(?= [.!;])|as usual|as always|as ever|for the (?:second|third|fourth|fifth|nth|umpteenth) time",
        Category.JUDGEMENT,
        human_only=True,
        remedial_exempt=True,
    ),
    _predicate(
        r"to save (?:some |a little )?(?:time|a day|an hour|a few minutes|money|effort)|"
        r"to (?:make|hit|meet|beat|catch) (?:the|a|an|our|their|his|her) (?:[\w-]+ )?(?:deadline|train|demo|date|"
        r"cutoff|goal|window)",
        Category.JUDGEMENT,
        human_only=True,
        remedial_exempt=True,
    ),
    _predicate(
        r"even though|even if|knowing (?:that|full well|it)|(?<=^ )(?:although|though)",
        Category.JUDGEMENT,
        human_only=True,
    ),
    # what a person does while doing something else: "merged at 23:00, bypassing review"
    _predicate(
        r"ignoring|skipping|bypassing|overriding|forgetting|neglecting|disregarding|overlooking|dismissing",
        Category.OMISSION,
        human_only=True,
    ),
    _predicate(
        r"(?:to \"|\" to|\" just|\" only) (?:[\w'-]+ ){1,4}\"|"
        r"\" (?:a |the )?(?:temporarily|temporary|quick fix|fix|harmless|cleanup|clean up|routine|too noisy|noisy|"
        r"noise|safe|minor|small|tiny|test|testing) (?:[\w'-]+ ){0,2}\"",
        Category.JUDGEMENT,
        human_only=True,
        remedial_exempt=True,
    ),
)


# --- agent forms: the person comes after --------------------------------------------------------------------------

PASSIVE_FAILURE = {
    "missed": Category.SIGNAL,
    "ignored": Category.SIGNAL,
    "overlooked": Category.SIGNAL,
    "disregarded": Category.SIGNAL,
    "dismissed": Category.SIGNAL,
    "misread": Category.SIGNAL,
    "misconfigured": Category.CHANGE,
    "botched": Category.CHANGE,
    "mishandled": Category.CHANGE,
    "broken": Category.CAUSE,
    "mistyped": Category.CHANGE,
    "fat-fingered": Category.CHANGE,
    "force-pushed": Category.CHANGE,
    "rubber-stamped": Category.JUDGEMENT,
    "forgotten": Category.OMISSION,
    "neglected": Category.OMISSION,
    "skipped": Category.OMISSION,
    "bypassed": Category.OMISSION,
    "overridden": Category.OMISSION,
    "rushed": Category.JUDGEMENT,
    # destroying data is a failure when a person is its agent ("dropped by a developer"); automation that deletes
    # by design names no person
    "deleted": Category.CHANGE,
    "dropped": Category.CHANGE,
    "truncated": Category.CHANGE,
    "wiped": Category.CHANGE,
    "destroyed": Category.CHANGE,
    "purged": Category.CHANGE,
    "erased": Category.CHANGE,
    "overwritten": Category.CHANGE,
}
_PASSIVE_NEUTRAL = sorted(
    words(
        "pushed deployed merged shipped committed released applied run executed approved written typed entered "
        "introduced configured set changed edited uploaded made caused triggered"
    )
)
PASSIVE = re.compile(
    rf"(?<= )(?:(?:was|were|got|been|being|is|are) {ADVERBS})?"
    rf"(?P<participle>{'|'.join([*PASSIVE_FAILURE, *_PASSIVE_NEUTRAL])}) (?:(?!by )[a-z]+ ){{0,3}}?by(?= )"
)
# What a careful person does, not done by the agent: "the backups were never verified by the storage team".
NEGATED_PASSIVE = re.compile(
    rf"(?<= )(?:was|were|been|is|are) (?:never|not) {ADVERBS}(?:{_OMITTED_PAST}) (?:(?!by )[a-z]+ ){{0,3}}?by(?= )"
)
ERROR_BY = re.compile(
    r"(?<= )(?:mistake|mistakes|error|errors|oversight|slip|blunder|typo|typos|negligence|carelessness|lapse|"
    r"fat-finger|fat finger|misstep|misclick|(?:bad|poor|reckless|hasty|careless|wrong) (?:decision|call|choice)|"
    r"(?:sloppy|careless|shoddy|poor|lazy|rushed|hasty|negligent|incompetent) (?:work|job|handling|reviews?|testing|"
    r"planning|execution|coding)) "
    r"(?:(?:was|were) )?(?:made |committed )?(?:by|on the part of)(?= )"
)
FAULT_WITH = re.compile(
    r"(?<= )(?:(?:(?:fault|blame)(?: for (?:[\w'-]+ ){0,3}?[\w'-]+)?|"
    rf"responsibility(?: for (?:the |this |that )?(?:[\w'-]+ ){{0,2}}?{INCIDENT_NOUNS})?) "
    r"(?:lies|lay|rests|rested|is|was|falls|fell|goes|went)|"
    r"(?:outage|incident|failure|downtime|this|it) (?:is|was)) (?:entirely |squarely |solely |mainly |fully |all |"
    r"completely )?(?:with|on|to)(?= )"
)
POSSESSIVE = re.compile(
    r"(?<= )[\w@.-]+(?:'s|s') (?:(?![a-z-]*ed )[a-z-]+ ){0,2}?(?:mistake|mistakes|error|errors|oversight|typo|"
    r"typos|negligence|carelessness|fault|blunder|slip|lapse|misconfiguration|inexperience|incompetence|laziness|"
    r"sloppiness|"
    r"failure to|lack of (?:attention|care|experience|diligence|rigou?r|judge?ment|knowledge|focus)|"
    r"(?:decision|choice|call) (?:not )?to (?:skip|ignore|bypass|disable|override|silence|mute|forgo)|"
    r"refusal to|reluctance to|unwillingness to|insistence on|"
    r"(?:[\w-]+ )?(?:change|commit|deploy|deployment|config|script|pr|push|migration|hotfix|query|edit|update|rollout) "
    r"(?:was the (?:root |direct |main )?cause|caused|triggered|broke|took down|brought down|wiped|deleted|"
    r"dropped|corrupted|destroyed|erased|truncated|overwrote)|"
    r"(?:[\w-]+ )?(?:change|commit|code|script|pr|config|migration|hotfix|query|plan) (?:had|has|contained) no|"
    r"(?:late|delayed|slow|sluggish) (?:response|reaction|escalation|rollback|acknowledge?ment)|"
    r"overconfidence|complacency|impatience|inattention|half-done|half-finished|unfinished|"
    r"(?:poorly|badly|barely|never|hastily|carelessly|sloppily) (?:tested|written|reviewed|planned|executed|"
    r"configured|designed|documented)|"
    r"(?:brilliant|bright|genius|great|clever) idea|"
    rf"{BAD}|hasty|rushed|reckless|botched)(?= )"
)
NOBODY_IN = re.compile(
    rf"(?<= )(?:nobody|no one|noone|none) (?:on|in|from|of) (?P<group>(?:[\w-]+ ){{1,3}}?)"
    rf"(?:{_OMITTED_PAST}|bothered|cared|showed up|turned up|joined|came|knew)(?= )"
)
# A person credited, sarcastically, with harm: "Thanks to Edgar, checkout was down for an hour."
THANKS_TO = re.compile(r"(?<= )(?:thanks to|courtesy of|because of|due to)(?= )")
HARM = re.compile(
    r"(?<= )(?:down|offline|failed|broke|broken|crashed|lost|melted|outage|corrupted|deleted|wiped|hung|stalled|"
    r"locked|errors|timed out|at the same (?:time|instant|moment))(?= )"
)

# What a failure in a sarcastic sentence may be no more than: "Nice work, Sam: another untested deploy".
SARCASTIC_FAILURE = re.compile(
    rf"(?<= )(?:{BAD}|{INCIDENT_NOUNS}|(?:failing|red) (?:build|tests?|checks?|ci|pipeline|canary))(?= )"
)
# A failure traced to a person or what they did: "the outage traces back to Sven's decision", "can be laid at
# the feet of the deployment engineer".
ATTRIBUTED_TO = re.compile(
    r"(?<= )(?:(?:traces?|traced) (?:back )?to|(?:goes|went|comes|came|boils|boiled) (?:back|down) to|"
    r"(?:can|could) be (?:traced|laid|attributed|put) (?:back |squarely |directly )?(?:to|at the (?:feet|door) of)|"
    r"(?:attributed|attributable) to|laid (?:squarely )?at the (?:feet|door) of|(?:a |the )?(?:direct )?result of)"
    r"(?= )"
)
# Praise that opens a sentence about a failure is sarcasm: "Great job, Desmond, deploying straight to prod".
PRAISE = re.compile(
    r"^ (?:[0-9:]+ )?(?:(?:great|nice|good|fantastic|brilliant|excellent|stellar|amazing|superb|solid) (?:job|work|"
    r"move|call|one|thinking)|well done|way to go|bravo|kudos|thanks|thank you|hats off|congrats|congratulations)"
    r"(?: (?:to|by|for))?(?= )"
)
# A person's act given as the cause of a failure: "the outage happened because Pieter deleted ...",
# "Root cause: Priyanka ran ...".
CAUSE_FRAME = re.compile(
    r"(?<= )(?:(?:root cause|cause|culprit|trigger)(?: (?:is|was))?(?: simple| clear| simply| clearly)? :|"
    r"(?:happened|occurred|started|began|failed|broke|went down|stalled|dragged on|lasted|took so long|"
    r"went (?:unnoticed|unanswered|unchecked)|"
    r"(?:was|were) (?:delayed|prolonged|extended|exposed|lost|deleted|leaked|corrupted|wiped|down))"
    r" (?:[\w-]+ ){0,4}?because)(?= )"
)

# Harm told as what followed a person's act: "wiped the staging database, and the demo failed".
CONSEQUENCE = re.compile(
    r"(?<= )(?:,? (?:and|so) (?:then )?(?:the |every |all |its |their |our )?(?:[\w-]+ ){0,3}?(?:failed|broke|"
    r"crashed|went down|went offline|stopped working|errored|timed out|was lost|were lost|hung|died)|"
    r", (?:breaking|taking down|causing|deleting|locking|corrupting|wiping|knocking out|bringing down))(?= )"
)

# "Human error" and its kin: a person's failure even when no one is named ("an engineer error during the upgrade").
HUMAN_ERROR = re.compile(
    r"(?<= )(?:human|operator|engineer|engineering|user|personnel|staff|manual) (?:error|errors|mistake|mistakes)"
    r"(?= )"
)
# What denies it: "not human error", "human error is not a root cause".
DENIAL_BEFORE = frozenset({"not", "no", "never", "than", "instead", "beyond", "without"})
DENIAL_AFTER = re.compile(r"^ (?:is|was|are|were) (?:not|never|rarely) ")

# A judgement of the person a noun phrase names: "a careless engineer", "the sloppy reviewer".
JUDGED = re.compile(
    r"(?<= )(?:careless|sloppy|lazy|incompetent|negligent|reckless|inattentive|clueless|irresponsible|"
    r"overconfident|hapless)(?= )"
)
# Blame asked as a question: "Why didn't Dave check the dashboard?"
WHY_NOT = re.compile(r"(?<= )(?:why|how come) (?:did|had|has|have|was|were|would|could) not(?= )")
BAD_OR_INCIDENT = re.compile(rf"^(?:{BAD}|{INCIDENT_NOUNS}|production|prod|wrong|incorrect)$")
WOULD_HAVE = re.compile(r"(?<= )(?:would|could|might) (?:not |never )?have(?= )")


# --- agentless passives: only a person can have done it -----------------------------------------------------------

# Things people are warned by: ignoring them is a person's failure even when the passive names no one.
SIGNAL_NOUNS = words(
    "warning warnings alert alerts alarm alarms page pages notice notices email emails message messages notification "
    "notifications advice runbook reminder reminders ticket tickets deprecation deprecations request requests"
)
AGENTLESS = re.compile(
    r"(?<= )(?:was|were|got|been|is|are) (?:(?:simply|just|completely|entirely|repeatedly|again|largely|mostly|"
    r"all|apparently|clearly|then|also) )*(?P<participle>overlooked|neglected|forgotten|disregarded|dismissed|"
    r"brushed off|shrugged off|ignored|not followed|never followed|not heeded|never heeded|left running|left on|"
    r"left open|left unattended|left enabled)(?= )"
)
