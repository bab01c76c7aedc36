"""The category taxonomy from CSV: `一级分类,二级分类,三级分类` (or `level1,level2,level3`), one leaf a line.

Idempotent: existing nodes are matched by their names under the same parent and keep their codes;
new nodes get the next code among their siblings (`01`, `0103`, `010302`). Any bad line rejects the
whole file and changes nothing; the error names every bad line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from zhengfeng.core import audit
from zhengfeng.core.input_guard import nul_in_file
from zhengfeng.hotline.models import Category
from zhengfeng.org.models import User

HEADERS = (("一级分类", "二级分类", "三级分类"), ("level1", "level2", "level3"))
NAME_MAX_LENGTH = 60


@dataclass(frozen=True)
class CategoryImportResult:
    rows: int
    created: int
    existing: int


def read_category_csv(source: str | Path | io.TextIOBase) -> list[tuple[int, tuple[str, ...]]]:
    """Parse the file into (line number, names) pairs; raise ValidationError naming every bad line."""
    if isinstance(source, str | Path):
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(f"无法读取分类文件 {source}：{exc}") from exc
    else:
        text = source.read()
    name = Path(source).name if isinstance(source, str | Path) else "（上传的分类文件）"
    nul = nul_in_file(text, name=name)
    if nul is not None:
        raise ValidationError(nul)
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header[:3]) not in HEADERS:
        raise ValidationError(
            f"分类文件表头应为“一级分类,二级分类,三级分类”，实为 {','.join(header or [])!r}"
        )
    rows: list[tuple[int, tuple[str, ...]]] = []
    errors: list[str] = []
    for line_no, raw in enumerate(reader, start=2):
        cells = [c.strip() for c in raw[:3]] + [""] * (3 - len(raw[:3]))
        if not any(cells):
            continue
        names = tuple(c for c in cells if c)
        if not cells[0]:
            errors.append(f"第 {line_no} 行：缺少一级分类")
        elif cells[2] and not cells[1]:
            errors.append(f"第 {line_no} 行：有三级分类“{cells[2]}”但缺少二级分类")
        elif any(len(c) > NAME_MAX_LENGTH for c in cells):
            errors.append(f"第 {line_no} 行：分类名称超过 {NAME_MAX_LENGTH} 字")
        else:
            rows.append((line_no, names))
    if errors:
        raise ValidationError(errors)
    if not rows:
        raise ValidationError("分类文件没有数据行")
    return rows


def import_categories(
    rows: Iterable[tuple[int, Sequence[str]] | Sequence[str]], *, by: User | None = None, source: str = ""
) -> CategoryImportResult:
    """Create the missing nodes of the taxonomy. Side effects: Category rows; one audit row
    `hotline.categories_imported` (only when something was created)."""
    paths = [tuple(r[1]) if isinstance(r, tuple) and isinstance(r[0], int) else tuple(r) for r in rows]
    created = existing = 0
    with transaction.atomic():
        known: dict[tuple[int | None, str], Category] = {
            (c.parent_id, c.name): c for c in Category.objects.all()
        }
        last_code: dict[int | None, int] = {}
        for category in known.values():
            suffix = int(category.code[-2:]) if category.code[-2:].isdigit() else 0
            last_code[category.parent_id] = max(last_code.get(category.parent_id, 0), suffix)
        for names in paths:
            parent: Category | None = None
            for level, name in enumerate(names, start=1):
                key = (parent.pk if parent else None, name)
                node = known.get(key)
                if node is None:
                    number = last_code.get(key[0], 0) + 1
                    if number > 99:
                        raise ValidationError(f"“{parent.path if parent else '（顶层）'}”下的分类超过 99 个")
                    last_code[key[0]] = number
                    node = Category.objects.create(
                        code=f"{parent.code if parent else ''}{number:02d}",
                        name=name,
                        parent=parent,
                        level=level,
                        path="/".join(names[:level]),
                    )
                    known[key] = node
                    created += 1
                elif level == len(names):
                    existing += 1
                parent = node
        if created:
            audit.record(
                "hotline.categories_imported",
                by=by,
                data={"source": source, "rows": len(paths), "created": created},
            )
    return CategoryImportResult(rows=len(paths), created=created, existing=existing)
