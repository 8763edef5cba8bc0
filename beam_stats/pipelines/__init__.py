"""Composite Beam transforms built on the validation layer (this layer imports apache_beam)."""

from beam_stats.pipelines.examples import ValidateExamples, ValidationResult, WriteExamples

__all__ = ["ValidateExamples", "ValidationResult", "WriteExamples"]
