"""boostbox: SageMaker's bring-your-own-container contracts for XGBoost."""

__version__ = "0.1.0"
