"""The starting alias table: how the yearly plans name units, and the name endings that find them."""

from django.db import migrations

# (phrase as the plan writes it, name endings tried in order, note)
ALIASES = [
    ("纪检监察机关", "纪委监委|纪委", "纪委监委"),
    ("纪委监委", "纪委监委|纪委", ""),
    ("党委办公室", "委办公室|委办", "“党委、政府办公室”中的党委办公室，如市委办公室、清城区委办公室"),
    ("政府办公室", "政府办公室|政府办", "如市政府办公室"),
    ("组织部", "组织部", "市级为市委组织部"),
    ("宣传部", "宣传部", "市级为市委宣传部"),
    ("宣传部门", "宣传部", ""),
    ("财政局", "财政局", ""),
    ("财政部门", "财政局", "“财政、审计部门”"),
    ("审计局", "审计局", ""),
    ("审计部门", "审计局", "“财政、审计部门”"),
    ("发展改革局", "发展改革局|发展和改革局|发改局", ""),
    ("发展和改革局", "发展改革局|发展和改革局|发改局", ""),
    ("发展改革部门", "发展改革局|发展和改革局|发改局", ""),
    ("编办", "编办|机构编制委员会办公室", "方案写作“市编办”"),
    ("法制局", "法制局|法制办", "方案写作“市法制局”"),
    ("行政服务中心", "行政服务中心|政务服务中心|综合服务中心", ""),
    ("行政(综合)服务中心", "行政服务中心|政务服务中心|综合服务中心", ""),
    ("政务服务中心", "政务服务中心|行政服务中心|综合服务中心", ""),
    ("直属机关工委", "直属机关工委|直机关工委|直属机关工作委员会", "“直属机关工委或承担工委职能的部门”"),
    ("广播电视台", "广播电视台", ""),
    ("正风办", "正风办", "方案写作““正风”办”"),
]


def add_aliases(apps, schema_editor):
    UnitAlias = apps.get_model("ledger", "UnitAlias")
    for phrase, suffixes, note in ALIASES:
        UnitAlias.objects.get_or_create(
            phrase=phrase, level="any", defaults={"name_suffixes": suffixes, "note": note}
        )


def remove_aliases(apps, schema_editor):
    UnitAlias = apps.get_model("ledger", "UnitAlias")
    UnitAlias.objects.filter(phrase__in=[phrase for phrase, _s, _n in ALIASES], level="any").delete()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(add_aliases, remove_aliases)]
