"""Multi-model endpoints (SAGEMAKER_MULTI_MODEL=true): SageMaker's /models API.

Flow: app (POST/GET/DELETE /models, /models/<name>/invoke) -> registry (which models are
loaded, one directory shared by every worker) -> cache (this worker's loaded copies, LRU) ->
the single-model invocation pipeline (serving.invocation).
"""
