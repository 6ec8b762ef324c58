"""Adapters of the artifact store (``composition.artifacts.ArtifactStore``): a local folder, S3."""
