"""SageMaker's algorithm-mode training contract: `train` reads /opt/ml and writes a model.

Flow: job (the `train` entry: config, exit codes, failure/success files) -> hyperparameters
(strings -> a validated, frozen configuration) -> channels (a channel folder -> Dataset) ->
readers (one file -> Dataset, by format, through `boostbox.formats`) -> fit (pure: objects
in, Booster out; callbacks write metric lines and checkpoints) -> artifact (`model/`).
"""
