"""helpers: the library behind the X-STILTs inference-efficiency study.

Modules are split by concern (see book/method.md):
errors, config, runs (bookkeeping), models (presets and the offline encoder),
tasks (registry), sources (data), generate (embedded benchmark), metrics,
preprocess, training, evaluation, timing, costs, analysis, study (driver).
"""

__version__ = "0.1.0"
