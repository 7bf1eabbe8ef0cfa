"""helpers: the library behind the X-STILTs inference-efficiency study.

Modules are split by concern (see book/method.md):
errors, config, runs (bookkeeping), models (presets and the offline encoder),
tasks (registry), sources (data), generate (embedded benchmark), metrics,
preprocess, training, evaluation, timing, costs, analysis, study (driver).
"""

import os as _os

# Executed chapters show results, not library chatter: no progress bars (tqdm reads these at
# import time, so they are set before anything imports it) and only transformers' errors.
for _name, _value in (("TQDM_DISABLE", "1"), ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
                      ("HF_DATASETS_DISABLE_PROGRESS_BARS", "1"), ("TRANSFORMERS_VERBOSITY", "error"),
                      ("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1"), ("TOKENIZERS_PARALLELISM", "false")):
    _os.environ.setdefault(_name, _value)

__version__ = "0.1.0"
