import pytest
from django.urls import reverse

from zhengfeng.messaging.models import OutboxMessage
from zhengfeng.messaging.sending import drain_outbox
from zhengfeng.messaging.services import queue_inapp

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered(liaison_a, liaison_b):
    queue_inapp(user=liaison_a, subject="催办通知", text="请尽快答复工单。")
    queue_inapp(user=liaison_b, subject="乙局消息", text="别人的消息")
    from django.utils import timezone

    drain_outbox(timezone.now())
    return OutboxMessage.objects.get(subject="催办通知")


def test_inbox_lists_only_own_messages(client, liaison_a, delivered):
    client.force_login(liaison_a)

    page = client.get(reverse("inbox:list")).context["page"]

    assert [message.subject for message in page] == ["催办通知"]


def test_opening_a_message_marks_it_read(client, liaison_a, delivered):
    client.force_login(liaison_a)

    response = client.get(reverse("inbox:detail", args=[delivered.pk]))

    assert response.status_code == 200
    assert "请尽快答复工单。" in response.content.decode()
    delivered.refresh_from_db()
    assert delivered.read_at is not None


def test_someone_elses_message_is_not_found(client, liaison_b, delivered):
    client.force_login(liaison_b)

    assert client.get(reverse("inbox:detail", args=[delivered.pk])).status_code == 404


def test_read_all_needs_post_and_marks_everything(client, liaison_a, delivered):
    client.force_login(liaison_a)
    assert client.get(reverse("inbox:read_all")).status_code == 405

    response = client.post(reverse("inbox:read_all"))

    assert response.status_code == 302
    assert OutboxMessage.objects.unread().filter(user=liaison_a).count() == 0
