"""What routing needs of a loaded configuration, as types that live in ``routing`` itself.

The whole configuration directory is loaded and composed by ``acd.configset`` (it also reads acd.yaml,
regions.yaml and the QA forms, which are none of routing's business). Routing must not import it: that
would make ``routing -> acd.configset -> routing`` a package cycle (docs/architecture.md). So the
interpreter and the reloader speak to the narrow protocols below, which ``acd.configset.ConfigSet``
satisfies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from acd.core.config import QueueConfig
from acd.yamlconf import ConfigProblem
from routing.flow import Flow
from routing.model import Scenario
from routing.schedule import Schedule


@dataclass(frozen=True)
class LoadedScenario:
    """A scenario as loaded: its model, where it came from, and its version (hash of the file's bytes and
    of the shared ``scenarios/_*.yaml``)."""

    name: str
    file: str
    version: str
    scenario: Scenario
    flow: Flow = field(repr=False, compare=False)


class RoutingConfig(Protocol):
    """What the interpreter reads while a call runs: the queues and the schedules."""

    @property
    def queues(self) -> Mapping[str, QueueConfig]: ...

    def schedule_for(self, scenario: Scenario, name: str) -> Schedule: ...


class ReloadableConfig(Protocol):
    """What the reloader logs of a configuration it has loaded."""

    @property
    def scenarios(self) -> Mapping[str, LoadedScenario]: ...

    @property
    def warnings(self) -> Sequence[ConfigProblem]: ...
