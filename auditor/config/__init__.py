"""Configuration: loading the YAML file, validating it, and the config model."""
