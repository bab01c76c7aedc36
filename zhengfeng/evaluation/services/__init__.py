"""Writes of 公述民评: years, staff, enforcement actions with their invitation SMS, replies, flags.

Every function is keyword-only, atomic and writes its audit row in the same transaction. SMS go
through the messaging outbox (`queue_sms`), which applies the quiet hours and the opt-outs.

The package re-exports the public API of its modules (callers import `zhengfeng.evaluation.services`):
- `common`: Constants and small helpers shared by the evaluation services.
- `years`: Evaluation years and the disclosed staff of the key units.
- `actions`: Enforcement actions and their invitation SMS.
- `replies`: Matching the citizens' SMS replies to the invitations.
- `flags`: Anti-rigging: flags, the office's review and the clues handed on.
"""

from zhengfeng.evaluation.services.actions import (
    ActionInput,
    check_action,
    clean_action_type,
    clean_subject_phone,
    record_action,
    write_checked_action,
    year_for,
)
from zhengfeng.evaluation.services.common import (
    CLOCK_TOLERANCE,
    SUBJECT_NAME_MAX,
    TEMPLATE_FIELDS,
    clean_template,
    full_unit_name,
    render_sms,
)
from zhengfeng.evaluation.services.flags import (
    create_clue,
    discipline_unit_for,
    flag_evaluation,
    flag_record,
    review_flag,
    review_record,
)
from zhengfeng.evaluation.services.replies import (
    ReplyStats,
    process_replies,
)
from zhengfeng.evaluation.services.years import (
    RULE_FIELDS,
    RULE_MINIMUM,
    STAFF_FIELDS,
    YEAR_FIELDS,
    check_key_units,
    create_staff,
    create_year,
    find_staff,
    update_staff,
    update_year,
)

__all__ = [
    "CLOCK_TOLERANCE",
    "RULE_FIELDS",
    "RULE_MINIMUM",
    "STAFF_FIELDS",
    "SUBJECT_NAME_MAX",
    "TEMPLATE_FIELDS",
    "YEAR_FIELDS",
    "ActionInput",
    "ReplyStats",
    "check_action",
    "check_key_units",
    "clean_action_type",
    "clean_subject_phone",
    "clean_template",
    "create_clue",
    "create_staff",
    "create_year",
    "discipline_unit_for",
    "find_staff",
    "flag_evaluation",
    "flag_record",
    "full_unit_name",
    "process_replies",
    "record_action",
    "render_sms",
    "review_flag",
    "review_record",
    "update_staff",
    "update_year",
    "write_checked_action",
    "year_for",
]
