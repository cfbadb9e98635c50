"""A learned scorer for blame language: logistic regression over `review.features`, complementing the rules.

Why: the phrase rules of `review.blame` reach near-perfect recall on the sentences they were tuned on but
0.4-0.75 on text written by others, because every new way of putting blame needs a new phrase. A linear model
over normalised words ("<ROLE> forgot", "<PERSON> 's sloppy", "human error", "n:test" for "never tested")
generalises to wordings nobody wrote a rule for. It only adds findings: a sentence is flagged when the rules
flag it or its score reaches `Model.threshold`, and a finding of its own is as sure as a rule's (an error that
blocks completion) only when its score reaches `Model.error_threshold`; below that it is a warning.

`review.training` fits the weights and chooses both thresholds; this module loads and applies them.
"""

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from service.review.features import PERSON, PLACEHOLDERS, features
from service.review.lexicon import GIVEN_NAMES
from service.review.parse import Sentence

WEIGHTS = Path(__file__).with_name("blame_weights.json")
DIGITS = 5  # weights are rounded when written, so the file is stable and diffs stay readable


@dataclass(frozen=True)
class Scored:
    """A sentence's score, and what a finding quotes: the words of its highest-weighted bigram, and its actor."""

    probability: float
    phrase: str
    actor: str | None


@dataclass(frozen=True)
class Model:
    bias: float
    weights: dict[str, float]
    threshold: float
    error_threshold: float

    def score(self, text: str, people: frozenset[str] = frozenset()) -> Scored:
        sentence = Sentence(text, people)
        found = features(sentence)
        seen: set[str] = set()
        total = self.bias
        best: tuple[float, int, int] | None = None
        for name, start, end in found:
            weight = self.weights.get(name, 0.0)
            if name not in seen:
                seen.add(name)
                total += weight
            if end - start > 1 and (best is None or weight > best[0]):
                best = (weight, start, end)
        phrase = re.sub(r" ([,;:.!?)])", r"\1", sentence.phrase(best[1], best[2])) if best else text
        return Scored(sigmoid(total), phrase, _actor(sentence, found))

    def flags(self, text: str, people: frozenset[str] = frozenset()) -> Scored | None:
        """The sentence's score if it reaches the threshold."""
        scored = self.score(text, people)
        return scored if scored.probability >= self.threshold else None

    def to_json(self) -> str:
        data = {
            "threshold": round(self.threshold, DIGITS),
            "error_threshold": round(self.error_threshold, DIGITS),
            "bias": round(self.bias, DIGITS),
            "weights": {name: round(self.weights[name], DIGITS) for name in sorted(self.weights)},
        }
        return json.dumps(data, indent=0, sort_keys=True) + "\n"


def _actor(sentence: Sentence, found: Iterable[tuple[str, int, int]]) -> str | None:
    """The first person the sentence names, as written: the one a finding says is made the actor.

    A capitalised first word the parser takes for a name is a feature like any other, but is named as the
    actor only if it is a known given name or person: "Root cause was ..." must not say 'Root' is to blame.
    """
    for name, start, end in found:
        if name.startswith("w:") and name[2:] in PLACEHOLDERS:
            low = sentence.low(start)
            if name[2:] == PERSON and start == 0 and low not in GIVEN_NAMES and low not in sentence.people:
                continue
            if name[2:] == PERSON and re.fullmatch(r"[A-Z]\w*(?:-[A-Z]\w*)+", sentence.tokens[start].text):
                continue  # "Retry-After", "X-Request-Id": the name of a thing
            return sentence.phrase(start, end)
    return None


def sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


@cache
def load(path: Path = WEIGHTS) -> Model:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Model(
        bias=data["bias"], weights=data["weights"], threshold=data["threshold"], error_threshold=data["error_threshold"]
    )
