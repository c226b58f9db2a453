"""Components and dynamic providers that link ECE deployments to ECK clusters as remote clusters."""
