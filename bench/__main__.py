"""`python -m bench`: the benchmark (see `bench.benchmark`)."""

import sys

from .benchmark import main

sys.exit(main())
