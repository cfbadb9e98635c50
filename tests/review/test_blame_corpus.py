"""Precision and recall of the blame-language rule on labelled corpora of postmortem sentences.

Corpora, all written for this project in the style of real postmortems: each blaming sentence makes a
person (a name, a role, a team, a pronoun) the actor of a failure; each blameless one describes the same
kind of event through the system, the team as "we", or a person doing something that is not a failure.

* BLAMING and BLAMELESS below: the first corpus the rule was built on.
* blame_corpus.csv: more sentences in many voices (passives, possessives, "should have", hedged and
  repeated forms, sarcasm, questions; people doing the right thing; failures the sentence explains by the
  system), each with its label and split. The split is fixed by a hash of the sentence (HOLDOUT_PERCENT
  of them are "holdout"). The rule was first tuned on "dev" only, and "holdout" measured it on unseen text;
  holdout's errors have since been read and fixed, so both parts are now tuning data.
* CORPORA_BY_SPLIT: files of one split each, written after that. "fresh" and "fresh2" are in voices the first
  corpora have little of (terse timeline notes, hedges, sarcasm, time-qualified omissions, long multi-clause
  sentences); the rules were tuned on "fresh" after scoring P 0.988 / R 0.604 on it (then P 1.000 / R 0.799),
  and scored P 0.979 / R 0.779 on "fresh2". "fresh3" (payments, games, healthcare IT, telecom, ML platforms;
  non-native phrasing, fragments, agentless passives, vendors and roles as culprits) measured the first
  learned scorer while unseen: rules alone P 0.989 / R 0.725, rules and that scorer P 0.971 / R 0.825.
* "voices": 5,500 sentences from a written labelling guide (blame_labelling_guide.md), by writers who saw
  none of the other corpora, in batches of 500 by domain and voice (SaaS, other industries, hard indirect
  forms, fragments and handles, public sector, fintech, games and chat, data and ML, industrial shift logs,
  security and IT, five whys).
  The rules were never tuned on them: there they score P 0.95-1.00 / R 0.25-0.62 by batch, which is why the scorer's
  threshold is chosen on them (`review.training`).
* The scorer (`review.scorer`) flags what the rules pass. It trains on every split but "fresh4", so on those
  it is measured in-sample (each at least 0.9 / 0.9). Its 5-fold cross-validation, rules or scorer, on
  "voices": P 0.920 / R 0.876.
* "fresh4": 320 sentences committed before the changes it measures, never trained or tuned on; only its
  figures were ever printed. Before: rules P 0.990 / R 0.625, rules and the first scorer P 0.982 / R 0.700.
  Now: rules P 0.991 / R 0.669, rules and scorer P 0.974 / R 0.944. It measures the rule on unseen text.

The sentences go through the API as contributing factors of postmortems, one sentence per entry.
"""

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.factories import create_postmortem

MIN_PRECISION = 0.9
MIN_RECALL = 0.9
ENTRIES_PER_POSTMORTEM = 100  # the most contributing factors one postmortem holds
CORPUS = Path(__file__).with_name("blame_corpus.csv")
CORPORA_BY_SPLIT = {
    split: Path(__file__).with_name(f"blame_corpus_{split}.csv")
    for split in ("fresh", "fresh2", "fresh3", "voices", "fresh4")
}
"""The corpora that are each one split."""
TRAINING_SPLITS = ("dev", "holdout", "fresh", "fresh2", "fresh3", "voices")
"""The splits the scorer is trained on (the rules were tuned on the first four)."""
UNSEEN_SPLIT = "fresh4"
"""Never trained or tuned on: it measures the rule on unseen text."""
HOLDOUT_PERCENT = 35
LABELS = ("blame", "blameless")

BLAMING = [
    "Dave pushed a bad config to production at 14:02 and checkout started failing.",
    "The junior engineer broke the checkout flow by editing the wrong template.",
    "QA missed the regression in the discount calculation.",
    "The on-call engineer ignored the first three pages.",
    "Priya forgot to remove the feature flag before the release.",
    "The outage started because Tom deleted the production orders table.",
    "Marcus should have known that the migration would lock the table.",
    "The DBA was too slow to promote the replica.",
    "Our intern ran the wrong command against the primary database.",
    "The reviewer approved a broken change without reading the diff.",
    "He did not check the dashboard before starting the rollout.",
    "Sarah was careless with the firewall rules.",
    "The release manager skipped the canary stage to save time.",
    "Because of Kevin's typo, the cache TTL was set to zero.",
    "The root cause was the SRE's failure to renew the certificate.",
    "Someone on the platform team deployed an untested build on Friday evening.",
    "Ahmed merged the pull request without waiting for CI.",
    "The support engineer misread the customer's ticket and escalated it to the wrong team.",
    "The incident was caused by the on-call engineer.",
    "A bad config pushed by Elena took down the payment gateway.",
    "The alert was ignored by the night-shift operator for forty minutes.",
    "Ops dropped the ball on the disk space warnings.",
    "It was Jonathan who introduced the race condition in the retry loop.",
    "The developers never tested the failover path.",
    "The contractor misconfigured the load balancer health check.",
    "Nina took too long to acknowledge the page.",
    "The new hire fat-fingered the replica count.",
    "Rahul made a careless mistake in the DNS record.",
    "They forgot to update the runbook after the migration.",
    "Operators were not paying attention to the queue depth graph.",
    "The tech lead should have caught the missing index in review.",
    "The fault lies with the database team, who changed the schema without telling anyone.",
    "The engineer on call failed to escalate to the payments team.",
    "I accidentally dropped the production sessions table.",
    "Bob in QA signed off on the release without testing the upgrade path.",
    "Luis was slow to respond to the escalation.",
    "The engineer who pushed the config was negligent.",
    "Lucas overlooked the warning in the deploy log.",
    "The junior developer's mistake caused a two-hour outage.",
    "Dmitri disabled the alert and then forgot about it.",
    "The SRE team let the certificate expire.",
    "Maria was distracted and approved the wrong change.",
    "The outage happened because Sean restarted the wrong cluster.",
    "She ignored the warning banner in the console.",
    "He should have double-checked the region before running the script.",
    "Kim from the data team truncated the events table in production while cleaning up test data.",
    "The on-call SRE silenced the disk alert and went back to sleep.",
    "Our DBA ran an unbounded UPDATE on the primary without a WHERE clause.",
    "Jamie should not have deployed on a Friday afternoon.",
    "The change author did not test the rollback path.",
    "Hannah copied the staging credentials into the production config.",
    "If Victor had read the runbook, the outage would have lasted five minutes.",
    "Frontend developers shipped a broken build to the CDN.",
    "The intern's careless edit removed the rate limit.",
    "The payments team failed to notice the expiring API key.",
    "Owen was responsible for the outage because he skipped the load test.",
    "The operator on duty misjudged the severity and did not page anyone.",
    "Nobody on the team bothered to read the deprecation notice, and Ivan upgraded the client anyway.",
    "The engineer made an error when resizing the volume.",
    "Carlos blindly trusted the autocomplete and picked the wrong cluster.",
    "Wei applied the Terraform plan to the wrong workspace.",
    "The night on-call didn't acknowledge the page for 38 minutes.",
    "Two engineers ignored the failing canary and promoted the release anyway.",
    "The SREs were complacent about the disk usage trend.",
    "Paul's rushed hotfix took down the login service.",
    "The outage was triggered by an engineer who restarted every broker at once.",
    "Julia forgot that the cache keys had changed format.",
    "The mobile team shipped an untested SDK version to 100% of users.",
    "Rebecca misconfigured the retry budget on the gateway.",
    "The DBA should have tested the index migration on a production-sized copy.",
    "Mike dropped the customers table on the primary by mistake.",
    "The release captain overrode the failed checks and merged the branch.",
    "Our security engineer rotated the wrong key.",
    "He was too slow to roll back once errors started.",
    "Had the engineer followed the checklist, none of this would have happened.",
    "Ingrid neglected to announce the maintenance window in the status channel.",
    "The backend team released a schema change that nobody had reviewed.",
    "09:12 Stefan acknowledged the alert but dismissed it as noise.",
    "The engineer's lack of experience with Kafka led to the partition loss.",
    "Yusuf accidentally pointed the traffic split at the old cluster.",
    "Our on-call should have escalated after the first failed rollback.",
    "Hugo messed up the DNS cutover.",
    "The deploy went out because the approver rubber-stamped the PR.",
    "Claire failed to verify the backup before starting the restore.",
    "The contractor was reckless with production access.",
    "Felix skipped the dry run and applied the migration directly.",
    "Diego typed the wrong region into the failover command.",
]
BLAMELESS = [
    "A config change reached production without validation.",
    "The deploy pipeline pushed a config with a zero timeout to every region at once.",
    "The alert fired eleven minutes after the error rate crossed 5% because its window was fifteen minutes.",
    "The on-call engineer acknowledged the page within two minutes and started the rollback.",
    "Priya noticed the spike in 502s on the dashboard and paged the database team.",
    "The runbook described a failover procedure that no longer matched the cluster layout.",
    "Nothing in the CI pipeline validated the timeout value.",
    "The migration locked the orders table for 14 minutes.",
    "The replica fell behind because the nightly batch job saturated its disk.",
    "Dave rolled back the release at 09:41, and error rates returned to baseline by 09:45.",
    "The health check only tested that the process was up, not that it could reach the database.",
    "Engineers could not see queue depth because the dashboard had no panel for it.",
    "We missed the early signs because the alert was routed to a muted channel.",
    "The certificate expired because the renewal job had been failing silently since March.",
    "Two reviewers approved the change; the diff did not render the generated config.",
    "The feature flag service returned stale values for six minutes after the deploy.",
    "QA found the regression in staging, but the release train did not wait for their sign-off.",
    "The new hire followed the onboarding guide, which still pointed at the old cluster.",
    "Alice pushed the fix at 10:12 and confirmed recovery on the checkout dashboard.",
    "The load balancer kept sending traffic to the drained node for 90 seconds.",
    "The database was too slow to answer health checks under the backfill load.",
    "Our paging policy had no secondary, so the page went unanswered for 25 minutes.",
    "The retry logic ignored the Retry-After header and amplified the load.",
    "The autoscaler failed to add capacity because the instance quota was exhausted.",
    "Kafka consumers fell behind after the partition rebalance.",
    "The script deleted the production index because its environment variable defaulted to prod.",
    "The incident commander moved the discussion to a bridge call at 09:20.",
    "Tom and Priya paired on the mitigation and restored service at 11:03.",
    "The change was approved by two senior engineers and passed all automated checks.",
    "No alert covered the disk filling up on the log volume.",
    "The deploy tool allowed a rollout to every region at once.",
    "The alert should have paged at 5% errors, but its threshold was set to 50%.",
    "Sarah escalated to the vendor when the API started returning 429s.",
    "The on-call rotation had a gap over the holiday weekend.",
    "The documentation did not mention that the flag is read only at startup.",
    "The configuration loader accepted a negative pool size without complaint.",
    "During the incident, engineers had to read raw logs because tracing was disabled for the service.",
    "The team rolled back within five minutes once the cause was clear.",
    "The backup job ran, but nobody had tested a restore in two years.",
    "A typo in the Terraform variable set the replica count to zero.",
    "The responder followed the runbook step by step, and step four restarted the primary.",
    "The linter missed the duplicate key because YAML merges were not checked.",
    "Customers saw checkout errors for 47 minutes.",
    "Marcus was on vacation, so the page went to a backup who had no production access.",
    "Without a canary, the bad build reached every region within four minutes.",
    "The pager app on the on-call phone was silenced by an OS update.",
    "The first responder did what the runbook said, and the runbook was wrong.",
    "The review process had no step for checking generated files.",
    "After Dave restarted the pods, memory usage fell back to normal.",
    "The canary analysis ignored latency and only compared error rates.",
    "Alice removed the broken config from the load balancer at 09:32.",
    "Priya reverted the faulty commit and redeployed.",
    "Tom identified the bad config within ten minutes.",
    "The engineer who pushed the config followed the documented process.",
    "Nobody was paged because the alert had no routing rule.",
    "The deprecation notice for the client library went to an unmonitored mailing list.",
    "The volume resize tool does not ask for confirmation when shrinking a disk.",
    "Kim from the data team restored the events table from the 04:00 snapshot.",
    "Autocomplete in the deploy CLI lists production clusters before staging ones.",
    "The on-call SRE was paged at 02:14 and joined the bridge at 02:19.",
    "Victor wrote the runbook section on failover after the last incident.",
    "The rate limiter was removed by a refactor that moved the middleware order.",
    "The rollback path had no automated test, so its failure went unnoticed for months.",
    "Production and staging credentials share a format, so a copied value looks valid.",
    "Hannah spotted the mismatched credentials during the post-deploy check.",
    "The API key expired on a Sunday, and the expiry was not monitored.",
    "Friday deploys are allowed by policy and carry the same checks as any other day.",
    "An unbounded UPDATE reached the primary because the query console has no row limit.",
    "Owen ran the load test after the incident and reproduced the memory leak.",
    "The severity matrix does not cover partial outages in a single region.",
    "Wei applied the Terraform plan after two approvals, and the plan output hid the workspace name.",
    "The page for the night on-call went to a phone number that had been changed the week before.",
    "The canary stage reported failures, but the promotion step did not read its result.",
    "Disk usage grew 2% a day for three weeks without crossing any alert threshold.",
    "Paul wrote the hotfix in twenty minutes and it passed the existing tests.",
    "Restarting every broker at once is the default behaviour of the rolling-restart script.",
    "Julia traced the errors to a change in the cache key format.",
    "The SDK release process has no staged rollout for mobile clients.",
    "The gateway accepts any retry budget, including values that amplify load.",
    "The index migration was tested on a staging copy one hundredth the size of production.",
    "The console let a destructive statement run against the primary without a confirmation step.",
    "The merge queue allows an override when checks fail, and it was used as designed.",
    "Both keys had the same name in the secrets manager, differing only by a suffix.",
    "Rolling back took 18 minutes because the previous image had been garbage-collected.",
    "The checklist step for draining traffic was listed after the step that needed it.",
    "The maintenance window was announced only in a channel that customers cannot see.",
    "A schema change was released without review because the repository had no required reviewers.",
    "09:12 Stefan acknowledged the alert; it had fired 40 times that week without an incident.",
    "Kafka partition reassignment has no guard against removing the last in-sync replica.",
    "The traffic split config still listed the old cluster as a valid target.",
    "Our on-call escalated to the database team at 03:40 after the second rollback failed.",
    "The DNS cutover plan had no step to lower the TTL beforehand.",
    "The approver saw a 2,000-line generated diff with the relevant change on line 1,870.",
    "Claire verified the backup and found it had been empty since the storage migration.",
    "The contractor account had the same production permissions as an administrator.",
    "The migration tool has no dry-run mode for this database.",
    "The failover command accepts a free-text region and does not check it against the inventory.",
]


@dataclass
class Confusion:
    true_positives: list[str]
    false_negatives: list[str]
    false_positives: list[str]
    true_negatives: list[str]

    @classmethod
    def of(cls, blaming: list[str], blameless: list[str], flagged: set[str]) -> "Confusion":
        return cls(
            true_positives=[sentence for sentence in blaming if sentence in flagged],
            false_negatives=[sentence for sentence in blaming if sentence not in flagged],
            false_positives=[sentence for sentence in blameless if sentence in flagged],
            true_negatives=[sentence for sentence in blameless if sentence not in flagged],
        )

    @property
    def precision(self) -> float:
        flagged = len(self.true_positives) + len(self.false_positives)
        return len(self.true_positives) / flagged if flagged else 0.0

    @property
    def recall(self) -> float:
        blaming = len(self.true_positives) + len(self.false_negatives)
        return len(self.true_positives) / blaming if blaming else 0.0

    def report(self, min_recall: float = MIN_RECALL) -> str:
        lines = [
            f"true positives {len(self.true_positives)}, false negatives {len(self.false_negatives)}, "
            f"false positives {len(self.false_positives)}, true negatives {len(self.true_negatives)}",
            f"precision {self.precision:.3f} (at least {MIN_PRECISION}), "
            f"recall {self.recall:.3f} (at least {min_recall})",
        ]
        lines += [f"  missed:  {sentence}" for sentence in self.false_negatives]
        lines += [f"  flagged: {sentence}" for sentence in self.false_positives]
        return "\n".join(lines)


@dataclass(frozen=True)
class Labelled:
    sentence: str
    label: str
    split: str


def load_corpus(path: Path = CORPUS) -> list[Labelled]:
    with path.open(encoding="utf-8", newline="") as file:
        return [Labelled(row["sentence"], row["label"], row["split"]) for row in csv.DictReader(file)]


def load_split(split: str) -> list[Labelled]:
    corpus = load_corpus(CORPORA_BY_SPLIT[split]) if split in CORPORA_BY_SPLIT else load_corpus()
    return [entry for entry in corpus if entry.split == split]


def normalised(sentence: str) -> str:
    """A sentence as compared for duplicates: lowercase, with runs of spaces as one."""
    return " ".join(sentence.lower().split())


def split_of(sentence: str) -> str:
    """The split a sentence belongs to, fixed by its hash so that no one picks which sentences are unseen."""
    return "holdout" if int(hashlib.sha256(sentence.encode()).hexdigest(), 16) % 100 < HOLDOUT_PERCENT else "dev"


async def flagged_sentences(client: httpx.AsyncClient, sentences: list[str]) -> set[str]:
    """The sentences the review flags as blame language, each sent as one contributing factor."""
    flagged = set()
    for start in range(0, len(sentences), ENTRIES_PER_POSTMORTEM):
        chunk = sentences[start : start + ENTRIES_PER_POSTMORTEM]
        postmortem = await create_postmortem(client, contributing_factors=chunk)
        response = await client.get(f"/v1/postmortems/{postmortem['id']}/review")
        assert response.status_code == 200, response.text
        for finding in response.json()["findings"]:
            if finding["rule"] == "blame-language":
                assert finding["field"].startswith("contributing_factors["), finding
                flagged.add(chunk[int(finding["field"].removeprefix("contributing_factors[").rstrip("]"))])
    return flagged


def test_the_corpus_is_large_and_labelled_once() -> None:
    assert len(BLAMING) >= 25
    assert len(BLAMELESS) >= 25
    assert len(BLAMING) + len(BLAMELESS) >= 60
    assert len(set(BLAMING) | set(BLAMELESS)) == len(BLAMING) + len(BLAMELESS)


async def test_blame_language_precision_and_recall(client: httpx.AsyncClient) -> None:
    confusion = Confusion.of(BLAMING, BLAMELESS, await flagged_sentences(client, BLAMING + BLAMELESS))

    assert confusion.precision >= MIN_PRECISION, confusion.report()
    assert confusion.recall >= MIN_RECALL, confusion.report()


def test_the_labelled_corpus_is_large_balanced_and_split_by_hash() -> None:
    corpus = load_corpus()
    blaming = [entry for entry in corpus if entry.label == "blame"]
    holdout = [entry for entry in corpus if entry.split == "holdout"]

    assert len(corpus) >= 300
    assert 0.4 <= len(blaming) / len(corpus) <= 0.6
    assert {entry.label for entry in corpus} == set(LABELS)
    assert len({entry.sentence for entry in corpus}) == len(corpus)
    assert not {entry.sentence for entry in corpus} & set(BLAMING + BLAMELESS)
    assert [entry.split for entry in corpus] == [split_of(entry.sentence) for entry in corpus]
    for label in LABELS:
        assert len([entry for entry in holdout if entry.label == label]) >= 50


@pytest.mark.parametrize("split", list(CORPORA_BY_SPLIT))
def test_each_one_split_corpus_is_large_balanced_and_new(split: str) -> None:
    corpus = load_corpus(CORPORA_BY_SPLIT[split])
    blaming = [entry for entry in corpus if entry.label == "blame"]

    assert len(corpus) >= 240
    assert 0.4 <= len(blaming) / len(corpus) <= 0.6
    assert {entry.label for entry in corpus} == set(LABELS)
    assert {entry.split for entry in corpus} == {split}
    assert len({normalised(entry.sentence) for entry in corpus}) == len(corpus)
    seen = [entry.sentence for entry in load_corpus()] + BLAMING + BLAMELESS
    seen += [
        entry.sentence for other, path in CORPORA_BY_SPLIT.items() if other != split for entry in load_corpus(path)
    ]
    assert not {normalised(entry.sentence) for entry in corpus} & {normalised(sentence) for sentence in seen}


async def labelled_confusion(client: httpx.AsyncClient, split: str) -> Confusion:
    entries = load_split(split)
    blaming = [entry.sentence for entry in entries if entry.label == "blame"]
    blameless = [entry.sentence for entry in entries if entry.label == "blameless"]
    return Confusion.of(blaming, blameless, await flagged_sentences(client, blaming + blameless))


@pytest.mark.parametrize("split", TRAINING_SPLITS)
async def test_blame_language_precision_and_recall_on_the_training_corpora(
    client: httpx.AsyncClient, split: str
) -> None:
    confusion = await labelled_confusion(client, split)

    assert confusion.precision >= MIN_PRECISION, f"{split}: {confusion.report()}"
    assert confusion.recall >= MIN_RECALL, f"{split}: {confusion.report()}"


async def test_blame_language_precision_and_recall_on_unseen_text(client: httpx.AsyncClient) -> None:
    confusion = await labelled_confusion(client, UNSEEN_SPLIT)

    assert confusion.precision >= MIN_PRECISION, confusion.report()
    assert confusion.recall >= MIN_RECALL, confusion.report()
