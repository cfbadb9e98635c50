"""The Helm chart as a cluster would receive it: rendered by Helm's own engine (helm-python-sdk)."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "postmortems"
PRODUCTION_VALUES = CHART / "ci" / "production-values.yaml"
RELEASE = "postmortems"
NAMESPACE = "incidents"

Manifest = dict[str, Any]


def production_values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load(PRODUCTION_VALUES.read_text())
    return values


# The values the chart is checked with: its defaults (None) and a production-like release.
VALUE_SETS: dict[str, dict[str, Any] | None] = {"default values": None, "production values": production_values()}


@dataclass(frozen=True)
class Release:
    """The manifests one `helm install` would apply, hooks included."""

    manifests: list[Manifest]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [manifest for manifest in self.manifests if manifest["kind"] == kind]

    def named(self, kind: str, name: str) -> Manifest:
        (manifest,) = [manifest for manifest in self.of_kind(kind) if manifest["metadata"]["name"] == name]
        return manifest

    def component(self, kind: str, component: str) -> Manifest:
        """The one manifest of this kind labelled with this component (api, worker, migration)."""
        (manifest,) = [
            manifest
            for manifest in self.of_kind(kind)
            if manifest["metadata"]["labels"].get("app.kubernetes.io/component") == component
        ]
        return manifest

    def workloads(self) -> Iterator[Manifest]:
        """The Deployments and Jobs: everything that runs a pod."""
        yield from self.of_kind("Deployment")
        yield from self.of_kind("Job")


def render(values: dict[str, Any] | None = None) -> Release:
    """Renders the chart as `helm install RELEASE --namespace NAMESPACE` would, values checked by its schema.

    Raises `helm.HelmValuesError` for values the schema refuses and `helm.HelmRenderError` for a template's `fail`.
    """
    with helm.Chart.load(CHART) as chart:
        rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    return Release(
        [
            manifest
            for path, text in sorted(rendered.items())
            if path.endswith(".yaml")
            for manifest in yaml.safe_load_all(text)
            if manifest
        ]
    )


def pod_spec(workload: Manifest) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def container(workload: Manifest) -> dict[str, Any]:
    (only,) = pod_spec(workload)["containers"]
    return dict(only)


def hook_weight(manifest: Manifest) -> int | None:
    """The Helm hook weight of a hook, None for an ordinary resource of the release."""
    annotations = manifest["metadata"].get("annotations", {})
    if "helm.sh/hook" not in annotations:
        return None
    return int(annotations.get("helm.sh/hook-weight", "0"))
