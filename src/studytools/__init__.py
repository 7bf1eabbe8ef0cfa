"""The tools that check or drive the study, beside the library (``helpers``).

``browser`` (the built book in headless Chromium), ``bench`` (the study's timer
against peers), ``verify_inputs`` (the bad-input suite), ``verify_data``,
``verify_encoder``, ``reference`` (a fresh run against the reference run) and
``sweep`` (submitit sweeps of a phase notebook). They import ``helpers``;
``helpers`` never imports them.
"""
