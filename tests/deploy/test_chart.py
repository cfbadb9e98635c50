"""The Helm chart is well-formed: Helm's linter passes it, its values schema refuses bad values, and
every manifest it renders is valid for Kubernetes, for the default values and production-like ones."""

import tomllib
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from tests.deploy.chart import CHART, ROOT, VALUE_SETS, Manifest, production_values, render

KUBERNETES_VERSION = "1.34"
# Custom resources are not in Kubernetes' own schemas: test_manifests.py checks the ServiceMonitor
# against the Services it must find.
CUSTOM_KINDS = {"ServiceMonitor"}


@pytest.mark.parametrize("values", list(VALUE_SETS.values()), ids=list(VALUE_SETS))
def test_helm_lint_finds_no_warning(values: dict[str, Any] | None) -> None:
    report = helm.lint(CHART, values, strict=True, kube_version=f"v{KUBERNETES_VERSION}.0")

    assert report["errors"] == []
    assert [message for message in report["messages"] if message["severity"] >= 2] == []


def rendered_manifests() -> list[Any]:
    return [
        pytest.param(manifest, id=f"{label}: {manifest['kind']} {manifest['metadata']['name']}")
        for label, values in VALUE_SETS.items()
        for manifest in render(values).manifests
        if manifest["kind"] not in CUSTOM_KINDS
    ]


@pytest.mark.parametrize("manifest", rendered_manifests())
def test_every_manifest_is_valid_for_kubernetes(manifest: Manifest) -> None:
    """Strict schemas: an unknown field (a typo in a template) is an error too."""
    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_the_production_values_render_every_optional_resource() -> None:
    kinds = {manifest["kind"] for manifest in render(production_values()).manifests}

    assert {"Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceMonitor"} <= kinds


@pytest.mark.parametrize(
    ("values", "refused_at"),
    [
        ({"api": {"replicaCount": "three"}}, "/api/replicaCount"),
        ({"api": {"replicas": 3}}, "additional properties 'replicas'"),
        ({"config": {"logLevel": "LOUD"}}, "/config/logLevel"),
        ({"config": {"dbPoolSize": 0}}, "/config/dbPoolSize"),
        ({"secrets": {"databaseUrl": ""}}, "/secrets"),
        ({"secrets": {"databaseUrl": "sqlite:///./postmortems.db"}}, "/secrets/databaseUrl': 'sqlite"),
        ({"config": {"extra": {"NOT-A-NAME": "x"}}}, "invalid propertyName 'NOT-A-NAME'"),
        ({"secrets": {"secretKeys": ["new,old"]}}, "/secrets/secretKeys/0"),
        ({"secrets": {"secretKeys": [""]}}, "/secrets/secretKeys/0"),
        (
            {"ingress": {"hosts": [{"host": "a.example.com", "paths": [{"path": "v1", "pathType": "Prefix"}]}]}},
            "/path'",
        ),
        ({"worker": {"podDisruptionBudget": {"maxUnavailable": "half"}}}, "/worker/podDisruptionBudget/maxUnavailable"),
    ],
)
def test_the_values_schema_refuses_bad_values(values: dict[str, Any], refused_at: str) -> None:
    with pytest.raises(helm.HelmValuesError, match=refused_at):
        render(values)


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"config": {"shutdownGraceSeconds": 26}}, "api.terminationGracePeriodSeconds"),
        ({"api": {"preStopSleepSeconds": 10}}, "api.terminationGracePeriodSeconds"),
        ({"worker": {"terminationGracePeriodSeconds": 20}}, "worker.terminationGracePeriodSeconds"),
        ({"api": {"autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 3}}}, "api.autoscaling"),
        ({"config": {"extra": {"POSTMORTEMS_RUN_WORKER": "true"}}}, "config.extra.POSTMORTEMS_RUN_WORKER"),
        (
            {"secrets": {"extra": {"POSTMORTEMS_DATABASE_URL": "postgresql://x"}}},
            "secrets.extra.POSTMORTEMS_DATABASE_URL",
        ),
        ({"secrets": {"secretKeys": ["new"], "secretKey": "old"}}, "secrets.secretKeys and secrets.secretKey"),
        (
            {"secrets": {"secretKeys": ["new"], "extra": {"POSTMORTEMS_SECRET_KEYS": "x"}}},
            "secrets.extra.POSTMORTEMS_SECRET_KEYS",
        ),
    ],
)
def test_values_that_contradict_each_other_fail_the_render(values: dict[str, Any], reason: str) -> None:
    with pytest.raises(helm.HelmRenderError, match=reason):
        render(values)


def test_the_chart_deploys_the_version_of_the_package() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())

    assert chart["appVersion"] == project["project"]["version"]
