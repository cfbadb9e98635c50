"""What the rendered chart does in a cluster: which commands the pods run and with what settings,
how they are probed, secured, stopped and scaled, and what the migration hook can rely on."""

from typing import Any

import pytest
import yaml

from tests.deploy.chart import (
    CHART,
    VALUE_SETS,
    Manifest,
    Release,
    container,
    hook_weight,
    pod_spec,
    production_values,
    render,
)
from tests.deploy.commands import accepted


@pytest.fixture(params=list(VALUE_SETS.values()), ids=list(VALUE_SETS), scope="module")
def release(request: pytest.FixtureRequest) -> Release:
    return render(request.param)


def settings(release: Release) -> dict[str, str]:
    (config_map,) = release.of_kind("ConfigMap")
    data: dict[str, str] = config_map["data"]
    return data


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return selector.items() <= labels.items()


def pod_labels(workload: Manifest) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return labels


def port_number(workload: Manifest, name: str) -> int:
    (number,) = [port["containerPort"] for port in container(workload)["ports"] if port["name"] == name]
    return int(number)


def test_every_pod_runs_non_root_on_a_read_only_root_filesystem(release: Release) -> None:
    for workload in release.workloads():
        pod = pod_spec(workload)
        security = container(workload)["securityContext"]
        mounts = {mount["mountPath"]: mount["name"] for mount in container(workload)["volumeMounts"]}
        volumes = {volume["name"]: volume for volume in pod["volumes"]}

        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] > 0
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert "emptyDir" in volumes[mounts["/tmp"]]  # noqa: S108 - the pod's own scratch volume


def test_no_pod_gets_service_link_variables_that_read_as_settings(release: Release) -> None:
    """A Service named postmortems-worker would add POSTMORTEMS_WORKER_PORT=tcp://... to every pod."""
    for workload in release.workloads():
        assert pod_spec(workload)["enableServiceLinks"] is False


def test_each_pod_runs_its_own_postmortems_command(release: Release) -> None:
    commands = {
        component: [*container(workload)["command"], *container(workload)["args"]]
        for component, workload in [
            ("api", release.component("Deployment", "api")),
            ("worker", release.component("Deployment", "worker")),
            ("migration", release.component("Job", "migration")),
        ]
    }

    assert commands["api"][:2] == ["postmortems", "serve"]
    assert commands["worker"] == ["postmortems", "worker"]
    assert commands["migration"] == ["postmortems", "migrate"]
    for command in commands.values():
        assert accepted(command[1:]), command


def test_the_api_listens_on_its_container_port_on_every_interface(release: Release) -> None:
    api = release.component("Deployment", "api")
    arguments = container(api)["args"]

    assert arguments[arguments.index("--host") + 1] == "0.0.0.0"  # noqa: S104 - reached through its Service
    assert int(arguments[arguments.index("--port") + 1]) == port_number(api, "http") == 8000


def test_the_api_is_ready_when_its_database_is_and_alive_when_it_answers(release: Release) -> None:
    api = container(release.component("Deployment", "api"))

    assert api["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert api["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}


def test_the_worker_is_probed_on_the_port_it_serves_its_metrics_on(release: Release) -> None:
    worker = release.component("Deployment", "worker")

    assert container(worker)["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert port_number(worker, "metrics") == int(settings(release)["POSTMORTEMS_WORKER_METRICS_PORT"])


def test_kubernetes_waits_longer_than_the_service_takes_to_stop(release: Release) -> None:
    grace = float(settings(release)["POSTMORTEMS_SHUTDOWN_GRACE_SECONDS"])
    api = release.component("Deployment", "api")
    pre_stop = container(api)["lifecycle"]["preStop"]["exec"]["command"]

    assert pre_stop[0] == "sleep"
    assert pod_spec(api)["terminationGracePeriodSeconds"] > float(pre_stop[1]) + grace
    assert pod_spec(release.component("Deployment", "worker"))["terminationGracePeriodSeconds"] > grace


def test_settings_come_from_the_config_map_with_the_worker_out_of_the_api(release: Release) -> None:
    data = settings(release)

    assert data["POSTMORTEMS_RUN_WORKER"] == "false"
    assert {
        "POSTMORTEMS_LOG_LEVEL",
        "POSTMORTEMS_LOG_FORMAT",
        "POSTMORTEMS_PUBLIC_URL",
        "POSTMORTEMS_DB_POOL_SIZE",
        "POSTMORTEMS_WORKER_CONCURRENCY",
        "POSTMORTEMS_SHUTDOWN_GRACE_SECONDS",
    } <= data.keys()
    for component in ("api", "worker"):
        sources = container(release.component("Deployment", component))["envFrom"]
        assert {"configMapRef": {"name": release.of_kind("ConfigMap")[0]["metadata"]["name"]}} in sources


def test_extra_settings_are_passed_as_strings_and_structured_ones_as_json() -> None:
    extra = {
        "POSTMORTEMS_REQUIRED_APPROVALS": {"P1": 2},
        "POSTMORTEMS_AUTH_CACHE_SECONDS": 5,
        "OTEL_SDK_DISABLED": True,
    }

    data = settings(render({"config": {"extra": extra}}))

    assert data["POSTMORTEMS_REQUIRED_APPROVALS"] == '{"P1":2}'
    assert data["POSTMORTEMS_AUTH_CACHE_SECONDS"] == "5"
    assert data["OTEL_SDK_DISABLED"] == "true"


def test_the_secret_holds_the_database_url_and_the_secret_key_only_when_given() -> None:
    without_key = render({"secrets": {"databaseUrl": "postgresql://pm:pw@db:5432/pm"}})
    with_key = render(
        {"secrets": {"databaseUrl": "postgresql://pm:pw@db:5432/pm", "secretKey": "k", "extra": {"A": "b"}}}
    )

    assert without_key.named("Secret", "postmortems")["stringData"] == {
        "POSTMORTEMS_DATABASE_URL": "postgresql://pm:pw@db:5432/pm"
    }
    assert with_key.named("Secret", "postmortems")["stringData"] == {
        "POSTMORTEMS_DATABASE_URL": "postgresql://pm:pw@db:5432/pm",
        "POSTMORTEMS_SECRET_KEY": "k",
        "A": "b",
    }


def test_the_secret_keys_are_given_newest_first_as_one_comma_separated_variable() -> None:
    release = render({"secrets": {"databaseUrl": "postgresql://pm:pw@db:5432/pm", "secretKeys": ["new", "old"]}})

    assert release.named("Secret", "postmortems")["stringData"] == {
        "POSTMORTEMS_DATABASE_URL": "postgresql://pm:pw@db:5432/pm",
        "POSTMORTEMS_SECRET_KEYS": "new,old",
    }


def test_with_an_existing_secret_none_is_rendered_and_every_pod_reads_that_one() -> None:
    release = render({"secrets": {"existingSecret": "postmortems-production"}})

    assert release.of_kind("Secret") == []
    for workload in release.workloads():
        sources = container(workload)["envFrom"]
        assert {"secretRef": {"name": "postmortems-production"}} in sources


def test_pods_are_restarted_when_a_setting_changes() -> None:
    def pod_annotations(values: dict[str, Any]) -> dict[str, str]:
        annotations: dict[str, str] = render(values).component("Deployment", "api")["spec"]["template"]["metadata"][
            "annotations"
        ]
        return annotations

    base = pod_annotations({})

    assert pod_annotations({"config": {"logLevel": "DEBUG"}}) != base
    assert pod_annotations({"secrets": {"secretKey": "another"}}) != base
    assert pod_annotations({"secrets": {"secretKeys": ["new", "old"]}}) != pod_annotations(
        {"secrets": {"secretKeys": ["old"]}}
    )
    assert pod_annotations({}) == base


def test_the_migration_runs_before_install_and_upgrade_and_is_replaced_next_time(release: Release) -> None:
    job = release.component("Job", "migration")
    annotations = job["metadata"]["annotations"]

    assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"].split(",")
    assert job["spec"]["backoffLimit"] >= 0
    assert pod_spec(job)["restartPolicy"] == "Never"


def test_the_migration_needs_nothing_that_a_first_install_has_not_created_yet(release: Release) -> None:
    """Pre-install hooks run before the release's resources exist: what the Job reads must be an
    earlier hook or exist beforehand (secrets.existingSecret, a ServiceAccount the chart does not create)."""
    job = release.component("Job", "migration")
    pod = pod_spec(job)
    weight = hook_weight(job)
    assert weight is not None
    created_before = {
        (manifest["kind"], manifest["metadata"]["name"])
        for manifest in release.manifests
        if (earlier := hook_weight(manifest)) is not None and earlier < weight
    }
    ordinary = {(manifest["kind"], manifest["metadata"]["name"]) for manifest in release.manifests} - created_before
    needed = {("Secret", source["secretRef"]["name"]) for source in container(job)["envFrom"] if "secretRef" in source}
    needed |= {
        ("ConfigMap", source["configMapRef"]["name"])
        for source in container(job)["envFrom"]
        if "configMapRef" in source
    }
    if "serviceAccountName" in pod:
        needed.add(("ServiceAccount", pod["serviceAccountName"]))

    assert needed
    assert needed & ordinary == set()


def test_the_migration_runs_with_the_settings_of_the_pods(release: Release) -> None:
    job = container(release.component("Job", "migration"))

    assert {variable["name"]: variable["value"] for variable in job["env"]} == settings(release)


def test_the_migration_secret_is_the_release_secret_and_does_not_outlive_the_hooks() -> None:
    release = render({"secrets": {"databaseUrl": "postgresql://pm:pw@db:5432/pm", "secretKey": "k"}})
    job = release.component("Job", "migration")
    (secret_name,) = [source["secretRef"]["name"] for source in container(job)["envFrom"]]
    hook_secret = release.named("Secret", secret_name)

    assert hook_secret["stringData"] == release.named("Secret", "postmortems")["stringData"]
    assert "hook-succeeded" in hook_secret["metadata"]["annotations"]["helm.sh/hook-delete-policy"].split(",")


def test_the_service_sends_traffic_to_the_api_pods_only(release: Release) -> None:
    service = release.named("Service", "postmortems")
    (port,) = service["spec"]["ports"]

    assert selects(service["spec"]["selector"], pod_labels(release.component("Deployment", "api")))
    assert not selects(service["spec"]["selector"], pod_labels(release.component("Deployment", "worker")))
    assert not selects(service["spec"]["selector"], pod_labels(release.component("Job", "migration")))
    assert port["targetPort"] == "http"


def test_the_disruption_budget_covers_the_api_pods(release: Release) -> None:
    budget = release.component("PodDisruptionBudget", "api")

    assert selects(budget["spec"]["selector"]["matchLabels"], pod_labels(release.component("Deployment", "api")))


def test_autoscaled_deployments_leave_their_replica_count_to_the_autoscaler() -> None:
    release = render(production_values())

    for component in ("api", "worker"):
        autoscaler = release.component("HorizontalPodAutoscaler", component)
        deployment = release.component("Deployment", component)
        assert autoscaler["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": deployment["metadata"]["name"],
        }
        assert "replicas" not in deployment["spec"]


def test_without_autoscaling_the_deployments_have_their_replica_counts() -> None:
    release = render({"api": {"replicaCount": 4}, "worker": {"replicaCount": 3}})

    assert release.of_kind("HorizontalPodAutoscaler") == []
    assert release.component("Deployment", "api")["spec"]["replicas"] == 4
    assert release.component("Deployment", "worker")["spec"]["replicas"] == 3


def test_the_ingress_serves_the_api_over_tls_and_keeps_probes_and_metrics_inside() -> None:
    release = render(production_values())
    (ingress,) = release.of_kind("Ingress")
    service = release.named("Service", "postmortems")
    (rule,) = ingress["spec"]["rules"]
    paths = rule["http"]["paths"]

    assert ingress["spec"]["tls"] == [{"secretName": "postmortems-tls", "hosts": [rule["host"]]}]
    for path in paths:
        assert path["backend"]["service"] == {"name": "postmortems", "port": {"name": "http"}}
    assert {port["name"] for port in service["spec"]["ports"]} == {"http"}
    for internal in ("/metrics", "/healthz", "/readyz"):
        assert not any(
            internal == path["path"]
            or (path["pathType"] == "Prefix" and internal.startswith(path["path"].rstrip("/") + "/"))
            for path in paths
        ), internal


def test_the_service_monitor_scrapes_the_metrics_of_the_api_and_of_the_workers() -> None:
    release = render(production_values())
    (monitor,) = release.of_kind("ServiceMonitor")
    selector = monitor["spec"]["selector"]["matchLabels"]
    services = [service for service in release.of_kind("Service") if selects(selector, service["metadata"]["labels"])]
    scraped_pods = {
        component: port_number(release.component("Deployment", component), service_port["targetPort"])
        for service in services
        for service_port in service["spec"]["ports"]
        if service_port["name"] in {endpoint["port"] for endpoint in monitor["spec"]["endpoints"]}
        for component in ("api", "worker")
        if selects(service["spec"]["selector"], pod_labels(release.component("Deployment", component)))
    }

    assert {endpoint["path"] for endpoint in monitor["spec"]["endpoints"]} == {"/metrics"}
    assert scraped_pods == {"api": 8000, "worker": int(settings(release)["POSTMORTEMS_WORKER_METRICS_PORT"])}
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_the_image_tag_defaults_to_the_chart_app_version() -> None:
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]

    default = container(render().component("Deployment", "api"))
    tagged = container(
        render({"image": {"repository": "registry.example.com/postmortems", "tag": "1.2.3"}}).component(
            "Deployment", "api"
        )
    )

    assert default["image"] == f"postmortems:{app_version}"
    assert tagged["image"] == "registry.example.com/postmortems:1.2.3"
