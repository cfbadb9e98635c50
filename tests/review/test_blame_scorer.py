"""The learned blame scorer: its committed weights are what training produces, and its findings quote words."""

import pytest

from service.review import scorer, training
from service.review.blame import find_blame
from tests.review.test_blame_corpus import CORPORA_BY_SPLIT, TRAINING_SPLITS, UNSEEN_SPLIT


@pytest.fixture(scope="module")
def trained() -> training.Trained:
    return training.train()


def test_retraining_reproduces_the_committed_weights(trained: training.Trained) -> None:
    assert trained.model.to_json() == scorer.WEIGHTS.read_text(encoding="utf-8")


def test_the_thresholds_are_precise_on_sentences_the_rules_never_saw(
    trained: training.Trained,
) -> None:
    model = scorer.load()

    assert trained.with_rules.precision >= training.TARGET_PRECISION
    assert trained.sure.precision >= training.ERROR_PRECISION
    assert 0.5 <= model.threshold <= model.error_threshold < 1.0
    assert training.choose_threshold([0.9, 0.8, 0.7, 0.6], [True, True, False, True], target=0.95) == 0.8


def test_rules_alone_miss_what_the_scorer_catches(trained: training.Trained) -> None:
    """The scorer earns its place: rules or scorer catch more blaming sentences than the rules alone."""
    assert trained.with_rules.true_positives > trained.rules_alone.true_positives


def test_a_scored_finding_quotes_words_of_the_sentence_and_its_person() -> None:
    model = scorer.load()
    sentence = "Root cause was the stupidity of the night operator, who did not care."
    scored = model.score(sentence)

    assert scored.phrase
    assert scored.phrase in sentence
    assert scored.actor == "operator"
    for match in find_blame(sentence):
        assert match.phrase in sentence


def test_a_sentence_naming_no_failure_scores_low() -> None:
    assert scorer.load().flags("Ines restored the ledger from the 04:00 snapshot and confirmed the totals.") is None


def test_the_scorer_never_trains_on_the_unseen_corpus() -> None:
    assert set(training.TRAINING_SPLITS) == set(TRAINING_SPLITS)
    assert CORPORA_BY_SPLIT[UNSEEN_SPLIT].name not in training.TRAINING_FILES
    assert UNSEEN_SPLIT not in training.TRAINING_SPLITS
