"""A learned scorer for blame language: logistic regression over `review.features`, complementing the rules.

Why: the phrase rules of `review.blame` reach near-perfect recall on the sentences they were tuned on but
about 0.75-0.8 on new text, because every new way of putting blame needs a new phrase. A linear model over
normalised words ("<ROLE> forgot", "<PERSON> 's sloppy", "human error") generalises to wordings nobody wrote
a rule for. It only adds findings: a sentence is flagged when the rules flag it or its score reaches
`Model.threshold`.

How: plain L2-regularised logistic regression on binary features, fitted by full-batch gradient descent for a
fixed number of steps from zero weights, in pure Python and in a fixed order, so that training is
deterministic and needs no numerical library. `python -m service.review.scorer` trains it on the labelled
corpora in tests/review (splits dev, holdout, fresh, fresh2; never fresh3, which measures it) and writes
`blame_weights.json`, which the service loads; a test checks that retraining reproduces that file.

The threshold is chosen by 5-fold cross-validation on the training sentences (folds fixed by a hash of each
sentence): the lowest score at which the scorer's own held-out flags are at least `TARGET_PRECISION` precise.
The scorer's precision alone is used, not that of rules and scorer together, because the rules were tuned on
most of these sentences and would make any threshold look precise.
"""

import csv
import hashlib
import json
import math
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from service.review.features import PERSON, PLACEHOLDERS, features
from service.review.lexicon import GIVEN_NAMES
from service.review.parse import Sentence

WEIGHTS = Path(__file__).with_name("blame_weights.json")
CORPORA = Path(__file__).resolve().parents[2] / "tests" / "review"
TRAINING_FILES = ("blame_corpus.csv", "blame_corpus_fresh.csv", "blame_corpus_fresh2.csv")
TRAINING_SPLITS = frozenset({"dev", "holdout", "fresh", "fresh2"})
TARGET_PRECISION = 0.95
FOLDS = 5
MIN_COUNT = 2  # a feature seen in fewer training sentences is noise, and would not generalise
STEPS = 400
LEARNING_RATE = 2.0
L2 = 0.0005
DIGITS = 5  # weights are rounded when written, so the file is stable and diffs stay readable


@dataclass(frozen=True)
class Scored:
    """A sentence's score, and what a finding quotes: the words of its highest-weighted bigram, and its actor."""

    probability: float
    phrase: str
    actor: str | None
    eligible: bool
    """Whether the scorer may flag the sentence at all: it names a person and negates nothing."""


@dataclass(frozen=True)
class Model:
    bias: float
    weights: dict[str, float]
    threshold: float

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
        actor = _actor(sentence, found)
        return Scored(_sigmoid(total), phrase, actor, actor is not None and not _negates(sentence))

    def flags(self, text: str, people: frozenset[str] = frozenset()) -> Scored | None:
        """The sentence's score if it reaches the threshold and the sentence names a person to blame.

        Words alone make "Why did checkout fail?" look like blame; a finding must have someone it blames, and
        blame with no one named ("the alert was ignored") is left to the rules' agentless forms. A bag of words
        cannot read most negations either ("Dave never missed a page", "failed over without any data loss"), so a
        sentence with a negation is left to the rules, which parse it.
        """
        scored = self.score(text, people)
        return scored if scored.eligible and scored.probability >= self.threshold else None

    def to_json(self) -> str:
        data = {
            "threshold": round(self.threshold, DIGITS),
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


_NEGATING = frozenset({"never", "no", "without", "nobody", "nothing"})
"""Words that turn a failure into its absence ("never missed", "without any data loss"). "not" is not among
them: "did not check" is how omissions are told, and the model has learned those words as blame."""


def _negates(sentence: Sentence) -> bool:
    return any(token.low in _NEGATING for token in sentence.tokens)


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


@cache
def load(path: Path = WEIGHTS) -> Model:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Model(bias=data["bias"], weights=data["weights"], threshold=data["threshold"])


# --- training ----------------------------------------------------------------------------------------------------


def feature_names(text: str) -> list[str]:
    return sorted({name for name, _, _ in features(Sentence(text, frozenset()))})


def fit(examples: Sequence[tuple[list[str], int]]) -> tuple[float, dict[str, float]]:
    """Logistic regression on binary features by full-batch gradient descent: deterministic for its input."""
    counts: dict[str, int] = {}
    for names, _ in examples:
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    vocabulary = sorted(name for name, count in counts.items() if count >= MIN_COUNT)
    index = {name: i for i, name in enumerate(vocabulary)}
    rows = [([index[name] for name in names if name in index], label) for names, label in examples]
    weights = [0.0] * len(vocabulary)
    bias = 0.0
    size = len(rows)
    for _ in range(STEPS):
        gradient = [0.0] * len(vocabulary)
        bias_gradient = 0.0
        for ids, label in rows:
            error = _sigmoid(bias + sum(weights[i] for i in ids)) - label
            bias_gradient += error
            for i in ids:
                gradient[i] += error
        bias -= LEARNING_RATE * bias_gradient / size
        for i in range(len(weights)):
            weights[i] -= LEARNING_RATE * (gradient[i] / size + L2 * weights[i])
    return bias, {name: weights[i] for i, name in enumerate(vocabulary) if round(weights[i], DIGITS)}


def training_corpus(directory: Path = CORPORA) -> list[tuple[str, int]]:
    corpus = []
    for name in TRAINING_FILES:
        with (directory / name).open(encoding="utf-8", newline="") as file:
            for row in csv.DictReader(file):
                if row["split"] in TRAINING_SPLITS:
                    corpus.append((row["sentence"], int(row["label"] == "blame")))
    return corpus


def fold_of(sentence: str) -> int:
    return int(hashlib.sha256(sentence.encode()).hexdigest(), 16) % FOLDS


def cross_validated_scores(corpus: Sequence[tuple[str, int]]) -> list[float]:
    """Each sentence's score from a model trained on the folds it is not in."""
    named = [(feature_names(text), label) for text, label in corpus]
    scores = [0.0] * len(corpus)
    eligible = [Model(0.0, {}, 1.0).score(text).eligible for text, _ in corpus]
    for fold in range(FOLDS):
        held = [fold_of(text) == fold for text, _ in corpus]
        bias, weights = fit([example for example, out in zip(named, held, strict=True) if not out])
        for i, out in enumerate(held):
            if out and eligible[i]:  # as in `Model.flags`
                scores[i] = _sigmoid(bias + sum(weights.get(name, 0.0) for name in named[i][0]))
    return scores


def choose_threshold(scores: Sequence[float], labels: Sequence[int], target: float = TARGET_PRECISION) -> float:
    """The lowest score whose flags (score >= it) are at least `target` precise, and no lower than 0.5."""
    ranked = sorted(zip(scores, labels, strict=True), reverse=True)
    chosen = 1.0
    positives = 0
    for count, (score, label) in enumerate(ranked, start=1):
        positives += label
        if positives / count >= target and (count == len(ranked) or ranked[count][0] < score):
            chosen = score
    return max(chosen, 0.5)


def train(directory: Path = CORPORA) -> tuple[Model, list[float]]:
    """The model to ship, and its cross-validated scores on the training sentences."""
    corpus = training_corpus(directory)
    scores = cross_validated_scores(corpus)
    threshold = choose_threshold(scores, [label for _, label in corpus])
    bias, weights = fit([(feature_names(text), label) for text, label in corpus])
    return Model(bias, weights, threshold), scores


def main() -> None:
    model, scores = train()
    corpus = training_corpus()
    flagged = [(score >= model.threshold, label) for score, (_, label) in zip(scores, corpus, strict=True)]
    true_positives = sum(1 for hit, label in flagged if hit and label)
    precision = true_positives / max(1, sum(1 for hit, _ in flagged if hit))
    recall = true_positives / max(1, sum(label for _, label in flagged))
    WEIGHTS.write_text(model.to_json(), encoding="utf-8")
    print(
        f"{len(corpus)} sentences, {len(model.weights)} weights, threshold {model.threshold:.3f}; "
        f"cross-validated scorer alone: precision {precision:.3f}, recall {recall:.3f}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
