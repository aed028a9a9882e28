"""The one compiled part of the package; everything else is in pyproject.toml."""

from setuptools import Extension, setup

# PyEval_CallObject for durable_rules on Python 3.13 and later (see the C file).
setup(ext_modules=[Extension("advisor._pyeval", ["advisor/_pyeval.c"])])
