"""30 parallel filings from one address against a limit of 5: exactly 5 are registered (issue #10 saw 8).

PostgreSQL only: the race is between server processes' connections. On SQLite the threads would share one
test database whose writers are serialised anyway, so the test would prove nothing there.
"""

from __future__ import annotations

import threading

import pytest
import time_machine
from django.db import connection
from django.test import Client

from zhengfeng.hotline.models import Category, WorkOrder
from zhengfeng.portal.tests.test_hotline_portal import FILE_URL, NOW, form_data

PARALLEL = 30


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the race needs separate server connections")
def test_thirty_parallel_filings_from_one_address_register_exactly_five(city, qingcheng):
    Category.objects.create(code="01", name="城乡建设", level=1, path="城乡建设")
    with time_machine.travel(NOW, tick=False):
        browsers = [Client(REMOTE_ADDR="10.7.7.7") for _ in range(PARALLEL)]
        forms = [form_data(browser, title=f"第{n}件") for n, browser in enumerate(browsers)]
        start = threading.Barrier(PARALLEL)
        statuses: list[int] = []

        def file(browser: Client, data: dict[str, str]) -> None:
            try:
                start.wait()
                statuses.append(browser.post(FILE_URL, data).status_code)
            finally:
                connection.close()

        threads = [threading.Thread(target=file, args=pair) for pair in zip(browsers, forms, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert sorted(statuses) == [200] * 5 + [429] * 25
    assert WorkOrder.objects.count() == 5
