"""The schemathesis run the fuzz tests share (marker `fuzz`): every operation of a schema, valid and invalid
input, against a live server; a finding is a 5xx or a status code the schema does not list.

Driven through schemathesis' Python API rather than its pytest plugin: the plugin (4.x) reaches into a
pytest internal that pytest 9 no longer has, and a loop also lets one run report every failing operation
instead of stopping at the first. The figures of a long run by hand are in docs/security.md.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi.checks import status_code_conformance

# Cases per operation in the normal suite; FUZZ_EXAMPLES=1000 for a long run by hand.
DEFAULT_EXAMPLES = 20


def examples() -> int:
    return int(os.environ.get("FUZZ_EXAMPLES", str(DEFAULT_EXAMPLES)))


@dataclass
class FuzzReport:
    operations: int = 0
    cases: int = 0
    # Per operation ("POST /requests.{format}"): how many cases got each status.
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run(
    schema: BaseSchema, *, headers: dict[str, str] | None = None, max_examples: int | None = None
) -> FuzzReport:
    """Every operation of `schema`, each with up to `max_examples` cases, valid and invalid mixed.

    The same cases on every run (derandomized) so that CI is repeatable; FUZZ_RANDOM=1 for new ones.
    """
    report = FuzzReport()
    started = time.monotonic()
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            report.failures.append(f"不能读取的操作：{result.err()}")
            continue
        report.operations += 1
        _fuzz(result.ok(), report, headers=headers, limit=max_examples or examples())
    report.seconds = time.monotonic() - started
    return report


def _fuzz(operation: APIOperation, report: FuzzReport, *, headers: dict[str, str] | None, limit: int) -> None:
    show = bool(os.environ.get("FUZZ_SHOW"))
    counts = report.statuses.setdefault(operation.label, {})
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )

    @given(case=strategy)
    @settings(
        max_examples=limit,
        deadline=None,
        database=None,
        derandomize=not os.environ.get("FUZZ_RANDOM"),
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Case) -> None:
        report.cases += 1
        response = case.call(headers=headers)
        counts[response.status_code] = counts.get(response.status_code, 0) + 1
        if show:
            print(operation.label, response.status_code, response.text[:200])
        case.validate_response(response, checks=[not_a_server_error, status_code_conformance])

    try:
        call()
    except (FailureGroup, AssertionError) as exc:
        report.failures.append(f"{operation.label}: {exc}")
