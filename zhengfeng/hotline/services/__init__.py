"""Writes of the hotline: intake (`receive_work_order`) and the one transition function (`transition`).

Every action runs in one transaction with the order row locked: state check against the fresh row
(so a double submit finds the state already changed and is refused), input checks, the row changes,
clock events (`deadlines`), one `WorkOrderEvent`, one audit row `hotline.<action>`, score events
(`assessment`) and SMS (`messaging` outbox). A bad value raises ValidationError naming it, a wrong
role PermissionDenied; either way nothing is saved. States and limits: docs/hotline.md.

Callers import from `zhengfeng.hotline.services`, which re-exports the public names of its modules:

- `common`: constants (clock kinds, MAX_EXTENSIONS, SCORE_POINTS / SCORE_REASONS, the query-password
  hash format), `Intake`, `DispatchTarget`, and the package-internal helpers (input checks, `_event`,
  `_audit`, `_save`, `_score`, `_sms_requester`).
- `rules`: `check_intake` (the intake checks every channel shares) and `CheckedIntake`,
  `time_limit_for`, `reply_days_for`, `dispatch_target`.
- `permissions`: `can_intake`, `can_operate`, `can_sign`, `can_handle`, `can_approve`, `can_refer`,
  and the one permission table `PERMISSIONS` (`Permission`) behind `can_act`.
- `intake`: `code_prefix`, `next_code`, `new_query_password`, `hash_query_password`,
  `check_query_password`, `receive_work_order`.
- `rounds`: assignments of a handling round and their sign-for and reply clocks (package-internal).
- `steps`: the input dataclass of each action (`DispatchInput`, `DecisionInput`, …); import them
  from `zhengfeng.hotline.services.steps`.
- `actions`: `act_*` of answer, dispatch, sign, request/review return, note, merge, void, refer.
- `actions_reply`: `act_*` of extensions, replies and the callback.
- `lifecycle`: `ACTIONS` (name → `Action`), `ACTION_LABELS`, `allowed_actions`, `transition` (by
  action name and keyword data), `perform` (typed, by input dataclass).
- `external`: `record_external_update` (an Open311 service-request update).
- `submissions`: the Open311 intake writes (`accept_open311_submission`,
  `register_open311_submissions`, `requeue_open311_submission`); not re-exported, it uses this
  package's API: `from zhengfeng.hotline.services import submissions`.
"""

from zhengfeng.hotline.services.common import (
    CLOCK_SOURCE,
    CODE_PREFIX,
    MAX_EXTENSIONS,
    QUERY_HASH_PREFIX,
    QUERY_HASH_PURPOSE,
    REPLY_CLOCK,
    SCORE_POINTS,
    SCORE_REASONS,
    SIGN_CLOCK,
    DispatchTarget,
    Intake,
)
from zhengfeng.hotline.services.external import record_external_update
from zhengfeng.hotline.services.intake import (
    NewOrder,
    check_query_password,
    code_prefix,
    hash_query_password,
    new_query_password,
    next_code,
    next_codes,
    prepare_work_order,
    receive_work_order,
    receive_work_orders,
    receive_work_orders_bulk,
)
from zhengfeng.hotline.services.lifecycle import (
    ACTION_LABELS,
    ACTIONS,
    Action,
    allowed_actions,
    perform,
    transition,
)
from zhengfeng.hotline.services.permissions import (
    PERMISSIONS,
    Permission,
    can_act,
    can_approve,
    can_handle,
    can_intake,
    can_operate,
    can_refer,
    can_sign,
)
from zhengfeng.hotline.services.rules import (
    CheckedIntake,
    check_intake,
    dispatch_target,
    reply_days_for,
    time_limit_for,
)

__all__ = [
    "ACTIONS",
    "ACTION_LABELS",
    "CLOCK_SOURCE",
    "CODE_PREFIX",
    "MAX_EXTENSIONS",
    "PERMISSIONS",
    "QUERY_HASH_PREFIX",
    "QUERY_HASH_PURPOSE",
    "REPLY_CLOCK",
    "SCORE_POINTS",
    "SCORE_REASONS",
    "SIGN_CLOCK",
    "Action",
    "CheckedIntake",
    "DispatchTarget",
    "Intake",
    "NewOrder",
    "Permission",
    "allowed_actions",
    "can_act",
    "can_approve",
    "can_handle",
    "can_intake",
    "can_operate",
    "can_refer",
    "can_sign",
    "check_intake",
    "check_query_password",
    "code_prefix",
    "dispatch_target",
    "hash_query_password",
    "new_query_password",
    "next_code",
    "next_codes",
    "perform",
    "prepare_work_order",
    "receive_work_order",
    "receive_work_orders",
    "receive_work_orders_bulk",
    "record_external_update",
    "reply_days_for",
    "time_limit_for",
    "transition",
]
