"""The official clients (Elastic's Go SDK, cloud-sdk-go) driving our emulators over real HTTP."""
