"""Word lists the blame parser (`review.parse`, `review.blame`) classifies tokens with.

They describe *kinds of words* (who can be a person, what is a system, which words glue a clause
together), not blaming phrases: deciding blame is the parser's job, from the grammatical actor
of a failure predicate. All entries are lowercase.
"""


def words(text: str) -> frozenset[str]:
    """The whitespace-separated words of `text`."""
    return frozenset(text.split())


# Heads of noun phrases that name people or groups of people.
PERSON_ROLES = words(
    """
    engineer engineers developer developers dev devs programmer programmers coder coders sre sres
    oncall on-call on-caller on-callers oncaller responder responders reviewer reviewers approver approvers
    author authors manager managers lead leads contractor contractors consultant consultants intern interns
    hire hires newcomer newcomers newbie junior juniors senior seniors tester testers qa admin admins
    administrator administrators sysadmin sysadmins dba dbas operator operators person people someone somebody
    employee employees staff staffer teammate teammates colleague colleagues coworker coworkers co-worker
    analyst analysts architect architects designer designers commander ic owner owners team teams ops devops
    guy guys folks human humans individual individuals member members specialist specialists technician
    technicians maintainer maintainers committer committers deployer deployers requester requesters
    captain captains shepherd shepherds squad squads crew crews department departments org orgs engineering
    supervisor supervisors director directors executive executives coordinator coordinators pm pms cto
    scientist scientists researcher researchers student students volunteer volunteers editor editors rep reps
    representative representatives founder founders ceo cfo cio ciso vp vps officer officers
    clerk clerks nurse nurses pharmacist pharmacists physician physicians doctor doctors clinician clinicians
    dispatcher dispatchers cashier cashiers teller tellers trader traders annotator annotators labeller labellers
    moderator moderators accountant accountants auditor auditors receptionist receptionists secretary
    storekeeper storekeepers paramedic paramedics surgeon surgeons
    """
)

# Words that name people only with a modifier saying so: "the night shift", not "a shift in traffic";
# "the support agent", not "the monitoring agent".
_SHIFT = words("night day morning evening late early weekend overnight graveyard on-call oncall")
_AGENT = words("support customer sales service help helpdesk desk field human")
ROLES_BY_MODIFIER = {"shift": _SHIFT, "shifts": _SHIFT, "agent": _AGENT, "agents": _AGENT}

# Departments that name a team when written bare and capitalised as a subject ("Security rotated the keys",
# "Platform was lazy"); with a determiner ("the platform") they are systems.
TEAM_WORDS = words(
    """
    support security marketing sales legal finance product engineering platform infra infrastructure networking
    operations ops devops sre qa management leadership compliance
    """
)

# Acts that find, fix or report a failure: a person doing them is not its actor ("Priya paged the DBA and the
# replica crashed").
REMEDIAL_VERBS = words(
    """
    noticed found spotted identified discovered detected flagged reported fixed corrected replaced reverted removed
    traced investigated confirmed paged escalated restored recovered rolled rebuilt mitigated acknowledged joined
    opened raised alerted warned notified announced asked followed tested verified checked drained paused halted
    stopped postponed held delayed
    """
)

# The same acts as praised: "Great job, Nadia, catching the bad config" is no sarcasm.
REMEDIAL_GERUNDS = words(
    """
    catching spotting noticing finding fixing restoring rolling reverting flagging paging escalating identifying
    detecting reporting mitigating recovering rebuilding investigating tracing raising warning alerting stopping
    pausing halting draining helping debugging diagnosing
    """
)

# Reasons that press on a person rather than explain a failure by the system: "skipped the tests because the
# deadline was close" still blames.
PRESSURES = words("deadline deadlines pressure hurry rush time timeline weekend holiday release date")

# Verbs that open an instruction ("Ask who pushed it"), capitalised at the start of a sentence like a name.
IMPERATIVES = words("ask make ensure keep remember avoid consider stop start try let do assume imagine note see")

# What a person makes and owns: "Finn's rollback plan was never tested" blames Finn, "Finn's phone did not ring"
# does not.
WORK_PRODUCTS = words(
    """
    change changes commit commits code config configs configuration script scripts plan plans migration migrations
    hotfix hotfixes fix fixes query queries refactor refactoring pr prs patch patches rollout rollouts deploy
    deployment release runbook runbooks test tests edit edits update updates design
    """
)

# Adjectives after a person's noun that lead on to what they were given: "the SRE responsible for capacity".
POSTNOMINALS = words("responsible accountable assigned tasked")

# Titles before a surname: "Mr. Okafor".
TITLES = words("mr mrs ms dr prof")

# Role words that also name software ("the Kubernetes operator"): a person only without a technical modifier.
AMBIGUOUS_ROLES = frozenset({"operator", "operators"})

# Subject pronouns, by whom they refer to.
PERSON_PRONOUNS = frozenset({"i", "he", "she", "someone", "somebody"})
GROUP_PRONOUNS = frozenset({"they"})  # people or things: a person only with a predicate only people can have
SPEAKER_PRONOUNS = frozenset({"we", "us"})  # the authors as a team: how blameless write-ups speak
NEGATIVE_PRONOUNS = frozenset({"nobody", "noone", "none", "nothing"})

# Heads of noun phrases that name systems, artefacts, processes and signals.
SYSTEM_NOUNS = words(
    """
    pipeline pipelines deploy deploys deployment deployments config configs configuration configurations change
    changes alert alerts alarm alarms page pages pager service services server servers database databases db dbs
    replica replicas primary cache caches job jobs cronjob cronjobs script scripts tool tools tooling check checks
    test tests suite monitor monitors monitoring dashboard dashboards process processes runbook runbooks rollout
    rollouts release releases migration migrations query queries balancer balancers cluster clusters node nodes pod
    pods container containers host hosts certificate certificates cert certs endpoint endpoints client clients
    library libraries dependency dependencies flag flags code commit commits build builds system systems queue
    queues worker workers timer timers automation bot bots controller controllers scheduler proxy proxies gateway
    gateways threshold thresholds limit limits retry retries policy policies rule rules template templates network
    disk disks volume volumes bucket buckets index indexes table tables schema schemas app apps application
    applications frontend backend version versions patch patches update updates upgrade upgrades hotfix fix fixes
    command commands playbook playbooks manifest manifests chart charts image images binary binaries agent agents
    daemon daemons firewall router switch connection connections pool pools lock locks batch export import backup
    backups snapshot snapshots restore failover canary canaries rollback rollbacks validation validator linter
    linters review reviews documentation docs doc wiki guide readme checklist procedure form value values setting
    settings parameter parameters variable variables field fields file files payload request requests response
    responses error errors exception exceptions timeout timeouts latency traffic load spike spikes signal signals
    metric metrics log logs logging trace traces probe probes healthcheck healthchecks heartbeat cron region regions
    zone zones datacenter vendor provider platform infrastructure infra stack layer component components module
    modules feature features function functions handler handlers consumer consumers producer producers topic
    topics stream streams sdk api apis cdn dns vpn outage incident incidents change-set diff pr prs ticket
    tickets rotation schedule escalation paging console ui cli terminal shell storage memory cpu quota quotas
    capacity autoscaler scaler orchestrator operator-sdk secret secrets key keys token tokens account accounts
    checkout checkouts payments billing search login auth authentication cluster-autoscaler loadbalancer
    prod production staging throughput autovacuum vacuum replication
    """
)

# Software, vendors and protocols that appear capitalised in prose like names do.
TECH_NAMES = words(
    """
    kafka redis postgres postgresql mysql mariadb mongodb mongo cassandra elasticsearch opensearch kubernetes k8s
    kubectl helm terraform ansible puppet chef jenkins github gitlab bitbucket argo argocd spinnaker circleci
    travis nginx envoy haproxy istio linkerd consul vault etcd zookeeper rabbitmq sqs sns s3 ec2 rds aws gcp azure
    cloudflare fastly akamai datadog prometheus grafana alertmanager pagerduty opsgenie splunk sentry statuspage
    slack jira docker celery sidekiq airflow spark hadoop snowflake bigquery dynamodb lambda cloudfront route53
    memcached varnish linux systemd chrome safari android ios stripe twilio okta auth0 ldap tls ssl http https
    grpc graphql vpc bgp ntp oom jvm python java nodejs golang rust ruby rails django flask fastapi react
    webpack npm pip maven gradle git dependabot renovate ci cd lb elb alb nlb waf iam kms vm vms cloudwatch
    newrelic honeycomb opentelemetry otel nomad openshift heroku vercel netlify gke eks aks cloudsql spanner
    """
)

# Given names, to recognise people named in prose. Words that are also ordinary English words
# ("will", "may", "mark", "grant") are left out: authors and action-item owners add the team's own names.
# A capitalised word missing here is still taken for a name when it is shaped like one (see
# COMMON_NOUN_ENDINGS), so the names listed are mostly those that end like a common noun (Lars, Roger, Ming).
GIVEN_NAMES = words(
    """
    aaron abdul adam adrian ahmed aisha alan albert alex alexander alexandra alice alicia amanda amelia amir amit
    amy ana andre andrea andrew andy angela anil anna anne anthony anton arjun arthur ashley ayesha barbara ben
    benjamin beth betty bob brandon brian bruno carla carlos carmen carol caroline catherine charles charlie
    chen chris christian christina christine christopher claire clara daniel danielle dave david deepak denise
    dennis derek diana diego dmitri dominic donald dorothy edward elena eli elias elizabeth ella emily emma eric
    erik ethan eva fatima felix fernando fiona francesca francisco gabriel gary george gloria greg gregory hannah
    hans harry hassan heather helen henry hiroshi hugo ian igor ingrid isaac isabel ivan jacob james jamie jane
    janet jason javier jeff jennifer jenny jeremy jessica jim joanna joe joel johan john jonathan jorge jose
    joseph joshua juan julia julian justin karen karim kate katherine kathy kelly kenji kevin kim kyle laura
    lauren leo leon liam linda lisa liu lucas lucy luis luka lukas maria marco marcus margaret maria mario marta
    martin mary matt matteo matthew maya mehmet melissa michael michelle miguel mike mohamed mohammed monica
    nadia nancy naomi natalie nathan neha nicholas nicole nikolai nina noah olga oliver olivia omar oscar pablo
    patrick paul pedro peter philip pierre priya rachel rahul raj rajesh ravi rebecca ricardo richard rita robert
    roberto ryan sam samantha samuel sandra sanjay sara sarah scott sean sebastian sergei shawn simon sofia sophia
    sophie stefan stephanie stephen steve steven susan takeshi tanya thomas tim timothy tom tomas tony tyler
    valentina vanessa victor victoria vikram vincent walter wei william xavier yan yuki yusuf zach zoe
    lars jonas andreas anders niklas matthias tobias klaus jens mats nils magnus rasmus markus linus boris agnes
    doris douglas louis francis curtis silas cyrus amos moses ines dolores mercedes frances gladys alexis nicolas
    matias tomas andres marcos darius kostas yannis nikos jesus jules gilles jacques
    roger esther jasper spencer xander skyler hector nestor trevor connor taylor eleanor lior gregor
    kamal faisal bilal iqbal vishal kunal jamal cedric frederic ludovic ming jing ying xing ling lance constance
    florence laurence lawrence clarence terence avery fred jared saeed syed rasheed waleed molly holly sally
    kimberly beverly lily shelly carly
    """
)

# How English common nouns end, and given names seldom do: a capitalised word that ends otherwise and is no
# system, software or calendar word is taken for a name ("Thandiwe", "Oluwaseun", "Björn").
COMMON_NOUN_ENDINGS = tuple(
    words(
        """
        tion sion ment ness ity ing ance ence ancy ency ism ist ure ogy ics ship ery age s er or al ic ive ous ful
        less able ible ed ly ware
        """
    )
)

# Capitalised words that are not names: weekdays, months and other calendar words.
CALENDAR_WORDS = words(
    """
    monday tuesday wednesday thursday friday saturday sunday january february march april june july august
    september october november december christmas easter
    """
)

DETERMINERS = words(
    """
    the a an this that these those our my his her their its your one another some any every each no both either
    neither
    """
)

# Words skipped between a subject and its verb: auxiliaries, modals and adverbs.
AUXILIARIES = words(
    """
    was were is are be been being had has have 've did does do would could might may must will shall then also
    kept keeps both each
    just simply still again even really actually basically somehow already apparently clearly obviously
    probably unfortunately mistakenly accidentally inadvertently reportedly
    """
)

COORDINATORS = frozenset({"and", "but", "or", "nor", "yet", "then", "so"})

# Words that open a subordinate clause: a subject never reaches back across them.
SUBORDINATORS = words(
    """
    because since after before when whenever while although though if once until unless as whereas where why
    how whether
    """
)

RELATIVE_PERSON = frozenset({"who", "whom"})
RELATIVE_ANY = frozenset({"that", "which"})

# Prepositions that attach a noun phrase to the one before it ("the owner of the service").
ATTACHING_PREPOSITIONS = frozenset({"of", "on", "in", "from", "at", "with", "for", "by"})

PREPOSITIONS = words(
    """
    of on in from at with for by to into onto about above below under over during without within through after
    before against between among around via per like than toward towards upon across behind beyond despite
    except inside outside near past since until off out up down
    """
)

NEGATIONS = frozenset({"not", "never", "no", "hardly"})

# Irregular past tenses and other verb forms that end a noun phrase.
VERB_FORMS = words(
    """
    was were is are had has did went ran run took made got saw sent set put kept left began begun broke broken
    brought caught fell felt found gave knew led lost meant met paid rose said shut sold spent stood told thought
    understood woke wrote written forgot forgotten hit cut let read came come became become held heard built
    chose chosen drove driven ate fed fought flew forgave froze grew hid hung laid lay lit mistook overtook quit
    rode rang sat shook shot slept spoke stole struck swept swung taught tore threw undid upset withdrew
    misunderstood mistook misread overrode overridden withheld
    """
)

# Words ending in "-ed" that are not verbs.
ED_NON_VERBS = frozenset({"need", "needed", "speed", "feed", "seed", "bed", "red", "shed", "embed", "hundred", "ted"})

# "-ing" forms of what a careful person does first: "deployed without testing", "instead of investigating".
OMISSION_GERUNDS = words(
    """
    testing checking verifying validating reviewing reading following looking asking paging telling informing
    warning notifying announcing coordinating consulting confirming double-checking waiting running escalating
    monitoring realising realizing understanding considering thinking draining documenting communicating talking
    acknowledging investigating planning rehearsing watching observing handling fixing addressing debugging
    diagnosing reporting raising flagging
    """
)
