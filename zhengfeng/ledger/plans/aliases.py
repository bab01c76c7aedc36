"""Find org units for the phrases a plan uses, through the alias table (reads only).

A resolver is built once per import: it loads the active aliases and the active units of the plan's
division and its counties, so resolving a whole plan costs a handful of queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from zhengfeng.ledger.models import AliasLevel, Level, UnitAlias
from zhengfeng.org.models import Division, DivisionLevel, Unit


@dataclass(frozen=True)
class Miss:
    """A phrase no unit of `division` answers to, with why."""

    phrase: str
    division: Division
    reason: str


class UnitResolver:
    def __init__(self, division: Division) -> None:
        self.division = division
        self.counties = list(
            Division.objects.filter(parent=division, level=DivisionLevel.COUNTY).order_by("code")
        )
        self._aliases: dict[str, dict[str, UnitAlias]] = defaultdict(dict)
        for alias in UnitAlias.objects.filter(is_active=True):
            self._aliases[alias.phrase][alias.level] = alias
        self._units: dict[str, list[Unit]] = defaultdict(list)
        codes = [division.code, *(county.code for county in self.counties)]
        for unit in Unit.objects.active().filter(division_id__in=codes).order_by("code"):
            self._units[unit.division_id].append(unit)

    def known(self, phrase: str) -> bool:
        """Whether the alias table knows the phrase (at any level)."""
        return phrase in self._aliases

    def divisions(self, level: str) -> list[Division]:
        return [self.division] if level == Level.CITY else self.counties

    def level_of(self, division: Division) -> str:
        return Level.CITY if division.code == self.division.code else Level.COUNTY

    def suffixes(self, phrase: str, level: str) -> list[str]:
        by_level = self._aliases.get(phrase, {})
        alias = by_level.get(level) or by_level.get(AliasLevel.ANY)
        # Without an alias the phrase itself is the name ending ("广播电视台").
        return alias.suffixes if alias else [phrase]

    def find(self, phrase: str, division: Division) -> Unit | Miss:
        units = self._units.get(division.code, [])
        for suffix in self.suffixes(phrase, self.level_of(division)):
            found = [unit for unit in units if unit.name.endswith(suffix)]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                names = "、".join(unit.name for unit in found)
                return Miss(phrase, division, f"匹配到多个单位（{names}），请在单位别名中写明")
        return Miss(phrase, division, "没有名称以此结尾的在用单位")
