"""The learned blame scorer: its committed weights are what training produces, and its findings quote words."""

from service.review import scorer
from service.review.blame import find_blame
from tests.review.test_blame_corpus import FRESH_CORPORA, TRAINING_SPLITS


def test_retraining_reproduces_the_committed_weights() -> None:
    model, _ = scorer.train()

    assert model.to_json() == scorer.WEIGHTS.read_text(encoding="utf-8")


def test_the_threshold_is_one_cross_validation_chose_and_no_lower_than_even_odds() -> None:
    model = scorer.load()

    assert 0.5 <= model.threshold < 1.0
    assert scorer.choose_threshold([0.9, 0.8, 0.7, 0.6], [1, 1, 0, 1], target=0.95) == 0.8


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
    assert set(scorer.TRAINING_SPLITS) == set(TRAINING_SPLITS)
    assert FRESH_CORPORA["fresh3"].name not in scorer.TRAINING_FILES
    assert "fresh3" not in scorer.TRAINING_SPLITS
