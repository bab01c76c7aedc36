"""`zhengfeng apikey create NAME --scopes a,b | list | revoke NAME`: keys for integrating systems.

`create` prints the new key alone on its last line, so scripts can take it with `tail -n 1`; the key
is shown only this once (only its hash is stored).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from zhengfeng.org.models import ApiKey
from zhengfeng.org.services import KNOWN_API_SCOPES, create_api_key, revoke_api_key


def _when(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


class Command(BaseCommand):
    help = "接口密钥：create 新建、list 列出、revoke 吊销"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="新建接口密钥（密钥只显示这一次，在最后一行）")
        create.add_argument("name", help="名称，例如对接系统的名字")
        create.add_argument(
            "--scopes", required=True, help=f"权限范围，逗号分隔；可用：{','.join(sorted(KNOWN_API_SCOPES))}"
        )
        sub.add_parser("list", help="列出全部接口密钥")
        revoke = sub.add_parser("revoke", help="吊销接口密钥")
        revoke.add_argument("name")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            getattr(self, f"_{action}")(**options)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc

    def _create(self, *, name: str, scopes: str, **options: Any) -> None:
        key, token = create_api_key(name=name, scopes=scopes.split(","))
        self.stdout.write(f"已创建接口密钥 {key.name}（前缀 {key.prefix}，权限 {','.join(key.scopes)}）。")
        self.stdout.write("密钥只显示这一次，请妥善保存：")
        self.stdout.write(token)

    def _list(self, **options: Any) -> None:
        keys = ApiKey.objects.order_by("name")
        if not keys:
            self.stdout.write("没有接口密钥。")
            return
        self.stdout.write("名称\t前缀\t权限范围\t创建时间\t最近使用\t状态")
        for key in keys:
            state = f"已吊销（{_when(key.revoked_at)}）" if key.revoked_at else "有效"
            self.stdout.write(
                f"{key.name}\t{key.prefix}\t{','.join(key.scopes)}\t{_when(key.created_at)}\t"
                f"{_when(key.last_used_at)}\t{state}"
            )

    def _revoke(self, *, name: str, **options: Any) -> None:
        key = ApiKey.objects.filter(name=name).first()
        if key is None:
            raise CommandError(f"没有名称为 {name} 的接口密钥")
        revoke_api_key(key)
        self.stdout.write(f"接口密钥 {name} 已吊销。")
