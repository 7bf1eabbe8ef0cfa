"""helpers: the library behind the X-STILTs inference-efficiency study.

Modules are split by concern (see book/method.md):
errors, config, runs (bookkeeping), models (presets and the offline encoder),
tasks (registry), sources (data), generate (embedded benchmark), metrics,
preprocess, training, evaluation, timing, costs, analysis, study (driver).
"""

import os as _os
import warnings as _warnings

# Executed chapters show results, not library chatter: no progress bars (tqdm reads these at
# import time, so they are set before anything imports it) and only transformers' errors.
for _name, _value in (("TQDM_DISABLE", "1"), ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
                      ("HF_DATASETS_DISABLE_PROGRESS_BARS", "1"), ("TRANSFORMERS_VERBOSITY", "error"),
                      ("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1"), ("TOKENIZERS_PARALLELISM", "false")):
    _os.environ.setdefault(_name, _value)
# tqdm.auto warns once per kernel that ipywidgets is absent; the bars are disabled above anyway, and the
# warning would print this machine's install path into every executed chapter.
_warnings.filterwarnings("ignore", message="IProgress not found")

__version__ = "0.1.0"
