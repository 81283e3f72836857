"""``python -m cropsm.cli``."""

from cropsm.cli import main

main()
