"""The import contract in pyproject.toml ([tool.importlinter]) is live: it holds, and it catches what it forbids.

The contract is read through import-linter's public API from the real configuration and checked against the
real import graph; the "catches" tests add one import to a copy of that graph and expect the contract broken.
"""

from __future__ import annotations

import copy
from pathlib import Path

import grimp
import pytest
from importlinter.api import read_configuration
from importlinter.contracts.layers import LayersContract

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


@pytest.fixture(scope="module")
def contract() -> LayersContract:
    config = read_configuration(str(PYPROJECT))
    (options,) = [options for options in config["contracts_options"] if options["id"] == "layers"]
    return LayersContract(
        name=options["name"], session_options=config["session_options"], contract_options=options
    )


@pytest.fixture(scope="module")
def real_graph() -> grimp.ImportGraph:
    return grimp.build_graph("zhengfeng", cache_dir=None)


@pytest.fixture
def graph(real_graph) -> grimp.ImportGraph:
    return copy.deepcopy(real_graph)


def violating_importers(contract: LayersContract, graph: grimp.ImportGraph) -> set[str]:
    """The modules whose imports break the contract (and any top-level module no layer lists)."""
    # check() removes the ignored imports from the graph it is given: give it a copy.
    check = contract.check(copy.deepcopy(graph), verbose=False)
    found = {
        link["importer"]
        for dependency in check.metadata.get("invalid_dependencies", [])
        for route in dependency["routes"]
        for link in [*route["chain"], *route["extra_firsts"]]
    }
    found |= {f"not in a layer: {module}" for module in check.metadata.get("undeclared_modules", ())}
    # Guards this reading of import-linter's report: a broken contract always names a culprit here.
    assert check.kept == (not found)
    return found


def test_the_code_keeps_the_contract(contract, graph):
    assert violating_importers(contract, graph) == set()


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("zhengfeng.core.audit", "zhengfeng.org.models"),  # the kernel imports no app
        ("zhengfeng.core.tests.test_audit", "zhengfeng.testing.factories"),  # not even in its tests
        ("zhengfeng.org.queries", "zhengfeng.deadlines.models"),  # upwards
        ("zhengfeng.alerts.services", "zhengfeng.hotline.models"),  # the ladder does not know the domains
        ("zhengfeng.hotline.services", "zhengfeng.ledger.models"),  # domains are independent
        ("zhengfeng.ledger.queries", "zhengfeng.staff.views"),  # nothing imports the shell
        ("zhengfeng.evaluation.models", "zhengfeng.portal.models"),  # nor the public site
        ("zhengfeng.portal.views", "zhengfeng.staff.forms"),  # the shell and the public site are independent
        ("zhengfeng.catalog.models", "zhengfeng.approvals.models"),  # apps still to come are covered
        (
            "zhengfeng.approvals.services",
            "zhengfeng.hotline.models",
        ),  # approvals' one arrow is to the catalog
    ],
)
def test_a_forbidden_import_breaks_the_contract(contract, graph, importer, imported):
    # An app still to come exists in the graph as its package first, as it will when it lands.
    for module in (importer, imported):
        graph.add_module(".".join(module.split(".")[:2]))
    graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="import x")

    assert not contract.check(graph, verbose=False).kept


def test_the_drawn_arrow_approvals_to_catalog_is_allowed(contract, graph):
    graph.add_module("zhengfeng.approvals")
    graph.add_module("zhengfeng.catalog")
    before = violating_importers(contract, graph)
    graph.add_import(
        importer="zhengfeng.approvals.services",
        imported="zhengfeng.catalog.models",
        line_number=1,
        line_contents="from zhengfeng.catalog.models import ServiceItem",
    )

    assert violating_importers(contract, graph) == before


def test_a_new_app_outside_the_layers_breaks_the_contract(contract, graph):
    graph.add_module("zhengfeng.newapp")

    assert not contract.check(graph, verbose=False).kept
