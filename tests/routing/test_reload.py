"""Hot reload keeps the running set on a broken file and swaps to a good one (R11)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from acd.configset import ConfigSet, load_config
from routing.reload import ConfigReloader

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    d = tmp_path / "config"
    shutil.copytree(CONFIG, d)
    return d


class Holder:
    """What the daemon does: one reference, swapped whole."""

    def __init__(self, config: ConfigSet) -> None:
        self.config = config
        self.swaps = 0

    def swap(self, config: ConfigSet) -> None:
        self.config = config
        self.swaps += 1


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


async def test_broken_file_keeps_the_running_set_and_a_good_one_replaces_it(config_dir: Path) -> None:
    holder = Holder(load_config(config_dir))
    running = holder.config
    scenario_file = config_dir / "scenarios" / "193.yaml"
    reloader = ConfigReloader(config_dir, holder.swap, loader=load_config, debounce_s=0.0)

    edit(scenario_file, "name: general\n", "name: genral\n")
    assert await reloader.reload() is False
    assert holder.config is running
    assert reloader.last_error is not None
    assert "unknown queue 'genral' (did you mean 'general'?)" in str(reloader.last_error)

    edit(scenario_file, "name: genral\n", "name: general\n      priority: 5\n")
    assert await reloader.reload() is True
    assert holder.config is not running and holder.swaps == 1
    new = holder.config.scenarios["line-193"]
    assert new.version != running.scenarios["line-193"].version
    # a call that started before the reload still holds the old scenario object, unchanged
    assert running.scenarios["line-193"].scenario.steps != new.scenario.steps


async def test_trigger_reloads_like_sighup(config_dir: Path) -> None:
    holder = Holder(load_config(config_dir))
    reloader = ConfigReloader(config_dir, holder.swap, loader=load_config)
    edit(config_dir / "prompts" / "ru.yaml", "До свидания!", "Всего доброго!")
    waiting = asyncio.create_task(reloader.wait_reloaded())
    await asyncio.sleep(0)  # let the waiter clear the flag first
    reloader.trigger()
    await asyncio.wait_for(waiting, 5)
    assert holder.config.prompts.text("ru", "goodbye") == "Спасибо за звонок. Всего доброго!"


async def test_a_saved_file_is_noticed_without_a_signal(config_dir: Path) -> None:
    holder = Holder(load_config(config_dir))
    reloader = ConfigReloader(config_dir, holder.swap, loader=load_config, debounce_s=0.01, poll_s=0.01)
    await reloader.start()
    try:
        waiting = asyncio.create_task(reloader.wait_reloaded())
        await asyncio.sleep(0)
        edit(config_dir / "queues.yaml", "max_wait_s: 300", "max_wait_s: 240")
        await asyncio.wait_for(waiting, 5)
        assert holder.config.queues["general"].max_wait_s == 240
    finally:
        await reloader.stop()


async def test_a_broken_save_is_logged_and_not_applied(config_dir: Path) -> None:
    holder = Holder(load_config(config_dir))
    running = holder.config
    logged: list[tuple[str, dict[str, object]]] = []

    class Log:
        def error(self, event: str, **kw: object) -> None:
            logged.append((event, kw))

        def info(self, event: str, **kw: object) -> None:
            logged.append((event, kw))

    reloader = ConfigReloader(config_dir, holder.swap, loader=load_config, debounce_s=0.01, poll_s=0.01,
                              log=Log())
    await reloader.start()
    try:
        waiting = asyncio.create_task(reloader.wait_reloaded())
        await asyncio.sleep(0)
        (config_dir / "scenarios" / "193.yaml").write_text("numbers: [193]\nsteps:\n  - goto: nowhere\n")
        await asyncio.wait_for(waiting, 5)
    finally:
        await reloader.stop()
    assert holder.config is running
    problems = [kw["problem"] for event, kw in logged if event == "config.problem"]
    assert problems == ["config/scenarios/193.yaml:3: steps[0].goto: unknown label 'nowhere'"]


async def test_a_reload_with_warnings_is_applied_and_its_warnings_logged(config_dir: Path) -> None:
    holder = Holder(load_config(config_dir))
    logged: list[tuple[str, dict[str, object]]] = []

    class Log:
        def error(self, event: str, **kw: object) -> None:
            logged.append((event, kw))

        def warning(self, event: str, **kw: object) -> None:
            logged.append((event, kw))

        def info(self, event: str, **kw: object) -> None:
            logged.append((event, kw))

    reloader = ConfigReloader(config_dir, holder.swap, loader=load_config, debounce_s=0.0, log=Log())
    edit(config_dir / "scenarios" / "193.yaml", 'numbers: ["193"]', "numbers: [0193]")
    assert await asyncio.wait_for(reloader.reload(), 10) is True
    assert holder.swaps == 1
    warnings = [kw["problem"] for event, kw in logged
                if event == "config.warning" and "scenarios/" in str(kw["problem"])]
    assert warnings == ["config/scenarios/193.yaml:5: warning: numbers[0]: number 0193 is read by YAML as "
                        '193: quote it ("0193")']
