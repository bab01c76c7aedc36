#!/usr/bin/env python
"""Same as the `zhengfeng` console script, for those who expect manage.py."""

from zhengfeng.cli import main

if __name__ == "__main__":
    main()
