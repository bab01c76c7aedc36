"""Settings of bench_open311_post.py's server: the project's settings and one more URL, the floor.

Lives in bench/, outside the `config` and `zhengfeng` packages, so that no deployment can load it;
the benchmark starts gunicorn with DJANGO_SETTINGS_MODULE=bench.floor_settings.
"""

from config.settings import *  # noqa: F403 (a benchmark's variant of the one settings file)

ROOT_URLCONF = "bench.floor_urls"
