"""Push the boostbox image and drive its SageMaker lifecycle (S3, training, hosting) with boto3."""
