"""Running models and storing their results.

One run, the executor, sweeps of experiments, the results store, and building and calibrating a
municipality's scenario.
"""
