"""Worker jobs of the evaluation app (autodiscovered by core)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from zhengfeng.core.worker import periodic
from zhengfeng.evaluation.models import EvaluationYear
from zhengfeng.evaluation.rules import run_rules
from zhengfeng.evaluation.services import process_replies


@periodic("evaluation.match_replies", every=dt.timedelta(minutes=1))
def match_replies_job(now: dt.datetime) -> dict[str, int]:
    # Once a minute: a citizen's answer need not be scored within seconds, and one pass takes a batch.
    return process_replies(now).as_dict()


@periodic("evaluation.flag_rules", every=dt.timedelta(minutes=15))
def flag_rules_job(now: dt.datetime) -> dict[str, int]:
    """The anti-rigging rules over this year and last year (late replies and votes of January)."""
    this_year = timezone.localtime(now).year
    totals: dict[str, int] = {}
    for evaluation_year in EvaluationYear.objects.filter(year__gte=this_year - 1, year__lte=this_year):
        for rule, count in run_rules(evaluation_year).items():
            totals[rule] = totals.get(rule, 0) + count
    return totals
