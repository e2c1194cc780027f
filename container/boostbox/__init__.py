"""boostbox: SageMaker's bring-your-own-container contracts for XGBoost.

Two pipelines over shared pieces (config, errors, paths, artifact, formats):
training: job -> hyperparameters -> channels -> readers -> fit -> artifact (`train`);
serving: server -> app -> invocation -> codecs -> predictor -> outputs -> codecs (`serve`).
"""

__version__ = "0.1.0"
