"""The hotline's personas and its March data set, for the portal's pages of the published statistics
(the portal sits above the domains, so its tests may reuse the hotline's fixtures)."""

from zhengfeng.hotline.tests.conftest import (  # noqa: F401 (fixtures)
    _settings,
    handler_a,
    handler_b,
    head_a,
    head_b,
    hotline_unit,
    operator,
)
from zhengfeng.hotline.tests.test_metrics_data import march_fixture  # noqa: F401 (fixture)
