"""Dockerfiles: a lossless syntax tree that agrees with BuildKit's parser, and a semantic model."""
