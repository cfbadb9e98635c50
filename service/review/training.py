"""Training of the blame scorer (`review.scorer`): its weights and its threshold, from the labelled corpora.

`python -m service.review.training` trains on the corpora in tests/review and writes `blame_weights.json`,
which the service loads; a test checks that retraining reproduces that file.

The model is plain L2-regularised logistic regression on binary features, fitted by full-batch accelerated
gradient descent for a fixed number of steps from zero weights, in pure Python and in a fixed order, so that training
is deterministic and needs no numerical library.

The service flags a sentence when the rules or the scorer do, so the threshold is chosen for the two
together, by 5-fold cross-validation (folds fixed by a hash of each sentence): the lowest score at which
"the rules flag it, or its held-out score reaches the threshold" is at least `TARGET_PRECISION` precise on
the sentences the rules were never tuned on (`RULES_UNSEEN_SPLITS`). On the others the rules were tuned to be
right, which would make any threshold look precise. The error threshold is chosen the same way for the
scorer's own findings (sentences the rules pass) at `ERROR_PRECISION`, about the rules' precision on those
sentences: above it a finding of the scorer is as sure as a rule's and blocks completion.
"""

import csv
import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from service.review.blame import blamed_by_rules
from service.review.features import features
from service.review.parse import Sentence
from service.review.scorer import DIGITS, WEIGHTS, Model, sigmoid

CORPORA = Path(__file__).resolve().parents[2] / "tests" / "review"
TRAINING_FILES = (
    "blame_corpus.csv",
    "blame_corpus_fresh.csv",
    "blame_corpus_fresh2.csv",
    "blame_corpus_fresh3.csv",
    "blame_corpus_voices.csv",
)
TRAINING_SPLITS = frozenset({"dev", "holdout", "fresh", "fresh2", "fresh3", "voices"})
RULES_UNSEEN_SPLITS = frozenset({"voices"})
"""Splits written after the rules and never used to change them: only there do the rules show their error."""
TARGET_PRECISION = 0.92
ERROR_PRECISION = 0.98
FOLDS = 5
MIN_COUNT = 5  # a feature seen in fewer training sentences is noise, and would not generalise
STEPS = 150
LEARNING_RATE = 2.0
MOMENTUM = 0.9
L2 = 0.0002


@dataclass(frozen=True)
class Example:
    sentence: str
    blames: bool
    split: str


@dataclass(frozen=True)
class Flagging:
    """What a threshold flags among labelled sentences."""

    flagged: int
    true_positives: int
    blaming: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.flagged if self.flagged else 0.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.blaming if self.blaming else 0.0

    @classmethod
    def of(cls, scores: Sequence[float], labels: Sequence[bool], threshold: float) -> "Flagging":
        hits = [label for score, label in zip(scores, labels, strict=True) if score >= threshold]
        return cls(flagged=len(hits), true_positives=sum(hits), blaming=sum(labels))


def feature_names(text: str) -> list[str]:
    return sorted({name for name, _, _ in features(Sentence(text, frozenset()))})


def fit(examples: Sequence[tuple[list[str], bool]]) -> tuple[float, dict[str, float]]:
    """Logistic regression on binary features by Nesterov's accelerated gradient descent: deterministic for its
    input. With momentum, `STEPS` steps fit as well as four times as many plain gradient steps, which matters
    because the test suite retrains the model."""
    counts: dict[str, int] = {}
    for names, _ in examples:
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    vocabulary = sorted(name for name, count in counts.items() if count >= MIN_COUNT)
    index = {name: i for i, name in enumerate(vocabulary)}
    rows = [([index[name] for name in names if name in index], label) for names, label in examples]
    size = len(rows)
    weights, velocity = [0.0] * len(vocabulary), [0.0] * len(vocabulary)
    bias = bias_velocity = 0.0
    for _ in range(STEPS):
        ahead = [weight + MOMENTUM * speed for weight, speed in zip(weights, velocity, strict=True)]
        bias_ahead = bias + MOMENTUM * bias_velocity
        gradient = [0.0] * len(vocabulary)
        bias_gradient = 0.0
        for ids, label in rows:
            error = sigmoid(bias_ahead + sum(ahead[i] for i in ids)) - label
            bias_gradient += error
            for i in ids:
                gradient[i] += error
        bias_velocity = MOMENTUM * bias_velocity - LEARNING_RATE * bias_gradient / size
        bias += bias_velocity
        for i in range(len(weights)):
            velocity[i] = MOMENTUM * velocity[i] - LEARNING_RATE * (gradient[i] / size + L2 * ahead[i])
            weights[i] += velocity[i]
    return bias, {name: weights[i] for i, name in enumerate(vocabulary) if round(weights[i], DIGITS)}


def training_corpus(directory: Path = CORPORA) -> list[Example]:
    corpus = []
    for name in TRAINING_FILES:
        with (directory / name).open(encoding="utf-8", newline="") as file:
            for row in csv.DictReader(file):
                if row["split"] in TRAINING_SPLITS:
                    corpus.append(Example(row["sentence"], row["label"] == "blame", row["split"]))
    return corpus


def fold_of(sentence: str) -> int:
    return int(hashlib.sha256(sentence.encode()).hexdigest(), 16) % FOLDS


def cross_validated_scores(corpus: Sequence[Example], named: Sequence[tuple[list[str], bool]]) -> list[float]:
    """Each sentence's score from a model trained on the folds it is not in; `named` are their features."""
    scores = [0.0] * len(corpus)
    for fold in range(FOLDS):
        held = [fold_of(example.sentence) == fold for example in corpus]
        bias, weights = fit([example for example, out in zip(named, held, strict=True) if not out])
        for i, out in enumerate(held):
            if out:
                scores[i] = sigmoid(bias + sum(weights.get(name, 0.0) for name in named[i][0]))
    return scores


def choose_threshold(scores: Sequence[float], labels: Sequence[bool], target: float = TARGET_PRECISION) -> float:
    """The lowest score whose flags (score >= it) are at least `target` precise, and no lower than 0.5."""
    ranked = sorted(zip(scores, labels, strict=True), reverse=True)
    chosen = 1.0
    positives = 0
    for count, (score, label) in enumerate(ranked, start=1):
        positives += label
        if positives / count >= target and (count == len(ranked) or ranked[count][0] < score):
            chosen = score
    return max(chosen, 0.5)


@dataclass(frozen=True)
class Trained:
    model: Model
    scorer_alone: Flagging
    """Cross-validated, on every training sentence."""
    rules_alone: Flagging
    """The rules, on the sentences they were never tuned on."""
    with_rules: Flagging
    """Cross-validated, rules or scorer, on the sentences the rules were never tuned on."""
    sure: Flagging
    """Cross-validated, the scorer's findings at the error threshold, on those sentences that the rules pass."""


def train(directory: Path = CORPORA) -> Trained:
    corpus = training_corpus(directory)
    named = [(feature_names(example.sentence), example.blames) for example in corpus]
    labels = [example.blames for example in corpus]
    scores = cross_validated_scores(corpus, named)
    unseen = [i for i, example in enumerate(corpus) if example.split in RULES_UNSEEN_SPLITS]
    unseen_labels = [labels[i] for i in unseen]
    by_rules = [blamed_by_rules(corpus[i].sentence) for i in unseen]
    # As the service applies the scores: a sentence the rules flag is flagged whatever its score.
    combined = [1.0 if flagged else scores[i] for i, flagged in zip(unseen, by_rules, strict=True)]
    threshold = choose_threshold(combined, unseen_labels)
    passed = [i for i, flagged in zip(unseen, by_rules, strict=True) if not flagged]
    passed_scores, passed_labels = [scores[i] for i in passed], [labels[i] for i in passed]
    error_threshold = max(threshold, choose_threshold(passed_scores, passed_labels, ERROR_PRECISION))
    bias, weights = fit(named)
    return Trained(
        model=Model(bias, weights, threshold, error_threshold),
        scorer_alone=Flagging.of(scores, labels, threshold),
        rules_alone=Flagging.of([float(flagged) for flagged in by_rules], unseen_labels, 1.0),
        with_rules=Flagging.of(combined, unseen_labels, threshold),
        sure=Flagging.of(passed_scores, passed_labels, error_threshold),
    )


def main() -> None:
    trained = train()
    WEIGHTS.write_text(trained.model.to_json(), encoding="utf-8")
    model, alone, combined, sure = trained.model, trained.scorer_alone, trained.with_rules, trained.sure
    print(
        f"{len(model.weights)} weights, threshold {model.threshold:.3f}, error threshold {model.error_threshold:.3f}; "
        f"cross-validated: scorer alone P {alone.precision:.3f} / R {alone.recall:.3f} on all {alone.blaming} "
        f"blaming sentences; on the rules' unseen splits, rules or scorer P {combined.precision:.3f} / "
        f"R {combined.recall:.3f}, the scorer's sure findings P {sure.precision:.3f} ({sure.flagged} of them)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
