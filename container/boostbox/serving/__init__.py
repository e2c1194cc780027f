"""SageMaker's inference contract: gunicorn + Flask serving a boostbox or official XGBoost model.

Flow: app (HTTP) -> codecs (decode to a matrix) -> predictor (fast path or xgboost) ->
outputs (plain, custom output or SAGEMAKER_INFERENCE_OUTPUT selection) -> codecs (encode).
"""
